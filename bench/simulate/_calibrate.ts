/**
 * Calibration of the simulator on a measured results directory: reads its
 * configuration and `summary.csv`, and fits the exchange
 * cost c(bytes) = latency + bytes / bandwidth from its lag-0 rows.
 *
 * @module
 */

import { readResultFile } from "../results/read.ts";
import { UsageError } from "../../util/errors.ts";
import { type DelaySpec, formatDelaySpec, parseDelaySpec } from "../models/delay.ts";
import {
  type ExchangeCost,
  exchangeCostUs,
  type ExchangeSample,
  fitExchangeCost,
  simulateRun,
} from "../models/bls_cost.ts";
import { parseCsvObjects } from "../results/csv.ts";

/** One measured configuration's row of `summary.csv`, as far as the simulator needs it. */
export interface MeasuredRow {
  /** Number of ranks. */
  ranks: number;
  /** Lag bound. */
  lag: number;
  /** Bytes per peer, or null (dlrm). */
  sizeBytes: number | null;
  /** Canonical delay spec text. */
  delay: string;
  /** Imbalance spec text. */
  imbalance: string;
  /** `busy`, `sleep` or empty. */
  delayMode: string;
  /** Measured iterations. */
  iters: number;
  /** Measured iterations per second. */
  itersPerS: number;
}

/** A measured run: its configuration and rows. */
export interface MeasuredRun {
  /** The directory it was read from. */
  dir: string;
  /** The transport it ran on. */
  transport: string;
  /** Its ranks. */
  ranks: number;
  /** Its lags (the lag-0 baseline included). */
  lags: number[];
  /** Its delay spec text (canonical). */
  delay: string;
  /** Its delay mode. */
  delayMode: string;
  /** Its imbalance spec text. */
  imbalance: string;
  /** Measured iterations per configuration. */
  iters: number;
  /** Its seed. */
  seed: number;
  /** The rows of its `summary.csv` that carry a throughput. */
  rows: MeasuredRow[];
}

/** The fitted exchange cost and the samples it was fitted to. */
export interface Calibration {
  /**
   * The fitted cost e(bytes) of one synchronous exchange: at lag 0 the model
   * charges o + c per iteration on top of the largest delay, and e = o + c.
   */
  cost: ExchangeCost;
  /** One sample per lag-0 row: bytes a rank sends per exchange, and the exchange's cost. */
  samples: ExchangeSample[];
  /**
   * The share f of e that is per-call overhead o = f * e on each rank's own
   * timeline (not hidden by any lag); the rest, c = (1 - f) * e, overlaps.
   * Fitted on the rows with lag > 0; 0 when there are none.
   */
  overheadFraction: number;
}

/** Candidate overhead shares tried by the fit: 0, 0.02, ..., 1. */
const OVERHEAD_STEPS = 50;

