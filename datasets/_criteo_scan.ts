/**
 * The byte scanner behind the Criteo (Kaggle / Mini-Kaggle) reader: it parses
 * tab-separated `label, I1..I13, C1..C26` lines straight from the read buffer,
 * applies DLRM's preprocessing and fills columns, with no per-line strings.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { FirstSeenDictionary } from "./_dictionary.ts";
import { LineReader } from "./_lines.ts";
import { MalformedCounter, type ReadOptions } from "./malformed.ts";
import { grown, type TypedColumn } from "./_grow.ts";

/** Number of integer (dense) columns. */
export const DENSE_COUNT = 13;
/** Number of categorical (sparse) columns. */
export const SPARSE_COUNT = 26;

const TAB = 9;
const MINUS = 45;
const DIGIT_0 = 48;
const INT32_MAX = 2147483647;

/** Hex digit values by byte, -1 for other bytes. */
const HEX_VALUE = (() => {
  const table = new Int8Array(256).fill(-1);
  for (let i = 0; i < 10; i++) table[48 + i] = i;
  for (let i = 0; i < 6; i++) {
    table[97 + i] = 10 + i;
    table[65 + i] = 10 + i;
  }
  return table;
})();

/** Options of the scanner. */
export interface CriteoScanOptions extends ReadOptions {
  /** Take categorical values mod N instead of dictionary indices (DLRM's `--max-ind-range`). */
  maxIndRange?: number;
  /** Rows per chunk (default: the whole file in one chunk). */
  batchRows?: number;
  /** Record which fields were empty, for statistics. */
  trackMissing?: boolean;
}

/** A chunk of parsed rows. Arrays may be longer than `rows`; only the first rows count. */
export interface CriteoChunk {
  /** Rows in this chunk. */
  rows: number;
  /** Labels (0/1). */
  labels: Float32Array;
  /** Integer features as in the file (empty = 0, negatives kept), row-major [rows x 13]. */
  xInt: Int32Array;
  /** Categorical indices per column (dictionary index, or value mod N). */
  cat: Int32Array[];
  /** With `trackMissing`: 1 where a dense field was empty, row-major [rows x 13]. */
  denseMissing?: Uint8Array;
  /** With `trackMissing`: 1 where a categorical field was empty, row-major [rows x 26]. */
  catMissing?: Uint8Array;
}

/** State shared by all chunks of one file: dictionaries and counters. */
export interface CriteoScanState {
  /** One dictionary per categorical column (unused with `maxIndRange`). */
  dictionaries: FirstSeenDictionary[];
  /** Per categorical column: whether a non-empty field held the value 0 (e.g. `00000000`). */
  literalZero: Uint8Array;
  /** Skipped lines. */
  malformed: MalformedCounter;
  /** Lines read (valid or not). */
  lines: number;
  /** Bytes read. */
  bytes: number;
}

function newChunk(capacity: number, trackMissing: boolean): CriteoChunk {
  return {
    rows: 0,
    labels: new Float32Array(capacity),
    xInt: new Int32Array(capacity * DENSE_COUNT),
    cat: Array.from({ length: SPARSE_COUNT }, () => new Int32Array(capacity)),
    denseMissing: trackMissing ? new Uint8Array(capacity * DENSE_COUNT) : undefined,
    catMissing: trackMissing ? new Uint8Array(capacity * SPARSE_COUNT) : undefined,
  };
}

function growChunk(chunk: CriteoChunk): void {
  const doubled = <T extends TypedColumn>(a: T) => grown(a, a.length * 2);
  chunk.labels = doubled(chunk.labels);
  chunk.xInt = doubled(chunk.xInt);
  chunk.cat = chunk.cat.map(doubled);
  if (chunk.denseMissing) chunk.denseMissing = doubled(chunk.denseMissing);
  if (chunk.catMissing) chunk.catMissing = doubled(chunk.catMissing);
}

function countFields(buffer: Uint8Array, start: number, end: number): number {
  let fields = 1;
  for (let i = start; i < end; i++) if (buffer[i] === TAB) fields++;
  return fields;
}

