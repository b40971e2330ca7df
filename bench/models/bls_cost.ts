/**
 * The cost model of BLS alltoallv (see the README, How BLS is implemented), replayed at any scale.
 *
 * With d_p(t) the delay of rank p before it posts iteration t, c the cost of one
 * exchange and lag bound k:
 *
 * - post time P_p(t) = F_p(t-1) + d_p(t) + o, with F_p(-1) = 0 (all ranks start
 *   together) and o an optional per-call overhead that a rank pays on its own
 *   timeline (CPU time to post and take delivery, wake-ups; 0 in the plain cost model);
 * - the data of iteration t has reached every rank at A(t) = max_q P_q(t) + c;
 * - call t returns at F_p(t) = max(P_p(t), A(t-k)); for t < k there is nothing
 *   to wait for yet and F_p(t) = P_p(t);
 * - the final drain waits for the last k iterations, so the run ends when every
 *   rank has received iteration iters-1: at max(max_p F_p(iters-1), A(iters-1)),
 *   which is A(iters-1) because post times never decrease.
 *
 * So k = 0 costs the sum over iterations of (max delay + o + c), and k >= iters-1
 * costs the largest sum of one rank's delays (plus o per iteration) plus a single c. The exchange itself is
 * assumed to overlap fully with computation and with other exchanges (no link
 * contention, no bandwidth sharing): see docs/simulate.md for where this is wrong.
 *
 * The work is O(ranks) per iteration and lag: one running maximum of post
 * times per iteration, kept in a ring of k+1 maxima, never a ranks x ranks scan.
 *
 * @module
 */

import { type DelaySpec, drawDelayUs } from "./delay.ts";
import { LogHistogram } from "./_histogram.ts";

/** The configuration of one simulated run. */
export interface SimulationOptions {
  /** Number of ranks, >= 1. */
  ranks: number;
  /** Lag bound k, >= 0 (0 is synchronous). */
  lag: number;
  /** Measured iterations, >= 1. */
  iters: number;
  /** The delay model (drawn exactly as a measured run draws it). */
  delay: DelaySpec;
  /** The seed of the delay draws. */
  seed: number;
  /** The cost c of one exchange, in microseconds. */
  commUs: number;
  /** The per-call overhead o, paid on each rank's own timeline, in microseconds (default 0). */
  overheadUs?: number;
}

/** What a simulated (or replayed) run costs. */
export interface SimulationResult {
  /** The lag bound. */
  lag: number;
  /** Time from the first post to the end of the drain, in microseconds. */
  totalUs: number;
  /** Iterations per second: iters / totalUs (Infinity when totalUs is 0). */
  itersPerS: number;
  /** Mean time per iteration: totalUs / iters. */
  perIterUs: number;
  /**
   * Median over ranks and iterations of the time from a rank's post of
   * iteration t until iteration t's data has reached every rank, A(t) - P_p(t).
   */
  latencyP50Us: number;
  /** The 99th percentile of the same latency. */
  latencyP99Us: number;
  /** Median over ranks and iterations of the time blocked in a call, F_p(t) - P_p(t). */
  blockedP50Us: number;
  /**
   * Median over ranks and iterations of the time from a rank's post of
   * iteration t until the call that returns it ends: F_p(t + k) - P_p(t), or
   * the end of the drain for the last k iterations. This is a batch's latency
   * as the caller sees it (`latency_p50_us` of a measured run).
   */
  resultLatencyP50Us: number;
  /** The 99th percentile of the same latency. */
  resultLatencyP99Us: number;
  /** A(t) for every measured iteration t: when its data had reached every rank. */
  arrivalUs: Float64Array;
}

/**
 * Fills `out[p]` with the delay of rank p in iteration `iter` (0-based within
 * the replayed iterations).
 */
type DelaySource = (iter: number, out: Float64Array) => void;

