/**
 * Imbalance models: the size of the block each rank sends to each peer in each
 * iteration, for the heterogeneous message exchanges of the paper.
 *
 * Grammar: `none`, `hot:R:F`, `random:CV`, `zipf:S`. Sizes
 * depend only on (spec, base, seed, iteration, source, destination, ranks), so
 * every rank computes the same size for a pair without communicating: a
 * receiver knows how much to expect.
 *
 * @module
 */

import { randomStream } from "../../util/random.ts";

/**
 * An imbalance model.
 *
 * - `none`: every block is `base` bytes.
 * - `hot`: blocks to and from rank `rank` are `factor` times `base` (the block a
 *   hot rank sends itself too, once, not squared).
 * - `random`: every (source, destination) block is redrawn each iteration from a
 *   lognormal law with mean `base` and coefficient of variation `cv`
 *   (sigma^2 = ln(1 + cv^2), mu = ln(base) - sigma^2 / 2), then rounded.
 * - `zipf`: destination q gets a share proportional to (q + 1)^-s, the same for
 *   every source and iteration: size = base * ranks * (q + 1)^-s / H(ranks, s),
 *   with H(ranks, s) = sum over j = 1..ranks of j^-s. Every source sends `ranks * base`
 *   bytes in total, as without imbalance, but rank 0 receives the most (a hot shard).
 */
export type ImbalanceSpec =
  | { kind: "none" }
  | { kind: "hot"; rank: number; factor: number }
  | { kind: "random"; cv: number }
  | { kind: "zipf"; s: number };

// Names the imbalance streams apart from other users of the same seed (ASCII "imba").
const IMBALANCE_STREAM = 0x696d6261;

function parseNonNegative(part: string, what: string, text: string): number {
  const trimmed = part.trim();
  const value = Number(trimmed);
  if (trimmed === "" || !Number.isFinite(value) || value < 0) {
    throw new SyntaxError(
      `Imbalance '${text}' has a bad ${what} '${part}': expected a non-negative number`,
    );
  }
  return value;
}

function expectParts(parts: string[], count: number, form: string, text: string): void {
  if (parts.length !== count) {
    throw new SyntaxError(`Imbalance '${text}' does not match the form '${form}'`);
  }
}

/**
 * Parses an imbalance spec such as `hot:0:4`, `random:0.5` or `zipf:1.1`.
 *
 * @example Parse a hot rank
 * ```ts
 * import { parseImbalanceSpec } from "@blsbench/core/bench";
 * const spec = parseImbalanceSpec("hot:1:4");
 * if (spec.kind !== "hot" || spec.rank !== 1 || spec.factor !== 4) throw new Error("unexpected");
 * ```
 *
 * @param text The spec text.
 * @returns The parsed spec.
 * @throws SyntaxError when the text does not follow the grammar.
 */
export function parseImbalanceSpec(text: string): ImbalanceSpec {
  const parts = text.trim().split(":");
  switch (parts[0].toLowerCase()) {
    case "none":
      expectParts(parts, 1, "none", text);
      return { kind: "none" };
    case "hot": {
      expectParts(parts, 3, "hot:RANK:FACTOR", text);
      const rankText = parts[1].trim();
      if (!/^\d+$/.test(rankText) || !Number.isSafeInteger(Number(rankText))) {
        throw new SyntaxError(
          `Imbalance '${text}' has a bad rank '${parts[1]}': expected a whole number`,
        );
      }
      return {
        kind: "hot",
        rank: Number(rankText),
        factor: parseNonNegative(parts[2], "factor", text),
      };
    }
    case "random":
      expectParts(parts, 2, "random:CV", text);
      return { kind: "random", cv: parseNonNegative(parts[1], "coefficient of variation", text) };
    case "zipf":
      expectParts(parts, 2, "zipf:S", text);
      return { kind: "zipf", s: parseNonNegative(parts[1], "exponent", text) };
    default:
      throw new SyntaxError(`Unknown imbalance '${text}': expected none, hot, random or zipf`);
  }
}

