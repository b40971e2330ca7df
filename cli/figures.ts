/**
 * The `figures` command: runs the whole figure suite (bench and simulate runs
 * tagged with their figure ids) and writes one `report.html` with the paper's
 * claims checked.
 *
 * @example The quick suite
 * ```sh
 * deno run -A cli.ts figures --quick --out results/figures
 * ```
 *
 * @module
 */

import {
  Command,
  type CommandUnknownOpts,
  InvalidArgumentError,
  Option,
} from "@commander-js/extra-typings";
import { RunError, UsageError } from "../util/errors.ts";
import { FIGURE_IDS, type FigureId } from "../bench/paper/figures.ts";
import { planFigures, runFigures, stepCommandLine } from "../bench/figures/figures.ts";
import { examples, intListOption, intOption, numberOption } from "./_common.ts";

/**
 * Parses `--only`: a comma-separated list of figure ids.
 *
 * @example Two figures
 * ```ts
 * import { parseFigureList } from "./figures.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 * deepStrictEqual(parseFigureList("fig-balanced, fig-scale"), ["fig-balanced", "fig-scale"]);
 * ```
 *
 * @param value The flag's value.
 * @returns The figure ids.
 * @throws InvalidArgumentError naming an unknown id.
 */
export function parseFigureList(value: string): FigureId[] {
  const ids = value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (ids.length === 0) throw new InvalidArgumentError("expected one or more figure ids");
  for (const id of ids) {
    if (!(FIGURE_IDS as readonly string[]).includes(id)) {
      throw new InvalidArgumentError(`unknown figure '${id}' (expected ${FIGURE_IDS.join(", ")})`);
    }
  }
  return ids as FigureId[];
}

/**
 * Builds the `figures` command.
 *
 * @example Build the command
 * ```ts
 * import { figuresCommand } from "./figures.ts";
 * import { equal } from "node:assert/strict";
 * equal(figuresCommand().name(), "figures");
 * ```
 *
 * @returns The command.
 */
export function figuresCommand(): CommandUnknownOpts {
  const cmd = new Command("figures")
    .description(
      "run the figure suite (bench and simulate runs for the paper's seven figures) and write " +
        "one report.html with the claims checked",
    )
    .option("--quick", "small, cheap configurations (a few minutes on 2 cores)", false)
    .option("--out <dir>", "output directory (one sub-directory per run)", "results/figures")
    .addOption(
      new Option("--transport <kind>", "transport of the measured runs")
        .choices(["tcp", "unix", "mpi"] as const).default("tcp" as const),
    )
    .option(
      "--ranks <list>",
      "rank counts of the measured runs (default: 2 with --quick, else 2,4)",
      intListOption(1),
    )
    .option(
      "--repeat <n>",
      "repeats of every configuration, for min-max bands (default: 1 with --quick, else 3)",
      intOption(1),
    )
    .option(
      "--only <ids>",
      `only these figures, comma-separated: ${FIGURE_IDS.join(", ")} (default: all)`,
      parseFigureList,
    )
    .option("--iters <n>", "timed iterations of every run (default: the suite's own)", intOption(1))
    .option("--step-timeout <seconds>", "stop a run after this long", numberOption(), 1800)
    .option("--dry-run", "print the runs of the suite and exit", false)
    .option("--verbose", "show every run's own output", false)
    .option("--debug", "print stack traces on errors")
    .addHelpText(
      "after",
      examples(
        "deno task figures --quick                 # a few minutes on 2 cores",
        "deno task figures --only fig-delay,fig-scale --repeat 3",
        "deno task figures --dry-run               # list the runs without running them",
      ),
    );
  cmd.action(async (opts) => {
    if (opts.stepTimeout <= 0) throw new UsageError("Option '--step-timeout' must be above 0");
    const plan = planFigures({
      quick: opts.quick,
      out: opts.out,
      transport: opts.transport,
      ranks: opts.ranks,
      repeat: opts.repeat,
      only: opts.only,
      iters: opts.iters,
    });
    if (opts.dryRun) {
      for (const step of plan.steps) {
        const note = step.oversubscribed ? "  # oversubscribed" : "";
        console.log(`${stepCommandLine(step)}${note}`);
      }
      return;
    }
    const outcome = await runFigures(plan, {
      stepTimeoutS: opts.stepTimeout,
      verbose: opts.verbose,
    });
    if (outcome.failedFigures.length > 0) {
      const failed = outcome.steps.filter((s) => s.status === "failed")
        .map((s) => `${s.step.figure}/${s.step.name}`);
      throw new RunError(
        `Figure runs failed: ${outcome.failedFigures.join(", ")} (${failed.join(", ")}); ` +
          `the report at ${outcome.reportPath} shows the rest`,
      );
    }
  });
  return cmd;
}
