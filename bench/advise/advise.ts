/**
 * Which lag to run: the cost model, calibrated on a measured run, predicts
 * throughput and batch latency for every lag at every rank count, and the
 * advice is the lag with the best predicted throughput whose predicted p99
 * latency fits a budget (synchronous when none does, saying why).
 *
 * @module
 */

import { formatDelaySpec } from "../models/delay.ts";
import { simulateLags } from "../models/bls_cost.ts";
import { type Calibration, type MeasuredRun, planSweep } from "../simulate/mod.ts";

/** The model's prediction for one lag. */
export interface LagPrediction {
  /** The lag bound (0 is synchronous). */
  lag: number;
  /** Predicted iterations (batches) per second. */
  itersPerS: number;
  /** Predicted speedup over lag 0. */
  speedup: number;
  /** Predicted median batch latency (post to result), in ms. */
  latencyP50Ms: number;
  /** Predicted 99th percentile batch latency, in ms. */
  latencyP99Ms: number;
  /** Whether the p99 latency fits the budget (true without a budget). */
  fits: boolean;
}

/** The advice for one rank count and measured configuration. */
export interface Advice {
  /** Number of ranks. */
  ranks: number;
  /** Bytes per peer of the measured configuration, or null (DLRM). */
  sizeBytes: number | null;
  /** Its delay spec. */
  delay: string;
  /** Its imbalance spec. */
  imbalance: string;
  /** The recommended lag. */
  lag: number;
  /** Why, in one sentence. */
  reason: string;
  /** Every lag's prediction, by lag. */
  predictions: LagPrediction[];
}

/** Options of `adviseLag`. */
export interface AdviseOptions {
  /** Rank counts to advise for (default: the measured run's). */
  ranks?: number[];
  /** Lags to consider (default 0, 1, 2, 4, 8; lag 0 always). */
  lags?: number[];
  /** The p99 batch latency a lag must stay within, in ms (default: none). */
  latencyBudgetMs?: number;
  /** Iterations to simulate (default: the measured run's). */
  iters?: number;
}

/** Lags considered when none are given. */
export const DEFAULT_ADVICE_LAGS: readonly number[] = [0, 1, 2, 4, 8];

/**
 * Advises a lag per rank count and measured configuration.
 *
 * @example Advice from a made-up calibration
 * ```ts
 * import { adviseLag } from "@blsbench/core/bench";
 * const run = {
 *   dir: "r", transport: "tcp", ranks: 2, lags: [0, 4], delay: "exp:2ms", delayMode: "sleep",
 *   imbalance: "none", iters: 200, seed: 1, rows: [],
 * };
 * const calibration = {
 *   cost: { latencyUs: 100, usPerByte: 0 }, samples: [{ bytes: 1024, us: 100 }], overheadFraction: 0,
 * };
 * const [advice] = adviseLag(run, calibration, { ranks: [4], latencyBudgetMs: 1000 });
 * if (advice.ranks !== 4 || !(advice.lag > 0)) throw new Error("BLS should help");
 * ```
 *
 * @param run The measured run.
 * @param calibration Its calibration (exchange cost and per-call overhead).
 * @param options Rank counts, lags, the latency budget.
 * @returns One advice per rank count and measured configuration.
 */
export function adviseLag(
  run: MeasuredRun,
  calibration: Calibration,
  options: AdviseOptions = {},
): Advice[] {
  const budget = options.latencyBudgetMs;
  if (budget !== undefined && !(budget > 0)) {
    throw new RangeError(`The latency budget must be a number of ms > 0, got ${budget}`);
  }
  const scenarios = planSweep({
    ranks: options.ranks ?? [run.ranks],
    lags: options.lags ?? [...DEFAULT_ADVICE_LAGS],
    iters: options.iters,
  }, { run, calibration });
  return scenarios.map((s) => {
    const results = simulateLags({
      ranks: s.ranks,
      lags: s.lags,
      iters: s.iters,
      delay: s.delay,
      seed: s.seed,
      commUs: s.commUs,
      overheadUs: s.overheadUs,
    });
    const sync = results.find((r) => r.lag === 0)!;
    const predictions = results.map((r) => ({
      lag: r.lag,
      itersPerS: r.itersPerS,
      speedup: r.itersPerS / sync.itersPerS,
      latencyP50Ms: r.resultLatencyP50Us / 1000,
      latencyP99Ms: r.resultLatencyP99Us / 1000,
      fits: budget === undefined || r.resultLatencyP99Us / 1000 <= budget,
    }));
    const candidates = predictions.filter((p) => p.fits);
    let lag = 0;
    let reason: string;
    if (candidates.length === 0) {
      const syncP99Ms = sync.resultLatencyP99Us / 1000;
      reason = `no lag keeps the p99 batch latency within ${budget} ms (sync alone predicts ` +
        `${syncP99Ms.toPrecision(3)} ms): run synchronously, or raise the budget`;
    } else {
      const best = candidates.reduce((a, b) => (b.itersPerS > a.itersPerS * 1.01 ? b : a));
      lag = best.lag;
      const excluded = predictions.filter((p) => !p.fits && p.itersPerS > best.itersPerS * 1.01);
      reason = lag === 0
        ? "no lag is predicted to beat synchronous by more than 1%"
        : `lag ${lag} is predicted at ${best.speedup.toFixed(2)}x synchronous` +
          (excluded.length > 0
            ? `; lag ${excluded.map((p) => p.lag).join(", ")} would be faster but exceed${
              excluded.length === 1 ? "s" : ""
            } the ${budget} ms p99 budget`
            : "");
    }
    return {
      ranks: s.ranks,
      sizeBytes: s.sizeBytes,
      delay: formatDelaySpec(s.delay),
      imbalance: s.imbalance,
      lag,
      reason,
      predictions,
    };
  });
}

/**
 * Formats advice as a table per configuration, the recommended lag marked.
 *
 * @example Format advice
 * ```ts
 * import { formatAdvice } from "@blsbench/core/bench";
 * const text = formatAdvice([{
 *   ranks: 4, sizeBytes: 1024, delay: "exp:2ms", imbalance: "none", lag: 0, reason: "example",
 *   predictions: [{ lag: 0, itersPerS: 100, speedup: 1, latencyP50Ms: 2, latencyP99Ms: 9, fits: true }],
 * }]);
 * if (!text.includes("-> lag 0")) throw new Error(text);
 * ```
 *
 * @param advice The advice.
 * @returns The text.
 */
export function formatAdvice(advice: readonly Advice[]): string {
  const out: string[] = [];
  for (const a of advice) {
    const size = a.sizeBytes === null ? "" : `, ${a.sizeBytes} B per peer`;
    out.push(`${a.ranks} ranks, delay ${a.delay}${size}: -> lag ${a.lag} (${a.reason})`);
    out.push("  lag    iters/s  speedup  p50 ms  p99 ms  fits");
    for (const p of a.predictions) {
      out.push(
        `  ${String(p.lag).padStart(3)}  ${p.itersPerS.toFixed(1).padStart(9)}  ${
          (p.speedup.toFixed(2) + "x").padStart(7)
        }  ${p.latencyP50Ms.toFixed(2).padStart(6)}  ${p.latencyP99Ms.toFixed(2).padStart(6)}  ${
          p.fits ? "yes" : "no"
        }${p.lag === a.lag ? "  <-" : ""}`,
      );
    }
  }
  return out.join("\n");
}
