/**
 * Result files: `summary.csv` (one row per configuration), `iterations.csv` (one
 * row per rank and iteration) and `run.json`, all written atomically; and the
 * terminal summary table and the osu_alltoallv table.
 *
 * @module
 */

import denoJson from "../../deno.json" with { type: "json" };
import { stringify } from "csv-stringify/sync";
import { SUMMARY_COLUMNS as REQUIRED_COLUMNS } from "./read.ts";
import { writeFileAtomic } from "../../util/atomic.ts";
import { type BenchConfig, collectivePath, type Configuration } from "../config.ts";
import type { RankRecord } from "../records.ts";
import { idealItersPerSecond } from "../models/bls_cost.ts";
import { formatDelaySpec } from "../models/delay.ts";
import { formatImbalanceSpec } from "../models/imbalance.ts";
import { mean, quantile } from "./stats.ts";

/** The columns `bench` writes to `summary.csv`, in order: the required ones, then extras. */
export const WRITTEN_COLUMNS = [
  ...REQUIRED_COLUMNS,
  "repeat",
  "progress",
  "collective",
  "latency_avg_us",
  "latency_min_us",
  "latency_max_us",
  "peak_buffered_bytes",
  "figure",
  "dataset",
  "batch_size",
  "skew",
  "pooling",
  "speedup_lo",
  "speedup_hi",
] as const;

/** One row of `summary.csv` as `bench` writes it: every written column's cell. */
export type SummaryCells = Record<typeof WRITTEN_COLUMNS[number], string | number | boolean | null>;

/** One configuration's measurements from every rank. */
export interface ConfigurationResult {
  /** The configuration. */
  conf: Configuration;
  /** One record per rank, by rank. */
  records: RankRecord[];
}

const round = (x: number, digits = 3) => Number.isFinite(x) ? Number(x.toFixed(digits)) : null;

/**
 * Summarises one configuration into a summary row (speedup and ideal are filled
 * in by `finishSummary`, which sees the whole sweep).
 *
 * @param config The run's config.
 * @param result The measurements.
 * @returns The row.
 */
export function summarize(config: BenchConfig, result: ConfigurationResult): SummaryCells {
  const { conf, records } = result;
  const latencies: number[] = [];
  const blocked: number[] = [];
  for (const r of records) {
    for (let t = 0; t < conf.iters; t++) {
      latencies.push((r.doneMs[t] - r.postMs[t]) * 1000);
      blocked.push(r.blockedUs[t]);
    }
  }
  const slowest = Math.max(...records.map((r) => r.totalUs));
  const perRankAvg = records.map((r) => r.totalUs / conf.iters);
  const samples = records.reduce((s, r) => s + r.samples, 0);
  const dlrm = config.extra.dlrm as
    | { dataset?: string; skew?: string; pooling?: number }
    | undefined;
  return {
    workload: config.workload,
    transport: config.transport === "mpi" ? `mpi-${config.mpi ?? "openmpi"}` : config.transport,
    ranks: records.length,
    lag: conf.lag,
    size_bytes: conf.sizeBytes,
    imbalance: formatImbalanceSpec(conf.imbalance),
    delay: formatDelaySpec(conf.delay),
    delay_mode: config.delayMode,
    iters: conf.iters,
    iters_per_s: round(conf.iters / (slowest / 1e6)),
    samples_per_s: config.workload === "dlrm" ? round(samples / (slowest / 1e6), 1) : null,
    latency_p50_us: round(quantile(latencies, 0.5), 2),
    latency_p99_us: round(quantile(latencies, 0.99), 2),
    blocked_p50_us: round(quantile(blocked, 0.5), 2),
    speedup_vs_sync: null,
    ideal_iters_per_s: null,
    validated: config.validate && records.every((r) => r.mismatches === 0),
    repeat: conf.repeat,
    progress: config.progress,
    collective: collectivePath(config.collective, config.workload, conf),
    latency_avg_us: round(mean(perRankAvg), 2),
    latency_min_us: round(Math.min(...perRankAvg), 2),
    latency_max_us: round(Math.max(...perRankAvg), 2),
    peak_buffered_bytes: Math.max(...records.map((r) => r.peakBufferedBytes)),
    figure: (config.extra.figure as string | undefined) ?? null,
    dataset: (config.extra.dataset as string | undefined) ?? null,
    batch_size: (config.extra.batchSize as number | undefined) ?? null,
    skew: dlrm?.dataset === "synthetic" ? dlrm.skew ?? null : null,
    pooling: dlrm?.dataset === "synthetic" ? dlrm.pooling ?? null : null,
    speedup_lo: null,
    speedup_hi: null,
  };
}