function wholeNumber(value: unknown, what: string, file: string, fallback?: number): number {
  if (value === undefined || value === null) {
    if (fallback !== undefined) return fallback;
    throw new UsageError(`Malformed ${file}: missing ${what}`);
  }
  const n = typeof value === "string" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 0) {
    throw new UsageError(
      `Malformed ${file}: ${what} must be a whole number, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function canonicalDelay(text: string, file: string): string {
  try {
    return formatDelaySpec(parseDelaySpec(text));
  } catch (e) {
    throw new UsageError(`Malformed ${file}: ${(e as Error).message}`);
  }
}

/**
 * The bytes one rank sends in one exchange: a block to each other rank. The
 * imbalance model is not taken into account (it keeps the mean block size for
 * `random` and `zipf`).
 *
 * @example 4 ranks, 1 KiB per peer
 * ```ts
 * import { bytesPerExchange } from "./_calibrate.ts";
 * if (bytesPerExchange(1024, 4) !== 3072) throw new Error("unexpected");
 * ```
 *
 * @param sizeBytes Bytes per peer, or null when unknown.
 * @param ranks Number of ranks.
 * @returns Bytes sent per rank and exchange.
 */
export function bytesPerExchange(sizeBytes: number | null, ranks: number): number {
  return sizeBytes === null ? 0 : sizeBytes * Math.max(0, ranks - 1);
}

/**
 * Reads a measured results directory: `run.json` (`config`) and `summary.csv`.
 *
 * @example Read a directory and fit its exchange cost
 * ```ts
 * import { calibrate, readMeasuredRun } from "./_calibrate.ts";
 * const dir = await Deno.makeTempDir();
 * const config = { ranks: 2, iters: 100, lags: [0, 1] };
 * await Deno.writeTextFile(`${dir}/run.json`, JSON.stringify({ config }));
 * const csv = "ranks,lag,size_bytes,delay,iters_per_s\n2,0,64,none,5000\n";
 * await Deno.writeTextFile(`${dir}/summary.csv`, csv);
 * const run = await readMeasuredRun(dir);
 * if (calibrate(run).cost.latencyUs !== 200) throw new Error("expected 200 us per exchange");
 * ```
 *
 * @param dir The directory.
 * @returns The run.
 * @throws UsageError naming the file when something is missing or malformed.
 */
export async function readMeasuredRun(dir: string): Promise<MeasuredRun> {
  const runPath = `${dir}/run.json`;
  const summaryPath = `${dir}/summary.csv`;
  let run: unknown;
  try {
    run = JSON.parse(await readResultFile(runPath));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`Malformed ${runPath}: ${(e as Error).message}`);
  }
  const config = (run as { config?: unknown })?.config;
  if (typeof config !== "object" || config === null || Array.isArray(config)) {
    throw new UsageError(`Malformed ${runPath}: "config" must be an object`);
  }
  const c = config as Record<string, unknown>;
  let records: Record<string, string>[];
  try {
    records = parseCsvObjects(await readResultFile(summaryPath));
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`Malformed ${summaryPath}: ${(e as Error).message}`);
  }
  const ranks = wholeNumber(c.ranks, "config.ranks", runPath);
  // `bench` leaves config.iters null when each configuration takes its default
  // (by block size, or the workload's): the rows then say how many ran.
  const configIters = c.iters === null ? undefined : wholeNumber(c.iters, "config.iters", runPath);
  const rows: MeasuredRow[] = [];
  for (const record of records) {
    for (const column of ["ranks", "lag", "iters_per_s"]) {
      if (!(column in record)) {
        throw new UsageError(`Malformed ${summaryPath}: no column ${column}`);
      }
    }
    const itersPerS = Number(record.iters_per_s);
    if (record.iters_per_s.trim() === "" || !Number.isFinite(itersPerS) || itersPerS <= 0) continue;
    const size = (record.size_bytes ?? "").trim();
    rows.push({
      ranks: wholeNumber(record.ranks, "ranks", summaryPath),
      lag: wholeNumber(record.lag, "lag", summaryPath),
      sizeBytes: size === "" ? null : wholeNumber(size, "size_bytes", summaryPath),
      delay: canonicalDelay((record.delay ?? "").trim() || "none", summaryPath),
      imbalance: (record.imbalance ?? "").trim() || "none",
      delayMode: (record.delay_mode ?? "").trim(),
      iters: (record.iters ?? "").trim() === ""
        ? wholeNumber(configIters, "config.iters", runPath)
        : wholeNumber(record.iters, "iters", summaryPath),
      itersPerS,
    });
  }
  const lags = Array.isArray(c.lags)
    ? c.lags.map((lag) => wholeNumber(lag, "config.lags", runPath))
    : [];
  for (const row of rows) if (!lags.includes(row.lag)) lags.push(row.lag);
  if (!lags.includes(0)) lags.unshift(0);
  lags.sort((a, b) => a - b);
  const iters = configIters ?? rows[0]?.iters ?? wholeNumber(undefined, "config.iters", runPath);
  return {
    dir,
    transport: typeof c.transport === "string" ? c.transport : "",
    ranks,
    lags,
    delay: canonicalDelay(
      typeof c.delay === "string" && c.delay !== "" ? c.delay : "none",
      runPath,
    ),
    delayMode: typeof c.delayMode === "string" ? c.delayMode : "",
    imbalance: typeof c.imbalance === "string" && c.imbalance !== "" ? c.imbalance : "none",
    iters,
    seed: wholeNumber(c.seed, "config.seed", runPath, 1),
    rows,
  };
}

/**
 * Fits the exchange cost from the run's lag-0 rows. A lag-0 iteration costs
 * the largest delay of that iteration plus c in the model, so each row gives
 * c = 1 / iters_per_s minus the mean largest delay, the delays being those the
 * run drew (same seed; measured iteration t draws iteration t, as in `bench`,
 * whose warmup runs undelayed); for an undelayed row
 * that is simply the time per iteration. Then the rows with lag > 0 split that
 * cost into per-call overhead and overlapping exchange (`overheadFraction`).
 *
 * @example One undelayed lag-0 row at 1,000 iterations per second
 * ```ts
 * import { calibrate } from "./_calibrate.ts";
 * const row = {
 *   ranks: 2, lag: 0, sizeBytes: null, delay: "none", imbalance: "none", delayMode: "",
 *   iters: 10, itersPerS: 1000,
 * };
 * const run = {
 *   dir: "r", transport: "tcp", ranks: 2, lags: [0], delay: "none", delayMode: "",
 *   imbalance: "none", iters: 10, seed: 1, rows: [row],
 * };
 * if (calibrate(run).cost.latencyUs !== 1000) throw new Error("expected 1 ms per exchange");
 * ```
 *
 * @param run The measured run.
 * @returns The fitted cost and its samples.
 * @throws UsageError when the run has no lag-0 row with a throughput.
 */
export function calibrate(run: MeasuredRun): Calibration {
  const delayOf = delayParser();
  const samples: ExchangeSample[] = [];
  for (const row of run.rows) {
    if (row.lag !== 0) continue;
    const delay = delayOf(row.delay);
    const delayPerIter = delay.kind === "none" ? 0 : simulateRun({
      ranks: row.ranks,
      lag: 0,
      iters: Math.max(1, row.iters),
      delay,
      seed: run.seed,
      commUs: 0,
    }).perIterUs;
    samples.push({
      bytes: bytesPerExchange(row.sizeBytes, row.ranks),
      us: Math.max(0, 1e6 / row.itersPerS - delayPerIter),
    });
  }
  if (samples.length === 0) {
    throw new UsageError(
      `No lag-0 row with a throughput in ${run.dir}/summary.csv to fit the exchange cost from`,
    );
  }
  const cost = fitExchangeCost(samples);
  return { cost, samples, overheadFraction: fitOverheadFraction(run, cost, delayOf) };
}

/** Parses each delay text once (a `trace:FILE` delay reads its file). */
function delayParser(): (text: string) => DelaySpec {
  const parsed = new Map<string, DelaySpec>();
  return (text) => {
    let spec = parsed.get(text);
    if (!spec) parsed.set(text, spec = parseDelaySpec(text));
    return spec;
  };
}

/**
 * Picks the overhead share f that makes the model best match the run's rows
 * with lag > 0 (least squares on the log of iterations per second; lag-0 rows
 * do not depend on f). 0 when the run has no such row.
 */
function fitOverheadFraction(
  run: MeasuredRun,
  cost: ExchangeCost,
  delayOf: (text: string) => DelaySpec,
): number {
  const rows = run.rows.filter((row) => row.lag > 0);
  if (rows.length === 0) return 0;
  let best = 0;
  let bestError = Infinity;
  for (let step = 0; step <= OVERHEAD_STEPS; step++) {
    const fraction = step / OVERHEAD_STEPS;
    let error = 0;
    for (const row of rows) {
      const exchangeUs = exchangeCostUs(cost, bytesPerExchange(row.sizeBytes, row.ranks));
      const predicted = simulateRun({
        ranks: row.ranks,
        lag: row.lag,
        iters: Math.max(1, row.iters),
        delay: delayOf(row.delay),
        seed: run.seed,
        commUs: exchangeUs * (1 - fraction),
        overheadUs: exchangeUs * fraction,
      }).itersPerS;
      error += Math.log(predicted / row.itersPerS) ** 2;
    }
    if (error < bestError) {
      bestError = error;
      best = fraction;
    }
  }
  return best;
}
