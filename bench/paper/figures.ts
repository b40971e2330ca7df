/**
 * The seven figures of the paper reproduction as data: which summary
 * rows each takes, what its charts plot (axes with units and scales, series by
 * lag, the cost model's ideal lines) and what the paper claims there.
 *
 * A row belongs to a figure when its `figure` column (or its run's `figure`)
 * names it; rows measured outside the figure suite (no figure named) are matched
 * by their shape instead, e.g. any `simulated` row feeds `fig-scale`.
 *
 * @module
 */

import type { ResultRun, SummaryRow } from "../results/read.ts";
import { configKey, delayMeanMs, imbalanceLevel, throughputOf } from "../results/values.ts";

/** The ids of the figures; also the HTML ids of their charts in `report.html`. */
export const FIGURE_IDS = [
  "fig-balanced",
  "fig-hetero",
  "fig-delay",
  "fig-lag",
  "fig-dlrm-balanced",
  "fig-dlrm-unbalanced",
  "fig-scale",
] as const;

/** One of {@link FIGURE_IDS}. */
export type FigureId = typeof FIGURE_IDS[number];

/** How an axis is labelled and scaled. */
export interface AxisSpec {
  /** What is plotted, e.g. `message size per peer`. */
  label: string;
  /** The unit, e.g. `bytes`, `µs`, `iterations/s`; empty for plain numbers. */
  unit: string;
  /** `log` where values span decades. */
  scale: "linear" | "log";
  /** How tick labels are written: byte sizes (`64 KiB`) or plain numbers. */
  format: "bytes" | "number";
  /** The value of a row on this axis; `null` leaves the row out of the chart. */
  value: (row: SummaryRow) => number | null;
}

/** One chart of a figure (a figure has one or more). */
export interface ChartSpec {
  /** Short key, unique in the figure, used in HTML ids, e.g. `hot`. */
  key: string;
  /** The chart's heading. */
  title: string;
  /** Which of the figure's rows this chart plots; all when absent. */
  takes?: (row: SummaryRow) => boolean;
  /** The horizontal axis. */
  x: AxisSpec;
  /** The vertical axis. */
  y: AxisSpec;
  /** The cost model's value on the y axis for the row, drawn dashed; absent when none. */
  ideal?: (row: SummaryRow) => number | null;
  /** The series (line) a row belongs to, e.g. `lag 2`. */
  series: (row: SummaryRow) => string;
  /**
   * Rows with different panel names get separate canvases, e.g. one per dataset;
   * `null` puts a row into every panel (a shared baseline such as delay `none`).
   */
  panel?: (row: SummaryRow) => string | null;
}

/** A figure: its charts, the paper's claim, and how to measure it. */
export interface FigureSpec {
  /** The figure id. */
  id: FigureId;
  /** The heading. */
  title: string;
  /** What the figure shows, one or two sentences. */
  description: string;
  /** What the paper claims about it. */
  paperClaim: string;
  /** What to run when the figure has no data, e.g. `deno task simulate ...`. */
  howToMeasure: string;
  /** Whether a row measured outside the figure suite (no figure named) belongs here. */
  matches: (row: SummaryRow) => boolean;
  /** The charts. */
  charts: ChartSpec[];
}

/**
 * The series label of a lag: `lag 0 (sync)`, `lag 2`.
 *
 * @example Labels
 * ```ts
 * import { lagLabel } from "./figures.ts";
 * import { equal } from "node:assert/strict";
 * equal(lagLabel(0), "lag 0 (sync)");
 * equal(lagLabel(4), "lag 4");
 * ```
 *
 * @param lag The lag bound.
 * @returns The label.
 */
export function lagLabel(lag: number): string {
  return lag === 0 ? "lag 0 (sync)" : `lag ${lag}`;
}

const byLag = (row: SummaryRow) => lagLabel(row.lag);
const perSecond = (v: number | null) => (v !== null && v > 0 ? v : null);
const msPerIteration = (itersPerS: number | null) =>
  itersPerS !== null && itersPerS > 0 ? 1000 / itersPerS : null;
const isNone = (spec: string) => spec === "" || spec.toLowerCase() === "none";
const skewOf = (row: SummaryRow) => row.cells["skew"] ?? "";

const sizeAxis: AxisSpec = {
  label: "message size per peer",
  unit: "bytes",
  scale: "log",
  format: "bytes",
  value: (row) => perSecond(row.sizeBytes),
};
const itersAxis: AxisSpec = {
  label: "throughput",
  unit: "iterations/s",
  scale: "linear",
  format: "number",
  value: (row) => perSecond(row.itersPerS),
};
const ranksAxis: AxisSpec = {
  label: "ranks",
  unit: "",
  scale: "log",
  format: "number",
  value: (row) => row.ranks,
};
/** The axis lags are drawn on, in the figures and in a plain run's report. */
export const LAG_AXIS: AxisSpec = {
  label: "lag bound k",
  unit: "iterations",
  scale: "linear",
  format: "number",
  value: (row) => row.lag,
};

