/**
 * The plan of the figure suite: which `bench` and `simulate` runs make each of
 * the seven figures, with which flags, into which sub-directory. A pure
 * function of the options, so tests (and `figures --dry-run`) can read it
 * without running anything.
 *
 * @module
 */

import { FIGURE_IDS, type FigureId } from "../paper/figures.ts";
import { sweepSizes } from "../config.ts";

/** One run of the suite: a `bench` or `simulate` subprocess writing one results directory. */
export interface FigureStep {
  /** The figure the run's rows are tagged with (and measured for). */
  figure: FigureId;
  /** A name unique within the figure, e.g. `hot-8-r4`; the sub-directory's name. */
  name: string;
  /** The results directory: `OUT/<figure>/<name>`. */
  dir: string;
  /** The subcommand. */
  command: "bench" | "simulate";
  /** The workload measured (`simulated` for the cost model). */
  workload: "alltoallv" | "dlrm" | "simulated";
  /** The arguments after `cli.ts`, starting with the subcommand. */
  args: string[];
  /** A short description for the progress display. */
  label: string;
  /** How many configurations the run measures (bench's `[i/N]` lines), at least 1. */
  configs: number;
  /** The number of ranks spawned on this machine; `null` for the simulator. */
  ranks: number | null;
  /** Set when the run spawns more ranks than this machine has CPUs. */
  oversubscribed: boolean;
  /**
   * A results directory this step calibrates on (`simulate --calibrate`); when that
   * run failed, the step runs with its defaults instead.
   */
  calibrateFrom?: string;
}

/** Options of {@link planFigures}. */
export interface FigurePlanOptions {
  /** The small, cheap suite (a few minutes on 2 cores). */
  quick?: boolean;
  /** The output directory; default `results/figures`. */
  out?: string;
  /** The transport of every measured run; default `tcp`. */
  transport?: "tcp" | "unix" | "mpi";
  /** Rank counts of the measured runs; default `[2]` quick, `[2, 4]` full. */
  ranks?: readonly number[];
  /** Repeats of every configuration (min-max bands); default 1 quick, 3 full. */
  repeat?: number;
  /** Only these figures; default all seven. */
  only?: readonly FigureId[];
  /** Timed iterations of every run (and a tenth as warm-up), replacing the plan's. */
  iters?: number;
  /** The CPUs of this machine, to label oversubscribed runs; default this machine's. */
  cpus?: number;
}

/** The whole suite. */
export interface FigurePlan {
  /** Whether this is the quick suite. */
  quick: boolean;
  /** The output directory. */
  out: string;
  /** The transport. */
  transport: "tcp" | "unix" | "mpi";
  /** Rank counts of the measured runs. */
  ranks: number[];
  /** Repeats of every configuration. */
  repeat: number;
  /** The figures planned, in suite order. */
  figures: FigureId[];
  /** The runs, in the order they run. */
  steps: FigureStep[];
}

/** The sizes, levels and iteration counts of one suite flavour. */
interface Flavour {
  lags: number[];
  lagSweep: number[];
  /**
   * fig-balanced: one run per `[min, max, iters]` range of sizes (bench rewrites its
   * CSVs after every configuration, so long sweeps of many repeats get slow).
   */
  balanced: [number, number, number][];
  /** Iterations of an undelayed exchange of a few KiB (thousands per second). */
  fastIters: number;
  /** Iterations of a delayed exchange (a few ms each). */
  iters: number;
  dlrm: {
    balancedIters: number;
    unbalancedIters: number;
    rows: number;
    delays: string[];
    skews: string[];
  };
  baseSize: number;
  delaySize: number;
  hotFactors: number[];
  randomCvs: number[];
  delayMeansMs: number[];
  lagDelay: string;
  scaleIters: number;
  scaleDelays: string[];
}

const QUICK: Flavour = {
  lags: [1, 2, 4, 8],
  lagSweep: [1, 2, 4, 8, 16],
  balanced: [[8, 8192, 1000], [16384, 1 << 20, 200]],
  fastIters: 1000,
  iters: 300,
  dlrm: {
    balancedIters: 80,
    unbalancedIters: 100,
    rows: 16384,
    delays: ["exp:5ms"],
    skews: ["tables:0:8"],
  },
  baseSize: 4096,
  delaySize: 1024,
  hotFactors: [2, 4, 16],
  randomCvs: [0.5, 1, 2],
  delayMeansMs: [0.5, 1, 2, 4],
  lagDelay: "exp:2ms",
  scaleIters: 200,
  scaleDelays: ["exp:2ms"],
};

