/**
 * Datasets read in chunks of rows instead of whole, for inference over files
 * larger than memory: {@link openStreamedDataset} learns what the model needs
 * up front (rows, table sizes, ids per row) and then hands out chunks as they
 * are read. Text formats take a first pass for that (bounded memory, the same
 * as `data inspect`); `.npz` files need only their headers and `counts`.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { Dataset, SparseFeature } from "./types.ts";
import { concatRows, rechunk } from "./_rechunk.ts";
import { DATA_FORMATS, type DataFormat, detectFormat, type LoadOptions } from "./load.ts";
import { CRITEO_DENSE_NAMES, CRITEO_SPARSE_NAMES, streamCriteo } from "./criteo.ts";
import {
  type AliCcpChunk,
  type AliCcpStats,
  scanAliCcpCsv,
  scanAliCcpRaw,
} from "./_aliccp_scan.ts";
import { aliCcpCommonPath } from "./generate.ts";
import { NpzReader, openNpzData } from "./npz.ts";
import type { NpyData } from "./npy.ts";

/** Consecutive rows of a streamed dataset. */
export interface DatasetChunk extends Pick<Dataset, "rows" | "dense" | "denseNames" | "sparse"> {
  /** Index of the chunk's first row among all rows of the dataset. */
  firstRow: number;
}

/** A dataset known by its shape, read in chunks when asked. */
export interface StreamedDataset {
  /** Valid rows. */
  rows: number;
  /** Dense feature names. */
  denseNames: string[];
  /** Sparse feature names (one table each). */
  sparseNames: string[];
  /** Rows each table needs. */
  tableSizes: number[];
  /** Mean ids per row of each sparse feature (the lookup work per table). */
  meanPerRow: number[];
  /** Malformed lines skipped. */
  skipped: number;
  /**
   * Reads the rows in order, in chunks of `batchRows` (the last may be shorter).
   *
   * @param batchRows Rows per chunk.
   * @returns The chunks.
   */
  chunks(batchRows: number): AsyncGenerator<DatasetChunk>;
}

function silent(options: LoadOptions): LoadOptions {
  // Malformed lines are reported in the first pass only.
  return { ...options, onMalformed: () => {} };
}

async function openCriteo(path: string, options: LoadOptions): Promise<StreamedDataset> {
  let rows = 0;
  let skipped = 0;
  let tableSizes: number[] = [];
  const ids = new Float64Array(CRITEO_SPARSE_NAMES.length);
  for await (const chunk of streamCriteo(path, options)) {
    rows += chunk.rows;
    skipped += chunk.skipped;
    tableSizes = chunk.tableSizes;
    chunk.sparse.forEach((f, j) => ids[j] += f.indices.length);
  }
  if (rows === 0) throw new UsageError(`${path} has no valid line (${skipped} malformed skipped)`);
  return {
    rows,
    denseNames: [...CRITEO_DENSE_NAMES],
    sparseNames: [...CRITEO_SPARSE_NAMES],
    tableSizes,
    meanPerRow: [...ids].map((n) => n / rows),
    skipped,
    chunks: (batchRows) => {
      let firstRow = 0;
      const source = (async function* () {
        for await (const c of streamCriteo(path, { ...silent(options), batchRows })) {
          yield { ...c, firstRow };
          firstRow += c.rows;
        }
      })();
      return rechunk(source, batchRows, CRITEO_SPARSE_NAMES, CRITEO_DENSE_NAMES.length);
    },
  };
}

