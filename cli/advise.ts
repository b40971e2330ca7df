/**
 * The `advise` command: which lag to run, per rank count, within a latency
 * budget, from the cost model calibrated on a measured run.
 *
 * @example Advise from a measured run
 * ```sh
 * deno task advise --calibrate results/latest --ranks 2,4,16 --latency-budget 20
 * ```
 *
 * @module
 */

import { Command, type CommandUnknownOpts } from "@commander-js/extra-typings";
import { adviseLag, formatAdvice } from "../bench/advise/mod.ts";
import { calibrate, readMeasuredRun } from "../bench/simulate/mod.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { UsageError } from "../util/errors.ts";
import { examples, intListOption, intOption, numberOption } from "./_common.ts";
import { parseRanksList } from "./simulate.ts";

/**
 * Builds the `advise` command.
 *
 * @example Build the command
 * ```ts
 * import { adviseCommand } from "./advise.ts";
 * if (adviseCommand().name() !== "advise") throw new Error("unexpected name");
 * ```
 *
 * @returns The command.
 */
export function adviseCommand(): CommandUnknownOpts {
  return new Command("advise")
    .exitOverride()
    .description(
      "recommend a lag per rank count: the best predicted throughput whose predicted p99 " +
        "batch latency fits the budget (the cost model calibrated on a measured run)",
    )
    .requiredOption("--calibrate <dir>", "measured results directory")
    .option(
      "--ranks <list>",
      "rank counts: N, a list N,M,... or powers of two MIN:MAX (default: the run's)",
      parseRanksList,
    )
    .option("--lag <list>", "lags to consider (default: 0,1,2,4,8)", intListOption(0))
    .option(
      "--latency-budget <ms>",
      "p99 batch latency a lag must stay within, in ms",
      numberOption(),
    )
    .option("--iters <n>", "iterations to simulate (default: the run's)", intOption(1))
    .option("--out <dir>", "where advice.json goes (default: the calibrated directory)")
    .addHelpText(
      "after",
      examples(
        "deno task advise --calibrate results/latest",
        "deno task advise --calibrate results/latest --ranks 2,4,8,64 --latency-budget 20",
        "deno task advise --calibrate results/latest --lag 1,2,3,4 --out advice/",
      ),
    )
    .action(async (options) => {
      if (options.latencyBudget !== undefined && options.latencyBudget <= 0) {
        throw new UsageError("Option '--latency-budget' must be above 0 ms");
      }
      const run = await readMeasuredRun(options.calibrate);
      const calibration = calibrate(run);
      const advice = adviseLag(run, calibration, {
        ranks: options.ranks,
        lags: options.lag,
        latencyBudgetMs: options.latencyBudget,
        iters: options.iters,
      });
      console.log(formatAdvice(advice));
      const out = options.out ?? options.calibrate;
      await Deno.mkdir(out, { recursive: true });
      const json = {
        calibratedFrom: options.calibrate,
        latencyBudgetMs: options.latencyBudget ?? null,
        exchangeCost: calibration.cost,
        overheadFraction: calibration.overheadFraction,
        advice,
      };
      await writeFileAtomic(`${out}/advice.json`, JSON.stringify(json, null, 2) + "\n");
      console.log(`Wrote ${out}/advice.json`);
    });
}
