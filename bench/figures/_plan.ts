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
  const ranks = [...new Set(options.ranks ?? (quick ? [2] : [2, 4]))].sort((a, b) => a - b);
  if (ranks.length === 0 || ranks.some((r) => !Number.isSafeInteger(r) || r < 1)) {
    throw new RangeError(`Rank counts must be whole numbers >= 1, got ${ranks.join(",")}`);
  }
  const repeat = options.repeat ?? (quick ? 1 : 3);
  if (!Number.isSafeInteger(repeat) || repeat < 1) {
    throw new RangeError(`Repeat must be a whole number >= 1, got ${repeat}`);
  }
  const ctx: PlanContext = {
    flavour: quick ? QUICK : FULL,
    out: options.out ?? DEFAULT_OUT,
    transport: options.transport ?? "tcp",
    ranks,
    repeat,
    cpus: options.cpus ?? navigator.hardwareConcurrency,
    figures: FIGURE_IDS.filter((id) => !options.only || options.only.includes(id)),
    iters: options.iters,
  };
  const steps = ctx.figures.flatMap((figure) => PLANNERS[figure](ctx));
  const { out, transport, figures } = ctx;
  return { quick, out, transport, ranks, repeat, figures, steps };
}

/** What every figure's planner needs: the suite's options, resolved. */
interface PlanContext {
  flavour: Flavour;
  out: string;
  transport: "tcp" | "unix" | "mpi";
  ranks: number[];
  repeat: number;
  cpus: number;
  figures: FigureId[];
  /** Timed iterations replacing every plan's own, if given. */
  iters?: number;
}

/** One `bench` run of a figure. */
interface BenchRun {
  figure: FigureId;
  name: string;
  ranks: number;
  workload: "alltoallv" | "dlrm";
  flags: string[];
  /** The lags besides 0 (lag 0 always runs). */
  lags: number[];
  /** Timed iterations the plan asks for. */
  iters: number;
  label: string;
  configs: number;
}

function benchStep(ctx: PlanContext, run: BenchRun): FigureStep {
  const dir = joinPath(ctx.out, run.figure, run.name);
  const iters = ctx.iters ?? run.iters;
  const warmup = Math.max(1, Math.ceil(iters / 10));
  const args = [
    "bench",
    "--workload",
    run.workload,
    "--transport",
    ctx.transport,
    "--ranks",
    String(run.ranks),
    "--lag",
    [0, ...run.lags].join(","),
    ...run.flags,
    "--iters",
    String(iters),
    "--warmup",
    String(warmup),
    "--repeat",
    String(ctx.repeat),
    // DLRM predictions are checked after the timed batches, so checking costs no timed
    // work; alltoallv's byte check runs inside the timed loop and would distort it.
    ...(run.workload === "dlrm" ? ["--validate"] : []),
    "--figure",
    run.figure,
    "--out",
    dir,
  ];
  return {
    figure: run.figure,
    name: run.name,
    dir,
    command: "bench",
    workload: run.workload,
    args,
    label: `${run.label}, ${run.ranks} ranks`,
    configs: run.configs,
    ranks: run.ranks,
    oversubscribed: run.ranks > ctx.cpus,
  };
}

/** bench runs lag 0 and the lags, per size and repeat, plus one calibration per size when delayed. */
function configsOf(ctx: PlanContext, sizes: number, lags: number[], delayed: boolean): number {
  return sizes * ((lags.length + 1) * ctx.repeat + (delayed ? 1 : 0));
}

function lagText(lags: number[]): string {
  return `lags 0,${lags.join(",")}`;
}

function planBalanced(ctx: PlanContext): FigureStep[] {
  const { flavour } = ctx;
  return ctx.ranks.flatMap((r) =>
    flavour.balanced.map(([min, max, iters]) => {
      const sizes = min === max ? `${min} B` : `${formatSize(min)}..${formatSize(max)}`;
      return benchStep(ctx, {
        figure: "fig-balanced",
        name: min === max ? `${min}-r${r}` : `${min}-${max}-r${r}`,
        ranks: r,
        workload: "alltoallv",
        flags: ["--sizes", `${min}:${max}`],
        lags: flavour.lags,
        iters,
        label: `alltoallv ${sizes}, ${lagText(flavour.lags)}`,
        configs: configsOf(ctx, sweepSizes([min, max]).length, flavour.lags, false),
      });
    })
  );
}

