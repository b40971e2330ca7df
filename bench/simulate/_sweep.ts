/**
 * The simulate command's sweep: which configurations to simulate (from flags,
 * or from a calibrated measured run), and their `summary.csv` rows.
 *
 * @module
 */

import { normalizeLags } from "../config.ts";
import { SUMMARY_COLUMNS } from "../results/read.ts";
import {
  checkDelaySpec,
  type DelaySpec,
  formatDelaySpec,
  parseDelaySpec,
} from "../models/delay.ts";
import { exchangeCostUs, simulateLags } from "../models/bls_cost.ts";
import { bytesPerExchange, type Calibration, type MeasuredRun } from "./_calibrate.ts";

/** One configuration to simulate at every lag of `lags`. */
export interface Scenario {
  /** Transport named in the rows (`model` unless calibrated). */
  transport: string;
  /** Number of ranks. */
  ranks: number;
  /** Bytes per peer, or null. */
  sizeBytes: number | null;
  /** Imbalance spec text (recorded only: the model has one exchange cost). */
  imbalance: string;
  /** The delay model. */
  delay: DelaySpec;
  /** Delay mode text (recorded only). */
  delayMode: string;
  /** Measured iterations. */
  iters: number;
  /** Seed of the delay draws. */
  seed: number;
  /** Lags, 0 included. */
  lags: number[];
  /** Exchange cost c in microseconds. */
  commUs: number;
  /** Per-call overhead o on each rank's timeline, in microseconds. */
  overheadUs: number;
}

/** Settings given on the command line; absent ones come from the calibration or defaults. */
export interface SweepFlags {
  /** Rank counts. */
  ranks?: number[];
  /** Lags. */
  lags?: number[];
  /** Delay specs. */
  delays?: DelaySpec[];
  /** Iterations. */
  iters?: number;
  /** Seed. */
  seed?: number;
  /** Exchange cost in microseconds. */
  commUs?: number;
  /** Per-call overhead in microseconds. */
  overheadUs?: number;
}

/** Defaults of the simulate command. */
export const SWEEP_DEFAULTS = {
  lags: [0, 1, 2, 4],
  iters: 1000,
  seed: 1,
  commUs: 100,
  overheadUs: 0,
} as const;

const withSync = normalizeLags;

/**
 * Plans the scenarios: every rank count times every delay (flags), or the
 * measured run's configurations with flags overriding them (calibrated).
 *
 * @example Two rank counts, one delay
 * ```ts
 * import { planSweep } from "./_sweep.ts";
 * import { parseDelaySpec } from "../models/delay.ts";
 * const plan = planSweep({ ranks: [16, 256], delays: [parseDelaySpec("exp:2ms")], lags: [4] });
 * if (plan.length !== 2 || plan[0].lags.join() !== "0,4") throw new Error("unexpected");
 * ```
 *
 * @param flags The command line's settings.
 * @param measured The measured run and its calibration, when `--calibrate` was given.
 * @returns The scenarios, in output order.
 * @throws RangeError when a flag is missing or a delay does not fit the ranks.
 */
export function planSweep(
  flags: SweepFlags,
  measured?: { run: MeasuredRun; calibration: Calibration },
): Scenario[] {
  const scenarios: Scenario[] = [];
  if (!measured) {
    if (!flags.ranks?.length) throw new RangeError("Missing --ranks (or --calibrate DIR)");
    if (!flags.delays?.length) throw new RangeError("Missing --delay (or --calibrate DIR)");
    for (const ranks of flags.ranks) {
      for (const delay of flags.delays) {
        checkDelaySpec(delay, ranks);
        scenarios.push({
          transport: "model",
          ranks,
          sizeBytes: null,
          imbalance: "none",
          delay,
          delayMode: "",
          iters: flags.iters ?? SWEEP_DEFAULTS.iters,
          seed: flags.seed ?? SWEEP_DEFAULTS.seed,
          lags: withSync(flags.lags ?? SWEEP_DEFAULTS.lags),
          commUs: flags.commUs ?? SWEEP_DEFAULTS.commUs,
          overheadUs: flags.overheadUs ?? SWEEP_DEFAULTS.overheadUs,
        });
      }
    }
    return scenarios;
  }
  const { run, calibration } = measured;
  // The measured configurations: one per (size, delay, imbalance, delay mode).
  const groups = new Map<string, Omit<Scenario, "ranks" | "lags" | "commUs" | "overheadUs">>();
  const sources = run.rows.length > 0 ? run.rows : [{
    sizeBytes: null,
    delay: run.delay,
    imbalance: run.imbalance,
    delayMode: run.delayMode,
    iters: run.iters,
  }];
  for (const row of sources) {
    const delays = flags.delays ?? [parseDelaySpec(row.delay)];
    for (const delay of delays) {
      const key = [row.sizeBytes, formatDelaySpec(delay), row.imbalance, row.delayMode].join("|");
      if (groups.has(key)) continue;
      groups.set(key, {
        transport: run.transport,
        sizeBytes: row.sizeBytes,
        imbalance: row.imbalance,
        delay,
        delayMode: row.delayMode,
        iters: flags.iters ?? row.iters,
        seed: flags.seed ?? run.seed,
      });
    }
  }
  for (const ranks of flags.ranks ?? [run.ranks]) {
    for (const group of groups.values()) {
      checkDelaySpec(group.delay, ranks);
      // The fitted synchronous exchange cost e = o + c, split by the fitted share.
      const exchangeUs = exchangeCostUs(calibration.cost, bytesPerExchange(group.sizeBytes, ranks));
      const fraction = calibration.overheadFraction;
      scenarios.push({
        ...group,
        ranks,
        lags: withSync(flags.lags ?? run.lags),
        commUs: flags.commUs ?? exchangeUs * (1 - fraction),
        overheadUs: flags.overheadUs ?? exchangeUs * fraction,
      });
    }
  }
  return scenarios;
}

