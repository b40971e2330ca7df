/**
 * Progress display for sweeps: on a terminal, a bar (npm `cli-progress`) with the
 * configuration, iteration and ETA, plus one line per finished configuration; on
 * a non-terminal (CI logs, files), only the line per finished configuration. At
 * the end, a table of the summary rows.
 *
 * @module
 */

import cliProgress from "cli-progress";
import process from "node:process";
import type { SummaryRow } from "../results/read.ts";

/** Where progress goes: anything with `write`; `isTTY` selects the live bar. */
export interface ProgressStream {
  /** Writes text. */
  write(text: string): unknown;
  /** Whether the stream is a terminal. */
  isTTY?: boolean;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Where to write; defaults to standard error. */
  stream?: ProgressStream;
  /** Force the live bar on or off; defaults to `stream.isTTY`. */
  tty?: boolean;
}

/** What a finished configuration measured, for its line: numbers or a ready text. */
export type ConfigOutcome =
  | Partial<
    Pick<SummaryRow, "itersPerS" | "samplesPerS" | "latencyP50Us" | "speedupVsSync">
  >
  | string;

/** A running progress display. */
export interface Progress {
  /** A configuration starts: its label (e.g. `alltoallv lag 2 64 B`) and iteration count. */
  startConfig(label: string, iters: number): void;
  /** The current configuration reached iteration `iter` (1-based count of done iterations). */
  tick(iter: number): void;
  /** The current configuration finished; prints its line. */
  endConfig(outcome?: ConfigOutcome): void;
  /** The sweep is over: removes the bar. */
  finish(): void;
}

/** The subset of cli-progress's SingleBar used here. */
interface Bar {
  start(total: number, start: number, payload?: Record<string, unknown>): void;
  update(value: number, payload?: Record<string, unknown>): void;
  stop(): void;
}

/**
 * Formats seconds as `42s`, `3m05s` or `1h02m`.
 *
 * @example Durations
 * ```ts
 * import { formatDuration } from "./progress_bar.ts";
 * import { equal } from "node:assert/strict";
 * equal(formatDuration(185), "3m05s");
 * ```
 *
 * @param seconds The duration.
 * @returns The text; `?` when not finite.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

function formatMeasure(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const a = Math.abs(value);
  if (a >= 1000) return Math.round(value).toLocaleString("en");
  if (a === 0) return "0";
  return String(Number(value.toPrecision(3)));
}

function outcomeText(outcome: ConfigOutcome | undefined): string {
  if (outcome === undefined) return "done";
  if (typeof outcome === "string") return outcome;
  const parts: string[] = [];
  if (outcome.samplesPerS != null) parts.push(`${formatMeasure(outcome.samplesPerS)} samples/s`);
  else if (outcome.itersPerS != null) parts.push(`${formatMeasure(outcome.itersPerS)} it/s`);
  if (outcome.latencyP50Us != null) parts.push(`p50 ${formatMeasure(outcome.latencyP50Us)} µs`);
  if (outcome.speedupVsSync != null) parts.push(`${outcome.speedupVsSync.toFixed(2)}× sync`);
  return parts.length > 0 ? parts.join(", ") : "done";
}

/**
 * Creates the progress display of a sweep of `totalConfigs` configurations.
 *
 * @example Lines on a non-terminal
 * ```ts
 * import { createProgress } from "./progress_bar.ts";
 * import { ok } from "node:assert/strict";
 * let out = "";
 * const progress = createProgress(2, { stream: { write: (t: string) => out += t } });
 * progress.startConfig("alltoallv lag 0 64 B", 100);
 * progress.tick(100);
 * progress.endConfig({ itersPerS: 5000 });
 * progress.finish();
 * ok(out.startsWith("[1/2] alltoallv lag 0 64 B: 5,000 it/s"));
 * ```
 *
 * @param totalConfigs How many configurations the sweep runs.
 * @param options Stream and mode.
 * @returns The display.
 */