/**
 * Scans a Criteo TSV file and yields chunks of parsed rows; the dictionaries in
 * `state` keep growing across chunks, so indices are first-appearance order over
 * the whole file.
 *
 * @example Scan a file in chunks of 1000 rows
 * ```ts
 * import { newCriteoState, scanCriteo } from "./_criteo_scan.ts";
 * const path = await Deno.makeTempFile({ suffix: ".txt" });
 * await Deno.writeTextFile(path, [1, ...Array(39).fill("")].join("\t") + "\n");
 * const state = newCriteoState({});
 * for await (const chunk of scanCriteo(path, { batchRows: 1000 }, state)) {
 *   if (chunk.rows !== 1 || chunk.labels[0] !== 1) throw new Error("unexpected");
 * }
 * ```
 *
 * @param path The file.
 * @param options Scanner options.
 * @param state Filled with the dictionaries and counters.
 * @returns The chunks.
 */
export async function* scanCriteo(
  path: string,
  options: CriteoScanOptions,
  state: CriteoScanState,
): AsyncGenerator<CriteoChunk> {
  const maxIndRange = options.maxIndRange ?? 0;
  if (!Number.isSafeInteger(maxIndRange) || maxIndRange < 0 || maxIndRange > 2 ** 31) {
    throw new RangeError(`maxIndRange must be a whole number in 0..2^31, got ${maxIndRange}`);
  }
  const batchRows = options.batchRows ?? Infinity;
  const trackMissing = options.trackMissing ?? false;
  const reader = await LineReader.open(path);
  const scratch = newScratch();
  const initial = Number.isFinite(batchRows) ? batchRows : 1 << 14;
  let chunk = newChunk(initial, trackMissing);
  try {
    for (;;) {
      // The hot loop lives in a plain function: generators optimise less well.
      while (parseAvailable(reader, chunk, batchRows, trackMissing, state, scratch)) {
        mapValues(chunk, state, maxIndRange);
        yield chunk;
        chunk = newChunk(initial, trackMissing);
      }
      if (!(await reader.fill())) break;
      state.bytes = reader.bytesRead;
    }
  } finally {
    reader.close();
  }
  state.bytes = reader.bytesRead;
  if (reader.bytesRead === 0) throw new UsageError(`${path} is empty`);
  if (chunk.rows > 0) {
    mapValues(chunk, state, maxIndRange);
    yield chunk;
  }
}

interface Scratch {
  label: number;
  dense: Int32Array;
  denseEmpty: Uint8Array;
  values: Float64Array;
  catEmpty: Uint8Array;
}

function newScratch(): Scratch {
  return {
    label: 0,
    dense: new Int32Array(DENSE_COUNT),
    denseEmpty: new Uint8Array(DENSE_COUNT),
    values: new Float64Array(SPARSE_COUNT),
    catEmpty: new Uint8Array(SPARSE_COUNT),
  };
}

// Outcome codes of parseLine: OK, or a problem in field `code >> 4` (0 label, 1..13 I, 14..39 C).
const OK = 0;
const BAD_FIELD_COUNT = 1;
const BAD_LABEL = 2;
const BAD_INTEGER = 3;
const INTEGER_RANGE = 4;
const BAD_HEX = 5;
const HEX_RANGE = 6;

/**
 * Parses one line into the scratch arrays. A separate small function so that V8
 * optimises it as a whole (a big loop nest would be compiled on-stack and leave
 * its optimised code at every exit from an inner loop).
 *
 * @returns OK or an outcome code (see above).
 */
