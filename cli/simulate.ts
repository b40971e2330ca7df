/**
 * The `simulate` command: the BLS cost model at any scale, optionally
 * calibrated on a measured results directory.
 *
 * @example Predict speedups at 4,096 ranks
 * ```sh
 * deno run -A cli.ts simulate --ranks 4096 --lag 1,2,4,8 --delay exp:2ms --comm-us 100
 * ```
 *
 * @module
 */

import {
  Command,
  type CommandUnknownOpts,
  InvalidArgumentError,
} from "@commander-js/extra-typings";
import { UsageError } from "../util/errors.ts";
import { formatDelaySpec, parseDelaySpec } from "../bench/models/delay.ts";
import { machineInfo, VERSION } from "../bench/results/write.ts";
import {
  calibrate,
  formatTable,
  planSweep,
  readMeasuredRun,
  simulateSweep,
  type SweepFlags,
  writeSimulationDir,
} from "../bench/simulate/mod.ts";
import { examples, intListOption, intOption, numberOption, specOption } from "./_common.ts";

/**
 * Parses `--ranks`: a list (`16,256`), or powers of two from MIN to MAX
 * (`2:65536`, also written `2,...,65536`).
 *
 * @example Powers of two
 * ```ts
 * import { parseRanksList } from "./simulate.ts";
 * if (parseRanksList("4:32").join() !== "4,8,16,32") throw new Error("unexpected");
 * ```
 *
 * @param value The flag's value.
 * @returns The rank counts.
 * @throws InvalidArgumentError on a bad value.
 */
export function parseRanksList(value: string): number[] {
  const range = /^\s*(\d+)\s*(?::|,\s*\.\.\.\s*,)\s*(\d+)\s*$/.exec(value);
  if (range) {
    const [min, max] = [Number(range[1]), Number(range[2])];
    if (min < 1 || max < min) {
      throw new InvalidArgumentError(`expected MIN:MAX with 1 <= MIN <= MAX, got '${value}'`);
    }
    const counts: number[] = [];
    for (let n = min; n <= max; n *= 2) counts.push(n);
    return counts;
  }
  return intListOption(1)(value);
}

function parseDelayList(value: string) {
  return value.split(",").map((part) => parseDelaySpec(part));
}

/**
 * Builds the `simulate` command.
 *
 * @example Build the command
 * ```ts
 * import { simulateCommand } from "./simulate.ts";
 * if (simulateCommand().name() !== "simulate") throw new Error("unexpected name");
 * ```
 *
 * @returns The command.
 */