export function createProgress(totalConfigs: number, options: ProgressOptions = {}): Progress {
  const stream: ProgressStream = options.stream ?? process.stderr;
  const tty = options.tty ?? stream.isTTY === true;
  const sweepStart = performance.now();
  let configsDone = 0;
  let current: { label: string; iters: number; start: number; iter: number } | null = null;
  let bar: Bar | null = null;

  const suiteEta = () => {
    if (!current) return "?";
    const fraction = (configsDone + (current.iters > 0 ? current.iter / current.iters : 0)) /
      Math.max(totalConfigs, 1);
    if (fraction <= 0) return "?";
    const elapsed = (performance.now() - sweepStart) / 1000;
    return formatDuration(elapsed * (1 - fraction) / fraction);
  };
  const payload = () => ({
    config: configsDone + 1,
    configs: totalConfigs,
    label: current?.label ?? "",
    suite_eta: suiteEta(),
  });

  return {
    startConfig(label: string, iters: number) {
      current = { label, iters, start: performance.now(), iter: 0 };
      if (!tty) return;
      bar ??= new cliProgress.SingleBar({
        stream,
        format:
          "[{config}/{configs}] {label} |{bar}| iter {value}/{total} | ETA {eta_formatted} | sweep ETA {suite_eta}",
        barsize: 24,
        hideCursor: true,
        clearOnComplete: true,
        etaBuffer: 50,
        fps: 5,
      }, cliProgress.Presets.shades_classic) as Bar;
      bar.start(Math.max(iters, 1), 0, payload());
    },
    tick(iter: number) {
      if (!current) return;
      current.iter = Math.min(iter, current.iters);
      bar?.update(current.iter, payload());
    },
    endConfig(outcome?: ConfigOutcome) {
      if (!current) return;
      bar?.stop();
      const seconds = (performance.now() - current.start) / 1000;
      stream.write(
        `[${configsDone + 1}/${totalConfigs}] ${current.label}: ${outcomeText(outcome)} ` +
          `(${formatDuration(seconds)})\n`,
      );
      configsDone++;
      current = null;
    },
    finish() {
      bar?.stop();
      bar = null;
      current = null;
    },
  };
}

/** A summary row given either typed (`SummaryRow`) or as CSV cells by column name. */
export type TableRow = Pick<SummaryRow, "cells"> | Record<string, unknown>;

const TABLE_COLUMNS: [column: string, heading: string][] = [
  ["workload", "workload"],
  ["dataset", "dataset"],
  ["transport", "transport"],
  ["ranks", "ranks"],
  ["lag", "lag"],
  ["size_bytes", "size B"],
  ["imbalance", "imbalance"],
  ["delay", "delay"],
  ["iters_per_s", "iters/s"],
  ["samples_per_s", "samples/s"],
  ["latency_p50_us", "p50 µs"],
  ["latency_p99_us", "p99 µs"],
  ["speedup_vs_sync", "speedup"],
  ["validated", "valid"],
];

function cellText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return formatMeasure(value);
  const text = String(value).trim();
  const n = Number(text);
  return text !== "" && /^-?[\d.e+-]+$/i.test(text) && Number.isFinite(n) ? formatMeasure(n) : text;
}

/**
 * Formats summary rows as an aligned text table, leaving out columns empty in
 * every row.
 *
 * @example A table from CSV cells
 * ```ts
 * import { formatSummaryTable } from "./progress_bar.ts";
 * import { ok } from "node:assert/strict";
 * const table = formatSummaryTable([{ workload: "alltoallv", lag: 0, iters_per_s: 5000 }]);
 * ok(table.split("\n")[0].includes("iters/s"));
 * ok(!table.includes("samples/s"));
 * ```
 *
 * @param rows The rows.
 * @returns The table, ending with a newline; empty for no rows.
 */
export function formatSummaryTable(rows: readonly TableRow[]): string {
  if (rows.length === 0) return "";
  const cellsOf = (row: TableRow): Record<string, unknown> =>
    typeof row.cells === "object" && row.cells !== null
      ? row.cells as Record<string, unknown>
      : row as Record<string, unknown>;
  const texts = rows.map((row) => {
    const cells = cellsOf(row);
    return TABLE_COLUMNS.map(([column]) => cellText(cells[column]));
  });
  const used = TABLE_COLUMNS.map((_, i) => texts.some((t) => t[i] !== ""));
  const headings = TABLE_COLUMNS.map(([, heading]) => heading);
  const widths = headings.map((h, i) => Math.max(h.length, ...texts.map((t) => t[i].length)));
  const numeric = TABLE_COLUMNS.map((_, i) =>
    texts.every((t) => t[i] === "" || /^[-\d.,e+]+$/.test(t[i]))
  );
  const line = (values: string[]) =>
    values.map((v, i) => numeric[i] ? v.padStart(widths[i]) : v.padEnd(widths[i]))
      .filter((_, i) => used[i]).join("  ").trimEnd();
  return [line(headings), ...texts.map(line)].join("\n") + "\n";
}

/**
 * Writes the summary table to a stream (standard output by default).
 *
 * @example Print to a string
 * ```ts
 * import { printSummaryTable } from "./progress_bar.ts";
 * import { ok } from "node:assert/strict";
 * let out = "";
 * printSummaryTable([{ lag: 1, iters_per_s: 10 }], { write: (t: string) => out += t });
 * ok(out.includes("lag"));
 * ```
 *
 * @param rows The rows.
 * @param stream Where to write.
 */
export function printSummaryTable(
  rows: readonly TableRow[],
  stream: ProgressStream = process.stdout,
): void {
  stream.write(formatSummaryTable(rows));
}