function checkShape(
  ranks: number,
  iters: number,
  lags: readonly number[],
  commUs: number,
  overheadUs: number,
): void {
  if (!Number.isSafeInteger(ranks) || ranks < 1) {
    throw new RangeError(`Ranks must be a whole number >= 1, got ${ranks}`);
  }
  if (!Number.isSafeInteger(iters) || iters < 1) {
    throw new RangeError(`Iterations must be a whole number >= 1, got ${iters}`);
  }
  for (const lag of lags) {
    if (!Number.isSafeInteger(lag) || lag < 0) {
      throw new RangeError(`Lag must be a whole number >= 0, got ${lag}`);
    }
  }
  if (!(commUs >= 0) || !Number.isFinite(commUs)) {
    throw new RangeError(`Exchange cost must be a finite number >= 0, got ${commUs}`);
  }
  if (!(overheadUs >= 0) || !Number.isFinite(overheadUs)) {
    throw new RangeError(`Overhead must be a finite number >= 0, got ${overheadUs}`);
  }
}

function runModel(
  ranks: number,
  iters: number,
  lags: readonly number[],
  commUs: number,
  overheadUs: number,
  fillDelays: DelaySource,
): SimulationResult[] {
  checkShape(ranks, iters, lags, commUs, overheadUs);
  const delays = new Float64Array(ranks);
  const states = lags.map((lag) => ({
    lag,
    // F_p(t-1) before iteration t; becomes P_p(t), then F_p(t).
    finish: new Float64Array(ranks),
    // ring[t mod (k+1)] = max_q P_q(t): enough to know A(t-k) at iteration t.
    ring: new Float64Array(lag + 1),
    arrival: new Float64Array(iters),
    latency: new LogHistogram(),
    blocked: new LogHistogram(),
    // posts[(t mod (k+1)) * ranks + p] = P_p(t): the posts whose result is still to come.
    posts: new Float64Array((lag + 1) * ranks),
    result: new LogHistogram(),
  }));
  for (let t = 0; t < iters; t++) {
    fillDelays(t, delays);
    for (const state of states) {
      const { lag, finish, ring, latency, blocked } = state;
      let maxPost = -Infinity;
      for (let p = 0; p < ranks; p++) {
        const post = finish[p] + delays[p] + overheadUs;
        finish[p] = post;
        if (post > maxPost) maxPost = post;
      }
      ring[t % (lag + 1)] = maxPost;
      const arrival = maxPost + commUs;
      state.arrival[t] = arrival;
      // Written before read, so for k = 0 this is this iteration's own maximum.
      const released = t >= lag ? ring[(t - lag) % (lag + 1)] + commUs : -Infinity;
      const slot = (t % (lag + 1)) * ranks;
      // Iteration t - k's posts, read before iteration t's overwrite them (k = 0: the same).
      const dueSlot = t >= lag ? ((t - lag) % (lag + 1)) * ranks : -1;
      for (let p = 0; p < ranks; p++) {
        const post = finish[p];
        latency.add(arrival - post);
        if (released > post) {
          blocked.add(released - post);
          finish[p] = released;
        } else {
          blocked.add(0);
        }
        const duePost = dueSlot >= 0 ? state.posts[dueSlot + p] : 0;
        state.posts[slot + p] = post;
        if (dueSlot >= 0) state.result.add(finish[p] - (lag === 0 ? post : duePost));
      }
    }
  }
  return states.map((state) => {
    // The drain: the run ends when the last iteration's data has reached every rank.
    const totalUs = state.arrival[iters - 1];
    // The last k iterations come back from the drain, at the end of the run.
    for (let t = Math.max(0, iters - state.lag); t < iters; t++) {
      const slot = (t % (state.lag + 1)) * ranks;
      for (let p = 0; p < ranks; p++) state.result.add(totalUs - state.posts[slot + p]);
    }
    return {
      lag: state.lag,
      totalUs,
      itersPerS: totalUs > 0 ? (iters * 1e6) / totalUs : Infinity,
      perIterUs: totalUs / iters,
      latencyP50Us: state.latency.quantile(0.5),
      latencyP99Us: state.latency.quantile(0.99),
      blockedP50Us: state.blocked.quantile(0.5),
      resultLatencyP50Us: state.result.quantile(0.5),
      resultLatencyP99Us: state.result.quantile(0.99),
      arrivalUs: state.arrival,
    };
  });
}

// As in `bench`: warmup iterations run undelayed and are drained before the
// measured phase, whose iteration t (from 0) draws the delay of iteration t.
function drawnDelays(delay: DelaySpec, seed: number, ranks: number): DelaySource {
  return (iter, out) => {
    for (let p = 0; p < ranks; p++) out[p] = drawDelayUs(delay, seed, p, iter);
  };
}

