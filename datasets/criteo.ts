/**
 * Criteo Kaggle / Mini-Kaggle raw files (`label, I1..I13, C1..C26`, tab-separated)
 * with DLRM's preprocessing: empty fields are 0, negative integers are 0, dense
 * features are fed as log(x+1), and each categorical column gets a dictionary
 * whose index is the order of first appearance of the value (as unsigned 32-bit;
 * an empty field is the value 0). With `maxIndRange` N, values are taken mod N
 * instead and every table has N rows.
 *
 * @module
 */

import type { Dataset, SparseFeature } from "./types.ts";
import type { ReadOptions } from "./malformed.ts";
import {
  type CriteoChunk,
  type CriteoScanState,
  DENSE_COUNT,
  denseTransform,
  newCriteoState,
  scanCriteo,
  SPARSE_COUNT,
} from "./_criteo_scan.ts";
import { UsageError } from "../util/errors.ts";

/** Names of the 13 integer features, `I1`..`I13`. */
export const CRITEO_DENSE_NAMES: readonly string[] = Array.from(
  { length: DENSE_COUNT },
  (_, i) => `I${i + 1}`,
);

/** Names of the 26 categorical features, `C1`..`C26`. */
export const CRITEO_SPARSE_NAMES: readonly string[] = Array.from(
  { length: SPARSE_COUNT },
  (_, i) => `C${i + 1}`,
);

/** Options of the Criteo reader. */
export interface CriteoOptions extends ReadOptions {
  /** Take categorical values mod N instead of dictionary indices; every table then has N rows. */
  maxIndRange?: number;
}

/** Options of the streaming Criteo reader. */
export interface CriteoStreamOptions extends CriteoOptions {
  /** Rows per chunk (default 65536). */
  batchRows?: number;
}

/** Builds a Dataset from a chunk (views on the chunk's arrays where possible). */
function chunkToDataset(
  chunk: CriteoChunk,
  state: CriteoScanState,
  maxIndRange: number,
  skipped: number,
): Dataset {
  const rows = chunk.rows;
  const dense = new Float32Array(rows * DENSE_COUNT);
  denseTransform(chunk.xInt, dense);
  const offsets = new Int32Array(rows + 1);
  for (let i = 0; i <= rows; i++) offsets[i] = i;
  const sparse: SparseFeature[] = CRITEO_SPARSE_NAMES.map((name, j) => ({
    name,
    offsets,
    indices: chunk.cat[j].length === rows ? chunk.cat[j] : chunk.cat[j].slice(0, rows),
  }));
  return {
    rows,
    denseNames: [...CRITEO_DENSE_NAMES],
    dense,
    sparse,
    tableSizes: maxIndRange > 0
      ? Array(SPARSE_COUNT).fill(maxIndRange)
      : state.dictionaries.map((d) => d.size),
    labels: chunk.labels.length === rows ? chunk.labels : chunk.labels.slice(0, rows),
    skipped,
  };
}

/**
 * Reads a whole Criteo / Mini-Kaggle TSV file into a Dataset.
 *
 * @example Read a two-line file
 * ```ts
 * import { readCriteo } from "@blsbench/core/datasets";
 * const line = (label: number, c1: string) =>
 *   [label, ...Array(13).fill("1"), c1, ...Array(25).fill("")].join("\t");
 * const path = await Deno.makeTempFile({ suffix: ".txt" });
 * await Deno.writeTextFile(path, `${line(1, "0a")}\n${line(0, "ff")}\n${line(0, "0a")}\n`);
 * const data = await readCriteo(path);
 * if (data.rows !== 3 || data.tableSizes[0] !== 2) throw new Error("unexpected");
 * if ([...data.sparse[0].indices].join() !== "0,1,0") throw new Error("wrong order");
 * ```
 *
 * @param path The file.
 * @param options Preprocessing and malformed-line options.
 * @returns The dataset (`skipped` counts malformed lines).
 * @throws UsageError when the file cannot be read, is empty or has no valid line.
 * @throws MalformedLineError on a malformed line with `strict`.
 */
export async function readCriteo(path: string, options: CriteoOptions = {}): Promise<Dataset> {
  const state = newCriteoState(options);
  let last: CriteoChunk | undefined;
  for await (const chunk of scanCriteo(path, { ...options, batchRows: undefined }, state)) {
    last = chunk;
  }
  if (!last) {
    throw new UsageError(`${path} has no valid line (${state.malformed.count} malformed skipped)`);
  }
  return chunkToDataset(last, state, options.maxIndRange ?? 0, state.malformed.count);
}

/**
 * Streams a Criteo / Mini-Kaggle TSV file as Datasets of up to `batchRows` rows,
 * so files larger than memory can be processed. The chunks share the
 * dictionaries: an index means the same value in every chunk and equals the
 * whole-file first-appearance index; `tableSizes` is the dictionary size so far.
 * Each chunk's `skipped` counts the malformed lines met while reading it;
 * malformed lines after the last row come in a final chunk of 0 rows.
 *
 * @example Stream in chunks of two rows
 * ```ts
 * import { streamCriteo } from "@blsbench/core/datasets";
 * const line = [0, ...Array(13).fill(""), ...Array(26).fill("7")].join("\t");
 * const path = await Deno.makeTempFile({ suffix: ".txt" });
 * await Deno.writeTextFile(path, `${line}\n`.repeat(5));
 * const sizes: number[] = [];
 * for await (const chunk of streamCriteo(path, { batchRows: 2 })) sizes.push(chunk.rows);
 * if (sizes.join() !== "2,2,1") throw new Error(`chunks ${sizes}`);
 * ```
 *
 * @param path The file.
 * @param options Chunk size, preprocessing and malformed-line options.
 * @returns The chunks, in file order.
 * @throws UsageError when the file cannot be read or is empty.
 */
export async function* streamCriteo(
  path: string,
  options: CriteoStreamOptions = {},
): AsyncGenerator<Dataset> {
  const batchRows = options.batchRows ?? 65536;
  if (!Number.isSafeInteger(batchRows) || batchRows < 1) {
    throw new RangeError(`batchRows must be a whole number >= 1, got ${batchRows}`);
  }
  const state = newCriteoState(options);
  let skippedBefore = 0;
  for await (const chunk of scanCriteo(path, { ...options, batchRows }, state)) {
    const skipped = state.malformed.count - skippedBefore;
    skippedBefore = state.malformed.count;
    yield chunkToDataset(chunk, state, options.maxIndRange ?? 0, skipped);
  }
  const tail = state.malformed.count - skippedBefore;
  if (tail > 0) {
    // Malformed lines after the last full chunk: a last, empty chunk carries their count.
    const cat = CRITEO_SPARSE_NAMES.map(() => new Int32Array(0));
    const empty = { rows: 0, labels: new Float32Array(0), xInt: new Int32Array(0), cat };
    yield chunkToDataset(empty, state, options.maxIndRange ?? 0, tail);
  }
}