const keyOf = (r: SummaryCells) => `${r.size_bytes}|${r.imbalance}|${r.repeat}`;

/**
 * Fills `speedup_vs_sync` (against the lag-0 row of the same size, imbalance,
 * delay and repeat), its spread `speedup_lo`/`speedup_hi` (the smallest and
 * largest speedup of that lag and configuration over the repeats) and
 * `ideal_iters_per_s` (the cost model replayed on the delays each rank drew,
 * with c from the undelayed lag-0 exchange of the same size). Calibration
 * results are used for c and left out of the rows.
 *
 * @param results Every configuration's measurements, in run order.
 * @param rows Their summary rows, same order.
 * @returns The rows of the non-calibration configurations, completed.
 */
export function finishSummary(
  results: ConfigurationResult[],
  rows: SummaryCells[],
): SummaryCells[] {
  // c per size, and for DLRM the compute each rank does per batch outside the
  // collective: there the undelayed lag-0 batch time is mostly compute, which no
  // lag can overlap with itself, so it joins each rank's delay in the model and
  // only the time spent in the collective is the exchange cost.
  const commUs = new Map<string, number>();
  const computeUs = new Map<string, number>();
  const syncRate = new Map<string, number>();
  results.forEach((res, i) => {
    const row = rows[i];
    if (res.conf.lag !== 0) return;
    const perIterUs = 1e6 / Number(row.iters_per_s);
    const sizeKey = `${row.size_bytes}|${row.imbalance}`;
    if (res.conf.delay.kind === "none" && !commUs.has(sizeKey)) {
      if (row.workload === "dlrm" && typeof row.blocked_p50_us === "number") {
        const exchange = Math.min(row.blocked_p50_us, perIterUs);
        commUs.set(sizeKey, exchange);
        computeUs.set(sizeKey, perIterUs - exchange);
      } else commUs.set(sizeKey, perIterUs);
    }
    if (!res.conf.calibration) syncRate.set(`${keyOf(row)}|${row.delay}`, Number(row.iters_per_s));
  });
  const out: SummaryCells[] = [];
  results.forEach((res, i) => {
    if (res.conf.calibration) return;
    const row = { ...rows[i] };
    const sync = syncRate.get(`${keyOf(row)}|${row.delay}`);
    if (sync) row.speedup_vs_sync = round(Number(row.iters_per_s) / sync, 4);
    const sizeKey = `${row.size_bytes}|${row.imbalance}`;
    const c = commUs.get(sizeKey);
    if (c !== undefined) {
      const ranks = res.records.length;
      const iters = res.conf.iters;
      const compute = computeUs.get(sizeKey) ?? 0;
      const delays = new Float64Array(ranks * iters);
      res.records.forEach((r, p) => delays.set(r.delayUs.map((d) => d + compute), p * iters));
      row.ideal_iters_per_s = round(idealItersPerSecond(delays, ranks, iters, res.conf.lag, c));
    }
    out.push(row);
  });
  // The spread of each lag's speedup over the repeats of its configuration.
  const spreadKey = (r: SummaryCells) => `${r.size_bytes}|${r.imbalance}|${r.delay}|${r.lag}`;
  const spread = new Map<string, { lo: number; hi: number }>();
  for (const row of out) {
    if (typeof row.speedup_vs_sync !== "number") continue;
    const s = spread.get(spreadKey(row));
    const v = row.speedup_vs_sync;
    spread.set(
      spreadKey(row),
      s ? { lo: Math.min(s.lo, v), hi: Math.max(s.hi, v) } : { lo: v, hi: v },
    );
  }
  for (const row of out) {
    const s = spread.get(spreadKey(row));
    if (s) [row.speedup_lo, row.speedup_hi] = [s.lo, s.hi];
  }
  return out;
}

