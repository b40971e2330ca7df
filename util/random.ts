/**
 * Seeded, splittable random streams on top of pure-rand's xoroshiro128+.
 *
 * A stream is identified by a seed and a path of integers (for example rank and
 * iteration), so every rank draws the same values for the same path without
 * communicating.
 *
 * @module
 */

import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";

/** A seeded stream of random numbers. */
export interface RandomStream {
  /** A float uniform in [0, 1). */
  float(): number;
  /** An integer uniform in [0, n). */
  int(n: number): number;
  /** A standard normal deviate (Box-Muller). */
  normal(): number;
  /** An exponential deviate with the given mean. */
  exponential(mean: number): number;
}

function mix32(x: number): number {
  // A 32-bit finaliser (murmur3) so that nearby path values give unrelated seeds.
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * Creates the random stream for a seed and a path of integers.
 *
 * @example Same seed and path, same values
 * ```ts
 * import { randomStream } from "./random.ts";
 * const a = randomStream(42, 1, 7).float();
 * const b = randomStream(42, 1, 7).float();
 * if (a !== b) throw new Error("streams differ");
 * ```
 *
 * @param seed The run's seed.
 * @param path Integers that name the stream (rank, iteration, ...).
 * @returns A new stream.
 */
export function randomStream(seed: number, ...path: number[]): RandomStream {
  let h = mix32(seed >>> 0 ^ 0x9e3779b9);
  for (const p of path) h = mix32(h ^ mix32((p >>> 0) + 0x6a09e667));
  const rng = xoroshiro128plus(h | 0);
  // Discard the first outputs: xoroshiro's first values are weak for small seeds.
  for (let i = 0; i < 4; i++) rng.next();
  let spare: number | undefined;
  const float = () => uniformFloat64(rng);
  return {
    float,
    int: (n: number) => Math.floor(float() * n),
    normal() {
      if (spare !== undefined) {
        const s = spare;
        spare = undefined;
        return s;
      }
      let u = 0;
      while (u === 0) u = float();
      const v = float();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    exponential(mean: number) {
      return -mean * Math.log(1 - float());
    },
  };
}