/**
 * Formats an imbalance spec as its canonical text; `parseImbalanceSpec` gives it back.
 *
 * @example Round trip
 * ```ts
 * import { formatImbalanceSpec, parseImbalanceSpec } from "@blsbench/core/bench";
 * if (formatImbalanceSpec(parseImbalanceSpec(" zipf:1.50 ")) !== "zipf:1.5") throw new Error();
 * ```
 *
 * @param spec The spec.
 * @returns The canonical text.
 */
export function formatImbalanceSpec(spec: ImbalanceSpec): string {
  switch (spec.kind) {
    case "none":
      return "none";
    case "hot":
      return `hot:${spec.rank}:${spec.factor}`;
    case "random":
      return `random:${spec.cv}`;
    case "zipf":
      return `zipf:${spec.s}`;
  }
}

/**
 * Checks that a spec makes sense for a run of `ranks` ranks (a hot rank must be one of them).
 *
 * @example A hot rank outside the run
 * ```ts
 * import { checkImbalanceSpec, parseImbalanceSpec } from "@blsbench/core/bench";
 * let failed = false;
 * try {
 *   checkImbalanceSpec(parseImbalanceSpec("hot:9:2"), 4);
 * } catch (e) {
 *   failed = e instanceof RangeError;
 * }
 * if (!failed) throw new Error("expected a RangeError");
 * ```
 *
 * @param spec The spec.
 * @param ranks The number of ranks.
 * @throws RangeError when the hot rank is not below `ranks`.
 */
export function checkImbalanceSpec(spec: ImbalanceSpec, ranks: number): void {
  if (spec.kind === "hot" && spec.rank >= ranks) {
    throw new RangeError(
      `Imbalance hot rank ${spec.rank} is outside the run's ranks 0 to ${ranks - 1}`,
    );
  }
}

// The Zipf normaliser H(ranks, s) is the same for every block of a run: compute it once.
const zipfNormalisers = new Map<string, number>();

function zipfNormaliser(s: number, ranks: number): number {
  const key = `${s}/${ranks}`;
  let sum = zipfNormalisers.get(key);
  if (sum === undefined) {
    sum = 0;
    for (let j = 1; j <= ranks; j++) sum += Math.pow(j, -s);
    if (zipfNormalisers.size > 64) zipfNormalisers.clear();
    zipfNormalisers.set(key, sum);
  }
  return sum;
}

/**
 * The size in bytes of the block `src` sends to `dst` in iteration `iter`.
 * The same on every rank for the same arguments; a whole number >= 0. For
 * `random` and `zipf` the mean block size stays at `baseBytes` (up to rounding).
 *
 * @example Blocks of a hot rank
 * ```ts
 * import { blockSize, parseImbalanceSpec } from "@blsbench/core/bench";
 * const hot = parseImbalanceSpec("hot:0:4");
 * if (blockSize(hot, 1024, 1, 0, 0, 2, 4) !== 4096) throw new Error("hot block");
 * if (blockSize(hot, 1024, 1, 0, 1, 2, 4) !== 1024) throw new Error("cold block");
 * ```
 *
 * @param spec The imbalance model.
 * @param baseBytes The size of a block without imbalance.
 * @param seed The run's seed.
 * @param iter The iteration.
 * @param src The sending rank.
 * @param dst The receiving rank.
 * @param ranks The number of ranks.
 * @returns The block size in bytes.
 */
export function blockSize(
  spec: ImbalanceSpec,
  baseBytes: number,
  seed: number,
  iter: number,
  src: number,
  dst: number,
  ranks: number,
): number {
  switch (spec.kind) {
    case "none":
      return Math.max(0, Math.round(baseBytes));
    case "hot":
      return Math.max(
        0,
        Math.round(src === spec.rank || dst === spec.rank ? baseBytes * spec.factor : baseBytes),
      );
    case "random": {
      if (spec.cv === 0) return Math.max(0, Math.round(baseBytes));
      const sigma2 = Math.log1p(spec.cv * spec.cv);
      const z = randomStream(seed, IMBALANCE_STREAM, iter, src, dst).normal();
      return Math.max(0, Math.round(baseBytes * Math.exp(Math.sqrt(sigma2) * z - sigma2 / 2)));
    }
    case "zipf": {
      const share = Math.pow(dst + 1, -spec.s) / zipfNormaliser(spec.s, ranks);
      return Math.max(0, Math.round(baseBytes * ranks * share));
    }
  }
}
