/**
 * Cutting a stream of row chunks into batches of a fixed size.
 *
 * @module
 */

import type { DatasetChunk } from "./stream.ts";
import type { SparseFeature } from "./types.ts";

/**
 * Re-chunks a stream of chunks of any sizes into chunks of exactly
 * `batchRows` rows (the last shorter), numbered from row 0. A chunk may lack
 * the sparse features first seen after it (a text format learns its fields as
 * it reads): their bags are empty in that chunk's rows.
 *
 * @example Chunks of 2 and 3 rows into batches of 4
 * ```ts
 * import { rechunk } from "./_rechunk.ts";
 * const chunk = (firstRow: number, rows: number) => ({
 *   firstRow, rows, denseNames: ["d"], dense: new Float32Array(rows).fill(firstRow),
 *   sparse: [{ name: "s", offsets: new Int32Array(rows + 1), indices: new Int32Array(0) }],
 * });
 * const sizes: number[] = [];
 * for await (const c of rechunk([chunk(0, 2), chunk(2, 3)], 4, ["s"], 1)) sizes.push(c.rows);
 * if (sizes.join() !== "4,1") throw new Error(`wrong sizes ${sizes}`);
 * ```
 *
 * @param source The chunks, in row order.
 * @param batchRows Rows per output chunk.
 * @param sparseNames Every sparse feature's name, in table order.
 * @param denseCount Dense features per row.
 * @returns The re-cut chunks.
 */
export async function* rechunk(
  source: Iterable<DatasetChunk> | AsyncIterable<DatasetChunk>,
  batchRows: number,
  sparseNames: readonly string[],
  denseCount: number,
): AsyncGenerator<DatasetChunk> {
  let pending: DatasetChunk[] = [];
  let have = 0;
  let next = 0;
  for await (const chunk of source) {
    if (chunk.rows === 0) continue;
    pending.push(chunk);
    have += chunk.rows;
    while (have >= batchRows) {
      const out = concatRows(pending, batchRows, sparseNames, denseCount, next);
      next += batchRows;
      pending = dropRows(pending, batchRows);
      have -= batchRows;
      yield out;
    }
  }
  if (have > 0) yield concatRows(pending, have, sparseNames, denseCount, next);
}

function sliceChunk(c: DatasetChunk, from: number, rows: number): DatasetChunk {
  const d = c.denseNames.length;
  return {
    firstRow: c.firstRow + from,
    rows,
    denseNames: c.denseNames,
    dense: c.dense.subarray(from * d, (from + rows) * d),
    sparse: c.sparse.map((f) => {
      const a = f.offsets[from];
      const offsets = new Int32Array(rows + 1);
      for (let r = 0; r <= rows; r++) offsets[r] = f.offsets[from + r] - a;
      return { name: f.name, offsets, indices: f.indices.subarray(a, f.offsets[from + rows]) };
    }),
  };
}

function dropRows(pending: DatasetChunk[], rows: number): DatasetChunk[] {
  const out: DatasetChunk[] = [];
  let left = rows;
  for (const c of pending) {
    if (left >= c.rows) {
      left -= c.rows;
      continue;
    }
    out.push(left > 0 ? sliceChunk(c, left, c.rows - left) : c);
    left = 0;
  }
  return out;
}

/**
 * The first `rows` rows of `pending`, as one chunk numbered from `firstRow`
 * (the first chunk itself when it is exactly those rows with every feature).
 *
 * @param pending Consecutive chunks holding at least `rows` rows.
 * @param rows How many rows.
 * @param sparseNames Every sparse feature's name, in table order.
 * @param denseCount Dense features per row.
 * @param firstRow The number of the result's first row.
 * @returns The rows.
 */
export function concatRows(
  pending: DatasetChunk[],
  rows: number,
  sparseNames: readonly string[],
  denseCount: number,
  firstRow: number,
): DatasetChunk {
  const parts: DatasetChunk[] = [];
  let left = rows;
  for (const c of pending) {
    if (left === 0) break;
    const take = Math.min(left, c.rows);
    parts.push(take === c.rows ? c : sliceChunk(c, 0, take));
    left -= take;
  }
  if (parts.length === 1 && parts[0].sparse.length === sparseNames.length) {
    return { ...parts[0], firstRow };
  }
  const dense = new Float32Array(rows * denseCount);
  let at = 0;
  for (const p of parts) {
    dense.set(p.dense, at);
    at += p.dense.length;
  }
  const sparse: SparseFeature[] = [];
  for (let j = 0; j < sparseNames.length; j++) {
    const offsets = new Int32Array(rows + 1);
    let n = 0;
    for (const p of parts) n += p.sparse[j] ? p.sparse[j].indices.length : 0;
    const indices = new Int32Array(n);
    let r = 0;
    let k = 0;
    for (const p of parts) {
      const f = p.sparse[j];
      for (let i = 0; i < p.rows; i++) {
        offsets[r + i] = k + (f ? f.offsets[i] : 0);
      }
      if (f) {
        indices.set(f.indices, k);
        k += f.indices.length;
      }
      r += p.rows;
    }
    offsets[rows] = k;
    sparse.push({ name: sparseNames[j], offsets, indices });
  }
  return { firstRow, rows, denseNames: parts[0].denseNames, dense, sparse };
}