function parseLine(buf: Uint8Array, start: number, end: number, scratch: Scratch): number {
  // The byte at `end` is \r or \n (see LineReader): the digit loops stop there by themselves.
  const { dense, denseEmpty, values, catEmpty } = scratch;
  let p = start;
  // label: empty is 0, as every empty field
  let label = 0;
  const c = buf[p];
  if (c !== TAB) {
    if (p === end) return BAD_FIELD_COUNT;
    if ((c !== 48 && c !== 49) || (buf[p + 1] !== TAB && p + 1 !== end)) return BAD_LABEL;
    label = c - DIGIT_0;
    p++;
  }
  scratch.label = label;
  if (p === end) return BAD_FIELD_COUNT;
  p++;
  for (let j = 0; j < DENSE_COUNT; j++) {
    const fieldStart = p;
    const negative = buf[p] === MINUS;
    if (negative) p++;
    let v = 0;
    let d = 0;
    while ((d = buf[p] - DIGIT_0) >= 0 && d <= 9) {
      v = v * 10 + d;
      p++;
    }
    if (p !== end && buf[p] !== TAB) return BAD_INTEGER | ((j + 1) << 4);
    if (negative && p === fieldStart + 1) return BAD_INTEGER | ((j + 1) << 4);
    if (v > (negative ? INT32_MAX + 1 : INT32_MAX)) return INTEGER_RANGE | ((j + 1) << 4);
    dense[j] = negative ? -v : v;
    denseEmpty[j] = p === fieldStart ? 1 : 0;
    if (p === end) return BAD_FIELD_COUNT;
    p++;
  }
  for (let j = 0; j < SPARSE_COUNT; j++) {
    const fieldStart = p;
    let v = 0;
    const q = p + 8;
    if (q <= end && (q === end || buf[q] === TAB)) {
      // The usual field, 8 hex digits: no loop; any non-hex byte makes the OR negative.
      const h0 = HEX_VALUE[buf[p]];
      const h1 = HEX_VALUE[buf[p + 1]];
      const h2 = HEX_VALUE[buf[p + 2]];
      const h3 = HEX_VALUE[buf[p + 3]];
      const h4 = HEX_VALUE[buf[p + 4]];
      const h5 = HEX_VALUE[buf[p + 5]];
      const h6 = HEX_VALUE[buf[p + 6]];
      const h7 = HEX_VALUE[buf[p + 7]];
      if ((h0 | h1 | h2 | h3 | h4 | h5 | h6 | h7) >= 0) {
        v = ((h0 << 28) | (h1 << 24) | (h2 << 20) | (h3 << 16) | (h4 << 12) | (h5 << 8) |
          (h6 << 4) | h7) >>> 0;
        p = q;
      }
    }
    if (p === fieldStart) {
      // Other lengths, or a field the fast path did not take: digit by digit.
      let d = 0;
      while ((d = HEX_VALUE[buf[p]]) >= 0) {
        v = v * 16 + d;
        p++;
      }
    }
    if (p !== end && buf[p] !== TAB) return BAD_HEX | ((j + 14) << 4);
    if (v > 0xffffffff) return HEX_RANGE | ((j + 14) << 4);
    values[j] = v;
    catEmpty[j] = p === fieldStart ? 1 : 0;
    if (j < SPARSE_COUNT - 1) {
      if (p === end) return BAD_FIELD_COUNT;
      p++;
    }
  }
  return p === end ? OK : BAD_FIELD_COUNT;
}

function describe(code: number, buf: Uint8Array, start: number, end: number): string {
  const field = code >> 4;
  const name = field <= DENSE_COUNT ? `I${field}` : `C${field - DENSE_COUNT}`;
  switch (code & 15) {
    case BAD_LABEL:
      return "label is not 0 or 1";
    case BAD_INTEGER:
      return `${name} is not an integer`;
    case INTEGER_RANGE:
      return `${name} is out of the 32-bit integer range`;
    case BAD_HEX:
      return `${name} is not a hexadecimal value`;
    case HEX_RANGE:
      return `${name} is out of the 32-bit range`;
    default:
      return start === end
        ? "empty line"
        : `expected 40 tab-separated fields, got ${countFields(buf, start, end)}`;
  }
}

/**
 * Turns the raw values of a chunk's categorical columns into indices, one column
 * at a time (each table stays in cache; rows keep their order, so indices are
 * still first-appearance order over the file).
 */
function mapValues(chunk: CriteoChunk, state: CriteoScanState, maxIndRange: number): void {
  for (let j = 0; j < SPARSE_COUNT; j++) {
    if (maxIndRange > 0) modColumn(chunk.cat[j], chunk.rows, maxIndRange);
    else mapColumn(chunk.cat[j], chunk.rows, state.dictionaries[j]);
  }
}

function mapColumn(column: Int32Array, rows: number, dictionary: FirstSeenDictionary): void {
  for (let r = 0; r < rows; r++) column[r] = dictionary.indexOf(column[r] >>> 0);
}

function modColumn(column: Int32Array, rows: number, n: number): void {
  for (let r = 0; r < rows; r++) column[r] = (column[r] >>> 0) % n;
}