/**
 * Simulates one run of the cost model with delays drawn from a delay spec.
 *
 * @example Synchronous steps pay the slowest rank
 * ```ts
 * import { simulateRun } from "@blsbench/core/bench";
 * import { parseDelaySpec } from "@blsbench/core/bench";
 * const result = simulateRun({
 *   ranks: 4, lag: 0, iters: 10, delay: parseDelaySpec("straggler:1ms@2"), seed: 1, commUs: 100,
 * });
 * if (result.totalUs !== 10 * 1100) throw new Error(String(result.totalUs));
 * ```
 *
 * @param options The run.
 * @returns Its cost.
 */
export function simulateRun(options: SimulationOptions): SimulationResult {
  return simulateLags({ ...options, lags: [options.lag] })[0];
}

/**
 * Simulates the same run at several lag bounds, drawing every delay once (the
 * draws are most of the work, so a sweep costs little more than one lag).
 *
 * @example Lag 4 against synchronous
 * ```ts
 * import { simulateLags } from "@blsbench/core/bench";
 * import { parseDelaySpec } from "@blsbench/core/bench";
 * const [sync, bls] = simulateLags({
 *   ranks: 16, lags: [0, 4], iters: 200, delay: parseDelaySpec("exp:2ms"), seed: 1, commUs: 100,
 * });
 * if (!(bls.itersPerS > sync.itersPerS)) throw new Error("BLS should be faster");
 * ```
 *
 * @param options The run, with a list of lags instead of one.
 * @returns One result per lag, in the order given.
 */
export function simulateLags(
  options: Omit<SimulationOptions, "lag"> & { lags: readonly number[] },
): SimulationResult[] {
  const { ranks, iters, lags, delay, seed, commUs } = options;
  const overheadUs = options.overheadUs ?? 0;
  return runModel(ranks, iters, lags, commUs, overheadUs, drawnDelays(delay, seed, ranks));
}

/**
 * Replays the cost model on delays a measured run actually drew, giving the
 * `ideal_iters_per_s` of that run: what it would reach if the implementation
 * added nothing to the model.
 *
 * @example Two ranks, lag 0
 * ```ts
 * import { idealItersPerSecond } from "@blsbench/core/bench";
 * // Rank-major [ranks x iters]: rank 0 waits 1 ms in iteration 0, rank 1 in iteration 1.
 * const delays = new Float64Array([1000, 0, 0, 1000]);
 * const ideal = idealItersPerSecond(delays, 2, 2, 0, 100);
 * if (Math.abs(ideal - 2e6 / 2200) > 1e-9) throw new Error(String(ideal));
 * ```
 *
 * @param delaysUs The delays in microseconds: a function of (rank, iter), or a
 *   rank-major array where the delay of rank p in iteration t is at p * iters + t.
 * @param ranks Number of ranks.
 * @param iters Number of measured iterations.
 * @param lag Lag bound k.
 * @param commUs Cost c of one exchange, in microseconds.
 * @param overheadUs Per-call overhead o on each rank's timeline, in microseconds (default 0).
 * @returns Iterations per second (Infinity when the model costs nothing).
 */
export function idealItersPerSecond(
  delaysUs: ((rank: number, iter: number) => number) | Float64Array,
  ranks: number,
  iters: number,
  lag: number,
  commUs: number,
  overheadUs = 0,
): number {
  return replayDelays(delaysUs, ranks, iters, [lag], commUs, overheadUs)[0].itersPerS;
}

/**
 * Replays the cost model on given delays at several lags; the full results
 * behind `idealItersPerSecond`.
 *
 * @example Replay a straggler
 * ```ts
 * import { replayDelays } from "@blsbench/core/bench";
 * const [sync, bls] = replayDelays((rank) => (rank === 0 ? 500 : 0), 3, 4, [0, 8], 100);
 * if (sync.totalUs !== 2400 || bls.totalUs !== 2100) throw new Error("unexpected");
 * ```
 *
 * @param delaysUs A function of (rank, iter), or a rank-major [ranks x iters] array.
 * @param ranks Number of ranks.
 * @param iters Number of iterations.
 * @param lags Lag bounds.
 * @param commUs Cost c of one exchange, in microseconds.
 * @param overheadUs Per-call overhead o on each rank's timeline, in microseconds (default 0).
 * @returns One result per lag.
 */
