/**
 * A log-bucketed histogram for percentiles over very many values (one per rank
 * and iteration of a simulation) in constant memory. Buckets are 1% wide, so a
 * percentile is exact to about 0.5%; values below 1 ns fall in one zero bucket.
 *
 * @module
 */

const SMALLEST_US = 1e-3;
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
// Up to 1e12 us (about 11 days) is plenty for any simulated wait.
const BUCKETS = 2 + Math.ceil(Math.log(1e12 / SMALLEST_US) / LOG_GROWTH);

/** Counts values in 1%-wide logarithmic buckets. */
export class LogHistogram {
  readonly #counts = new Float64Array(BUCKETS);
  #total = 0;

  /**
   * Adds one value.
   *
   * @param us The value, in microseconds (negative counts as 0).
   */
  add(us: number): void {
    let bucket = 0;
    if (us >= SMALLEST_US) {
      bucket = Math.min(BUCKETS - 1, 1 + Math.floor(Math.log(us / SMALLEST_US) / LOG_GROWTH));
    }
    this.#counts[bucket]++;
    this.#total++;
  }

  /** The number of values added. */
  get count(): number {
    return this.#total;
  }

  /**
   * The value below which a fraction `q` of the values lie (the bucket's geometric middle).
   *
   * @param q A fraction in [0, 1].
   * @returns The percentile, or NaN when empty.
   */
  quantile(q: number): number {
    if (this.#total === 0) return NaN;
    const rank = Math.min(this.#total, Math.max(1, Math.ceil(q * this.#total)));
    let seen = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      seen += this.#counts[bucket];
      if (seen >= rank) {
        return bucket === 0 ? 0 : SMALLEST_US * Math.pow(GROWTH, bucket - 0.5);
      }
    }
    return NaN;
  }
}