/** Appends the parsed line in `scratch` to the chunk (categorical values raw, see mapValues). */
function commitRow(
  chunk: CriteoChunk,
  scratch: Scratch,
  state: CriteoScanState,
  trackMissing: boolean,
): void {
  const { dense, denseEmpty, values, catEmpty } = scratch;
  const literalZero = state.literalZero;
  if (chunk.rows === chunk.labels.length) growChunk(chunk);
  const r = chunk.rows++;
  chunk.labels[r] = scratch.label;
  const xInt = chunk.xInt;
  const base = r * DENSE_COUNT;
  for (let j = 0; j < DENSE_COUNT; j++) xInt[base + j] = dense[j];
  const cat = chunk.cat;
  for (let j = 0; j < SPARSE_COUNT; j++) {
    const v = values[j];
    if (v === 0 && catEmpty[j] === 0) literalZero[j] = 1;
    cat[j][r] = v | 0; // the raw value's bits; mapValues turns it into an index
  }
  if (trackMissing) {
    const dm = chunk.denseMissing!;
    const cm = chunk.catMissing!;
    for (let j = 0; j < DENSE_COUNT; j++) dm[base + j] = denseEmpty[j];
    for (let j = 0; j < SPARSE_COUNT; j++) cm[r * SPARSE_COUNT + j] = catEmpty[j];
  }
}

/**
 * Parses the complete lines in the reader's buffer into `chunk`.
 *
 * @returns true when the chunk reached `batchRows` (more lines may remain).
 */
function parseAvailable(
  reader: LineReader,
  chunk: CriteoChunk,
  batchRows: number,
  trackMissing: boolean,
  state: CriteoScanState,
  scratch: Scratch,
): boolean {
  // No inner loops here: V8 compiles this loop on-stack, and leaving an inner loop of
  // on-stack-compiled code throws the optimised code away.
  while (reader.nextLine()) {
    state.lines++;
    const code = parseLine(reader.buffer, reader.lineStart, reader.lineEnd, scratch);
    if (code !== OK) {
      const reason = describe(code, reader.buffer, reader.lineStart, reader.lineEnd);
      state.malformed.skip(reader.path, reader.lineNumber, reason);
      continue;
    }
    // The line is valid: commit it (a malformed line never reaches the dictionaries).
    commitRow(chunk, scratch, state, trackMissing);
    if (chunk.rows >= batchRows) return true;
  }
  return false;
}

/**
 * Creates the state for scanning one file.
 *
 * @example Fresh state
 * ```ts
 * import { newCriteoState } from "./_criteo_scan.ts";
 * const state = newCriteoState({ strict: true });
 * if (state.dictionaries.length !== 26) throw new Error("one dictionary per column");
 * ```
 *
 * @param options The reader's options.
 * @returns Fresh dictionaries and counters.
 */
export function newCriteoState(options: ReadOptions): CriteoScanState {
  return {
    dictionaries: Array.from({ length: SPARSE_COUNT }, () => new FirstSeenDictionary()),
    literalZero: new Uint8Array(SPARSE_COUNT),
    malformed: new MalformedCounter(options),
    lines: 0,
    bytes: 0,
  };
}

const LOG1P_TABLE_SIZE = 1 << 16;
let log1pTable: Float32Array | undefined;

/**
 * DLRM's dense transform, log(max(x, 0) + 1), into float32; small values (most
 * of Criteo's) come from a table of the same float32 values.
 *
 * @example Transform three values
 * ```ts
 * import { denseTransform } from "./_criteo_scan.ts";
 * const out = new Float32Array(3);
 * denseTransform(Int32Array.from([-3, 0, 1]), out);
 * if (out[0] !== 0 || out[2] !== Math.fround(Math.log(2))) throw new Error("wrong");
 * ```
 *
 * @param values Raw integers.
 * @param out Where the transformed values go (same length).
 */
export function denseTransform(values: Int32Array, out: Float32Array): void {
  if (!log1pTable) {
    log1pTable = new Float32Array(LOG1P_TABLE_SIZE);
    for (let i = 0; i < LOG1P_TABLE_SIZE; i++) log1pTable[i] = Math.log(i + 1);
  }
  const table = log1pTable;
  for (let i = 0; i < out.length; i++) {
    const x = values[i];
    out[i] = x <= 0 ? 0 : x < LOG1P_TABLE_SIZE ? table[x] : Math.log(x + 1);
  }
}