async function openAliCcp(
  path: string,
  options: LoadOptions,
  format: "aliccp-raw" | "aliccp-csv",
): Promise<StreamedDataset> {
  const common = options.common ?? aliCcpCommonPath(path);
  const scan = (
    o: LoadOptions & { batchRows?: number; collect?: boolean },
    stats?: (s: AliCcpStats) => void,
  ) =>
    format === "aliccp-raw" ? scanAliCcpRaw(path, common, o, stats) : scanAliCcpCsv(path, o, stats);
  let st: AliCcpStats | undefined;
  for await (const _ of scan({ ...options, collect: false }, (s) => st = s)) { /* statistics */ }
  const stats = st!;
  const rows = stats.rows;
  const cap = options.maxIndRange ?? 0;
  const tableSizes = format === "aliccp-csv"
    ? (options.tableRows ? [...options.tableRows] : stats.tableSizesAsGiven(options.maxIndRange))
    : stats.names.map((_, j) => cap > 0 ? Math.min(stats.distinct(j), cap) : stats.distinct(j));
  const denseCount = stats.dense.length;
  return {
    rows,
    denseNames: stats.dense.map((d) => d.name),
    sparseNames: [...stats.names],
    tableSizes,
    meanPerRow: stats.total.map((n) => n / rows),
    skipped: stats.skipped,
    chunks: (batchRows) => {
      const source = (async function* () {
        for await (
          const c of scan({ ...silent(options), batchRows }) as AsyncGenerator<AliCcpChunk>
        ) {
          yield c;
        }
      })();
      return rechunk(source, batchRows, stats.names, denseCount);
    },
  };
}

function toFloat(data: NpyData): Float64Array | Int32Array {
  if (data instanceof Int32Array || data instanceof Float64Array) return data;
  if (data instanceof BigInt64Array) return Float64Array.from(data, Number);
  return Float64Array.from(data);
}

async function openNpz(path: string, options: LoadOptions): Promise<StreamedDataset> {
  const npz = await openNpzData(path);
  try {
    const xInt = npz.members.get("X_int");
    const xCat = npz.members.get("X_cat");
    const y = npz.members.get("y");
    if (!xInt || !xCat || !y) {
      throw new SyntaxError(
        `${path}: not a DLRM processed file (needs X_int, X_cat, y; has ${
          [...npz.members.keys()].join(", ")
        })`,
      );
    }
    const rows = y.shape[0] ?? 0;
    if (xInt.shape.length !== 2 || xInt.shape[0] !== rows) {
      throw new SyntaxError(`${path}: X_int has shape [${xInt.shape}], expected [${rows}, n]`);
    }
    if (xCat.shape.length !== 2 || xCat.shape[0] !== rows) {
      throw new SyntaxError(`${path}: X_cat has shape [${xCat.shape}], expected [${rows}, n]`);
    }
    const denseCount = xInt.shape[1];
    const sparseCount = xCat.shape[1];
    const cap = options.maxIndRange ?? 0;
    let tableSizes: number[];
    if (npz.members.has("counts")) {
      const counts = toFloat((await npz.read("counts")).data);
      tableSizes = Array.from({ length: sparseCount }, (_, j) => counts[j] ?? 1);
    } else {
      // No counts: one pass over X_cat for the largest index.
      tableSizes = new Array(sparseCount).fill(0);
      for await (const piece of npz.rows("X_cat", 65536)) {
        const v = toFloat(piece.data);
        for (let i = 0; i < v.length; i++) {
          const j = i % sparseCount;
          if (v[i] + 1 > tableSizes[j]) tableSizes[j] = v[i] + 1;
        }
      }
    }
    if (cap > 0) tableSizes = tableSizes.map((s) => Math.min(s, cap));
    const denseNames = denseCount === CRITEO_DENSE_NAMES.length
      ? [...CRITEO_DENSE_NAMES]
      : Array.from({ length: denseCount }, (_, i) => `I${i + 1}`);
    const sparseNames = sparseCount === CRITEO_SPARSE_NAMES.length
      ? [...CRITEO_SPARSE_NAMES]
      : Array.from({ length: sparseCount }, (_, j) => `C${j + 1}`);
    return {
      rows,
      denseNames,
      sparseNames,
      tableSizes,
      meanPerRow: new Array(sparseCount).fill(1),
      skipped: 0,
      chunks: (batchRows) => npzChunks(path, batchRows, denseNames, sparseNames, cap),
    };
  } finally {
    npz.close();
  }
}

