/**
 * DLRM's processed Criteo form, an `.npz` with `X_int` [N,13] (integer features,
 * negatives set to 0), `X_cat` [N,26] (dictionary indices), `y` [N] and
 * `counts` [26] (table sizes): reading it as a Dataset, and converting a raw
 * Criteo TSV file into it while streaming (memory bounded by the dictionaries).
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { Dataset, SparseFeature } from "./types.ts";
import type { NpyArray } from "./npy.ts";
import { assembleNpz, bytesOf, writeAll } from "./_npz_stream.ts";
import { readNpz } from "./npz.ts";
import { CRITEO_DENSE_NAMES, CRITEO_SPARSE_NAMES } from "./criteo.ts";
import { DENSE_COUNT, newCriteoState, scanCriteo, SPARSE_COUNT } from "./_criteo_scan.ts";
import type { ReadOptions } from "./malformed.ts";

/** Options of the DLRM `.npz` reader. */
export interface DlrmNpzOptions {
  /** Take indices mod N and cap every table at N rows, as DLRM's `--max-ind-range`. */
  maxIndRange?: number;
}

function asNumbers(array: NpyArray, name: string, path: string): Float64Array | Int32Array {
  const d = array.data;
  if (d instanceof BigInt64Array) {
    const out = new Float64Array(d.length);
    for (let i = 0; i < d.length; i++) out[i] = Number(d[i]);
    return out;
  }
  if (d instanceof Int32Array || d instanceof Float64Array) return d;
  if (d instanceof Float32Array || d instanceof Uint8Array) return Float64Array.from(d);
  throw new SyntaxError(`${path}: ${name} has an unsupported dtype`);
}

function need(arrays: Map<string, NpyArray>, name: string, path: string): NpyArray {
  const a = arrays.get(name);
  if (!a) {
    throw new SyntaxError(
      `${path}: not a DLRM processed file (no ${name}; has ${[...arrays.keys()].join(", ")})`,
    );
  }
  return a;
}

/**
 * Turns DLRM's processed arrays into a Dataset: dense = log(max(x,0)+1), one
 * index per row per table, `tableSizes` = `counts` (capped at `maxIndRange`).
 *
 * @example From arrays
 * ```ts
 * import { dlrmArraysToDataset } from "@blsbench/core/datasets";
 * const rows = 2;
 * const data = dlrmArraysToDataset(new Map([
 *   ["X_int", { dtype: "<i4", shape: [rows, 13], data: new Int32Array(rows * 13).fill(-1) }],
 *   ["X_cat", { dtype: "<i4", shape: [rows, 26], data: new Int32Array(rows * 26) }],
 *   ["y", { dtype: "<i4", shape: [rows], data: Int32Array.from([0, 1]) }],
 *   ["counts", { dtype: "<i4", shape: [26], data: new Int32Array(26).fill(1) }],
 * ]));
 * if (data.rows !== 2 || data.dense[0] !== 0) throw new Error("unexpected");
 * ```
 *
 * @param arrays The arrays by name.
 * @param options `maxIndRange`.
 * @param path The file name for messages.
 * @returns The dataset.
 * @throws SyntaxError when arrays are missing or have the wrong shapes.
 */