/**
 * Renders summary rows as CSV with the header.
 *
 * @param rows The rows.
 * @returns CSV text.
 */
export function summaryCsv(rows: SummaryCells[]): string {
  return stringify(rows, {
    header: true,
    columns: [...WRITTEN_COLUMNS],
    cast: { boolean: (v: boolean) => (v ? "true" : "false") },
  });
}

/**
 * Renders every rank's iterations as CSV rows (configuration key, then the
 * per-iteration measurements, times relative to the configuration's first post).
 *
 * @param config The run's config.
 * @param results The measurements.
 * @returns CSV text with header.
 */
export function iterationsCsv(config: BenchConfig, results: ConfigurationResult[]): string {
  const lines = [
    "workload,transport,ranks,lag,size_bytes,imbalance,delay,repeat,rank,iter,post_us,done_us,blocked_us,delay_us,bytes_sent,bytes_received",
  ];
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  for (const { conf, records } of results) {
    if (conf.calibration) continue;
    const t0 = Math.min(...records.map((r) => r.postMs[0]));
    const key = [
      config.workload,
      config.transport,
      records.length,
      conf.lag,
      conf.sizeBytes ?? "",
      q(formatImbalanceSpec(conf.imbalance)),
      q(formatDelaySpec(conf.delay)),
      conf.repeat,
    ].join(",");
    for (const r of records) {
      for (let t = 0; t < conf.iters; t++) {
        lines.push(
          `${key},${r.rank},${t},${((r.postMs[t] - t0) * 1000).toFixed(1)},${
            ((r.doneMs[t] - t0) * 1000).toFixed(1)
          },${r.blockedUs[t].toFixed(1)},${r.delayUs[t].toFixed(1)},${r.bytesSent[t]},${
            r.bytesReceived[t]
          }`,
        );
      }
    }
  }
  return lines.join("\n") + "\n";
}

/** What `run.json` records besides the configuration. */
export interface RunStatus {
  /** The command line. */
  command: string[];
  /** When the run started (ISO). */
  startedAt: string;
  /** When it ended (ISO), if it did. */
  endedAt?: string;
  /** How it ended. */
  status: "running" | "completed" | "failed" | "interrupted";
  /** The error, when it failed. */
  error?: string;
  /** Malformed input lines skipped (DLRM data). */
  skippedLines?: number;
  /** How rank 0's TCP connections moved their bytes (`--socket-io`), over TCP. */
  socketIo?: "native" | "deno";
}

/** The package version, written into every `run.json`. */
export const VERSION: string = denoJson.version;

function tryOr<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    // Not Linux, or without the permission: the machine stays partly undescribed.
    return fallback;
  }
}

/**
 * Describes this machine for `run.json` (the same block for `bench`, `simulate`
 * and `figures`).
 *
 * @example The CPU count
 * ```ts
 * import { machineInfo } from "./write.ts";
 * import { equal } from "node:assert/strict";
 * equal(typeof machineInfo().cpus, "number");
 * ```
 *
 * @returns Host, CPU, memory, OS and runtime versions.
 */
export function machineInfo(): Record<string, unknown> {
  const cpuModel = tryOr(
    () =>
      /model name\s*:\s*(.+)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1].trim() ??
        "unknown",
    "unknown",
  );
  const memoryBytes = tryOr(() => Deno.systemMemoryInfo().total, 0);
  return {
    hostname: tryOr(() => Deno.hostname(), ""),
    cpus: navigator.hardwareConcurrency,
    cpuModel,
    memoryGiB: Math.round(memoryBytes / 2 ** 30),
    os: `${Deno.build.os} ${tryOr(() => Deno.osRelease(), "")}`.trim(),
    arch: Deno.build.arch,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
  };
}