async function* npzChunks(
  path: string,
  batchRows: number,
  denseNames: string[],
  sparseNames: string[],
  cap: number,
): AsyncGenerator<DatasetChunk> {
  const npz = await NpzReader.open(path);
  try {
    const dense = npz.rows("X_int", batchRows);
    const cat = npz.rows("X_cat", batchRows);
    const sparseCount = sparseNames.length;
    for (;;) {
      // One file handle: the two members are read one after the other.
      const d = await dense.next();
      const c = await cat.next();
      if (d.done || c.done) break;
      const rows = d.value.rows;
      const xInt = toFloat(d.value.data);
      const xCat = toFloat(c.value.data);
      const denseOut = new Float32Array(xInt.length);
      for (let i = 0; i < xInt.length; i++) {
        const x = xInt[i];
        denseOut[i] = x > 0 ? Math.log(x + 1) : 0;
      }
      const offsets = new Int32Array(rows + 1);
      for (let i = 0; i <= rows; i++) offsets[i] = i;
      const sparse: SparseFeature[] = sparseNames.map((name, j) => {
        const indices = new Int32Array(rows);
        for (let r = 0; r < rows; r++) {
          let v = xCat[r * sparseCount + j];
          if (!(v >= 0) || !Number.isInteger(v)) {
            throw new SyntaxError(
              `${path}: X_cat[${d.value.start + r}, ${j}] = ${v} is not a table index`,
            );
          }
          if (cap > 0) v %= cap;
          indices[r] = v;
        }
        return { name, offsets, indices };
      });
      yield { firstRow: d.value.start, rows, denseNames, dense: denseOut, sparse };
    }
  } finally {
    npz.close();
  }
}

/**
 * Reads the first `rows` rows of a streamed dataset into memory (all of them
 * when it has fewer), as one chunk: what a benchmark that uses only the start
 * of a large file needs, read before any timing starts.
 *
 * @example The first 5 rows of a generated file
 * ```ts
 * import { firstRows, openStreamedDataset } from "@blsbench/core/datasets";
 * import { generateAliCcpCsv } from "@blsbench/core/datasets";
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await generateAliCcpCsv(path, 20, 3);
 * const head = await firstRows(await openStreamedDataset(path), 5);
 * if (head.rows !== 5 || head.firstRow !== 0) throw new Error(`rows ${head.rows}`);
 * ```
 *
 * @param data The streamed dataset.
 * @param rows How many rows.
 * @returns The rows.
 */
export async function firstRows(data: StreamedDataset, rows: number): Promise<DatasetChunk> {
  const want = Math.max(1, Math.min(rows, data.rows));
  const pending: DatasetChunk[] = [];
  let have = 0;
  for await (const chunk of data.chunks(Math.min(want, 65536))) {
    pending.push(chunk);
    have += chunk.rows;
    if (have >= want) break;
  }
  return concatRows(
    pending,
    Math.min(want, have),
    data.sparseNames,
    data.denseNames.length,
    0,
  );
}

/**
 * Opens a data file of any supported format for reading in chunks.
 *
 * @example Stream a generated Ali-CCP CSV file in chunks of 8 rows
 * ```ts
 * import { openStreamedDataset } from "@blsbench/core/datasets";
 * import { generateAliCcpCsv } from "@blsbench/core/datasets";
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await generateAliCcpCsv(path, 20, 3);
 * const data = await openStreamedDataset(path);
 * const sizes: number[] = [];
 * for await (const chunk of data.chunks(8)) sizes.push(chunk.rows);
 * if (data.rows !== 20 || sizes.join() !== "8,8,4") throw new Error(`chunks ${sizes}`);
 * ```
 *
 * @param path The file.
 * @param options Format, common-features file, table rows, `maxIndRange`, malformed-line options.
 * @returns The dataset's shape and a way to read its chunks.
 * @throws UsageError when a file cannot be read, is empty or has no valid line.
 * @throws SyntaxError when an `.npz` file is not DLRM's processed form.
 */
export function openStreamedDataset(
  path: string,
  options: LoadOptions = {},
): Promise<StreamedDataset> {
  const format: DataFormat = options.format ?? detectFormat(path, options.common);
  switch (format) {
    case "criteo":
      return openCriteo(path, options);
    case "npz":
      return openNpz(path, options);
    case "aliccp-csv":
    case "aliccp-raw":
      return openAliCcp(path, options, format);
    default:
      throw new UsageError(`Unknown data format '${format}' (expected ${DATA_FORMATS.join(", ")})`);
  }
}