/** The dataset a dlrm row ran on, for panels: the `dataset` column or `dlrm`. */
function datasetLabel(row: SummaryRow): string {
  return row.dataset ?? "dlrm";
}

/** The condition a dlrm-unbalanced row measures: its delay and skew/imbalance. */
function conditionLabel(row: SummaryRow): string {
  const parts: string[] = [];
  if (!isNone(row.delay)) parts.push(`delay ${row.delay}`);
  if (!isNone(row.imbalance)) parts.push(`imbalance ${row.imbalance}`);
  if (skewOf(row) && !isNone(skewOf(row))) parts.push(`skew ${skewOf(row)}`);
  return parts.length === 0 ? "no delay, no skew" : parts.join(", ");
}

/** The figures, in the order the report shows them. */
export const FIGURES: readonly FigureSpec[] = [
  {
    id: "fig-balanced",
    title: "Balanced alltoallv: latency against message size",
    description:
      "Median time of one alltoallv iteration for message sizes from 8 B to 1 MiB per peer, " +
      "balanced blocks and no delay, for each lag bound.",
    paperClaim:
      "For well-balanced runs without delays, BLS brings no notable gain: every lag performs " +
      "like the synchronous collective.",
    howToMeasure:
      "deno task figures (or: deno task bench --workload alltoallv --sizes 8:1048576 --lag 0,1,2,4,8)",
    matches: (row) =>
      row.workload === "alltoallv" && isNone(row.delay) && isNone(row.imbalance) &&
      row.sizeBytes !== null,
    charts: [{
      key: "latency",
      title: "Latency per iteration (p50) against message size",
      x: sizeAxis,
      y: {
        label: "latency per iteration (p50)",
        unit: "µs",
        scale: "log",
        format: "number",
        value: (row) => perSecond(row.latencyP50Us),
      },
      series: byLag,
    }],
  },
  {
    id: "fig-hetero",
    title: "Heterogeneous exchanges: throughput against imbalance",
    description:
      "Iterations per second as block sizes grow unequal: one hot rank whose blocks are F " +
      "times larger (F = 1 to 16), and sizes redrawn every iteration with a coefficient of " +
      "variation from 0 to 2.",
    paperClaim:
      "For heterogeneous message exchanges BLS improves latency and throughput: lags >= 1 " +
      "pull ahead of sync as the imbalance grows.",
    howToMeasure:
      "deno task figures (or: deno task bench --workload alltoallv --imbalance hot:0:8 --lag 0,1,2,4,8)",
    matches: (row) => row.workload === "alltoallv" && isNone(row.delay) && !isNone(row.imbalance),
    charts: [
      {
        key: "hot",
        title: "One hot rank: blocks to and from it F times larger",
        takes: (row) => isNone(row.imbalance) || imbalanceLevel(row.imbalance).kind === "hot",
        x: {
          label: "hot-rank factor F",
          unit: "×",
          scale: "log",
          format: "number",
          value: (row) => isNone(row.imbalance) ? 1 : imbalanceLevel(row.imbalance).level,
        },
        y: itersAxis,
        series: byLag,
      },
      {
        key: "random",
        title: "Random block sizes, redrawn every iteration",
        takes: (row) => isNone(row.imbalance) || imbalanceLevel(row.imbalance).kind === "random",
        x: {
          label: "coefficient of variation of block sizes",
          unit: "",
          scale: "linear",
          format: "number",
          value: (row) => isNone(row.imbalance) ? 0 : imbalanceLevel(row.imbalance).level,
        },
        y: itersAxis,
        series: byLag,
      },
      {
        key: "other",
        title: "Other imbalance models",
        takes: (row) => !["none", "hot", "random"].includes(imbalanceLevel(row.imbalance).kind),
        x: {
          label: "imbalance parameter",
          unit: "",
          scale: "linear",
          format: "number",
          value: (row) => imbalanceLevel(row.imbalance).level,
        },
        y: itersAxis,
        series: byLag,
        panel: (row) => imbalanceLevel(row.imbalance).kind,
      },
    ],
  },
  {
    id: "fig-delay",
    title: "Random delays: time per iteration against the mean delay",
    description:
      "Each rank waits a random time before posting each iteration. Solid lines are measured, " +
      "dashed lines the cost model's ideal for sync and each lag.",
    paperClaim: "With random per-rank delays, sync pays the expected maximum of the delays every " +
      "iteration while BLS pays closer to their mean: lags >= 1 beat sync as the delay grows.",
    howToMeasure:
      "deno task figures (or: deno task bench --workload alltoallv --delay exp:2ms --lag 0,1,2,4,8)",
    matches: (row) => row.workload === "alltoallv" && isNone(row.imbalance),
    charts: [{
      key: "time",
      title: "Time per iteration against the mean delay",
      x: {
        label: "mean delay per rank and iteration",
        unit: "ms",
        scale: "linear",
        format: "number",
        value: (row) => delayMeanMs(row.delay),
      },
      y: {
        label: "time per iteration",
        unit: "ms",
        scale: "linear",
        format: "number",
        value: (row) => msPerIteration(row.itersPerS),
      },
      ideal: (row) => msPerIteration(row.idealItersPerS),
      series: byLag,
      // The undelayed rows are the 0 ms point of every delay distribution.
      panel: (row) => isNone(row.delay) ? null : row.delay.split(":")[0],
    }],
  },
  {
    id: "fig-lag",
    title: "How much lag is enough: throughput against the lag bound",
    description:
      "Iterations per second for lag bounds 0 to 16 at a fixed random delay, measured (solid) " +
      "and the cost model's ideal (dashed).",
    paperClaim:
      "A larger lag bound lets fast ranks run further ahead, so throughput grows with the lag " +
      "until it saturates near the ideal.",
    howToMeasure:
      "deno task figures (or: deno task bench --workload alltoallv --delay exp:2ms --lag 0,1,2,4,8,16)",
    matches: (row) => row.workload === "alltoallv" && !isNone(row.delay),
    charts: [{
      key: "throughput",
      title: "Throughput against the lag bound",
      x: LAG_AXIS,
      y: itersAxis,
      ideal: (row) => perSecond(row.idealItersPerS),
      series: (row) => `${row.workload}, delay ${row.delay}, ${row.ranks} ranks`,
    }],
  },
  {
    id: "fig-dlrm-balanced",
    title: "DLRM inference, balanced: Mini-Kaggle and Ali-CCP",
    description:
      "Inference-only DLRM with the embedding tables sharded across ranks: samples per second " +
      "and batch latency against the number of ranks, for each lag.",
    paperClaim:
      "For well-balanced, homogeneous-access DLRM runs (Mini-Kaggle, Ali-CCP) BLS does not " +
      "offer notable advantages.",
    howToMeasure:
      "deno task figures (or: deno task bench --workload dlrm --dataset mini-kaggle --lag 0,1,2,4)",
    matches: (row) =>
      row.workload === "dlrm" && isNone(row.delay) && isNone(row.imbalance) &&
      isNone(skewOf(row)),
    charts: [
      {
        key: "throughput",
        title: "Samples per second against ranks",
        x: ranksAxis,
        y: {
          label: "throughput",
          unit: "samples/s",
          scale: "linear",
          format: "number",
          value: (row) => perSecond(row.samplesPerS ?? row.itersPerS),
        },
        series: byLag,
        panel: datasetLabel,
      },
      {
        key: "latency",
        title: "Batch latency (p50) against ranks",
        x: ranksAxis,
        y: {
          label: "batch latency (p50)",
          unit: "ms",
          scale: "linear",
          format: "number",
          value: (row) => row.latencyP50Us === null ? null : row.latencyP50Us / 1000,
        },
        series: byLag,
        panel: datasetLabel,
      },
    ],
  },
  {
    id: "fig-dlrm-unbalanced",
    title: "DLRM inference, unbalanced: skewed lookups and delays",
    description: "Samples per second against the lag bound for DLRM runs with strongly irregular " +
      "embedding accesses and with random per-rank delays, beside the undelayed run.",
    paperClaim:
      "For unbalanced DLRM runs BLS improves latency and throughput; in the best case it masks " +
      "the delays across processes altogether.",
    howToMeasure:
      "deno task figures (or: deno task bench --workload dlrm --dataset synthetic --skew zipf:1.2 --delay exp:2ms --lag 0,1,2,4)",
    matches: (row) => row.workload === "dlrm",
    charts: [{
      key: "throughput",
      title: "Samples per second against the lag bound",
      x: LAG_AXIS,
      y: {
        label: "throughput",
        unit: "samples/s",
        scale: "linear",
        format: "number",
        value: (row) => throughputOf(row),
      },
      series: conditionLabel,
      panel: (row) => `${datasetLabel(row)}, ${row.ranks} ranks`,
    }],
  },
  {
    id: "fig-scale",
    title: "At scale (simulated): speedup against the number of ranks",
    description:
      "The cost model run at 2 to 65,536 ranks: speedup of each lag over sync. The more ranks, " +
      "the larger the expected maximum of their delays that sync pays every iteration.",
    paperClaim:
      "BLS masks random delays that sync must pay in full, so its advantage grows with the " +
      "number of processes.",
    howToMeasure: "deno task simulate --ranks 2,...,65536 --lag 0,1,2,4,8 --delay exp:2ms",
    matches: (row) => row.workload === "simulated",
    charts: [{
      key: "speedup",
      title: "Speedup over sync against ranks",
      takes: (row) => row.lag > 0,
      x: ranksAxis,
      y: {
        label: "speedup over sync",
        unit: "×",
        scale: "linear",
        format: "number",
        value: (row) => row.speedupVsSync,
      },
      series: byLag,
      panel: (row) => `delay ${row.delay}`,
    }],
  },
];

