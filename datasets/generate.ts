/**
 * Seeded, deterministic generators of data files in the real datasets' own
 * formats, so the suite runs offline on a fresh machine:
 *
 * - `mini-kaggle`: Criteo TSV; categorical values are 8-hex-digit values drawn
 *   from Zipf-like distributions whose per-column cardinalities follow Criteo
 *   Kaggle's, scaled down with the row count; empty fields at Kaggle-like rates;
 *   heavy-tailed integers with some negatives.
 * - `ali-ccp-raw`: an Ali-CCP sample skeleton plus its common-features file.
 * - `ali-ccp-csv`: the torch-rechub CSV form of Ali-CCP.
 *
 * @module
 */

import { type RandomStream, randomStream } from "../util/random.ts";
import { AsciiWriter } from "./_writer.ts";

/** The kinds of generated data. */
export type GeneratedKind = "mini-kaggle" | "ali-ccp-raw" | "ali-ccp-csv";

/** All generated kinds. */
export const GENERATED_KINDS: readonly GeneratedKind[] = [
  "mini-kaggle",
  "ali-ccp-raw",
  "ali-ccp-csv",
];

/** Criteo Kaggle's categorical cardinalities (DLRM's counts), C1..C26. */
export const KAGGLE_CARDINALITIES: readonly number[] = [
  1460,
  583,
  10131227,
  2202608,
  305,
  24,
  12517,
  633,
  3,
  93145,
  5683,
  8351593,
  3194,
  27,
  14992,
  5461306,
  10,
  5652,
  2173,
  4,
  7046547,
  18,
  15,
  286181,
  105,
  142572,
];
const KAGGLE_ROWS = 45840617;
/** Approximate share of empty fields per column in Kaggle's train.txt. */
const DENSE_MISSING = [0.45, 0, 0.21, 0.22, 0.03, 0.22, 0.04, 0.0005, 0.04, 0.45, 0.04, 0.77, 0.22];
const CAT_MISSING = [
  0,
  0,
  0.03,
  0.03,
  0,
  0,
  0,
  0,
  0,
  0,
  0,
  0.03,
  0,
  0,
  0,
  0.03,
  0,
  0,
  0.44,
  0.44,
  0.03,
  0.76,
  0,
  0.03,
  0.44,
  0.44,
];
/** log of a typical value per integer column, and the spread of the heavy tail. */
const DENSE_LOG_MEDIAN = [0.5, 1.5, 2, 1.6, 8, 3.3, 1.2, 2.1, 3.6, 0.3, 0.7, 0.1, 1.4];
const DENSE_SIGMA = 1.4;

/**
 * The categorical cardinality of column `j` for a generated file of `rows` rows.
 *
 * @example Small files get small tables
 * ```ts
 * import { miniKaggleCardinality } from "@blsbench/core/datasets";
 * if (miniKaggleCardinality(2, 1000) >= 10131227) throw new Error("not scaled");
 * ```
 *
 * @param j The column, 0..25.
 * @param rows The number of rows.
 * @returns Distinct values the column draws from.
 */
export function miniKaggleCardinality(j: number, rows: number): number {
  const factor = Math.min(1, (8 * rows) / KAGGLE_ROWS);
  const full = KAGGLE_CARDINALITIES[j];
  return Math.min(full, Math.max(2, Math.round(full * factor)));
}

/** murmur3's finaliser: a bijection on 32-bit values. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A Zipf-like (s = 1) rank in [0, n): log-uniform, so rank 0 is the most frequent. */
function zipfRank(rng: RandomStream, n: number): number {
  const r = Math.floor(Math.exp(rng.float() * Math.log(n + 1))) - 1;
  return r < n ? r : n - 1;
}

async function withFile(path: string, body: (w: AsciiWriter) => Promise<void>): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    const writer = new AsciiWriter(file);
    await body(writer);
    await writer.flush();
  } finally {
    file.close();
  }
}