const FULL: Flavour = {
  lags: [1, 2, 4, 8],
  lagSweep: [1, 2, 4, 8, 16],
  // Every power of 4 from 8 B, and 1 MiB; each size its own run.
  balanced: [8, 32, 128, 512, 2048, 8192, 32768, 131072, 524288, 1 << 20].map((
    size,
  ): [number, number, number] => [size, size, size <= 8192 ? 1500 : 200]),
  fastIters: 1500,
  iters: 500,
  dlrm: {
    balancedIters: 100,
    unbalancedIters: 150,
    rows: 65536,
    delays: ["exp:5ms"],
    skews: ["tables:0:8", "zipf:1.2"],
  },
  baseSize: 4096,
  delaySize: 1024,
  hotFactors: [2, 4, 8, 16],
  randomCvs: [0.25, 0.5, 1, 1.5, 2],
  delayMeansMs: [0.5, 1, 2, 3, 4],
  lagDelay: "exp:2ms",
  scaleIters: 1000,
  scaleDelays: ["exp:2ms", "exp:0.5ms"],
};

const DEFAULT_OUT = "results/figures";
/** Global batch of the balanced DLRM runs: compute, not the exchange, dominates a batch. */
const DLRM_BATCH = 1024;
/** Global batch of the synthetic (skewed, delayed) DLRM runs: about 20 ms a batch on 2 cores. */
const DLRM_SKEW_BATCH = 512;

function formatSize(bytes: number): string {
  return bytes >= 1 << 20
    ? `${bytes / (1 << 20)} MiB`
    : bytes >= 1024
    ? `${bytes / 1024} KiB`
    : `${bytes} B`;
}

function joinPath(dir: string, ...parts: string[]): string {
  return [dir.replace(/\/+$/, "") || "/", ...parts].join("/");
}

/**
 * Plans the figure suite: the `bench` and `simulate` runs of every figure.
 *
 * Quick runs each figure at 2 ranks (the hot-rank imbalance at 4: with two ranks
 * every block touches the hot rank, so nothing is imbalanced) with a few hundred
 * iterations; the full suite adds 4 ranks, more levels, OSU's iteration counts
 * and 3 repeats for min-max bands.
 *
 * @example The quick suite is smaller than the full one
 * ```ts
 * import { planFigures } from "./_plan.ts";
 * import { ok } from "node:assert/strict";
 * const quick = planFigures({ quick: true, cpus: 2 });
 * const full = planFigures({ cpus: 2 });
 * ok(quick.steps.length < full.steps.length);
 * ok(quick.steps.every((s) => s.args.includes("--figure") || s.command === "simulate"));
 * ```
 *
 * @param options The suite's options.
 * @returns The plan.
 * @throws RangeError for an empty rank list, a rank count below 1 or a repeat below 1.
 */