export function dlrmArraysToDataset(
  arrays: Map<string, NpyArray>,
  options: DlrmNpzOptions = {},
  path = "npz",
): Dataset {
  const xIntArray = need(arrays, "X_int", path);
  const xCatArray = need(arrays, "X_cat", path);
  const yArray = need(arrays, "y", path);
  const rows = yArray.data.length;
  if (xIntArray.shape.length !== 2 || xIntArray.shape[0] !== rows) {
    throw new SyntaxError(`${path}: X_int has shape [${xIntArray.shape}], expected [${rows}, n]`);
  }
  if (xCatArray.shape.length !== 2 || xCatArray.shape[0] !== rows) {
    throw new SyntaxError(`${path}: X_cat has shape [${xCatArray.shape}], expected [${rows}, n]`);
  }
  const denseCount = xIntArray.shape[1];
  const sparseCount = xCatArray.shape[1];
  const xInt = asNumbers(xIntArray, "X_int", path);
  const xCat = asNumbers(xCatArray, "X_cat", path);
  const y = asNumbers(yArray, "y", path);
  const maxIndRange = options.maxIndRange ?? 0;
  const dense = new Float32Array(rows * denseCount);
  for (let i = 0; i < dense.length; i++) {
    const x = xInt[i];
    dense[i] = x > 0 ? Math.log(x + 1) : 0;
  }
  const offsets = new Int32Array(rows + 1);
  for (let i = 0; i <= rows; i++) offsets[i] = i;
  const counts = arrays.get("counts");
  const countValues = counts ? asNumbers(counts, "counts", path) : undefined;
  const sparse: SparseFeature[] = [];
  const tableSizes: number[] = [];
  for (let j = 0; j < sparseCount; j++) {
    const indices = new Int32Array(rows);
    let max = -1;
    for (let r = 0; r < rows; r++) {
      let v = xCat[r * sparseCount + j];
      if (!(v >= 0) || !Number.isInteger(v)) {
        throw new SyntaxError(`${path}: X_cat[${r}, ${j}] = ${v} is not a table index`);
      }
      if (maxIndRange > 0) v %= maxIndRange;
      indices[r] = v;
      if (v > max) max = v;
    }
    const name = sparseCount === SPARSE_COUNT ? CRITEO_SPARSE_NAMES[j] : `C${j + 1}`;
    sparse.push({ name, offsets, indices });
    let size = Math.max(countValues?.[j] ?? 0, max + 1);
    if (maxIndRange > 0) size = Math.min(size, maxIndRange);
    tableSizes.push(size);
  }
  const labels = Float32Array.from(y, (v) => (v > 0 ? 1 : 0));
  return {
    rows,
    denseNames: denseCount === DENSE_COUNT
      ? [...CRITEO_DENSE_NAMES]
      : Array.from({ length: denseCount }, (_, i) => `I${i + 1}`),
    dense,
    sparse,
    tableSizes,
    labels,
    skipped: 0,
  };
}

/**
 * Reads DLRM's processed `.npz` (`X_int`, `X_cat`, `y`, `counts`) as a Dataset.
 *
 * @example Convert then read back
 * ```ts
 * import { convertCriteoToNpz, readDlrmNpz } from "@blsbench/core/datasets";
 * const dir = await Deno.makeTempDir();
 * const line = [1, ...Array(13).fill("3"), ...Array(26).fill("abc")].join("\t");
 * await Deno.writeTextFile(`${dir}/t.txt`, `${line}\n${line}\n`);
 * await convertCriteoToNpz(`${dir}/t.txt`, `${dir}/t.npz`);
 * const data = await readDlrmNpz(`${dir}/t.npz`);
 * if (data.rows !== 2 || data.tableSizes[0] !== 1) throw new Error("unexpected");
 * ```
 *
 * @param path The file.
 * @param options `maxIndRange`.
 * @returns The dataset.
 * @throws UsageError when the file cannot be read; SyntaxError when it is not DLRM's form.
 */
export async function readDlrmNpz(path: string, options: DlrmNpzOptions = {}): Promise<Dataset> {
  let arrays: Map<string, NpyArray>;
  try {
    arrays = await readNpz(path);
  } catch (e) {
    if (e instanceof SyntaxError) throw e;
    throw new UsageError(`Cannot read ${path}: ${(e as Error).message.split("\n")[0]}`);
  }
  return dlrmArraysToDataset(arrays, options, path);
}

/** Options of {@link convertCriteoToNpz}. */
export interface ConvertOptions extends ReadOptions {
  /** Take values mod N instead of dictionaries; `counts` is then N for every table. */
  maxIndRange?: number;
  /** Deflate the members, as `numpy.savez_compressed` (DLRM's own choice); default stored. */
  compress?: boolean;
  /** Rows per streamed chunk (default 65536). */
  batchRows?: number;
}

/** What {@link convertCriteoToNpz} did. */
export interface ConvertResult {
  /** Rows written. */
  rows: number;
  /** Malformed lines skipped. */
  skipped: number;
  /** Table sizes written as `counts`. */
  counts: number[];
  /** Input bytes read. */
  bytes: number;
}

/** Sets negative values to 0 in place, as DLRM's processing does. */
function clipNegatives(values: Int32Array): Int32Array {
  for (let i = 0; i < values.length; i++) if (values[i] < 0) values[i] = 0;
  return values;
}