const iterationsWritten = new Map<string, number>();

/**
 * Writes `summary.csv`, `iterations.csv` and `run.json` into `dir`, atomically.
 *
 * @param dir The results directory (created if needed).
 * @param config The run's config.
 * @param info How the run went.
 * @param results The finished configurations.
 * @returns The summary rows written.
 */
export async function writeResults(
  dir: string,
  config: BenchConfig,
  info: RunStatus,
  results: ConfigurationResult[],
): Promise<SummaryCells[]> {
  await Deno.mkdir(dir, { recursive: true });
  const rows = finishSummary(results, results.map((r) => summarize(config, r)));
  await writeFileAtomic(`${dir}/summary.csv`, summaryCsv(rows));
  // iterations.csv grows with the sweep: rewriting it after every configuration
  // would cost O(n^2), so it is rewritten whenever the sweep has doubled, and at
  // the end (or on failure or interruption). It always holds a prefix of the sweep.
  const written = iterationsWritten.get(dir) ?? 0;
  if (info.status !== "running" || results.length >= 2 * written || written > results.length) {
    await writeFileAtomic(`${dir}/iterations.csv`, iterationsCsv(config, results));
    iterationsWritten.set(dir, results.length);
  }
  const run = {
    version: VERSION,
    ...info,
    config: {
      ...config,
      imbalance: formatImbalanceSpec(config.imbalance),
      delay: formatDelaySpec(config.delay),
    },
    machine: machineInfo(),
    configurations: results.length,
  };
  await writeFileAtomic(`${dir}/run.json`, JSON.stringify(run, null, 2) + "\n");
  return rows;
}

/**
 * Formats rows as a fixed-width table for the terminal.
 *
 * @param rows The summary rows.
 * @returns The table text.
 */
export function summaryTable(rows: SummaryCells[]): string {
  const cols: Array<[string, keyof SummaryCells]> = [
    ["size", "size_bytes"],
    ["imbalance", "imbalance"],
    ["delay", "delay"],
    ["lag", "lag"],
    ["iters/s", "iters_per_s"],
    ["samples/s", "samples_per_s"],
    ["p50 us", "latency_p50_us"],
    ["p99 us", "latency_p99_us"],
    ["blocked p50", "blocked_p50_us"],
    ["speedup", "speedup_vs_sync"],
    ["ideal it/s", "ideal_iters_per_s"],
    ["valid", "validated"],
  ];
  const used = cols.filter(([, k]) => rows.some((r) => r[k] !== null && r[k] !== ""));
  const cells = rows.map((r) => used.map(([, k]) => (r[k] === null ? "" : String(r[k]))));
  const widths = used.map(([h], i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((s, i) => s.padStart(widths[i])).join("  ");
  return [line(used.map(([h]) => h)), ...cells.map(line)].join("\n");
}

/**
 * Formats rows as osu_alltoallv's table, one block per lag.
 *
 * @param rows The summary rows (alltoallv).
 * @returns The osu-style text.
 */
export function osuTable(rows: SummaryCells[]): string {
  const out: string[] = [];
  for (const lag of [...new Set(rows.map((r) => r.lag))]) {
    out.push(`# blsbench alltoallv, lag ${lag}`);
    out.push("# Size       Avg Latency(us)     Min Latency(us)     Max Latency(us)  Iterations");
    for (const r of rows.filter((x) => x.lag === lag)) {
      out.push(
        `${String(r.size_bytes).padEnd(12)}${String(r.latency_avg_us).padStart(15)}${
          String(r.latency_min_us).padStart(20)
        }${String(r.latency_max_us).padStart(20)}${String(r.iters).padStart(12)}`,
      );
    }
  }
  return out.join("\n");
}
