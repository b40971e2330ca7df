/**
 * How tables are placed on ranks and how a global batch is split into
 * per-rank slices.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { Dataset } from "../datasets/types.ts";

/** Table placement strategies. */
export type ShardingKind = "contiguous" | "roundrobin" | "balanced";

/** The placement strategy names, for command-line validation. */
export const SHARDING_KINDS: readonly ShardingKind[] = ["contiguous", "roundrobin", "balanced"];

/**
 * Places tables on ranks. Each rank's list is in ascending table order.
 *
 * - `contiguous` (the reference DLRM): with q, m = divmod(tables, ranks) the
 *   first m ranks get q + 1 consecutive tables, the others q.
 * - `roundrobin`: table t goes to rank t mod ranks.
 * - `balanced`: greedy by expected lookup cost, most expensive table first,
 *   each to the least loaded rank (lowest rank on ties).
 *
 * @example 26 tables on 4 ranks
 * ```ts
 * import { shardTables } from "@blsbench/core/dlrm";
 * const shards = shardTables("contiguous", 26, 4);
 * if (shards.map((s) => s.length).join() !== "7,7,6,6") throw new Error("wrong split");
 * ```
 *
 * @param kind The strategy.
 * @param tables Number of tables.
 * @param ranks Number of ranks.
 * @param costs Expected cost of each table per batch, for `balanced` (default: all equal).
 * @returns For each rank, the tables it holds.
 * @throws UsageError for an unknown strategy.
 */
export function shardTables(
  kind: ShardingKind,
  tables: number,
  ranks: number,
  costs?: readonly number[],
): number[][] {
  if (!Number.isInteger(ranks) || ranks < 1) {
    throw new RangeError(`Ranks must be >= 1, got ${ranks}`);
  }
  const shards: number[][] = Array.from({ length: ranks }, () => []);
  switch (kind) {
    case "contiguous": {
      const q = Math.floor(tables / ranks);
      const m = tables % ranks;
      let t = 0;
      for (let r = 0; r < ranks; r++) {
        for (let i = 0; i < q + (r < m ? 1 : 0); i++) shards[r].push(t++);
      }
      break;
    }
    case "roundrobin":
      for (let t = 0; t < tables; t++) shards[t % ranks].push(t);
      break;
    case "balanced": {
      const cost = (t: number) => costs?.[t] ?? 1;
      const order = Array.from({ length: tables }, (_, t) => t)
        .sort((a, b) => cost(b) - cost(a) || a - b);
      const load = new Float64Array(ranks);
      for (const t of order) {
        let best = 0;
        for (let r = 1; r < ranks; r++) if (load[r] < load[best]) best = r;
        shards[best].push(t);
        load[best] += cost(t);
      }
      for (const s of shards) s.sort((a, b) => a - b);
      break;
    }
    default:
      throw new UsageError(
        `Unknown sharding '${kind}': expected one of ${SHARDING_KINDS.join(", ")}`,
      );
  }
  return shards;
}

/**
 * Expected lookup cost of each table per row: its mean pooling (indices per
 * row) plus one for writing and sending the pooled row. Multiplied by the
 * rows per batch it is the work a rank does for the table each batch.
 *
 * @example One-hot and two-hot tables
 * ```ts
 * import { tableCosts } from "@blsbench/core/dlrm";
 * const costs = tableCosts({ rows: 2, sparse: [
 *   { name: "a", offsets: new Int32Array([0, 1, 2]), indices: new Int32Array(2) },
 *   { name: "b", offsets: new Int32Array([0, 2, 4]), indices: new Int32Array(4) },
 * ] });
 * if (costs.join() !== "2,3") throw new Error("wrong costs");
 * ```
 *
 * @param dataset The data.
 * @returns One cost per table.
 */
export function tableCosts(dataset: Pick<Dataset, "rows" | "sparse">): number[] {
  return dataset.sparse.map((f) => (dataset.rows > 0 ? f.indices.length / dataset.rows : 0) + 1);
}

/** A contiguous range of dataset rows. */
export interface RowRange {
  /** First row. */
  start: number;
  /** Number of rows (may be 0). */
  count: number;
}

/**
 * Splits rows into `parts` contiguous slices whose sizes differ by at most
 * one, larger slices first (q, m = divmod(count, parts)). No row is dropped.
 *
 * @example 10 rows on 4 ranks
 * ```ts
 * import { splitRows } from "@blsbench/core/dlrm";
 * const s = splitRows({ start: 100, count: 10 }, 4);
 * if (s.map((x) => `${x.start}+${x.count}`).join() !== "100+3,103+3,106+2,108+2") throw new Error("wrong");
 * ```
 *
 * @param range The rows to split.
 * @param parts Number of slices.
 * @returns The slices, in order.
 */
export function splitRows(range: RowRange, parts: number): RowRange[] {
  const q = Math.floor(range.count / parts);
  const m = range.count % parts;
  const out: RowRange[] = [];
  let start = range.start;
  for (let p = 0; p < parts; p++) {
    const count = q + (p < m ? 1 : 0);
    out.push({ start, count });
    start += count;
  }
  return out;
}

/**
 * Cuts a dataset into global batches of `batchSize` rows; the last batch holds
 * the rest.
 *
 * @example 10 rows in batches of 4
 * ```ts
 * import { batchRanges } from "@blsbench/core/dlrm";
 * if (batchRanges(10, 4).map((b) => b.count).join() !== "4,4,2") throw new Error("wrong");
 * ```
 *
 * @param rows Rows in the dataset.
 * @param batchSize Rows per batch.
 * @returns The batches, in order.
 * @throws UsageError when the batch size is not a positive whole number.
 */
export function batchRanges(rows: number, batchSize: number): RowRange[] {
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new UsageError(`--batch-size must be a positive whole number, got ${batchSize}`);
  }
  const out: RowRange[] = [];
  for (let start = 0; start < rows; start += batchSize) {
    out.push({ start, count: Math.min(batchSize, rows - start) });
  }
  return out;
}