export function planFigures(options: FigurePlanOptions = {}): FigurePlan {
  const quick = options.quick === true;
  const flavour = quick ? QUICK : FULL;
  const out = options.out ?? DEFAULT_OUT;
  const transport = options.transport ?? "tcp";
  const ranks = [...new Set(options.ranks ?? (quick ? [2] : [2, 4]))].sort((a, b) => a - b);
  if (ranks.length === 0 || ranks.some((r) => !Number.isSafeInteger(r) || r < 1)) {
    throw new RangeError(`Rank counts must be whole numbers >= 1, got ${ranks.join(",")}`);
  }
  const repeat = options.repeat ?? (quick ? 1 : 3);
  if (!Number.isSafeInteger(repeat) || repeat < 1) {
    throw new RangeError(`Repeat must be a whole number >= 1, got ${repeat}`);
  }
  const cpus = options.cpus ?? navigator.hardwareConcurrency;
  const figures = FIGURE_IDS.filter((id) => !options.only || options.only.includes(id));
  const itersOf = (planned: number) => options.iters ?? planned;
  const warmupOf = (iters: number) => Math.max(1, Math.ceil(iters / 10));
  const steps: FigureStep[] = [];

  const bench = (
    figure: FigureId,
    name: string,
    r: number,
    workload: "alltoallv" | "dlrm",
    flags: string[],
    lags: number[],
    plannedIters: number,
    label: string,
    configs: number,
  ) => {
    const dir = joinPath(out, figure, name);
    const iters = itersOf(plannedIters);
    const warmup = warmupOf(iters);
    const args = [
      "bench",
      "--workload",
      workload,
      "--transport",
      transport,
      "--ranks",
      String(r),
      "--lag",
      [0, ...lags].join(","),
      ...flags,
      "--iters",
      String(iters),
      "--warmup",
      String(warmup),
      "--repeat",
      String(repeat),
      // DLRM predictions are checked after the timed batches, so checking costs no timed
      // work; alltoallv's byte check runs inside the timed loop and would distort it.
      ...(workload === "dlrm" ? ["--validate"] : []),
      "--figure",
      figure,
      "--out",
      dir,
    ];
    steps.push({
      figure,
      name,
      dir,
      command: "bench",
      workload,
      args,
      label: `${label}, ${r} ranks`,
      configs,
      ranks: r,
      oversubscribed: r > cpus,
    });
  };
  // bench runs lag 0 and the lags, per size and repeat, plus one calibration per size when delayed.
  const configsOf = (sizes: number, lags: number[], delayed: boolean) =>
    sizes * ((lags.length + 1) * repeat + (delayed ? 1 : 0));
  const lagText = (lags: number[]) => `lags 0,${lags.join(",")}`;

  for (const figure of figures) {
    switch (figure) {
      case "fig-balanced": {
        for (const r of ranks) {
          for (const [min, max, iters] of flavour.balanced) {
            const sizes = min === max ? `${min} B` : `${formatSize(min)}..${formatSize(max)}`;
            bench(
              figure,
              min === max ? `${min}-r${r}` : `${min}-${max}-r${r}`,
              r,
              "alltoallv",
              ["--sizes", `${min}:${max}`],
              flavour.lags,
              iters,
              `alltoallv ${sizes}, ${lagText(flavour.lags)}`,
              configsOf(sweepSizes([min, max]).length, flavour.lags, false),
            );
          }
        }
        break;
      }
      case "fig-hetero": {
        const size = flavour.baseSize;
        const sizes = ["--sizes", `${size}:${size}`];
        // A hot rank needs 3 ranks or more: with 2, every block is to or from it.
        const hotRanks = ranks.filter((r) => r >= 3);
        if (hotRanks.length === 0) hotRanks.push(4);
        const allRanks = [...new Set([...ranks, ...hotRanks])].sort((a, b) => a - b);
        for (const r of allRanks) {
          const levels: [string, string][] = [["none", "none"]];
          if (hotRanks.includes(r)) {
            for (const f of flavour.hotFactors) levels.push([`hot-${f}`, `hot:0:${f}`]);
          }
          if (ranks.includes(r)) {
            for (const cv of flavour.randomCvs) levels.push([`random-${cv}`, `random:${cv}`]);
          }
          for (const [name, spec] of levels) {
            bench(
              figure,
              `${name}-r${r}`,
              r,
              "alltoallv",
              [...sizes, "--imbalance", spec],
              flavour.lags,
              flavour.fastIters,
              `alltoallv ${size} B imbalance ${spec}, ${lagText(flavour.lags)}`,
              configsOf(1, flavour.lags, false),
            );
          }
        }
        break;
      }
      case "fig-delay": {
        const size = flavour.delaySize;
        for (const r of ranks) {
          const delays = ["none", ...flavour.delayMeansMs.map((ms) => `exp:${ms}ms`)];
          for (const delay of delays) {
            bench(
              figure,
              `${delay.replace(":", "-")}-r${r}`,
              r,
              "alltoallv",
              ["--sizes", `${size}:${size}`, "--delay", delay],
              flavour.lags,
              delay === "none" ? flavour.fastIters : flavour.iters,
              `alltoallv ${size} B delay ${delay}, ${lagText(flavour.lags)}`,
              configsOf(1, flavour.lags, delay !== "none"),
            );
          }
        }
        break;
      }
      case "fig-lag": {
        const size = flavour.delaySize;
        for (const r of ranks) {
          bench(
            figure,
            `r${r}`,
            r,
            "alltoallv",
            ["--sizes", `${size}:${size}`, "--delay", flavour.lagDelay],
            flavour.lagSweep,
            flavour.iters,
            `alltoallv ${size} B delay ${flavour.lagDelay}, ${lagText(flavour.lagSweep)}`,
            configsOf(1, flavour.lagSweep, true),
          );
        }
        break;
      }
      case "fig-dlrm-balanced": {
        // Samples/s against ranks: one rank (no exchange partner) as well, for a line.
        const dlrmRanks = [...new Set([1, ...ranks])].sort((a, b) => a - b);
        for (const dataset of ["mini-kaggle", "ali-ccp"]) {
          for (const r of dlrmRanks) {
            bench(
              figure,
              `${dataset}-r${r}`,
              r,
              "dlrm",
              [
                "--dataset",
                dataset,
                "--batch-size",
                String(DLRM_BATCH),
                "--rows",
                String(flavour.dlrm.rows),
              ],
              flavour.lags,
              flavour.dlrm.balancedIters,
              `dlrm ${dataset} batch ${DLRM_BATCH}, ${lagText(flavour.lags)}`,
              configsOf(1, flavour.lags, false),
            );
          }
        }
        break;
      }
      case "fig-dlrm-unbalanced": {
        // The undelayed, unskewed run is the target that masked delays reach.
        const conditions: [string, string[]][] = [
          ["balanced", []],
          ...flavour.dlrm.delays.map((d): [string, string[]] => [
            `delay-${d.replace(":", "-")}`,
            ["--delay", d],
          ]),
          ...flavour.dlrm.skews.map((k): [string, string[]] => [
            `skew-${k.replaceAll(":", "-")}`,
            ["--skew", k],
          ]),
        ];
        for (const r of ranks) {
          for (const [name, flags] of conditions) {
            bench(
              figure,
              `${name}-r${r}`,
              r,
              "dlrm",
              [
                "--dataset",
                "synthetic",
                "--batch-size",
                String(DLRM_SKEW_BATCH),
                "--rows",
                String(flavour.dlrm.rows),
                "--pooling",
                "4",
                ...flags,
              ],
              flavour.lags,
              flavour.dlrm.unbalancedIters,
              `dlrm synthetic ${name}, ${lagText(flavour.lags)}`,
              configsOf(1, flavour.lags, flags[0] === "--delay"),
            );
          }
        }
        break;
      }
      case "fig-scale": {
        const dir = joinPath(out, figure, "simulated");
        const iters = itersOf(flavour.scaleIters);
        const lagDir = figures.includes("fig-lag")
          ? joinPath(out, "fig-lag", `r${ranks[0]}`)
          : null;
        steps.push({
          figure,
          name: "simulated",
          dir,
          command: "simulate",
          workload: "simulated",
          args: [
            "simulate",
            ...(lagDir ? ["--calibrate", lagDir] : []),
            "--ranks",
            "2:65536",
            "--lag",
            [0, ...flavour.lags].join(","),
            "--delay",
            flavour.scaleDelays.join(","),
            "--iters",
            String(iters),
            "--out",
            dir,
          ],
          label: `cost model 2..65,536 ranks, delay ${flavour.scaleDelays.join(", ")}${
            lagDir ? ", calibrated on fig-lag" : ""
          }`,
          configs: 1,
          ranks: null,
          oversubscribed: false,
          ...(lagDir ? { calibrateFrom: lagDir } : {}),
        });
        break;
      }
    }
  }
  return { quick, out, transport, ranks, repeat, figures, steps };
}

/**
 * The command line of a step as a user would type it.
 *
 * @example A step's command
 * ```ts
 * import { planFigures, stepCommandLine } from "./_plan.ts";
 * import { ok } from "node:assert/strict";
 * const [step] = planFigures({ quick: true, only: ["fig-lag"] }).steps;
 * ok(stepCommandLine(step).startsWith("deno run -A cli.ts bench --workload alltoallv"));
 * ```
 *
 * @param step The step.
 * @returns One line of shell text.
 */
export function stepCommandLine(step: FigureStep): string {
  const quote = (a: string) => /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", "'\\''")}'`;
  return ["deno", "run", "-A", "cli.ts", ...step.args].map(quote).join(" ");
}