/** One `summary.csv` row of a simulation, keyed by column name (the required columns, plus extras). */
export type SimulatedRow = Record<string, string | number>;

/** The columns the simulate command writes, in order: the required ones, then its own. */
export const SIMULATED_COLUMNS = [
  ...SUMMARY_COLUMNS,
  "comm_us",
  "overhead_us",
  "measured_iters_per_s",
] as const;

function rounded(value: number, digits = 3): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function measuredKey(
  ranks: number,
  lag: number,
  sizeBytes: number | null,
  delay: string,
  imbalance: string,
  delayMode: string,
): string {
  return [ranks, lag, sizeBytes ?? "", delay, imbalance, delayMode].join("|");
}

/**
 * Simulates the scenarios and turns the results into rows. With a measured
 * run, rows of the same configuration carry its throughput in
 * `measured_iters_per_s` (the mean over repeats).
 *
 * @example Simulate one scenario
 * ```ts
 * import { planSweep, simulateSweep } from "./_sweep.ts";
 * import { parseDelaySpec } from "../models/delay.ts";
 * const plan = planSweep({ ranks: [4], delays: [parseDelaySpec("exp:1ms")], lags: [2], iters: 50 });
 * const rows = simulateSweep(plan);
 * if (rows.length !== 2 || rows[0].workload !== "simulated") throw new Error("unexpected");
 * ```
 *
 * @param scenarios The scenarios.
 * @param measured The measured run, for comparison.
 * @returns One row per scenario and lag.
 */
export function simulateSweep(
  scenarios: readonly Scenario[],
  measured?: MeasuredRun,
): SimulatedRow[] {
  const measuredMeans = new Map<string, number[]>();
  for (const row of measured?.rows ?? []) {
    const key = measuredKey(
      row.ranks,
      row.lag,
      row.sizeBytes,
      row.delay,
      row.imbalance,
      row.delayMode,
    );
    measuredMeans.set(key, [...(measuredMeans.get(key) ?? []), row.itersPerS]);
  }
  const rows: SimulatedRow[] = [];
  for (const scenario of scenarios) {
    const delayText = formatDelaySpec(scenario.delay);
    const results = simulateLags({
      ranks: scenario.ranks,
      lags: scenario.lags,
      iters: scenario.iters,
      delay: scenario.delay,
      seed: scenario.seed,
      commUs: scenario.commUs,
      overheadUs: scenario.overheadUs,
    });
    const sync = results.find((result) => result.lag === 0)!;
    for (const result of results) {
      const observed = measuredMeans.get(
        measuredKey(
          scenario.ranks,
          result.lag,
          scenario.sizeBytes,
          delayText,
          scenario.imbalance,
          scenario.delayMode,
        ),
      );
      rows.push({
        workload: "simulated",
        transport: scenario.transport,
        ranks: scenario.ranks,
        lag: result.lag,
        size_bytes: scenario.sizeBytes ?? "",
        imbalance: scenario.imbalance,
        delay: delayText,
        delay_mode: scenario.delayMode,
        iters: scenario.iters,
        iters_per_s: rounded(result.itersPerS),
        samples_per_s: "",
        latency_p50_us: rounded(result.latencyP50Us, 1),
        latency_p99_us: rounded(result.latencyP99Us, 1),
        blocked_p50_us: rounded(result.blockedP50Us, 1),
        speedup_vs_sync: rounded(result.itersPerS / sync.itersPerS, 4),
        ideal_iters_per_s: rounded(result.itersPerS),
        validated: "",
        comm_us: rounded(scenario.commUs, 1),
        overhead_us: rounded(scenario.overheadUs, 1),
        measured_iters_per_s: observed
          ? rounded(observed.reduce((a, b) => a + b, 0) / observed.length)
          : "",
      });
    }
  }
  return rows;
}
