/**
 * `data inspect`: rows, label counts and per-feature statistics of a data file
 * (distinct ids, missing rows, ids per row, dense ranges), and a readable table.
 * Every text format is streamed, so memory is bounded by the dictionaries (and
 * Ali-CCP raw's common-features map), not by the file.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { openNpzData } from "./npz.ts";
import { type DataFormat, detectFormat, type LoadOptions } from "./load.ts";
import { CRITEO_DENSE_NAMES, CRITEO_SPARSE_NAMES } from "./criteo.ts";
import { DENSE_COUNT, newCriteoState, scanCriteo, SPARSE_COUNT } from "./_criteo_scan.ts";
import { type AliCcpStats, scanAliCcpCsv, scanAliCcpRaw } from "./_aliccp_scan.ts";
import { aliCcpCommonPath } from "./generate.ts";
import { DenseAccumulator, type InspectReport, type SparseStats } from "./stats.ts";

async function inspectCriteo(path: string, options: LoadOptions): Promise<InspectReport> {
  const state = newCriteoState(options);
  const dense = CRITEO_DENSE_NAMES.map((name) => new DenseAccumulator(name));
  const missing = new Float64Array(SPARSE_COUNT);
  let rows = 0;
  let clicks = 0;
  const scan = scanCriteo(path, {
    ...options,
    maxIndRange: 0,
    batchRows: 65536,
    trackMissing: true,
  }, state);
  for await (const chunk of scan) {
    const n = chunk.rows;
    rows += n;
    for (let r = 0; r < n; r++) clicks += chunk.labels[r];
    const denseMissing = chunk.denseMissing!;
    for (let i = 0; i < n * DENSE_COUNT; i++) {
      const acc = dense[i % DENSE_COUNT];
      if (denseMissing[i]) acc.missing++;
      else acc.add(chunk.xInt[i]);
    }
    const catMissing = chunk.catMissing!;
    for (let i = 0; i < n * SPARSE_COUNT; i++) missing[i % SPARSE_COUNT] += catMissing[i];
  }
  if (rows === 0) {
    throw new UsageError(`${path} has no valid line (${state.malformed.count} malformed skipped)`);
  }
  const sparse: SparseStats[] = CRITEO_SPARSE_NAMES.map((name, j) => {
    const dictionary = state.dictionaries[j];
    // An empty field is the value 0 in the dictionary, but it is not an id.
    const zeroOnlyFromEmpty = dictionary.get(0) >= 0 && !state.literalZero[j];
    const distinct = dictionary.size - (zeroOnlyFromEmpty ? 1 : 0);
    return {
      name,
      distinct,
      maxId: distinct > 0 ? dictionary.maxValue() : null,
      missing: missing[j],
      meanPerRow: (rows - missing[j]) / rows,
      maxPerRow: missing[j] < rows ? 1 : 0,
    };
  });
  return {
    format: "criteo",
    rows,
    skipped: state.malformed.count,
    labels: { click: clicks },
    sparse,
    dense: dense.map((d) => d.result()),
  };
}

async function inspectNpz(path: string): Promise<InspectReport> {
  const npz = await openNpzData(path);
  try {
    const xInt = npz.members.get("X_int");
    const xCat = npz.members.get("X_cat");
    const y = npz.members.get("y");
    if (!xInt || !xCat || !y || xInt.shape.length !== 2 || xCat.shape.length !== 2) {
      throw new SyntaxError(`${path}: not a DLRM processed file (needs X_int, X_cat, y)`);
    }
    const rows = y.shape[0] ?? 0;
    const [, denseCount] = xInt.shape;
    const [, sparseCount] = xCat.shape;
    const dense = Array.from(
      { length: denseCount },
      (_, j) => new DenseAccumulator(CRITEO_DENSE_NAMES[j] ?? `I${j + 1}`),
    );
    // Members are read in chunks of rows, one member after the other.
    const CHUNK = 65536;
    for await (const piece of npz.rows("X_int", CHUNK)) {
      const d = piece.data;
      for (let i = 0; i < d.length; i++) dense[i % denseCount].add(Number(d[i]));
    }
    const seen = Array.from({ length: sparseCount }, () => new Set<number>());
    const max = new Float64Array(sparseCount).fill(-1);
    for await (const piece of npz.rows("X_cat", CHUNK)) {
      const d = piece.data;
      for (let i = 0; i < d.length; i++) {
        const j = i % sparseCount;
        const v = Number(d[i]);
        seen[j].add(v);
        if (v > max[j]) max[j] = v;
      }
    }
    const sparse: SparseStats[] = seen.map((ids, j) => ({
      name: CRITEO_SPARSE_NAMES[j] ?? `C${j + 1}`,
      distinct: ids.size,
      maxId: rows > 0 ? max[j] : null,
      missing: 0,
      meanPerRow: rows > 0 ? 1 : 0,
      maxPerRow: rows > 0 ? 1 : 0,
    }));
    let clicks = 0;
    for await (const piece of npz.rows("y", CHUNK)) {
      const d = piece.data;
      for (let i = 0; i < d.length; i++) clicks += Number(d[i]) > 0 ? 1 : 0;
    }
    return {
      format: "npz",
      rows,
      skipped: 0,
      labels: { click: clicks },
      sparse,
      dense: dense.map((d) => d.result()),
    };
  } finally {
    npz.close();
  }
}

async function inspectAliCcp(
  path: string,
  options: LoadOptions,
  format: DataFormat,
): Promise<InspectReport> {
  let st: AliCcpStats | undefined;
  const scanOptions = { ...options, collect: false, maxIndRange: 0 };
  const onStats = (s: AliCcpStats) => {
    st = s;
  };
  const chunks = format === "aliccp-raw"
    ? scanAliCcpRaw(path, options.common ?? aliCcpCommonPath(path), scanOptions, onStats)
    : scanAliCcpCsv(path, scanOptions, onStats);
  for await (const _ of chunks) { /* statistics only */ }
  const stats = st!;
  const rows = stats.rows;
  const sparse = stats.names.map((name, j): SparseStats => ({
    name,
    distinct: stats.distinct(j),
    maxId: stats.maxId[j] >= 0 ? stats.maxId[j] : null,
    missing: stats.missing[j],
    meanPerRow: stats.total[j] / rows,
    maxPerRow: stats.maxPerRow[j],
  }));
  return {
    format,
    rows,
    skipped: stats.skipped,
    labels: { click: stats.clicks, purchase: stats.purchases },
    sparse,
    dense: stats.dense.map((d) => d.result()),
  };
}

