/**
 * Values the figures and claim checks derive from summary rows: the mean of a
 * delay spec, the level of an imbalance spec, the configuration a row belongs
 * to (everything but the lag and the measurements), throughput, and number
 * formats for labels.
 *
 * @module
 */

import type { SummaryRow } from "./read.ts";
import { type DelaySpec, meanDelayUs, parseDelaySpec, parseDurationUs } from "../models/delay.ts";

/**
 * Parses a duration such as `250us`, `2ms` or `1.5s` into milliseconds.
 *
 * @example Parse durations
 * ```ts
 * import { durationMs } from "./values.ts";
 * import { equal } from "node:assert/strict";
 * equal(durationMs("250us"), 0.25);
 * equal(durationMs("nonsense"), null);
 * ```
 *
 * @param text The duration.
 * @returns Milliseconds, or `null` when the text is not a duration.
 */
export function durationMs(text: string): number | null {
  try {
    return parseDurationUs(text) / 1000;
  } catch {
    return null;
  }
}

/**
 * The mean delay per rank and iteration of a delay spec, in milliseconds
 * (`straggler:D@R` gives D, the slow rank's delay).
 *
 * @example Means of delay specs
 * ```ts
 * import { delayMeanMs } from "./values.ts";
 * import { equal } from "node:assert/strict";
 * equal(delayMeanMs("exp:2ms"), 2);
 * equal(delayMeanMs("uniform:0ms:4ms"), 2);
 * equal(delayMeanMs("none"), 0);
 * ```
 *
 * @param spec The delay spec (`none`, `exp:2ms`, ...).
 * @returns Milliseconds, or `null` when the spec is not understood.
 */
export function delayMeanMs(spec: string): number | null {
  if (spec.trim() === "") return 0;
  let parsed: DelaySpec;
  try {
    parsed = parseDelaySpec(spec);
  } catch {
    return null;
  }
  return (parsed.kind === "straggler" ? parsed.us : meanDelayUs(parsed, 1)) / 1000;
}

/** The kind and level of an imbalance spec: `hot:R:F` -> F, `random:CV` -> CV, `zipf:S` -> S. */
export interface ImbalanceLevel {
  /** `none`, `hot`, `random`, `zipf` or the unknown spec's first word. */
  kind: string;
  /** The factor, CV or exponent; `null` when unknown. `none` is level 1 of `hot` and 0 of others. */
  level: number | null;
}

/**
 * Reads the kind and level of an imbalance spec.
 *
 * @example Levels
 * ```ts
 * import { imbalanceLevel } from "./values.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 * deepStrictEqual(imbalanceLevel("hot:0:8"), { kind: "hot", level: 8 });
 * deepStrictEqual(imbalanceLevel("random:0.5"), { kind: "random", level: 0.5 });
 * ```
 *
 * @param spec The imbalance spec.
 * @returns Its kind and level.
 */
export function imbalanceLevel(spec: string): ImbalanceLevel {
  const parts = spec.trim().split(":");
  const kind = parts[0].toLowerCase() || "none";
  const last = Number(parts[parts.length - 1]);
  if (kind === "none") return { kind, level: null };
  if (kind === "hot" && parts.length === 3 && Number.isFinite(last)) return { kind, level: last };
  if ((kind === "random" || kind === "zipf") && parts.length === 2 && Number.isFinite(last)) {
    return { kind, level: last };
  }
  return { kind, level: null };
}

/** Measured columns, the lag and the repeat do not name a configuration; every other column does. */
export const NOT_CONFIG: ReadonlySet<string> = new Set([
  "lag",
  "repeat",
  "iters",
  "iters_per_s",
  "samples_per_s",
  "latency_p50_us",
  "latency_p99_us",
  "latency_min_us",
  "latency_max_us",
  "latency_avg_us",
  "blocked_p50_us",
  "speedup_vs_sync",
  "speedup_lo",
  "speedup_hi",
  "ideal_iters_per_s",
  "validated",
  "measured_iters_per_s",
  "peak_buffered_bytes",
]);

/**
 * A key naming a row's configuration without its lag: rows that share it are the
 * same measurement at different lags (repeats included). Built from every cell
 * but the lag, the repeat and the measurements, so extra columns such as
 * `dataset` or `batch_size` tell configurations apart too.
 *
 * @example Same configuration, two lags
 * ```ts
 * import { configKey } from "./values.ts";
 * import { equal, notEqual } from "node:assert/strict";
 * const cells = { workload: "alltoallv", size_bytes: "64", iters_per_s: "900" };
 * equal(configKey({ cells: { ...cells, lag: "0" } }), configKey({ cells: { ...cells, lag: "2" } }));
 * notEqual(configKey({ cells }), configKey({ cells: { ...cells, size_bytes: "128" } }));
 * ```
 *
 * @param row The row (only its cells are read).
 * @returns The key.
 */
export function configKey(row: Pick<SummaryRow, "cells">): string {
  return Object.entries(row.cells)
    .filter(([name]) => !NOT_CONFIG.has(name))
    .sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
    .map(([name, value]) => `${name}=${value.trim()}`)
    .join("|");
}

/**
 * The throughput a row reports: samples/s for dlrm when present, else iterations/s,
 * else derived from the median latency.
 *
 * @example Throughput of an alltoallv row
 * ```ts
 * import { throughputOf } from "./values.ts";
 * import { equal } from "node:assert/strict";
 * equal(throughputOf({ workload: "alltoallv", itersPerS: null, samplesPerS: null, latencyP50Us: 500 }), 2000);
 * ```
 *
 * @param row The row.
 * @returns Operations per second, or `null`.
 */
export function throughputOf(
  row: Pick<SummaryRow, "workload" | "itersPerS" | "samplesPerS" | "latencyP50Us">,
): number | null {
  if (row.workload === "dlrm" && row.samplesPerS !== null && row.samplesPerS > 0) {
    return row.samplesPerS;
  }
  if (row.itersPerS !== null && row.itersPerS > 0) return row.itersPerS;
  if (row.samplesPerS !== null && row.samplesPerS > 0) return row.samplesPerS;
  if (row.latencyP50Us !== null && row.latencyP50Us > 0) return 1e6 / row.latencyP50Us;
  return null;
}

/**
 * Formats a byte count with binary units: `8 B`, `64 KiB`, `1 MiB`.
 *
 * @example Format sizes
 * ```ts
 * import { formatBytes } from "./values.ts";
 * import { equal } from "node:assert/strict";
 * equal(formatBytes(65536), "64 KiB");
 * ```
 *
 * @param bytes The count.
 * @returns The label.
 */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB"];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${Number(value.toPrecision(3))} ${units[unit]}`;
}
