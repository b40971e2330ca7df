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
 * Sparse ids are remapped per field to 0..distinct-1 in order of first appearance.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { Dataset, SparseFeature } from "./types.ts";
import { LineReader } from "./_lines.ts";
import { FloatColumn, IntColumn } from "./_dictionary.ts";
import { MalformedCounter, type ReadOptions } from "./malformed.ts";
import { DenseAccumulator, type DenseStats } from "./stats.ts";

/** Ali-CCP's fields in the order the Dataset lists them (unknown fields follow). */
export const ALI_CCP_FIELDS: readonly string[] = [
  "101",
  "121",
  "122",
  "124",
  "125",
  "126",
  "127",
  "128",
  "129",
  "109_14",
  "110_14",
  "127_14",
  "150_14",
  "205",
  "206",
  "207",
  "210",
  "216",
  "508",
  "509",
  "702",
  "853",
  "301",
];

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

/** Per-field bags being built, with first-appearance id maps. */
class BagBuilder {
  readonly names: string[] = [];
  readonly #slots = new Map<string, number>();
  readonly #ids: Map<number, number>[] = [];
  readonly #indices: IntColumn[] = [];
  readonly #offsets: IntColumn[] = [];
  rows = 0;

  constructor(initialNames: readonly string[]) {
    for (const name of initialNames) this.slot(name);
  }

  /** The slot of a field, adding it (with empty bags for earlier rows) when new. */
  slot(name: string): number {
    let s = this.#slots.get(name);
    if (s === undefined) {
      s = this.names.length;
      this.names.push(name);
      this.#slots.set(name, s);
      this.#ids.push(new Map());
      this.#indices.push(new IntColumn());
      const offsets = new IntColumn();
      for (let r = 0; r <= this.rows; r++) offsets.push(0);
      this.#offsets.push(offsets);
    }
    return s;
  }

  /** Adds an id to the current row's bag of a field. */
  add(slot: number, id: number): void {
    const ids = this.#ids[slot];
    let index = ids.get(id);
    if (index === undefined) {
      index = ids.size;
      ids.set(id, index);
    }
    this.#indices[slot].push(index);
  }

  /** Closes the current row. */
  endRow(): void {
    this.rows++;
    for (let s = 0; s < this.names.length; s++) this.#offsets[s].push(this.#indices[s].length);
  }

  /** The features and their table sizes. */
  build(): { sparse: SparseFeature[]; tableSizes: number[] } {
    return {
      sparse: this.names.map((name, s) => ({
        name,
        offsets: this.#offsets[s].toArray(),
        indices: this.#indices[s].toArray(),
      })),
      tableSizes: this.#ids.map((m) => m.size),
    };
  }
}

type Features = { fields: string[]; ids: number[] };

const ID_PATTERN = /^-?\d+$/;

/** Splits a feature list; returns a reason string when malformed. */
function parseFeatureList(list: string, declared: string): Features | string {
  const fields: string[] = [];
  const ids: number[] = [];
  if (list.length > 0) {
    for (const feature of list.split("\x01")) {
      const a = feature.indexOf("\x02");
      const b = feature.indexOf("\x03", a + 1);
      if (a <= 0 || b < 0) return `feature '${printable(feature)}' is not field\\x02id\\x03value`;
      const id = feature.slice(a + 1, b);
      if (!ID_PATTERN.test(id)) return `feature id '${printable(id)}' is not an integer`;
      fields.push(feature.slice(0, a));
      ids.push(Number(id));
    }
  }
  if (!/^\d+$/.test(declared)) return `feature_num '${printable(declared)}' is not a number`;
  if (Number(declared) !== fields.length) {
    return `feature_num is ${declared} but the list has ${fields.length} features`;
  }
  return { fields, ids };
}

