/**
 * Small statistics over samples.
 *
 * @module
 */

/**
 * The q-quantile (0..1) of the values, by linear interpolation.
 *
 * @example Median
 * ```ts
 * import { quantile } from "./stats.ts";
 * if (quantile([3, 1, 2], 0.5) !== 2) throw new Error("bad");
 * ```
 *
 * @param values The samples (not modified).
 * @param q The quantile.
 * @returns The value, or NaN for no samples.
 */
export function quantile(values: ArrayLike<number>, q: number): number {
  const n = values.length;
  if (n === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * The arithmetic mean.
 *
 * @example Mean
 * ```ts
 * import { mean } from "./stats.ts";
 * import { equal } from "node:assert/strict";
 * equal(mean([1, 2, 3]), 2);
 * ```
 *
 * @param values The samples.
 * @returns The mean, or NaN for no samples.
 */
export function mean(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i];
  return values.length ? s / values.length : NaN;
}