/**
 * Computes the statistics of a data file of any supported format.
 *
 * @example Inspect a generated file
 * ```ts
 * import { inspectFile } from "@blsbench/core/datasets";
 * import { generateMiniKaggle } from "@blsbench/core/datasets";
 * const path = await Deno.makeTempFile({ suffix: ".txt" });
 * await generateMiniKaggle(path, 200, 5);
 * const report = await inspectFile(path);
 * if (report.rows !== 200 || report.sparse.length !== 26) throw new Error("unexpected");
 * ```
 *
 * @param path The file.
 * @param options Format, common-features file and malformed-line options.
 * @returns The report.
 * @throws UsageError when a file cannot be read, is empty or has no valid line.
 */
export async function inspectFile(path: string, options: LoadOptions = {}): Promise<InspectReport> {
  const format = options.format ?? detectFormat(path, options.common);
  switch (format) {
    case "criteo":
      return await inspectCriteo(path, options);
    case "npz":
      return await inspectNpz(path);
    case "aliccp-csv":
    case "aliccp-raw":
      return await inspectAliCcp(path, options, format);
    default:
      throw new UsageError(`Unknown data format '${format}'`);
  }
}

function fmt(x: number | null, digits = 3): string {
  if (x === null) return "-";
  if (Number.isInteger(x)) return String(x);
  return x.toFixed(digits);
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}

/**
 * Formats a report as readable text tables.
 *
 * @example Format a report
 * ```ts
 * import { formatInspectReport } from "@blsbench/core/datasets";
 * const text = formatInspectReport({
 *   format: "criteo", rows: 1, skipped: 0, labels: { click: 1 },
 *   sparse: [{ name: "C1", distinct: 1, maxId: 7, missing: 0, meanPerRow: 1, maxPerRow: 1 }],
 *   dense: [{ name: "I1", min: 0, max: 3, mean: 1.5, missing: 0 }],
 * });
 * if (!text.includes("C1")) throw new Error("missing feature");
 * ```
 *
 * @param report The report.
 * @returns The text.
 */
export function formatInspectReport(report: InspectReport): string {
  const labels = Object.entries(report.labels)
    .map(([k, v]) => `${k} ${v} (${fmt(report.rows ? (100 * v) / report.rows : 0, 2)}%)`)
    .join(", ");
  const parts = [
    `format ${report.format}, ${report.rows} rows, ${report.skipped} malformed lines skipped`,
    `labels: ${labels}`,
  ];
  if (report.sparse.length > 0) {
    parts.push(
      "",
      table(
        ["sparse", "distinct", "max id", "missing", "mean/row", "max/row"],
        report.sparse.map((s) => [
          s.name,
          String(s.distinct),
          s.maxId === null ? "-" : String(s.maxId),
          String(s.missing),
          fmt(s.meanPerRow),
          String(s.maxPerRow),
        ]),
      ),
    );
  }
  if (report.dense.length > 0) {
    parts.push(
      "",
      table(
        ["dense", "min", "max", "mean", "missing"],
        report.dense.map((d) => [d.name, fmt(d.min), fmt(d.max), fmt(d.mean), String(d.missing)]),
      ),
    );
  }
  return parts.join("\n");
}
