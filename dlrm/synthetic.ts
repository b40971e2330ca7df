/**
 * Seeded synthetic DLRM data with controllable pooling and skew: the irregular
 * embedding accesses of the paper's unbalanced runs.
 *
 * Skew grammar (`--skew SPEC`), applied on top of the base pooling F
 * (`--pooling F`, indices per lookup per table):
 *
 * - `none`: every table has pooling F on every row.
 * - `tables:R:X`: the tables that rank R holds under contiguous sharding get X
 *   times the pooling (a static hot rank; `--sharding balanced` can spread it).
 * - `zipf:S`: table t's pooling is proportional to 1 / (t + 1)^S, scaled so the
 *   mean over tables stays F (lookups concentrated on the first tables, hence on
 *   the first ranks under contiguous sharding).
 * - `burst:P:X`: in every block of `blockRows` rows (one global batch), each
 *   table independently is hot with probability P and then has X times the
 *   pooling: the hot rank changes from batch to batch.
 *
 * A fractional pooling p gives floor(p) or floor(p) + 1 indices per row, with
 * mean p. Indices are uniform over the table's rows.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { randomStream } from "../util/random.ts";
import type { Dataset, SparseFeature } from "../datasets/types.ts";
import type { DlrmConfig } from "./config.ts";
import { shardTables } from "./sharding.ts";

/** A parsed skew specification (see the module description). */
export type Skew =
  | { kind: "none" }
  | { kind: "tables"; rank: number; factor: number }
  | { kind: "zipf"; exponent: number }
  | { kind: "burst"; probability: number; factor: number };

/**
 * Parses a skew specification: `none`, `tables:R:X`, `zipf:S`, `burst:P:X`.
 *
 * @example Tables of rank 1 four times as heavy
 * ```ts
 * import { parseSkew } from "@blsbench/core/dlrm";
 * const s = parseSkew("tables:1:4");
 * if (s.kind !== "tables" || s.rank !== 1 || s.factor !== 4) throw new Error("wrong parse");
 * ```
 *
 * @param spec The specification.
 * @returns The skew.
 * @throws UsageError naming the specification when it is malformed.
 */
export function parseSkew(spec: string): Skew {
  const parts = spec.trim().split(":");
  const bad = (why: string) =>
    new UsageError(
      `Invalid --skew '${spec}': ${why} (expected none, tables:R:X, zipf:S or burst:P:X)`,
    );
  const num = (s: string | undefined, what: string, ok: (n: number) => boolean) => {
    const n = Number(s);
    if (s === undefined || s.trim() === "" || !Number.isFinite(n) || !ok(n)) {
      throw bad(`bad ${what} '${s ?? ""}'`);
    }
    return n;
  };
  switch (parts[0]) {
    case "none":
      if (parts.length !== 1) throw bad("takes no arguments");
      return { kind: "none" };
    case "tables":
      if (parts.length !== 3) throw bad("needs a rank and a factor");
      return {
        kind: "tables",
        rank: num(parts[1], "rank", (n) => Number.isInteger(n) && n >= 0),
        factor: num(parts[2], "factor", (n) => n > 0),
      };
    case "zipf":
      if (parts.length !== 2) throw bad("needs an exponent");
      return { kind: "zipf", exponent: num(parts[1], "exponent", (n) => n >= 0) };
    case "burst":
      if (parts.length !== 3) throw bad("needs a probability and a factor");
      return {
        kind: "burst",
        probability: num(parts[1], "probability", (n) => n >= 0 && n <= 1),
        factor: num(parts[2], "factor", (n) => n > 0),
      };
    default:
      throw bad(`unknown kind '${parts[0]}'`);
  }
}

/**
 * Formats a skew back into its specification.
 *
 * @example Round trip
 * ```ts
 * import { formatSkew, parseSkew } from "@blsbench/core/dlrm";
 * if (formatSkew(parseSkew("burst:0.25:8")) !== "burst:0.25:8") throw new Error("no round trip");
 * ```
 *
 * @param skew The skew.
 * @returns The specification.
 */
export function formatSkew(skew: Skew): string {
  switch (skew.kind) {
    case "none":
      return "none";
    case "tables":
      return `tables:${skew.rank}:${skew.factor}`;
    case "zipf":
      return `zipf:${skew.exponent}`;
    case "burst":
      return `burst:${skew.probability}:${skew.factor}`;
  }
}

/** Options for {@link synthesizeDataset}. */
export interface SyntheticOptions {
  /** The model the data is for: dense width from `bottomLayers[0]`, tables from `tableSizes`. */
  config: Pick<DlrmConfig, "bottomLayers" | "tableSizes">;
  /** Number of rows. */
  rows: number;
  /** The seed. */
  seed: number;
  /** Base indices per lookup per table (default 1, as Criteo's one-hot features). */
  pooling?: number;
  /** The skew (default none). */
  skew?: Skew;
  /** Ranks, for `tables:R:X` (default 1). */
  ranks?: number;
  /** Rows per block for `burst:P:X` (default 2048; set it to the global batch size). */
  blockRows?: number;
}