/** Interleaves per-column arrays into a row-major [rows x columns] array. */
function rowMajor(columns: Int32Array[], rows: number): Int32Array {
  const width = columns.length;
  const out = new Int32Array(rows * width);
  for (let j = 0; j < width; j++) copyColumn(columns[j], out, j, width, rows);
  return out;
}

function copyColumn(column: Int32Array, out: Int32Array, j: number, width: number, rows: number) {
  for (let r = 0; r < rows; r++) out[r * width + j] = column[r];
}

/**
 * Converts a raw Criteo / Mini-Kaggle TSV file into DLRM's processed `.npz`
 * while streaming: rows go to part files as they are parsed, and the archive is
 * assembled at the end, so memory is bounded by the dictionaries, not the file.
 * The output is written under a temporary name and renamed (atomic).
 *
 * @example Convert a file
 * ```ts
 * import { convertCriteoToNpz } from "@blsbench/core/datasets";
 * const dir = await Deno.makeTempDir();
 * const line = [0, ...Array(13).fill("-2"), ...Array(26).fill("")].join("\t");
 * await Deno.writeTextFile(`${dir}/t.txt`, `${line}\nbad line\n`);
 * const result = await convertCriteoToNpz(`${dir}/t.txt`, `${dir}/t.npz`, { onMalformed: () => {} });
 * if (result.rows !== 1 || result.skipped !== 1) throw new Error("unexpected");
 * ```
 *
 * @param input The TSV file.
 * @param output The `.npz` file.
 * @param options Preprocessing, compression and malformed-line options.
 * @returns Rows, skipped lines and counts.
 * @throws UsageError when the input cannot be read, is empty or has no valid line.
 * @throws MalformedLineError on a malformed line with `strict`.
 */
export async function convertCriteoToNpz(
  input: string,
  output: string,
  options: ConvertOptions = {},
): Promise<ConvertResult> {
  const maxIndRange = options.maxIndRange ?? 0;
  const state = newCriteoState(options);
  const tag = `${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const partPaths = ["X_int", "X_cat", "y"].map((n) => `${output}.${n}.part-${tag}`);
  const tmpOutput = `${output}.tmp-${tag}`;
  const parts = await Promise.all(
    partPaths.map((p) => Deno.open(p, { write: true, create: true, truncate: true })),
  );
  let rows = 0;
  let pendingWrite: Promise<unknown> = Promise.resolve();
  try {
    for await (
      const chunk of scanCriteo(input, { ...options, batchRows: options.batchRows ?? 65536 }, state)
    ) {
      const n = chunk.rows;
      const xInt = clipNegatives(chunk.xInt.subarray(0, n * DENSE_COUNT));
      const xCat = rowMajor(chunk.cat, n);
      const y = Int32Array.from(chunk.labels.subarray(0, n));
      // Write while the next chunk is parsed (file writes run off the main thread).
      await pendingWrite;
      pendingWrite = Promise.all([
        writeAll(parts[0], bytesOf(xInt)),
        writeAll(parts[1], bytesOf(xCat)),
        writeAll(parts[2], bytesOf(y)),
      ]);
      rows += n;
    }
    await pendingWrite;
    for (const p of parts) p.close();
    parts.length = 0;
    if (rows === 0) {
      throw new UsageError(
        `${input} has no valid line (${state.malformed.count} malformed skipped)`,
      );
    }
    const counts = maxIndRange > 0
      ? Array(SPARSE_COUNT).fill(maxIndRange)
      : state.dictionaries.map((d) => d.size);
    await assembleNpz(tmpOutput, [
      { name: "X_int", dtype: "<i4", shape: [rows, DENSE_COUNT], part: partPaths[0] },
      { name: "X_cat", dtype: "<i4", shape: [rows, SPARSE_COUNT], part: partPaths[1] },
      { name: "y", dtype: "<i4", shape: [rows], part: partPaths[2] },
      {
        name: "counts",
        dtype: "<i4",
        shape: [SPARSE_COUNT],
        data: bytesOf(Int32Array.from(counts)),
      },
    ], options.compress ?? false);
    await Deno.rename(tmpOutput, output);
    return { rows, skipped: state.malformed.count, counts, bytes: state.bytes };
  } finally {
    await pendingWrite.catch(() => {});
    for (const p of parts) p.close();
    for (const p of [...partPaths, tmpOutput]) await Deno.remove(p).catch(() => {});
  }
}