function printable(s: string): string {
  const short = s.length > 40 ? `${s.slice(0, 40)}...` : s;
  let out = "";
  for (const c of short) {
    // Control characters (the \x01-\x03 separators among them) are shown escaped.
    out += c < " " ? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}` : c;
  }
  return out;
}

/** Runs `onLine(text, lineNumber)` for every line of a file, decoding each line. */
async function forEachLine(
  path: string,
  onLine: (line: string, lineNumber: number) => void,
): Promise<number> {
  const reader = await LineReader.open(path);
  const decoder = new TextDecoder();
  try {
    for (;;) {
      while (reader.nextLine()) {
        onLine(
          decoder.decode(reader.buffer.subarray(reader.lineStart, reader.lineEnd)),
          reader.lineNumber,
        );
      }
      if (!(await reader.fill())) break;
    }
  } finally {
    reader.close();
  }
  if (reader.bytesRead === 0) throw new UsageError(`${path} is empty`);
  return reader.lineNumber;
}

const LABEL = /^[01](\.0*)?$/;

/**
 * Reads an Ali-CCP raw sample skeleton joined with its common features.
 *
 * @example Read a tiny pair
 * ```ts
 * import { readAliCcpRaw } from "./aliccp.ts";
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
export async function readAliCcpRaw(
  path: string,
  options: AliCcpRawOptions,
): Promise<AliCcpDataset> {
  const malformed = new MalformedCounter(options);
  const bags = new BagBuilder(ALI_CCP_FIELDS);
  // Common features: index -> [slot, id, slot, id, ...].
  const common = new Map<string, number[]>();
  await forEachLine(options.common, (line, n) => {
    const parts = line.split(",");
    if (parts.length !== 3) {
      malformed.skip(options.common, n, `expected 3 comma-separated fields, got ${parts.length}`);
      return;
    }
    const parsed = parseFeatureList(parts[2], parts[1]);
    if (typeof parsed === "string") return malformed.skip(options.common, n, parsed);
    if (parts[0] === "") return malformed.skip(options.common, n, "empty common_feature_index");
    const packed: number[] = [];
    parsed.fields.forEach((f, i) => packed.push(bags.slot(f), parsed.ids[i]));
    common.set(parts[0], packed);
  });
  const labels = new FloatColumn();
  const purchases = new FloatColumn();
  await forEachLine(path, (line, n) => {
    const parts = line.split(",");
    if (parts.length !== 6) {
      return malformed.skip(path, n, `expected 6 comma-separated fields, got ${parts.length}`);
    }
    if (!LABEL.test(parts[1])) return malformed.skip(path, n, "click is not 0 or 1");
    if (!LABEL.test(parts[2])) return malformed.skip(path, n, "conversion is not 0 or 1");
    const shared = common.get(parts[3]);
    if (!shared) {
      return malformed.skip(
        path,
        n,
        `common features '${printable(parts[3])}' are missing from ${options.common}`,
      );
    }
    const own = parseFeatureList(parts[5], parts[4]);
    if (typeof own === "string") return malformed.skip(path, n, own);
    for (let i = 0; i < shared.length; i += 2) bags.add(shared[i], shared[i + 1]);
    own.fields.forEach((f, i) => bags.add(bags.slot(f), own.ids[i]));
    bags.endRow();
    labels.push(Number(parts[1]));
    purchases.push(Number(parts[2]));
  });
  if (bags.rows === 0) {
    throw new UsageError(`${path} has no valid sample (${malformed.count} malformed skipped)`);
  }
  const { sparse, tableSizes } = bags.build();
  return {
    rows: bags.rows,
    denseNames: [],
    dense: new Float32Array(0),
    sparse,
    tableSizes,
    labels: labels.toArray(),
    purchases: purchases.toArray(),
    denseStats: [],
    skipped: malformed.count,
  };
}

/**
 * Reads an Ali-CCP CSV file (torch-rechub form, or the 18-sparse-field AITM form).
 *
 * @example Read a tiny file
 * ```ts
 * import { readAliCcpCsv } from "./aliccp.ts";
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "click,purchase,101,205,D508\n1,0,42,7,0.5\n0,0,43,7,1.5\n");
 * const data = await readAliCcpCsv(path);
 * if (data.tableSizes.join() !== "2,1" || data.dense[1] !== 1.5) throw new Error("unexpected");
 * ```
 *
 * @param path The CSV file.
 * @param options Malformed-line options.
 * @returns The dataset.
 * @throws UsageError when the file cannot be read, is empty, has no label column or no valid row.
 * @throws MalformedLineError on a malformed line with `strict`.
 */
export async function readAliCcpCsv(
  path: string,
  options: ReadOptions = {},
): Promise<AliCcpDataset> {
  const malformed = new MalformedCounter(options);
  let columns: string[] | undefined;
  let kinds: ("click" | "purchase" | "dense" | "sparse")[] = [];
  let bags: BagBuilder | undefined;
  let sparseSlot: number[] = [];
  let denseSlot: number[] = [];
  let denseNames: string[] = [];
  let denseStats: DenseAccumulator[] = [];
  const dense = new FloatColumn();
  const labels = new FloatColumn();
  const purchases = new FloatColumn();
  let rowDense: Float64Array = new Float64Array(0);
  const setColumns = (names: string[]) => {
    columns = names;
    kinds = names.map((c) =>
      c === "click" ? "click" : c === "purchase" ? "purchase" : /^D/.test(c) ? "dense" : "sparse"
    );
    if (!kinds.includes("click")) throw new UsageError(`${path}: the header has no 'click' column`);
    const sparseNames = names.filter((_, i) => kinds[i] === "sparse");
    denseNames = names.filter((_, i) => kinds[i] === "dense");
    bags = new BagBuilder(sparseNames);
    let s = 0;
    let d = 0;
    sparseSlot = kinds.map((k) => (k === "sparse" ? s++ : -1));
    denseSlot = kinds.map((k) => (k === "dense" ? d++ : -1));
    denseStats = denseNames.map((name) => new DenseAccumulator(name));
    rowDense = new Float64Array(denseNames.length);
  };
  await forEachLine(path, (line, n) => {
    const parts = line.split(",");
    if (!columns) {
      if (parts.every((p) => /^-?[\d.]+$/.test(p)) && parts.length >= 2) {
        setColumns(["click", "purchase", ...parts.slice(2).map((_, i) => `s${i + 1}`)]);
      } else {
        setColumns(parts.map((p) => p.trim()));
        return;
      }
    }
    if (parts.length !== columns!.length) {
      return malformed.skip(
        path,
        n,
        `expected ${columns!.length} comma-separated fields, got ${parts.length}`,
      );
    }
    let click = 0;
    let purchase = 0;
    const rowIds: number[] = [];
    for (let i = 0; i < parts.length; i++) {
      const v = parts[i];
      switch (kinds[i]) {
        case "click":
        case "purchase":
          if (!LABEL.test(v)) return malformed.skip(path, n, `${columns![i]} is not 0 or 1`);
          if (kinds[i] === "click") click = Number(v);
          else purchase = Number(v);
          break;
        case "dense": {
          const x = v === "" ? 0 : Number(v);
          if (!Number.isFinite(x)) {
            return malformed.skip(path, n, `${columns![i]} '${printable(v)}' is not a number`);
          }
          rowDense[denseSlot[i]] = v === "" ? NaN : x;
          break;
        }
        default:
          if (v !== "" && !ID_PATTERN.test(v)) {
            return malformed.skip(path, n, `${columns![i]} '${printable(v)}' is not an integer id`);
          }
          rowIds.push(i);
      }
    }
    // The line is valid: commit it.
    for (const i of rowIds) if (parts[i] !== "") bags!.add(sparseSlot[i], Number(parts[i]));
    bags!.endRow();
    for (let d = 0; d < rowDense.length; d++) {
      const x = rowDense[d];
      if (Number.isNaN(x)) denseStats[d].missing++;
      else denseStats[d].add(x);
      dense.push(Number.isNaN(x) ? 0 : x);
    }
    labels.push(click);
    purchases.push(purchase);
  });
  if (!bags || bags.rows === 0) {
    throw new UsageError(`${path} has no valid row (${malformed.count} malformed skipped)`);
  }
  const { sparse, tableSizes } = bags.build();
  return {
    rows: bags.rows,
    denseNames,
    dense: dense.toArray(),
    sparse,
    tableSizes,
    labels: labels.toArray(),
    purchases: purchases.toArray(),
    denseStats: denseStats.map((a) => a.result()),
    skipped: malformed.count,
  };
}
