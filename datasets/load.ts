/**
 * One entry point for every supported file: {@link loadDataset} picks the reader
 * from the format or the file's extension.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { Dataset } from "./types.ts";
import type { ReadOptions } from "./malformed.ts";
import { readCriteo } from "./criteo.ts";
import { readDlrmNpz } from "./dlrm_npz.ts";
import { readAliCcpCsv, readAliCcpRaw } from "./aliccp.ts";
import { aliCcpCommonPath } from "./generate.ts";

/** The file formats the readers understand. */
export type DataFormat = "criteo" | "npz" | "aliccp-csv" | "aliccp-raw";

/** All data formats. */
export const DATA_FORMATS: readonly DataFormat[] = ["criteo", "npz", "aliccp-csv", "aliccp-raw"];

/** Options of {@link loadDataset}. */
export interface LoadOptions extends ReadOptions {
  /** The format; by default chosen from the extension (see {@link detectFormat}). */
  format?: DataFormat;
  /** Ali-CCP raw: the common-features file (default: beside the skeleton, see `aliCcpCommonPath`). */
  common?: string;
  /**
   * Cap every table at N rows, as DLRM's `--max-ind-range`: Criteo takes raw
   * values mod N (every table N rows); npz and Ali-CCP take indices mod N.
   */
  maxIndRange?: number;
  /**
   * Ali-CCP CSV: the rows of each table (e.g. the weights'); an id at or above
   * them is a `UsageError` naming `FILE:LINE` and the field. Default: largest id + 1.
   */
  tableRows?: number[];
}

/**
 * Chooses the format of a file: `.txt`/`.tsv` are Criteo, `.npz` is DLRM's
 * processed form, `.csv` is Ali-CCP raw when a common-features file is given or
 * the name starts with `sample_skeleton`, else Ali-CCP CSV.
 *
 * @example Formats by name
 * ```ts
 * import { detectFormat } from "@blsbench/core/datasets";
 * if (detectFormat("day_0.txt") !== "criteo") throw new Error("criteo");
 * if (detectFormat("d/sample_skeleton_train.csv") !== "aliccp-raw") throw new Error("raw");
 * if (detectFormat("ali_ccp_train.csv") !== "aliccp-csv") throw new Error("csv");
 * ```
 *
 * @param path The file.
 * @param common The common-features file, if any.
 * @returns The format.
 * @throws UsageError when the extension is unknown.
 */
export function detectFormat(path: string, common?: string): DataFormat {
  const base = path.slice(path.lastIndexOf("/") + 1).toLowerCase();
  if (/\.(txt|tsv)$/.test(base) || /^(train|test|day_\d+)$/.test(base)) return "criteo";
  if (base.endsWith(".npz")) return "npz";
  if (base.endsWith(".csv")) {
    return common !== undefined || base.startsWith("sample_skeleton") ? "aliccp-raw" : "aliccp-csv";
  }
  throw new UsageError(
    `Cannot tell the format of ${path} from its name: give --format ${DATA_FORMATS.join("|")}`,
  );
}

/**
 * Caps every table of a dataset at `maxIndRange` rows in place: indices are
 * taken mod N and table sizes limited to N. Nothing changes without a cap.
 *
 * @example Cap at 2 rows
 * ```ts
 * import { capTables } from "@blsbench/core/datasets";
 * const data = capTables({
 *   rows: 1, denseNames: [], dense: new Float32Array(0), labels: new Float32Array(1), skipped: 0,
 *   sparse: [{ name: "a", offsets: Int32Array.from([0, 2]), indices: Int32Array.from([3, 4]) }],
 *   tableSizes: [5],
 * }, 2);
 * if ([...data.sparse[0].indices].join() !== "1,0" || data.tableSizes[0] !== 2) throw new Error();
 * ```
 *
 * @param data The dataset.
 * @param maxIndRange The cap (none when undefined or 0).
 * @returns The same dataset.
 */
export function capTables<T extends Dataset>(data: T, maxIndRange?: number): T {
  if (!maxIndRange) return data;
  if (!Number.isSafeInteger(maxIndRange) || maxIndRange < 0) {
    throw new RangeError(`maxIndRange must be a whole number >= 0, got ${maxIndRange}`);
  }
  for (const feature of data.sparse) {
    const indices = feature.indices;
    for (let i = 0; i < indices.length; i++) indices[i] %= maxIndRange;
  }
  data.tableSizes = data.tableSizes.map((size) => Math.min(size, maxIndRange));
  return data;
}

/**
 * Reads a data file of any supported format into a Dataset.
 *
 * @example Load a generated Mini-Kaggle file
 * ```ts
 * import { loadDataset } from "@blsbench/core/datasets";
 * import { generateMiniKaggle } from "@blsbench/core/datasets";
 * const path = await Deno.makeTempFile({ suffix: ".txt" });
 * await generateMiniKaggle(path, 50, 2);
 * const data = await loadDataset(path, { maxIndRange: 100 });
 * if (data.rows !== 50 || data.tableSizes[2] !== 100) throw new Error("unexpected");
 * ```
 *
 * @param path The file.
 * @param options Format, common-features file, `maxIndRange` and malformed-line options.
 * @returns The dataset; `skipped` counts malformed lines.
 * @throws UsageError when a file cannot be read, is empty or has no valid line.
 * @throws MalformedLineError (a SyntaxError) on a malformed line with `strict`.
 */
export function loadDataset(path: string, options: LoadOptions = {}): Promise<Dataset> {
  const format = options.format ?? detectFormat(path, options.common);
  switch (format) {
    case "criteo":
      return readCriteo(path, options);
    case "npz":
      return readDlrmNpz(path, options);
    case "aliccp-csv":
      return readAliCcpCsv(path, options);
    case "aliccp-raw":
      return readAliCcpRaw(path, { ...options, common: options.common ?? aliCcpCommonPath(path) })
        .then((d) => capTables(d, options.maxIndRange));
    default:
      throw new UsageError(`Unknown data format '${format}' (expected ${DATA_FORMATS.join(", ")})`);
  }
}