/**
 * The mean pooling of each table before `burst` skew, from the base pooling
 * and the skew.
 *
 * @example zipf keeps the mean pooling
 * ```ts
 * import { parseSkew, tablePooling } from "@blsbench/core/dlrm";
 * const p = tablePooling(4, 2, parseSkew("zipf:1"), 1);
 * if (Math.abs(p.reduce((a, b) => a + b) / 4 - 2) > 1e-12) throw new Error("mean changed");
 * ```
 *
 * @param tables Number of tables.
 * @param pooling Base pooling.
 * @param skew The skew.
 * @param ranks Ranks, for `tables:R:X`.
 * @returns One mean pooling per table.
 */
export function tablePooling(tables: number, pooling: number, skew: Skew, ranks: number): number[] {
  const out = new Array<number>(tables).fill(pooling);
  if (skew.kind === "tables") {
    if (skew.rank >= ranks) {
      throw new UsageError(
        `--skew ${formatSkew(skew)} names rank ${skew.rank} but there are ${ranks} ranks`,
      );
    }
    for (const t of shardTables("contiguous", tables, ranks)[skew.rank]) {
      out[t] = pooling * skew.factor;
    }
  } else if (skew.kind === "zipf") {
    const w = out.map((_, t) => 1 / Math.pow(t + 1, skew.exponent));
    const sum = w.reduce((a, b) => a + b, 0);
    for (let t = 0; t < tables; t++) out[t] = (pooling * tables * w[t]) / sum;
  }
  return out;
}

/**
 * Generates a seeded synthetic dataset: dense features log(1 + x) of
 * exponential draws, labels with a 25% click rate, and bags of uniform indices
 * whose sizes follow the pooling and skew. Each table has its own random
 * stream, so the data does not depend on how tables are sharded.
 *
 * @example 100 rows for the tiny model, two indices per lookup
 * ```ts
 * import { architecture } from "@blsbench/core/dlrm";
 * import { synthesizeDataset } from "@blsbench/core/dlrm";
 * const d = synthesizeDataset({ config: architecture("tiny"), rows: 100, seed: 5, pooling: 2 });
 * if (d.sparse[0].indices.length !== 200) throw new Error("expected 200 indices");
 * ```
 *
 * @param options Shape, size, seed, pooling and skew.
 * @returns The dataset.
 */
export function synthesizeDataset(options: SyntheticOptions): Dataset {
  const { config, rows, seed } = options;
  const pooling = options.pooling ?? 1;
  const skew = options.skew ?? { kind: "none" };
  const ranks = options.ranks ?? 1;
  const blockRows = options.blockRows ?? 2048;
  if (!Number.isInteger(rows) || rows < 0) {
    throw new UsageError(`Rows must be a whole number, got ${rows}`);
  }
  if (!(pooling > 0) || !Number.isFinite(pooling)) {
    throw new UsageError(`--pooling must be > 0, got ${pooling}`);
  }
  if (!Number.isInteger(blockRows) || blockRows < 1) {
    throw new UsageError(`Block rows must be >= 1`);
  }
  const nDense = config.bottomLayers[0];
  const tables = config.tableSizes.length;
  const means = tablePooling(tables, pooling, skew, ranks);

  const dense = new Float32Array(rows * nDense);
  const labels = new Float32Array(rows);
  const rng = randomStream(seed, 20);
  for (let i = 0; i < dense.length; i++) dense[i] = Math.log1p(rng.exponential(10));
  for (let r = 0; r < rows; r++) labels[r] = rng.float() < 0.25 ? 1 : 0;

  const sparse: SparseFeature[] = config.tableSizes.map((size, t) => {
    const draw = randomStream(seed, 21, t);
    const offsets = new Int32Array(rows + 1);
    const counts = new Int32Array(rows);
    let total = 0;
    let hot = false;
    for (let r = 0; r < rows; r++) {
      if (skew.kind === "burst" && r % blockRows === 0) hot = draw.float() < skew.probability;
      const p = hot && skew.kind === "burst" ? means[t] * skew.factor : means[t];
      const whole = Math.floor(p);
      counts[r] = whole + (draw.float() < p - whole ? 1 : 0);
      total += counts[r];
      offsets[r + 1] = total;
    }
    const indices = new Int32Array(total);
    for (let i = 0; i < total; i++) indices[i] = draw.int(size);
    return { name: `C${t + 1}`, offsets, indices };
  });
  return {
    rows,
    denseNames: Array.from({ length: nDense }, (_, i) => `I${i + 1}`),
    dense,
    sparse,
    tableSizes: [...config.tableSizes],
    labels,
    skipped: 0,
  };
}
