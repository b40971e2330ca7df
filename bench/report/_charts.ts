/**
 * Turns summary rows and a chart spec into the data one chart draws: series of
 * points (mean over repeats, with the min and max for bands), the ideal lines,
 * colours and axes. The browser side only maps this onto Chart.js.
 *
 * @module
 */

import type { SummaryRow } from "../results/read.ts";
import { type AxisSpec, type ChartSpec, LAG_AXIS } from "../paper/figures.ts";
import { formatBytes, NOT_CONFIG, throughputOf } from "../results/values.ts";

/** One point: the mean of the repeats at an x, and their range. */
export interface ChartPoint {
  /** The x value. */
  x: number;
  /** The mean y over the rows at this x. */
  y: number;
  /** The smallest y. */
  min: number;
  /** The largest y. */
  max: number;
  /** How many rows were averaged. */
  n: number;
  /** The rows' speedup over sync (`speedup_vs_sync`): median, smallest and largest; absent when none. */
  speedup?: { median: number; lo: number; hi: number };
}

/** One line of a chart. */
export interface ChartSeries {
  /** The legend label. */
  label: string;
  /** CSS colour. */
  color: string;
  /** Drawn dashed (the cost model's ideal). */
  dashed: boolean;
  /** Points sorted by x. */
  points: ChartPoint[];
}

/** An axis as the browser draws it. */
export interface ChartAxis {
  /** Title text, with the unit. */
  title: string;
  /** `linear` or `log`. */
  scale: "linear" | "log";
  /** Tick label format. */
  format: "bytes" | "number";
  /** Every value on the axis is a whole number: no fractional ticks. */
  integer: boolean;
}

/** Everything one canvas draws. */
export interface ChartModel {
  /** The canvas's HTML id. */
  canvasId: string;
  /** The heading above the chart. */
  title: string;
  /** Horizontal axis. */
  x: ChartAxis;
  /** Vertical axis. */
  y: ChartAxis;
  /** The lines. */
  series: ChartSeries[];
}

/** Okabe-Ito colours (distinguishable with colour blindness), then a few more. */
const PALETTE = [
  "#0072B2",
  "#D55E00",
  "#009E73",
  "#CC79A7",
  "#E69F00",
  "#56B4E9",
  "#000000",
  "#8C564B",
  "#7F7F7F",
  "#BCBD22",
];

const collator = new Intl.Collator("en", { numeric: true });

function axisOf(spec: AxisSpec, values: number[]): ChartAxis {
  return {
    title: spec.unit ? `${spec.label} (${spec.unit})` : spec.label,
    scale: spec.scale,
    format: spec.format,
    integer: values.length > 0 && values.every(Number.isInteger),
  };
}

function aggregate(pairs: { x: number; y: number; speedup?: number | null }[]): ChartPoint[] {
  const byX = new Map<number, { ys: number[]; speedups: number[] }>();
  for (const { x, y, speedup } of pairs) {
    let entry = byX.get(x);
    if (!entry) byX.set(x, entry = { ys: [], speedups: [] });
    entry.ys.push(y);
    if (typeof speedup === "number" && Number.isFinite(speedup)) entry.speedups.push(speedup);
  }
  return [...byX].sort(([a], [b]) => a - b).map(([x, { ys, speedups }]) => {
    const point: ChartPoint = {
      x,
      y: ys.reduce((a, b) => a + b, 0) / ys.length,
      min: Math.min(...ys),
      max: Math.max(...ys),
      n: ys.length,
    };
    if (speedups.length > 0) {
      const sorted = [...speedups].sort((a, b) => a - b);
      const mid = sorted.length >> 1;
      const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
      point.speedup = { median, lo: sorted[0], hi: sorted[sorted.length - 1] };
    }
    return point;
  });
}

function usable(value: number | null, scale: "linear" | "log"): value is number {
  return value !== null && Number.isFinite(value) && (scale === "linear" || value > 0);
}