export function replayDelays(
  delaysUs: ((rank: number, iter: number) => number) | Float64Array,
  ranks: number,
  iters: number,
  lags: readonly number[],
  commUs: number,
  overheadUs = 0,
): SimulationResult[] {
  let source: DelaySource;
  if (typeof delaysUs === "function") {
    source = (iter, out) => {
      for (let p = 0; p < ranks; p++) out[p] = delaysUs(p, iter);
    };
  } else {
    if (delaysUs.length !== ranks * iters) {
      throw new RangeError(
        `Expected ${ranks} x ${iters} = ${ranks * iters} delays, got ${delaysUs.length}`,
      );
    }
    source = (iter, out) => {
      for (let p = 0; p < ranks; p++) out[p] = delaysUs[p * iters + iter];
    };
  }
  return runModel(ranks, iters, lags, commUs, overheadUs, source);
}

/** One measured exchange: bytes a rank sent in it, and the time it cost. */
export interface ExchangeSample {
  /** Bytes each rank sends per exchange (0 when unknown). */
  bytes: number;
  /** The exchange's cost in microseconds. */
  us: number;
}

/** An exchange cost model: c(bytes) = latencyUs + usPerByte * bytes. */
export interface ExchangeCost {
  /** The fixed cost of one exchange, in microseconds. */
  latencyUs: number;
  /** The cost per byte a rank sends, in microseconds (1 / bandwidth). */
  usPerByte: number;
}

/**
 * Fits a per-exchange latency plus bytes over bandwidth to measured exchange
 * costs by least squares. Both terms are kept >= 0: with a single size, or
 * when the costs do not grow with size, everything is latency; when the fitted
 * latency would be negative the line is forced through the origin.
 *
 * @example Fit two sizes
 * ```ts
 * import { fitExchangeCost } from "@blsbench/core/bench";
 * const cost = fitExchangeCost([{ bytes: 0, us: 50 }, { bytes: 1000, us: 150 }]);
 * if (cost.latencyUs !== 50 || cost.usPerByte !== 0.1) throw new Error(JSON.stringify(cost));
 * ```
 *
 * @param samples Measured exchanges (at least one).
 * @returns The fitted model.
 * @throws RangeError when there is no sample or a sample is not finite.
 */
export function fitExchangeCost(samples: readonly ExchangeSample[]): ExchangeCost {
  if (samples.length === 0) throw new RangeError("No measured exchange to fit a cost to");
  for (const { bytes, us } of samples) {
    if (!Number.isFinite(bytes) || !Number.isFinite(us)) {
      throw new RangeError(`Measured exchange (${bytes} bytes, ${us} us) is not finite`);
    }
  }
  const n = samples.length;
  const meanBytes = samples.reduce((s, x) => s + x.bytes, 0) / n;
  const meanUs = samples.reduce((s, x) => s + x.us, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const { bytes, us } of samples) {
    sxx += (bytes - meanBytes) ** 2;
    sxy += (bytes - meanBytes) * (us - meanUs);
  }
  const slope = sxx > 0 ? sxy / sxx : 0;
  if (slope <= 0) return { latencyUs: Math.max(0, meanUs), usPerByte: 0 };
  const intercept = meanUs - slope * meanBytes;
  if (intercept >= 0) return { latencyUs: intercept, usPerByte: slope };
  // Through the origin: minimise sum (us - b * bytes)^2.
  const sumXX = samples.reduce((s, x) => s + x.bytes * x.bytes, 0);
  const sumXY = samples.reduce((s, x) => s + x.bytes * x.us, 0);
  return { latencyUs: 0, usPerByte: Math.max(0, sumXY / sumXX) };
}

/**
 * The cost of one exchange under a fitted model.
 *
 * @example
 * ```ts
 * import { exchangeCostUs } from "@blsbench/core/bench";
 * if (exchangeCostUs({ latencyUs: 50, usPerByte: 0.01 }, 1000) !== 60) throw new Error();
 * ```
 *
 * @param cost The model.
 * @param bytes Bytes each rank sends per exchange.
 * @returns The cost in microseconds.
 */
export function exchangeCostUs(cost: ExchangeCost, bytes: number): number {
  return cost.latencyUs + cost.usPerByte * bytes;
}
