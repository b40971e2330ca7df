/**
 * Ali-CCP (Alibaba click and conversion prediction) readers.
 *
 * - Raw: `sample_skeleton_*.csv` (`sample_id,click,conversion,common_feature_index,
 *   feature_num,feature_list`) joined with `common_features_*.csv`
 *   (`common_feature_index,feature_num,feature_list`), held in a map by index. A
 *   feature list is features joined by `\x01`, each `field\x02feature_id\x03value`.
 *   Every field is a bag: multi-valued fields (109_14, 110_14, 127_14, 150_14,
 *   210) keep all their ids.
 * - CSV, torch-rechub form: a header; `click` and `purchase` are labels, columns
 *   starting with `D` are dense (used as given), the others sparse integer ids.
 *   The 18-sparse-field form of AITM/PaddleRec (no dense columns) reads the same
 *   way; a file without a header (first line all numbers) gets the columns
 *   `click, purchase, s1, s2, ...`.
 *
 * Raw ids are remapped per field to 0..distinct-1 in order of first appearance
 * (the raw ids are sparse hashes). CSV ids are already label-encoded and are used
 * as given: table j has (largest id + 1) rows, or the rows the caller gives
 * (`tableRows`, from the weights). Both forms stream in chunks of rows
 * ({@link streamAliCcpRaw}, {@link streamAliCcpCsv}), read in the buffer as
 * bytes with no per-line strings.
 *
 * @module
 */

import type { Dataset } from "./types.ts";
import type { ReadOptions } from "./malformed.ts";
import type { DenseStats } from "./stats.ts";
import {
  type AliCcpChunk,
  type AliCcpScanOptions,
  type AliCcpStats,
  scanAliCcpCsv,
  scanAliCcpRaw,
} from "./_aliccp_scan.ts";

export { ALI_CCP_FIELDS, type AliCcpChunk } from "./_aliccp_scan.ts";

/** An Ali-CCP dataset: a Dataset plus the conversion (purchase) labels. */
export interface AliCcpDataset extends Dataset {
  /** Conversion / purchase labels per row, 0 or 1. */
  purchases: Float32Array;
  /** Per dense feature: min, max, mean over present values and the rows where it was empty (used as 0). */
  denseStats: DenseStats[];
}

/** Options of the raw Ali-CCP reader. */
export interface AliCcpRawOptions extends ReadOptions {
  /** The common-features file (required). */
  common: string;
}

/** Options of the Ali-CCP CSV reader. */
export interface AliCcpCsvOptions extends ReadOptions {
  /**
   * The rows of each sparse field's table (e.g. the weights' `emb_l.{j}.weight`
   * rows); an id at or above them is a `UsageError` naming `FILE:LINE` and the
   * field. Default: each table has (largest id + 1) rows.
   */
  tableRows?: number[];
  /** Take ids mod N (DLRM's `--max-ind-range`). */
  maxIndRange?: number;
}

/** Options of the streaming Ali-CCP readers. */
export interface AliCcpStreamOptions extends AliCcpCsvOptions {
  /** Rows per chunk (default 65,536). */
  batchRows?: number;
}

/** Joins the chunks of a scan into one dataset (one chunk when read whole). */
async function gather(
  chunks: AsyncGenerator<AliCcpChunk>,
  stats: () => AliCcpStats,
  tableSizes: (s: AliCcpStats) => number[],
): Promise<AliCcpDataset> {
  let only: AliCcpChunk | undefined;
  for await (const chunk of chunks) only = chunk;
  const st = stats();
  const rows = st.rows;
  // Read whole, the one chunk is built at the end and holds every field met.
  const sparse = only!.sparse;
  return {
    rows,
    denseNames: only!.denseNames,
    dense: only!.dense,
    sparse,
    tableSizes: tableSizes(st),
    labels: only!.labels,
    purchases: only!.purchases,
    denseStats: st.dense.map((d) => d.result()),
    skipped: st.skipped,
  };
}

/**
 * Reads an Ali-CCP raw sample skeleton joined with its common features.
 *
 * @example Read a tiny pair
 * ```ts
 * import { readAliCcpRaw } from "@blsbench/core/datasets";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/common.csv`, "u1,2,101\x02" + "7\x031.0\x01" + "109_14\x025\x030.5\n");
 * await Deno.writeTextFile(`${dir}/skeleton.csv`, "1,1,0,u1,1,205\x029\x031.0\n2,0,0,u1,0,\n");
 * const data = await readAliCcpRaw(`${dir}/skeleton.csv`, { common: `${dir}/common.csv` });
 * if (data.rows !== 2 || data.labels[0] !== 1) throw new Error("unexpected");
 * ```
 *
 * @param path The sample skeleton file.
 * @param options The common-features file and malformed-line options.
 * @returns The dataset (no dense features).
 * @throws UsageError when a file cannot be read or is empty, or no sample is valid.
 * @throws MalformedLineError on a malformed line with `strict`.
 */