function checkRows(rows: number, seed: number): void {
  if (!Number.isSafeInteger(rows) || rows < 1) {
    throw new RangeError(`rows must be a whole number >= 1, got ${rows}`);
  }
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a whole number, got ${seed}`);
}

/**
 * Writes a Mini-Kaggle (Criteo TSV) file.
 *
 * @example Generate 100 rows
 * ```ts
 * import { generateMiniKaggle } from "@blsbench/core/datasets";
 * const path = await Deno.makeTempFile({ suffix: ".txt" });
 * await generateMiniKaggle(path, 100, 1);
 * const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
 * if (lines.length !== 100 || lines[0].split("\t").length !== 40) throw new Error("bad file");
 * ```
 *
 * @param path The output file (overwritten).
 * @param rows Number of lines.
 * @param seed The seed; the same seed and rows give the same bytes.
 */
export async function generateMiniKaggle(path: string, rows: number, seed: number): Promise<void> {
  checkRows(rows, seed);
  const rng = randomStream(seed, 0x4b41);
  const cards = KAGGLE_CARDINALITIES.map((_, j) => miniKaggleCardinality(j, rows));
  const salts = cards.map((_, j) => mix32(seed * 31 + j + 1));
  await withFile(path, async (w) => {
    for (let r = 0; r < rows; r++) {
      w.byte(rng.float() < 0.256 ? 49 : 48);
      for (let j = 0; j < 13; j++) {
        w.byte(9);
        if (rng.float() < DENSE_MISSING[j]) continue;
        if (j === 1 && rng.float() < 0.08) {
          w.int(-1 - rng.int(3)); // Kaggle's I2 has a few negatives
          continue;
        }
        const v = Math.floor(Math.exp(DENSE_LOG_MEDIAN[j] + DENSE_SIGMA * rng.normal())) - 1;
        w.int(Math.min(v < 0 ? 0 : v, 2147483647));
      }
      for (let j = 0; j < 26; j++) {
        w.byte(9);
        if (rng.float() < CAT_MISSING[j]) continue;
        w.hex8(mix32(zipfRank(rng, cards[j]) ^ salts[j]));
      }
      w.byte(10);
      if (w.full) await w.flush();
    }
  });
}

/** Ali-CCP's fields: user fields (in the common features) then ad/context fields. */
const ALI_USER_FIELDS = ["101", "121", "122", "124", "125", "126", "127", "128", "129"];
const ALI_USER_BAGS = ["109_14", "110_14", "127_14", "150_14"];
const ALI_AD_FIELDS = ["205", "206", "207", "216", "508", "509", "702", "853", "301"];
const ALI_AD_BAGS = ["210"];
/** Distinct values per field at 100,000 rows (scaled with rows). */
const ALI_CARD: Record<string, number> = {
  "101": 20000,
  "121": 98,
  "122": 14,
  "124": 3,
  "125": 8,
  "126": 4,
  "127": 4,
  "128": 3,
  "129": 5,
  "109_14": 5000,
  "110_14": 50000,
  "127_14": 30000,
  "150_14": 10000,
  "205": 40000,
  "206": 3000,
  "207": 30000,
  "210": 20000,
  "216": 10000,
  "508": 2000,
  "509": 5000,
  "702": 8000,
  "853": 4000,
  "301": 3,
};

function aliCard(field: string, rows: number): number {
  const base = ALI_CARD[field];
  return base < 200 ? base : Math.max(10, Math.round(base * Math.min(1, rows / 100000)));
}

/** Globally unique raw feature id for a field's rank, as Ali-CCP's ids are. */
function aliFeatureId(fieldIndex: number, rank: number): number {
  return (fieldIndex + 1) * 10_000_000 + rank;
}

function aliFields(): string[] {
  return [...ALI_USER_FIELDS, ...ALI_USER_BAGS, ...ALI_AD_FIELDS, ...ALI_AD_BAGS];
}

/**
 * The common-features file that belongs to an Ali-CCP sample skeleton file:
 * `sample_skeleton_X` becomes `common_features_X` in the same folder; any other
 * name gets `.common` before its extension.
 *
 * @example Paths
 * ```ts
 * import { aliCcpCommonPath } from "@blsbench/core/datasets";
 * if (aliCcpCommonPath("d/sample_skeleton_train.csv") !== "d/common_features_train.csv") {
 *   throw new Error("wrong path");
 * }
 * if (aliCcpCommonPath("d/x.csv") !== "d/x.common.csv") throw new Error("wrong path");
 * ```
 *
 * @param skeletonPath The skeleton file.
 * @returns The common-features file.
 */
export function aliCcpCommonPath(skeletonPath: string): string {
  const slash = skeletonPath.lastIndexOf("/");
  const dir = skeletonPath.slice(0, slash + 1);
  const base = skeletonPath.slice(slash + 1);
  if (base.startsWith("sample_skeleton")) {
    return dir + "common_features" + base.slice("sample_skeleton".length);
  }
  const dot = base.lastIndexOf(".");
  return dot > 0 ? `${dir}${base.slice(0, dot)}.common${base.slice(dot)}` : `${dir}${base}.common`;
}

function writeFeature(w: AsciiWriter, first: boolean, field: string, id: number, value: string) {
  if (!first) w.byte(1);
  w.text(field);
  w.byte(2);
  w.int(id);
  w.byte(3);
  w.text(value);
}

/** Ends an Ali-CCP raw line: the feature count, the features, the line end. */
async function writeFeatureList(w: AsciiWriter, features: [string, number, string][]) {
  w.int(features.length);
  w.byte(44);
  features.forEach(([f, id, v], i) => writeFeature(w, i === 0, f, id, v));
  w.byte(10);
  if (w.full) await w.flush();
}

const BAG_VALUES = ["1.0", "0.69315", "1.09861", "1.38629", "1.60944", "2.30259"];

/**
 * Writes an Ali-CCP raw pair: the sample skeleton at `path` and its common
 * features at {@link aliCcpCommonPath}.
 *
 * @example Generate 50 samples
 * ```ts
 * import { aliCcpCommonPath, generateAliCcpRaw } from "@blsbench/core/datasets";
 * const dir = await Deno.makeTempDir();
 * await generateAliCcpRaw(`${dir}/sample_skeleton_test.csv`, 50, 3);
 * const common = await Deno.readTextFile(aliCcpCommonPath(`${dir}/sample_skeleton_test.csv`));
 * if (!common.includes("\x02")) throw new Error("no features");
 * ```
 *
 * @param path The skeleton file (overwritten).
 * @param rows Number of samples.
 * @param seed The seed.
 * @returns The two paths.
 */
export async function generateAliCcpRaw(
  path: string,
  rows: number,
  seed: number,
): Promise<{ skeleton: string; common: string }> {
  checkRows(rows, seed);
  const fields = aliFields();
  const fieldIndex = new Map(fields.map((f, i) => [f, i]));
  const users = Math.max(1, Math.ceil(rows / 8));
  const commonPath = aliCcpCommonPath(path);
  const userKey = (u: number) =>
    mix32(u * 2 + 1 ^ seed).toString(16).padStart(8, "0") +
    mix32(u * 2 + 2 ^ seed).toString(16).padStart(8, "0");
  // Common features: one line per user, in a shuffled-looking order.
  const userRng = randomStream(seed, 0xa11c, 1);
  await withFile(commonPath, async (w) => {
    for (let u = 0; u < users; u++) {
      const features: [string, number, string][] = [];
      for (const f of ALI_USER_FIELDS) {
        const rank = f === "101" ? u % aliCard(f, rows) : zipfRank(userRng, aliCard(f, rows));
        features.push([f, aliFeatureId(fieldIndex.get(f)!, rank), "1.0"]);
      }
      for (const f of ALI_USER_BAGS) {
        const n = userRng.int(12); // bags of 0..11 items; 0 means the user lacks the field
        for (let i = 0; i < n; i++) {
          const rank = zipfRank(userRng, aliCard(f, rows));
          features.push([f, aliFeatureId(fieldIndex.get(f)!, rank), BAG_VALUES[i % 6]]);
        }
      }
      w.text(userKey(u));
      w.byte(44);
      await writeFeatureList(w, features);
    }
  });
  const rng = randomStream(seed, 0xa11c, 2);
  await withFile(path, async (w) => {
    for (let r = 0; r < rows; r++) {
      const click = rng.float() < 0.2 ? 1 : 0;
      const conversion = click && rng.float() < 0.15 ? 1 : 0;
      const user = zipfRank(rng, users);
      const features: [string, number, string][] = [];
      for (const f of ALI_AD_FIELDS) {
        features.push([
          f,
          aliFeatureId(fieldIndex.get(f)!, zipfRank(rng, aliCard(f, rows))),
          "1.0",
        ]);
      }
      for (const f of ALI_AD_BAGS) {
        const n = 1 + rng.int(4);
        for (let i = 0; i < n; i++) {
          features.push([
            f,
            aliFeatureId(fieldIndex.get(f)!, zipfRank(rng, aliCard(f, rows))),
            "1.0",
          ]);
        }
      }
      w.int(r + 1);
      w.byte(44);
      w.int(click);
      w.byte(44);
      w.int(conversion);
      w.byte(44);
      w.text(userKey(user));
      w.byte(44);
      await writeFeatureList(w, features);
    }
  });
  return { skeleton: path, common: commonPath };
}

/** The torch-rechub Ali-CCP CSV columns after the labels. */
export const ALI_CCP_CSV_SPARSE: readonly string[] = [
  ...ALI_USER_FIELDS,
  ...ALI_AD_FIELDS.filter((f) => f !== "301"),
  ...ALI_AD_BAGS,
  "301",
  ...ALI_USER_BAGS,
];
const ALI_CCP_CSV_DENSE = [
  "D109_14",
  "D110_14",
  "D127_14",
  "D150_14",
  "D508",
  "D509",
  "D702",
  "D853",
];

/**
 * Writes an Ali-CCP CSV file in the torch-rechub form: a header, `click`,
 * `purchase`, sparse integer ids, and dense `D...` columns.
 *
 * @example Generate 20 rows
 * ```ts
 * import { generateAliCcpCsv } from "@blsbench/core/datasets";
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await generateAliCcpCsv(path, 20, 7);
 * const [header] = (await Deno.readTextFile(path)).split("\n");
 * if (!header.startsWith("click,purchase,")) throw new Error("bad header");
 * ```
 *
 * @param path The output file (overwritten).
 * @param rows Number of rows.
 * @param seed The seed.
 */
export async function generateAliCcpCsv(path: string, rows: number, seed: number): Promise<void> {
  checkRows(rows, seed);
  const rng = randomStream(seed, 0xa11c, 3);
  await withFile(path, async (w) => {
    w.text(["click", "purchase", ...ALI_CCP_CSV_SPARSE, ...ALI_CCP_CSV_DENSE].join(","));
    w.byte(10);
    for (let r = 0; r < rows; r++) {
      const click = rng.float() < 0.2 ? 1 : 0;
      w.int(click);
      w.byte(44);
      w.int(click && rng.float() < 0.15 ? 1 : 0);
      for (const f of ALI_CCP_CSV_SPARSE) {
        w.byte(44);
        w.int(zipfRank(rng, aliCard(f, rows)));
      }
      for (let j = 0; j < ALI_CCP_CSV_DENSE.length; j++) {
        w.byte(44);
        w.text((Math.round(rng.exponential(1) * 1e4) / 1e4).toString());
      }
      w.byte(10);
      if (w.full) await w.flush();
    }
  });
}

/**
 * Generates a file of the given kind.
 *
 * @example Generate any kind
 * ```ts
 * import { generateData } from "@blsbench/core/datasets";
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await generateData("ali-ccp-csv", 10, 1, path);
 * ```
 *
 * @param kind What to generate.
 * @param rows Number of rows.
 * @param seed The seed.
 * @param path The output (for `ali-ccp-raw`, the skeleton; the common features go beside it).
 * @returns The files written.
 */
export async function generateData(
  kind: GeneratedKind,
  rows: number,
  seed: number,
  path: string,
): Promise<string[]> {
  switch (kind) {
    case "mini-kaggle":
      await generateMiniKaggle(path, rows, seed);
      return [path];
    case "ali-ccp-raw": {
      const { skeleton, common } = await generateAliCcpRaw(path, rows, seed);
      return [skeleton, common];
    }
    case "ali-ccp-csv":
      await generateAliCcpCsv(path, rows, seed);
      return [path];
    default:
      throw new RangeError(
        `Unknown data kind '${kind}' (expected ${GENERATED_KINDS.join(", ")})`,
      );
  }
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * Returns a generated file of the given kind, rows and seed from `cacheDir`,
 * generating it once (atomically: written under a temporary name, then renamed,
 * so concurrent callers never read half a file). For `ali-ccp-raw` the returned
 * path is the skeleton; its common features sit at {@link aliCcpCommonPath}.
 *
 * @example Generate once, then reuse
 * ```ts
 * import { ensureGeneratedData } from "@blsbench/core/datasets";
 * const cache = await Deno.makeTempDir();
 * const a = await ensureGeneratedData("mini-kaggle", 10, 1, cache);
 * const b = await ensureGeneratedData("mini-kaggle", 10, 1, cache);
 * if (a !== b) throw new Error("not cached");
 * ```
 *
 * @param kind What to generate.
 * @param rows Number of rows.
 * @param seed The seed.
 * @param cacheDir The cache folder (created when missing).
 * @returns The path of the (skeleton) file.
 */
export async function ensureGeneratedData(
  kind: GeneratedKind,
  rows: number,
  seed: number,
  cacheDir: string,
): Promise<string> {
  checkRows(rows, seed);
  const stem = `${cacheDir}/${kind}-${rows}-s${seed}`;
  const path = kind === "mini-kaggle"
    ? `${stem}.txt`
    : kind === "ali-ccp-raw"
    ? `${cacheDir}/sample_skeleton_${kind}-${rows}-s${seed}.csv`
    : `${stem}.csv`;
  const common = aliCcpCommonPath(path);
  if (exists(path) && (kind !== "ali-ccp-raw" || exists(common))) return path;
  await Deno.mkdir(cacheDir, { recursive: true });
  const tag = `${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  const tmpDir = `${cacheDir}/.tmp-${tag}`;
  await Deno.mkdir(tmpDir);
  try {
    const base = path.slice(path.lastIndexOf("/") + 1);
    const files = await generateData(kind, rows, seed, `${tmpDir}/${base}`);
    // The skeleton (first) is renamed last, so its presence means the pair is complete.
    for (const file of files.slice(1)) {
      await Deno.rename(file, `${cacheDir}/${file.slice(file.lastIndexOf("/") + 1)}`);
    }
    await Deno.rename(files[0], path);
  } finally {
    await Deno.remove(tmpDir, { recursive: true }).catch(() => {});
  }
  return path;
}