/**
 * Looks up a figure by id.
 *
 * @example Find a figure
 * ```ts
 * import { figureSpec } from "./figures.ts";
 * import { equal } from "node:assert/strict";
 * equal(figureSpec("fig-scale").charts[0].x.scale, "log");
 * ```
 *
 * @param id The figure id.
 * @returns The figure.
 * @throws RangeError for an unknown id.
 */
export function figureSpec(id: FigureId): FigureSpec {
  const spec = FIGURES.find((f) => f.id === id);
  if (!spec) throw new RangeError(`Unknown figure id: ${id}`);
  return spec;
}

/**
 * The rows of a set of result directories that belong to a figure: those whose
 * `figure` names it, or when there are none, the untagged rows of the figure's
 * shape (`spec.matches`). Each row has its
 * run's `figure` and `dataset` filled in where the row lacks them. Speedups missing
 * from a row are derived from the lag-0 row of the same configuration.
 *
 * @example Rows of a simulated run feed fig-scale
 * ```ts
 * import { figureSpec, rowsForFigure } from "./figures.ts";
 * import { equal } from "node:assert/strict";
 * const row = { workload: "simulated", transport: "model", ranks: 8, lag: 0, sizeBytes: null,
 *   imbalance: "none", delay: "exp:2ms", delayMode: "sleep", iters: 100, itersPerS: 100,
 *   samplesPerS: null, latencyP50Us: null, latencyP99Us: null, blockedP50Us: null,
 *   speedupVsSync: 1, idealItersPerS: 100, validated: null, figure: null, repeat: null,
 *   dataset: null, cells: {} };
 * const run = { version: "0.1.0", command: [], config: {}, machine: {}, startedAt: "",
 *   endedAt: "", status: "completed", figure: null };
 * equal(rowsForFigure(figureSpec("fig-scale"), [{ dir: "r", run, rows: [row] }]).length, 1);
 * ```
 *
 * @param spec The figure.
 * @param runs The result directories.
 * @returns The figure's rows.
 */