export function readAliCcpRaw(
  path: string,
  options: AliCcpRawOptions,
): Promise<AliCcpDataset> {
  let stats: AliCcpStats | undefined;
  const chunks = scanAliCcpRaw(path, options.common, { ...options, batchRows: Infinity }, (s) => {
    stats = s;
  });
  return gather(chunks, () => stats!, (st) => st.names.map((_, j) => st.distinct(j)));
}

/**
 * Reads an Ali-CCP CSV file (torch-rechub form, or the 18-sparse-field AITM form).
 *
 * @example Read a tiny file
 * ```ts
 * import { readAliCcpCsv } from "@blsbench/core/datasets";
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "click,purchase,101,205,D508\n1,0,42,7,0.5\n0,0,43,7,1.5\n");
 * const data = await readAliCcpCsv(path);
 * // Ids are used as given: table 101 has 44 rows, table 205 has 8.
if (data.tableSizes.join() !== "44,8" || data.dense[1] !== 1.5) throw new Error("unexpected");
 * ```
 *
 * @param path The CSV file.
 * @param options Table rows, `maxIndRange`, malformed-line options.
 * @returns The dataset.
 * @throws UsageError when the file cannot be read, is empty, has no label column or no valid
 * row, or an id is at or above its table's rows (the message names `FILE:LINE` and the field).
 * @throws MalformedLineError on a malformed line with `strict`.
 */
export function readAliCcpCsv(
  path: string,
  options: AliCcpCsvOptions = {},
): Promise<AliCcpDataset> {
  let stats: AliCcpStats | undefined;
  const chunks = scanAliCcpCsv(path, { ...options, batchRows: Infinity }, (s) => {
    stats = s;
  });
  return gather(chunks, () => stats!, (st) => csvTableSizes(st, options));
}

function csvTableSizes(st: AliCcpStats, options: AliCcpCsvOptions): number[] {
  return options.tableRows ? [...options.tableRows] : st.tableSizesAsGiven(options.maxIndRange);
}

/**
 * Streams an Ali-CCP raw skeleton joined with its common features in chunks of
 * rows; memory holds the common-features map, the per-field dictionaries and
 * one chunk. Chunks share the dictionaries: an index means the same id in every
 * chunk. A field first met in a later chunk is missing from the earlier ones.
 *
 * @example Chunks of two rows
 * ```ts
 * import { streamAliCcpRaw } from "@blsbench/core/datasets";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/common.csv`, "u1,1,101\x02" + "7\x031.0\n");
 * await Deno.writeTextFile(`${dir}/skeleton.csv`, "1,1,0,u1,0,\n2,0,0,u1,0,\n3,0,0,u1,0,\n");
 * const sizes: number[] = [];
 * for await (const chunk of streamAliCcpRaw(`${dir}/skeleton.csv`, { common: `${dir}/common.csv`, batchRows: 2 })) {
 *   sizes.push(chunk.rows);
 * }
 * if (sizes.join() !== "2,1") throw new Error(`chunks ${sizes}`);
 * ```
 *
 * @param path The sample skeleton.
 * @param options The common-features file, rows per chunk, malformed-line options.
 * @returns The chunks, in file order.
 * @throws UsageError when a file cannot be read or is empty, or no sample is valid.
 * @throws MalformedLineError on a malformed line with `strict`.
 */
export function streamAliCcpRaw(
  path: string,
  options: AliCcpRawOptions & { batchRows?: number; maxIndRange?: number },
): AsyncGenerator<AliCcpChunk> {
  return scanAliCcpRaw(path, options.common, options);
}

/**
 * Streams an Ali-CCP CSV file in chunks of rows, ids as given.
 *
 * @example Chunks of one row
 * ```ts
 * import { streamAliCcpCsv } from "@blsbench/core/datasets";
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "click,purchase,101\n1,0,5\n0,0,3\n");
 * const ids: number[] = [];
 * for await (const chunk of streamAliCcpCsv(path, { batchRows: 1 })) ids.push(chunk.sparse[0].indices[0]);
 * if (ids.join() !== "5,3") throw new Error(`ids ${ids}`);
 * ```
 *
 * @param path The CSV file.
 * @param options Rows per chunk, table rows, `maxIndRange`, malformed-line options.
 * @returns The chunks, in file order.
 * @throws UsageError when the file cannot be read, is empty, has no label column or no valid
 * row, or an id is at or above its table's rows.
 * @throws MalformedLineError on a malformed line with `strict`.
 */
export function streamAliCcpCsv(
  path: string,
  options: AliCcpStreamOptions = {},
): AsyncGenerator<AliCcpChunk> {
  return scanAliCcpCsv(path, options as AliCcpScanOptions);
}