export function simulateCommand(): CommandUnknownOpts {
  return new Command("simulate")
    // Throw commander's usage errors to the caller (exit 2 there) instead of exiting here.
    .exitOverride()
    .description(
      "run the BLS cost model at any scale: F_p(t) = max(P_p(t), max_q P_q(t-k) + c), " +
        "P_p(t) = F_p(t-1) + d_p(t)",
    )
    .option(
      "--ranks <list>",
      "rank counts: N, a list N,M,... or powers of two MIN:MAX (required without --calibrate)",
      parseRanksList,
    )
    .option(
      "--lag <list>",
      "lag bounds, e.g. 1,2,4,8; lag 0 always runs too (default: 0,1,2,4, or the calibrated run's)",
      intListOption(0),
    )
    .option(
      "--delay <specs>",
      "delay spec(s), comma-separated, e.g. exp:2ms (required without --calibrate)",
      specOption(parseDelayList),
    )
    .option(
      "--iters <n>",
      "measured iterations (default: 1000, or the calibrated run's)",
      intOption(1),
    )
    .option(
      "--seed <s>",
      "seed of the delay draws (default: 1, or the calibrated run's)",
      intOption(0),
    )
    .option(
      "--comm-us <c>",
      "cost of one exchange in microseconds (default: 100, or fitted)",
      numberOption(),
    )
    .option(
      "--overhead-us <o>",
      "per-call overhead on each rank's timeline, in microseconds (default: 0, or fitted)",
      numberOption(),
    )
    .option(
      "--calibrate <dir>",
      "measured results directory: its configuration and fitted exchange cost",
    )
    .option(
      "--out <dir>",
      "write summary.csv and run.json into this directory (default: print only)",
    )
    .option("--figure <id>", "tag the run with a figure id (used by figures)")
    .addHelpText(
      "after",
      examples(
        "deno task simulate --ranks 4096 --lag 1,2,4,8 --delay exp:2ms --comm-us 100",
        "deno task simulate --ranks 2:65536 --delay exp:1ms,exp:4ms --out results/simulate",
        "deno task simulate --calibrate results/latest --ranks 64 --delay exp:2ms",
      ),
    )
    .action(async (options) => {
      const started = new Date();
      const flags: SweepFlags = {
        ranks: options.ranks,
        lags: options.lag,
        delays: options.delay,
        iters: options.iters,
        seed: options.seed,
        commUs: options.commUs,
        overheadUs: options.overheadUs,
      };
      let measured;
      if (options.calibrate !== undefined) {
        const run = await readMeasuredRun(options.calibrate);
        measured = { run, calibration: calibrate(run) };
        const { cost: { latencyUs, usPerByte }, overheadFraction, samples } = measured.calibration;
        console.log(
          `Calibrated on ${options.calibrate}: synchronous exchange ${latencyUs.toFixed(1)} us` +
            (usPerByte > 0 ? ` + bytes / ${(1 / usPerByte).toFixed(1)} bytes/us` : "") +
            ` from ${samples.length} lag-0 row(s); ${(overheadFraction * 100).toFixed(0)}% of it` +
            " is per-call overhead (o), the rest overlapping exchange (c)",
        );
      }
      let scenarios;
      try {
        scenarios = planSweep(flags, measured);
      } catch (e) {
        if (!(e instanceof RangeError)) throw e;
        // Missing flags and stragglers outside the run are usage errors.
        throw new UsageError(/straggler/i.test(e.message) ? `--delay: ${e.message}` : e.message);
      }
      const clock = performance.now();
      const rows = simulateSweep(scenarios, measured?.run);
      const elapsedS = (performance.now() - clock) / 1000;
      console.log(formatTable(rows));
      console.log(`Simulated ${scenarios.length} configuration(s) in ${elapsedS.toFixed(2)} s`);
      if (options.out !== undefined) {
        const rankCounts = [...new Set(scenarios.map((s) => s.ranks))];
        await writeSimulationDir(options.out, rows, {
          version: VERSION,
          command: ["simulate", ...Deno.args.slice(Deno.args.indexOf("simulate") + 1)],
          config: {
            workload: "simulated",
            transport: scenarios[0]?.transport ?? "model",
            ranks: rankCounts.length === 1 ? rankCounts[0] : rankCounts,
            lags: scenarios[0]?.lags ?? [],
            sizes: null,
            delay: [...new Set(scenarios.map((s) => formatDelaySpec(s.delay)))].join(","),
            delayMode: scenarios[0]?.delayMode ?? "",
            imbalance: scenarios[0]?.imbalance ?? "none",
            iters: scenarios[0]?.iters,
            seed: scenarios[0]?.seed,
            commUs: [...new Set(scenarios.map((s) => s.commUs))],
            overheadUs: [...new Set(scenarios.map((s) => s.overheadUs))],
            calibratedFrom: options.calibrate ?? null,
            exchangeCost: measured?.calibration.cost ?? null,
            overheadFraction: measured?.calibration.overheadFraction ?? null,
            exchangeSamples: measured?.calibration.samples ?? null,
          },
          ...(options.figure ? { figure: options.figure } : {}),
          machine: machineInfo(),
          startedAt: started.toISOString(),
          endedAt: new Date().toISOString(),
          elapsedSeconds: elapsedS,
          status: "completed",
        });
        console.log(`Wrote ${options.out}/summary.csv and ${options.out}/run.json`);
      }
    });
}