export function rowsForFigure(spec: FigureSpec, runs: readonly ResultRun[]): SummaryRow[] {
  const rows = enrichedRows(runs);
  // Rows measured for this figure win; only without them do untagged rows stand in.
  const tagged = rows.filter((row) => row.figure === spec.id);
  return tagged.length > 0
    ? tagged
    : rows.filter((row) => row.figure === null && spec.matches(row));
}

/**
 * All rows of the result directories with their run's `figure` and `dataset`
 * filled in and missing speedups derived.
 *
 * @example No runs, no rows
 * ```ts
 * import { enrichedRows } from "./figures.ts";
 * import { equal } from "node:assert/strict";
 * equal(enrichedRows([]).length, 0);
 * ```
 *
 * @param runs The result directories.
 * @returns The rows, in directory and file order.
 */
export function enrichedRows(runs: readonly ResultRun[]): SummaryRow[] {
  const out: SummaryRow[] = [];
  for (const { run, rows } of runs) {
    const dataset = typeof run.config.dataset === "string" ? run.config.dataset : null;
    const skew = typeof run.config.skew === "string" ? run.config.skew : null;
    const syncByConfig = new Map<string, number[]>();
    for (const row of rows) {
      if (row.lag !== 0 || row.itersPerS === null) continue;
      const key = configKey(row);
      syncByConfig.set(key, [...(syncByConfig.get(key) ?? []), row.itersPerS]);
    }
    for (const row of rows) {
      const cells = skew !== null && row.cells["skew"] === undefined
        ? { ...row.cells, skew }
        : row.cells;
      let speedup = row.speedupVsSync;
      if (speedup === null && row.itersPerS !== null) {
        const sync = syncByConfig.get(configKey(row));
        if (sync && sync.length > 0) {
          speedup = row.itersPerS / (sync.reduce((a, b) => a + b, 0) / sync.length);
        }
      }
      out.push({
        ...row,
        cells,
        figure: row.figure ?? run.figure,
        dataset: row.dataset ?? (row.workload === "dlrm" ? dataset : null),
        speedupVsSync: speedup,
      });
    }
  }
  return out;
}