function planHetero(ctx: PlanContext): FigureStep[] {
  const { flavour, ranks } = ctx;
  const size = flavour.baseSize;
  // A hot rank needs 3 ranks or more: with 2, every block is to or from it.
  const hotRanks = ranks.filter((r) => r >= 3);
  if (hotRanks.length === 0) hotRanks.push(4);
  const allRanks = [...new Set([...ranks, ...hotRanks])].sort((a, b) => a - b);
  return allRanks.flatMap((r) => {
    const levels: [string, string][] = [["none", "none"]];
    if (hotRanks.includes(r)) {
      for (const f of flavour.hotFactors) levels.push([`hot-${f}`, `hot:0:${f}`]);
    }
    if (ranks.includes(r)) {
      for (const cv of flavour.randomCvs) levels.push([`random-${cv}`, `random:${cv}`]);
    }
    return levels.map(([name, spec]) =>
      benchStep(ctx, {
        figure: "fig-hetero",
        name: `${name}-r${r}`,
        ranks: r,
        workload: "alltoallv",
        flags: ["--sizes", `${size}:${size}`, "--imbalance", spec],
        lags: flavour.lags,
        iters: flavour.fastIters,
        label: `alltoallv ${size} B imbalance ${spec}, ${lagText(flavour.lags)}`,
        configs: configsOf(ctx, 1, flavour.lags, false),
      })
    );
  });
}

function planDelay(ctx: PlanContext): FigureStep[] {
  const { flavour } = ctx;
  const size = flavour.delaySize;
  const delays = ["none", ...flavour.delayMeansMs.map((ms) => `exp:${ms}ms`)];
  return ctx.ranks.flatMap((r) =>
    delays.map((delay) =>
      benchStep(ctx, {
        figure: "fig-delay",
        name: `${delay.replace(":", "-")}-r${r}`,
        ranks: r,
        workload: "alltoallv",
        flags: ["--sizes", `${size}:${size}`, "--delay", delay],
        lags: flavour.lags,
        iters: delay === "none" ? flavour.fastIters : flavour.iters,
        label: `alltoallv ${size} B delay ${delay}, ${lagText(flavour.lags)}`,
        configs: configsOf(ctx, 1, flavour.lags, delay !== "none"),
      })
    )
  );
}

function planLag(ctx: PlanContext): FigureStep[] {
  const { flavour } = ctx;
  const size = flavour.delaySize;
  return ctx.ranks.map((r) =>
    benchStep(ctx, {
      figure: "fig-lag",
      name: `r${r}`,
      ranks: r,
      workload: "alltoallv",
      flags: ["--sizes", `${size}:${size}`, "--delay", flavour.lagDelay],
      lags: flavour.lagSweep,
      iters: flavour.iters,
      label: `alltoallv ${size} B delay ${flavour.lagDelay}, ${lagText(flavour.lagSweep)}`,
      configs: configsOf(ctx, 1, flavour.lagSweep, true),
    })
  );
}

function planDlrmBalanced(ctx: PlanContext): FigureStep[] {
  const { flavour } = ctx;
  // Samples/s against ranks: one rank (no exchange partner) as well, for a line.
  const dlrmRanks = [...new Set([1, ...ctx.ranks])].sort((a, b) => a - b);
  return ["mini-kaggle", "ali-ccp"].flatMap((dataset) =>
    dlrmRanks.map((r) =>
      benchStep(ctx, {
        figure: "fig-dlrm-balanced",
        name: `${dataset}-r${r}`,
        ranks: r,
        workload: "dlrm",
        flags: [
          "--dataset",
          dataset,
          "--batch-size",
          String(DLRM_BATCH),
          "--rows",
          String(flavour.dlrm.rows),
        ],
        lags: flavour.lags,
        iters: flavour.dlrm.balancedIters,
        label: `dlrm ${dataset} batch ${DLRM_BATCH}, ${lagText(flavour.lags)}`,
        configs: configsOf(ctx, 1, flavour.lags, false),
      })
    )
  );
}

function planDlrmUnbalanced(ctx: PlanContext): FigureStep[] {
  const { flavour } = ctx;
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
  return ctx.ranks.flatMap((r) =>
    conditions.map(([name, flags]) =>
      benchStep(ctx, {
        figure: "fig-dlrm-unbalanced",
        name: `${name}-r${r}`,
        ranks: r,
        workload: "dlrm",
        flags: [
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
        lags: flavour.lags,
        iters: flavour.dlrm.unbalancedIters,
        label: `dlrm synthetic ${name}, ${lagText(flavour.lags)}`,
        configs: configsOf(ctx, 1, flavour.lags, flags[0] === "--delay"),
      })
    )
  );
}

function planScale(ctx: PlanContext): FigureStep[] {
  const { flavour, out } = ctx;
  const figure = "fig-scale";
  const dir = joinPath(out, figure, "simulated");
  const iters = ctx.iters ?? flavour.scaleIters;
  const lagDir = ctx.figures.includes("fig-lag")
    ? joinPath(out, "fig-lag", `r${ctx.ranks[0]}`)
    : null;
  return [{
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
  }];
}

/** Each figure's runs. */
const PLANNERS: Record<FigureId, (ctx: PlanContext) => FigureStep[]> = {
  "fig-balanced": planBalanced,
  "fig-hetero": planHetero,
  "fig-delay": planDelay,
  "fig-lag": planLag,
  "fig-dlrm-balanced": planDlrmBalanced,
  "fig-dlrm-unbalanced": planDlrmUnbalanced,
  "fig-scale": planScale,
};

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