/** Columns that never tell configurations apart on their own: measurements, lag, repeat. */
const NOT_CONFIGURATION = new Set([...NOT_CONFIG, "figure"]);

function columnValueLabel(column: string, value: string): string {
  if (column === "size_bytes" && value !== "" && Number.isFinite(Number(value))) {
    return formatBytes(Number(value));
  }
  if (column === "ranks") return `${value} ranks`;
  return `${column} ${value === "" ? "—" : value}`;
}

/**
 * The series label of each row: the spec's label, extended with the configuration
 * columns that still differ between rows of the same label and x. Without this,
 * different configurations would be averaged together as if they were repeats.
 */
function seriesLabeller(spec: ChartSpec, rows: readonly SummaryRow[]): (row: SummaryRow) => string {
  const groups = new Map<string, SummaryRow[]>();
  for (const row of rows) {
    const key = `${spec.series(row)}\u0000${spec.x.value(row)}`;
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  const splitting = new Set<string>();
  for (const group of groups.values()) {
    const columns = new Set(group.flatMap((row) => Object.keys(row.cells)));
    for (const column of columns) {
      if (NOT_CONFIGURATION.has(column) || splitting.has(column)) continue;
      const values = new Set(group.map((row) => (row.cells[column] ?? "").trim()));
      if (values.size > 1) splitting.add(column);
    }
  }
  const extra = [...splitting].sort();
  if (extra.length === 0) return spec.series;
  return (row) =>
    [spec.series(row), ...extra.map((c) => columnValueLabel(c, (row.cells[c] ?? "").trim()))]
      .join(", ");
}

/**
 * Builds the charts of one chart spec from a figure's rows: one per panel value,
 * each with a series per `spec.series` label (mean over repeats, min-max range)
 * and, where the spec has `ideal`, a dashed ideal series per label. Charts without
 * a single plottable point are left out.
 *
 * @example One chart, two lags
 * ```ts
 * import { buildCharts } from "./_charts.ts";
 * import { figureSpec } from "../paper/figures.ts";
 * import { equal } from "node:assert/strict";
 * const row = (lag: number, latencyP50Us: number) => ({ workload: "alltoallv", transport: "tcp",
 *   ranks: 4, lag, sizeBytes: 64, imbalance: "none", delay: "none", delayMode: "busy", iters: 10,
 *   itersPerS: 1000, samplesPerS: null, latencyP50Us, latencyP99Us: null, blockedP50Us: null,
 *   speedupVsSync: null, idealItersPerS: null, validated: true, figure: null, repeat: null,
 *   dataset: null, cells: {} });
 * const spec = figureSpec("fig-balanced").charts[0];
 * const charts = buildCharts(spec, [row(0, 90), row(2, 80)], "fig-balanced-latency");
 * equal(charts[0].series.length, 2);
 * ```
 *
 * @param spec The chart spec.
 * @param rows The figure's rows.
 * @param idPrefix The canvas id of the first chart; later panels get `-2`, `-3`, ...
 * @returns The charts, panels in natural order.
 */
export function buildCharts(
  spec: ChartSpec,
  rows: readonly SummaryRow[],
  idPrefix: string,
): ChartModel[] {
  const taken = spec.takes ? rows.filter(spec.takes) : [...rows];
  const panels = new Map<string, SummaryRow[]>();
  const shared: SummaryRow[] = [];
  for (const row of taken) {
    const panel = spec.panel ? spec.panel(row) : "";
    if (panel === null) shared.push(row);
    else panels.set(panel, [...(panels.get(panel) ?? []), row]);
  }
  if (shared.length > 0 && panels.size === 0) panels.set("", []);
  for (const [panel, rows] of panels) panels.set(panel, [...shared, ...rows]);
  const charts: ChartModel[] = [];
  for (const panel of [...panels.keys()].sort(collator.compare)) {
    const measured = new Map<string, { x: number; y: number; speedup: number | null }[]>();
    const ideal = new Map<string, { x: number; y: number }[]>();
    const panelRows = panels.get(panel)!;
    const labelOf = seriesLabeller(spec, panelRows);
    for (const row of panelRows) {
      const x = spec.x.value(row);
      if (!usable(x, spec.x.scale)) continue;
      const label = labelOf(row);
      const y = spec.y.value(row);
      if (usable(y, spec.y.scale)) {
        const point = { x, y, speedup: row.lag === 0 ? null : row.speedupVsSync };
        measured.set(label, [...(measured.get(label) ?? []), point]);
      }
      const yIdeal = spec.ideal?.(row) ?? null;
      if (usable(yIdeal, spec.y.scale)) {
        ideal.set(label, [...(ideal.get(label) ?? []), { x, y: yIdeal }]);
      }
    }
    const labels = [...new Set([...measured.keys(), ...ideal.keys()])].sort(collator.compare);
    const series: ChartSeries[] = [];
    labels.forEach((label, i) => {
      const color = PALETTE[i % PALETTE.length];
      const points = measured.get(label);
      if (points) series.push({ label, color, dashed: false, points: aggregate(points) });
      const idealPoints = ideal.get(label);
      if (idealPoints) {
        series.push({
          label: `${label} — ideal`,
          color,
          dashed: true,
          points: aggregate(idealPoints),
        });
      }
    });
    if (series.length === 0) continue;
    charts.push({
      canvasId: "",
      title: panel ? `${spec.title} — ${panel}` : spec.title,
      x: axisOf(spec.x, series.flatMap((s) => s.points.map((p) => p.x))),
      y: axisOf(spec.y, series.flatMap((s) => s.points.flatMap((p) => [p.y, p.min, p.max]))),
      series,
    });
  }
  charts.forEach((chart, i) => chart.canvasId = i === 0 ? idPrefix : `${idPrefix}-${i + 1}`);
  return charts;
}

/** A label for a row's configuration apart from its lag, for plain-run charts. */
function configurationLabel(row: SummaryRow): string {
  const parts: string[] = [];
  if (row.dataset) parts.push(row.dataset);
  if (row.sizeBytes !== null) parts.push(formatBytes(row.sizeBytes));
  if (row.imbalance !== "none") parts.push(`imbalance ${row.imbalance}`);
  if (row.delay !== "none") parts.push(`delay ${row.delay}`);
  parts.push(`${row.ranks} ranks`);
  return parts.join(", ");
}

/**
 * Charts for a plain `bench` run (no figure): throughput (with the cost
 * model's ideal) and latency against the lag per configuration, latency
 * against the block size per lag (alltoallv sweeps over sizes), and the
 * trade-off BLS makes: throughput against p99 latency, one point per lag.
 *
 * @example DLRM runs plot samples per second
 * ```ts
 * import { runCharts } from "./_charts.ts";
 * import { equal } from "node:assert/strict";
 * equal(runCharts(true)[0].y.unit, "samples/s");
 * ```
 *
 * @param dlrm Whether the run is DLRM inference (samples/s) rather than alltoallv (iterations/s).
 * @param sizes How many block sizes the run swept (the size chart needs two or more).
 * @returns The chart specs.
 */
export function runCharts(dlrm: boolean, sizes = 1): ChartSpec[] {
  const throughputAxis: AxisSpec = {
    label: "throughput",
    unit: dlrm ? "samples/s" : "iterations/s",
    scale: "linear",
    format: "number",
    value: (row) => throughputOf(row),
  };
  return [
    {
      key: "throughput",
      title: "Throughput against the lag bound",
      x: LAG_AXIS,
      y: throughputAxis,
      // The cost model's ideal is in iterations/s: comparable only when that is plotted.
      ideal: dlrm ? undefined : (row) => row.idealItersPerS,
      series: configurationLabel,
    },
    {
      key: "latency",
      title: "Latency per iteration (p50) against the lag bound",
      x: LAG_AXIS,
      y: {
        label: dlrm ? "batch latency (p50)" : "latency per iteration (p50)",
        unit: "µs",
        scale: "linear",
        format: "number",
        value: (row) => row.latencyP50Us,
      },
      series: configurationLabel,
    },
    ...(dlrm || sizes < 2 ? [] : [{
      key: "size",
      title: "Latency per iteration (p50) against the block size, per lag",
      x: {
        label: "bytes per peer",
        unit: "bytes",
        scale: "log" as const,
        format: "bytes" as const,
        value: (row: SummaryRow) => row.sizeBytes,
      },
      y: {
        label: "latency per iteration (p50)",
        unit: "µs",
        scale: "log" as const,
        format: "number" as const,
        value: (row: SummaryRow) => row.latencyP50Us,
      },
      series: (row: SummaryRow) => `lag ${row.lag}`,
    }]),
    {
      key: "tradeoff",
      title: "Throughput against p99 latency: one point per lag",
      x: {
        label: dlrm ? "batch latency (p99)" : "latency per iteration (p99)",
        unit: "µs",
        scale: "linear",
        format: "number",
        value: (row) => row.latencyP99Us,
      },
      y: throughputAxis,
      series: configurationLabel,
    },
  ];
}

/** What the report reads of an `advice.json` (written by `advise`). */
export interface AdviceFile {
  /** The p99 budget in ms, or null. */
  latencyBudgetMs: number | null;
  /** One advice per rank count and configuration. */
  advice: {
    ranks: number;
    lag: number;
    reason: string;
    predictions: { lag: number; itersPerS: number; latencyP99Ms: number }[];
  }[];
}

/**
 * The advice as a chart: predicted throughput against predicted p99 batch
 * latency, one point per lag and one line per rank count, the budget as a
 * dashed vertical line.
 *
 * @example One rank count, a 20 ms budget
 * ```ts
 * import { adviceChart } from "./_charts.ts";
 * const chart = adviceChart({ latencyBudgetMs: 20, advice: [{ ranks: 4, lag: 2, reason: "r",
 *   predictions: [{ lag: 0, itersPerS: 200, latencyP99Ms: 10 }, { lag: 2, itersPerS: 320, latencyP99Ms: 17 }] }] }, "a");
 * if (chart.series.length !== 2 || !chart.series[1].dashed) throw new Error("expected the budget line");
 * ```
 *
 * @param file The advice file.
 * @param canvasId The canvas id.
 * @returns The chart.
 */
export function adviceChart(file: AdviceFile, canvasId: string): ChartModel {
  const series: ChartSeries[] = file.advice.map((a, i) => ({
    label: `${a.ranks} ranks (advised: lag ${a.lag})`,
    color: PALETTE[i % PALETTE.length],
    dashed: false,
    points: [...a.predictions].sort((p, q) => p.latencyP99Ms - q.latencyP99Ms).map((p) => ({
      x: p.latencyP99Ms,
      y: p.itersPerS,
      min: p.itersPerS,
      max: p.itersPerS,
      n: 1,
    })),
  }));
  const ys = series.flatMap((s) => s.points.map((p) => p.y));
  if (file.latencyBudgetMs !== null) {
    const top = Math.max(0, ...ys);
    const x = file.latencyBudgetMs;
    series.push({
      label: `p99 budget ${x} ms`,
      color: "#7F7F7F",
      dashed: true,
      points: [{ x, y: 0, min: 0, max: 0, n: 1 }, { x, y: top, min: top, max: top, n: 1 }],
    });
  }
  return {
    canvasId,
    title: "Advice: predicted throughput against predicted p99 batch latency, one point per lag",
    x: {
      title: "predicted batch latency (p99) (ms)",
      scale: "linear",
      format: "number",
      integer: false,
    },
    y: {
      title: "predicted throughput (iterations/s)",
      scale: "linear",
      format: "number",
      integer: false,
    },
    series,
  };
}
