/**
 * Byte-level streaming scanners of the Ali-CCP formats: lines are parsed in the
 * read buffer with no per-line strings (only the common-feature key of a raw
 * sample is decoded), rows are handed out in chunks, and per-field statistics
 * (distinct ids, largest id, missing rows, ids per row) are kept as rows pass.
 * Memory is bounded by the chunk, the per-field id sets and, for the raw
 * format, the common-features map (6 bytes per common feature).
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { SparseFeature } from "./types.ts";
import { LineReader } from "./_lines.ts";
import { FirstSeenDictionary, FloatColumn, IntColumn } from "./_dictionary.ts";
import { MalformedCounter, type ReadOptions } from "./malformed.ts";
import { DenseAccumulator } from "./stats.ts";
import { grown } from "./_grow.ts";

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

/** Consecutive rows of an Ali-CCP file, as the streaming readers hand them out. */
export interface AliCcpChunk {
  /** Rows in this chunk. */
  rows: number;
  /** Index of the chunk's first row among all valid rows of the file. */
  firstRow: number;
  /** Click labels, 0 or 1. */
  labels: Float32Array;
  /** Conversion (purchase) labels, 0 or 1. */
  purchases: Float32Array;
  /** Dense feature names (Ali-CCP CSV only). */
  denseNames: string[];
  /** Dense features, row-major [rows x denseNames.length], as written (empty is 0). */
  dense: Float32Array;
  /** One bag per row per field known so far; offsets start at 0 in every chunk. */
  sparse: SparseFeature[];
}

/** Options of the scanners. */
export interface AliCcpScanOptions extends ReadOptions {
  /** Rows per chunk (default 65,536; `Infinity`: one chunk with every row). */
  batchRows?: number;
  /** Build the chunks' arrays (default true); false only gathers the statistics. */
  collect?: boolean;
  /** Take table indices mod N. */
  maxIndRange?: number;
  /**
   * Ali-CCP CSV: the rows of each sparse field's table (e.g. the weights'); an id
   * at or above them is an error naming the file, line and field.
   */
  tableRows?: number[];
}

/** Running statistics of a scan, per sparse field (by slot) and overall. */
export class AliCcpStats {
  /** Sparse field names by slot. */
  readonly names: string[] = [];
  /** Largest id as written in the file, -1 while none. */
  readonly maxId: number[] = [];
  /** Rows without the field. */
  readonly missing: number[] = [];
  /** Most ids in one row. */
  readonly maxPerRow: number[] = [];
  /** Ids over all rows. */
  readonly total: number[] = [];
  /** Distinct ids (uint32 ones). */
  readonly ids: FirstSeenDictionary[] = [];
  /** Distinct ids outside uint32 (Ali-CCP CSV only). */
  readonly bigIds: Set<number>[] = [];
  /** Dense statistics (Ali-CCP CSV). */
  dense: DenseAccumulator[] = [];
  /** Valid rows. */
  rows = 0;
  /** Clicks. */
  clicks = 0;
  /** Conversions. */
  purchases = 0;
  /** Malformed lines skipped. */
  skipped = 0;

  /** Adds a field slot. */
  addField(name: string): number {
    this.names.push(name);
    this.maxId.push(-1);
    this.missing.push(this.rows);
    this.maxPerRow.push(0);
    this.total.push(0);
    this.ids.push(new FirstSeenDictionary(64));
    this.bigIds.push(new Set());
    return this.names.length - 1;
  }

  /** Distinct ids of a field. */
  distinct(slot: number): number {
    return this.ids[slot].size + this.bigIds[slot].size;
  }

  /**
   * Rows of each table when ids are used as given: largest id + 1, at most
   * `maxIndRange` when set (DLRM's cap: the id mod N is the row).
   */
  tableSizesAsGiven(maxIndRange = 0): number[] {
    return this.maxId.map((m) => (maxIndRange > 0 ? Math.min(m + 1, maxIndRange) : m + 1));
  }
}

const COMMA = 44;
const F1 = 1;
const F2 = 2;
const F3 = 3;
const ZERO = 48;
const NINE = 57;
const MINUS = 45;
const DOT = 46;
const UINT32_MAX = 0xffffffff;

function latin1(buf: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]);
  return s;
}

/** A short excerpt of bytes for a message, control characters escaped. */
function printable(buf: Uint8Array, start: number, end: number): string {
  const text = new TextDecoder().decode(buf.subarray(start, Math.min(end, start + 160)));
  const short = text.length > 40 ? `${text.slice(0, 40)}...` : text;
  let out = "";
  for (const c of short) {
    out += c < " " ? `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}` : c;
  }
  return out;
}

/** Decimal digits as a number; -1 when empty or not all digits (or past 2^53). */
function digits(buf: Uint8Array, start: number, end: number): number {
  if (start >= end) return -1;
  if (end - start > 15) {
    const text = latin1(buf, start, end);
    return /^\d+$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : -1;
  }
  let v = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i] - ZERO;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

/** 0 or 1 (also written `1.0`, `0.00`); -1 otherwise. */
function label(buf: Uint8Array, start: number, end: number): number {
  if (start >= end) return -1;
  const c = buf[start];
  if (c !== ZERO && c !== ZERO + 1) return -1;
  if (end === start + 1) return c - ZERO;
  if (buf[start + 1] !== DOT) return -1;
  for (let i = start + 2; i < end; i++) if (buf[i] !== ZERO) return -1;
  return c - ZERO;
}

/** The index of `byte` in `buf[start..end)`, or `end`. */
function find(buf: Uint8Array, byte: number, start: number, end: number): number {
  const i = buf.indexOf(byte, start);
  return i < 0 || i > end ? end : i;
}

function countCommas(buf: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = find(buf, COMMA, start, end); i < end; i = find(buf, COMMA, i + 1, end)) n++;
  return n;
}

/** A growable pair of columns (field slot, id) shared by every common-feature line. */
class Pairs {
  slots = new Uint16Array(1 << 16);
  ids = new Uint32Array(1 << 16);
  length = 0;
  push(slot: number, id: number): void {
    if (this.length === this.slots.length) {
      this.slots = grown(this.slots, this.length * 2);
      this.ids = grown(this.ids, this.length * 2);
    }
    this.slots[this.length] = slot;
    this.ids[this.length++] = id;
  }
}

/** Per-chunk bags of every field plus labels and dense values. */
class ChunkBuilder {
  offsets: IntColumn[] = [];
  indices: IntColumn[] = [];
  labels = new FloatColumn();
  purchases = new FloatColumn();
  dense = new FloatColumn();
  rows = 0;
  constructor(readonly names: string[], fields: number) {
    for (let s = 0; s < fields; s++) this.addField();
  }
  addField(): void {
    this.indices.push(new IntColumn());
    const offsets = new IntColumn();
    for (let r = 0; r <= this.rows; r++) offsets.push(0);
    this.offsets.push(offsets);
  }
  build(firstRow: number, denseNames: string[]): AliCcpChunk {
    return {
      rows: this.rows,
      firstRow,
      labels: this.labels.toArray(),
      purchases: this.purchases.toArray(),
      denseNames,
      dense: this.dense.toArray(),
      sparse: this.offsets.map((o, s) => ({
        name: this.names[s],
        offsets: o.toArray(),
        indices: this.indices[s].toArray(),
      })),
    };
  }
}

/** The parts both scanners share: fields, row commits, chunking. */
class Scan {
  readonly stats = new AliCcpStats();
  readonly malformed: MalformedCounter;
  readonly collect: boolean;
  readonly batchRows: number;
  readonly maxIndRange: number;
  #remap: boolean;
  #rowCount: Int32Array = new Int32Array(16);
  #chunk: ChunkBuilder | undefined;
  #chunkStart = 0;
  denseNames: string[] = [];

  constructor(readonly options: AliCcpScanOptions, remap: boolean) {
    this.malformed = new MalformedCounter(options);
    this.collect = options.collect ?? true;
    this.batchRows = options.batchRows ?? 65536;
    this.maxIndRange = options.maxIndRange ?? 0;
    this.#remap = remap;
  }

  addField(name: string): number {
    const slot = this.stats.addField(name);
    if (slot >= this.#rowCount.length) {
      this.#rowCount = grown(this.#rowCount, this.#rowCount.length * 2);
    }
    this.#chunk?.addField();
    return slot;
  }

  get chunk(): ChunkBuilder {
    return this.#chunk ??= new ChunkBuilder(this.stats.names, this.stats.names.length);
  }

  /** Adds one id to the current row's bag of a field; returns the table index. */
  add(slot: number, id: number): number {
    const st = this.stats;
    if (id > st.maxId[slot]) st.maxId[slot] = id;
    let index: number;
    if (id <= UINT32_MAX) {
      // Raw ids are remapped in order of first appearance; CSV ids are the index.
      const first = st.ids[slot].indexOf(id);
      index = this.#remap ? first : id;
    } else {
      st.bigIds[slot].add(id);
      index = id;
    }
    if (this.maxIndRange > 0) index %= this.maxIndRange;
    this.#rowCount[slot]++;
    if (this.collect) this.chunk.indices[slot].push(index);
    return index;
  }

  /** Closes a row; true when a chunk is full. */
  endRow(click: number, purchase: number): boolean {
    const st = this.stats;
    st.rows++;
    st.clicks += click;
    st.purchases += purchase;
    const counts = this.#rowCount;
    for (let s = 0; s < st.names.length; s++) {
      const n = counts[s];
      if (n === 0) st.missing[s]++;
      else {
        st.total[s] += n;
        if (n > st.maxPerRow[s]) st.maxPerRow[s] = n;
        counts[s] = 0;
      }
    }
    if (!this.collect) return false;
    const c = this.chunk;
    c.rows++;
    for (let s = 0; s < st.names.length; s++) c.offsets[s].push(c.indices[s].length);
    c.labels.push(click);
    c.purchases.push(purchase);
    return c.rows >= this.batchRows;
  }

  /**
   * Ends the file: counts the malformed lines skipped and hands out the last
   * rows; a file without one valid `what` (sample, row) is a usage error.
   */
  finish(path: string, what: string): AliCcpChunk | undefined {
    this.stats.skipped = this.malformed.count;
    if (this.stats.rows === 0) {
      throw new UsageError(
        `${path} has no valid ${what} (${this.malformed.count} malformed skipped)`,
      );
    }
    return this.takeChunk();
  }

  /** Hands out the rows gathered since the last chunk, if any. */
  takeChunk(): AliCcpChunk | undefined {
    const c = this.#chunk;
    if (!c || c.rows === 0) return undefined;
    this.#chunk = undefined;
    const out = c.build(this.#chunkStart, this.denseNames);
    this.#chunkStart += out.rows;
    return out;
  }
}

/** One line's features, parsed before they are committed. */
class LineFeatures {
  slots = new Int32Array(256);
  ids = new Float64Array(256);
  /** Where each feature's field name is in the buffer. */
  names = new Int32Array(512);
  length = 0;
  push(nameStart: number, nameEnd: number, id: number): void {
    if (this.length === this.slots.length) {
      this.slots = grown(this.slots, this.length * 2);
      this.ids = grown(this.ids, this.length * 2);
      this.names = grown(this.names, this.length * 4);
    }
    this.names[2 * this.length] = nameStart;
    this.names[2 * this.length + 1] = nameEnd;
    this.ids[this.length++] = id;
  }
  /** Gives every feature its field's slot (creating new fields): once the line is known valid. */
  assignSlots(buf: Uint8Array, fields: FieldNames): void {
    for (let i = 0; i < this.length; i++) {
      this.slots[i] = fields.slot(buf, this.names[2 * i], this.names[2 * i + 1]);
    }
  }
}

/** Field names by a numeric key of their bytes (names up to 6 bytes) or by string. */
class FieldNames {
  #short = new Map<number, number>();
  #long = new Map<string, number>();
  constructor(readonly scan: Scan) {
    for (const name of ALI_CCP_FIELDS) this.#slotOf(new TextEncoder().encode(name), 0, name.length);
  }
  #slotOf(buf: Uint8Array, start: number, end: number): number {
    if (end - start <= 6) {
      let key = end - start;
      for (let i = start; i < end; i++) key = key * 256 + buf[i];
      let s = this.#short.get(key);
      if (s === undefined) {
        s = this.scan.addField(new TextDecoder().decode(buf.subarray(start, end)));
        this.#short.set(key, s);
      }
      return s;
    }
    const name = new TextDecoder().decode(buf.subarray(start, end));
    let s = this.#long.get(name);
    if (s === undefined) {
      s = this.scan.addField(name);
      this.#long.set(name, s);
    }
    return s;
  }
  slot(buf: Uint8Array, start: number, end: number): number {
    return this.#slotOf(buf, start, end);
  }
}

/**
 * Parses a feature list `field\x02id\x03value` joined by `\x01` into `out`
 * (without field slots: see `assignSlots`); returns a reason when malformed.
 */
function parseFeatureList(
  buf: Uint8Array,
  start: number,
  end: number,
  declared: number,
  declaredText: () => string,
  out: LineFeatures,
): string | undefined {
  out.length = 0;
  if (start < end) {
    let fs = start;
    for (;;) {
      const fe = find(buf, F1, fs, end);
      const a = find(buf, F2, fs, fe);
      const b = a < fe ? find(buf, F3, a + 1, fe) : fe;
      if (a === fs || a >= fe || b >= fe) {
        return `feature '${printable(buf, fs, fe)}' is not field\\x02id\\x03value`;
      }
      const id = digits(buf, a + 1, b);
      if (id < 0) {
        const text = latin1(buf, a + 1, b);
        if (/^-?\d+$/.test(text)) {
          return `feature id '${text}' is not an unsigned 32-bit integer`;
        }
        return `feature id '${printable(buf, a + 1, b)}' is not an integer`;
      }
      if (id > UINT32_MAX) return `feature id '${id}' is not an unsigned 32-bit integer`;
      out.push(fs, a, id);
      if (fe >= end) break;
      fs = fe + 1;
    }
  }
  if (declared < 0) return `feature_num '${declaredText()}' is not a number`;
  if (declared !== out.length) {
    return `feature_num is ${declared} but the list has ${out.length} features`;
  }
  return undefined;
}

/** Runs over the lines of a file; `onLine` returns a chunk to hand out, if any. */
async function* lines(
  path: string,
  onLine: (reader: LineReader) => AliCcpChunk | undefined | void,
): AsyncGenerator<AliCcpChunk> {
  const reader = await LineReader.open(path);
  try {
    for (;;) {
      while (reader.nextLine()) {
        const chunk = onLine(reader);
        if (chunk) yield chunk;
      }
      if (!(await reader.fill())) break;
    }
  } finally {
    reader.close();
  }
  if (reader.bytesRead === 0) throw new UsageError(`${path} is empty`);
}

/**
 * Streams an Ali-CCP raw skeleton joined with its common features; ids are
 * remapped per field in order of first appearance.
 *
 * @param path The sample skeleton.
 * @param common The common-features file.
 * @param options Chunking and malformed-line options.
 * @param stats Receives the statistics (filled as rows pass).
 * @returns The chunks.
 */
export async function* scanAliCcpRaw(
  path: string,
  common: string,
  options: AliCcpScanOptions,
  stats?: (s: AliCcpStats) => void,
): AsyncGenerator<AliCcpChunk> {
  const scan = new Scan(options, true);
  stats?.(scan.stats);
  const fields = new FieldNames(scan);
  const malformed = scan.malformed;
  const features = new LineFeatures();
  const pairs = new Pairs();
  const starts = new IntColumn(1 << 16);
  const entries = new Map<string, number>();
  starts.push(0);
  for await (
    const _ of lines(common, (r) => {
      const buf = r.buffer;
      const s = r.lineStart;
      const e = r.lineEnd;
      const n = r.lineNumber;
      const c1 = find(buf, COMMA, s, e);
      const c2 = find(buf, COMMA, c1 + 1, e);
      if (c2 >= e || find(buf, COMMA, c2 + 1, e) < e) {
        const got = s === e ? 1 : countCommas(buf, s, e) + 1;
        malformed.skip(common, n, `expected 3 comma-separated fields, got ${got}`);
        return;
      }
      const declared = digits(buf, c1 + 1, c2);
      const reason = parseFeatureList(
        buf,
        c2 + 1,
        e,
        declared,
        () => printable(buf, c1 + 1, c2),
        features,
      );
      if (reason) return malformed.skip(common, n, reason);
      if (c1 === s) return malformed.skip(common, n, "empty common_feature_index");
      features.assignSlots(buf, fields);
      for (let i = 0; i < features.length; i++) pairs.push(features.slots[i], features.ids[i]);
      entries.set(latin1(buf, s, c1), starts.length - 1);
      starts.push(pairs.length);
      return undefined;
    })
  ) { /* no chunks */ }
  const commonStarts = starts.data;
  yield* lines(path, (r) => {
    const buf = r.buffer;
    const s = r.lineStart;
    const e = r.lineEnd;
    const n = r.lineNumber;
    const c1 = find(buf, COMMA, s, e);
    const c2 = find(buf, COMMA, c1 + 1, e);
    const c3 = find(buf, COMMA, c2 + 1, e);
    const c4 = find(buf, COMMA, c3 + 1, e);
    const c5 = find(buf, COMMA, c4 + 1, e);
    if (c5 >= e || find(buf, COMMA, c5 + 1, e) < e) {
      const got = s === e ? 1 : countCommas(buf, s, e) + 1;
      malformed.skip(path, n, `expected 6 comma-separated fields, got ${got}`);
      return;
    }
    const click = label(buf, c1 + 1, c2);
    if (click < 0) return malformed.skip(path, n, "click is not 0 or 1");
    const conversion = label(buf, c2 + 1, c3);
    if (conversion < 0) return malformed.skip(path, n, "conversion is not 0 or 1");
    const entry = entries.get(latin1(buf, c3 + 1, c4));
    if (entry === undefined) {
      return malformed.skip(
        path,
        n,
        `common features '${printable(buf, c3 + 1, c4)}' are missing from ${common}`,
      );
    }
    const reason = parseFeatureList(
      buf,
      c5 + 1,
      e,
      digits(buf, c4 + 1, c5),
      () => printable(buf, c4 + 1, c5),
      features,
    );
    if (reason) return malformed.skip(path, n, reason);
    features.assignSlots(buf, fields);
    for (let i = commonStarts[entry]; i < commonStarts[entry + 1]; i++) {
      scan.add(pairs.slots[i], pairs.ids[i]);
    }
    for (let i = 0; i < features.length; i++) scan.add(features.slots[i], features.ids[i]);
    if (scan.endRow(click, conversion)) return scan.takeChunk();
    return undefined;
  });
  const last = scan.finish(path, "sample");
  if (last) yield last;
}

type Kind = 0 | 1 | 2 | 3; // click, purchase, dense, sparse
const CLICK = 0;
const PURCHASE = 1;
const DENSE = 2;
const SPARSE = 3;

/** A decimal number `[-]d*[.d*]`, else Number() of the text; NaN when not finite. */
function decimal(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  const negative = buf[i] === MINUS;
  if (negative) i++;
  let v = 0;
  let scale = 0;
  let any = false;
  for (; i < end; i++) {
    const c = buf[i];
    if (c >= ZERO && c <= NINE) {
      v = v * 10 + (c - ZERO);
      if (scale) scale *= 10;
      any = true;
    } else if (c === DOT && !scale) scale = 1;
    else break;
  }
  if (i === end && any && end - start < 16) {
    const x = scale ? v / scale : v;
    return negative ? -x : x;
  }
  const x = Number(latin1(buf, start, end));
  return Number.isFinite(x) ? x : NaN;
}

/**
 * Streams an Ali-CCP CSV file; sparse ids are used as given (table index = id,
 * mod `maxIndRange` when set).
 *
 * @param path The CSV file.
 * @param options Chunking, table rows and malformed-line options.
 * @param stats Receives the statistics (filled as rows pass).
 * @returns The chunks.
 * @throws UsageError when an id is at or above `tableRows` of its field.
 */
export async function* scanAliCcpCsv(
  path: string,
  options: AliCcpScanOptions,
  stats?: (s: AliCcpStats) => void,
): AsyncGenerator<AliCcpChunk> {
  const scan = new Scan(options, false);
  stats?.(scan.stats);
  const malformed = scan.malformed;
  let columns: string[] | undefined;
  let kinds: Kind[] = [];
  let slotOf: Int32Array = new Int32Array(0);
  let denseOf: Int32Array = new Int32Array(0);
  let rowDense = new Float64Array(0);
  let rowIds = new Float64Array(0);
  let starts = new Int32Array(0);
  let ends = new Int32Array(0);
  const tableRows = options.tableRows;
  const setColumns = (names: string[]) => {
    columns = names;
    kinds = names.map((c) =>
      c === "click" ? CLICK : c === "purchase" ? PURCHASE : /^D/.test(c) ? DENSE : SPARSE
    );
    if (!kinds.includes(CLICK)) throw new UsageError(`${path}: the header has no 'click' column`);
    slotOf = Int32Array.from(kinds, () => -1);
    denseOf = Int32Array.from(kinds, () => -1);
    names.forEach((name, i) => {
      if (kinds[i] === SPARSE) slotOf[i] = scan.addField(name);
      if (kinds[i] === DENSE) denseOf[i] = scan.denseNames.push(name) - 1;
    });
    if (tableRows && tableRows.length !== scan.stats.names.length) {
      throw new UsageError(
        `${path} has ${scan.stats.names.length} sparse fields but the model has ${tableRows.length} tables`,
      );
    }
    scan.stats.dense = scan.denseNames.map((name) => new DenseAccumulator(name));
    rowDense = new Float64Array(scan.denseNames.length);
    rowIds = new Float64Array(names.length);
    starts = new Int32Array(names.length);
    ends = new Int32Array(names.length);
  };
  yield* lines(path, (r) => {
    const buf = r.buffer;
    const s = r.lineStart;
    const e = r.lineEnd;
    const n = r.lineNumber;
    if (!columns) {
      const parts = new TextDecoder().decode(buf.subarray(s, e)).split(",");
      if (parts.every((p) => /^-?[\d.]+$/.test(p)) && parts.length >= 2) {
        setColumns(["click", "purchase", ...parts.slice(2).map((_, i) => `s${i + 1}`)]);
      } else {
        setColumns(parts.map((p) => p.trim()));
        return undefined;
      }
    }
    const count = columns!.length;
    let at = s;
    for (let i = 0; i < count; i++) {
      const end = find(buf, COMMA, at, e);
      starts[i] = at;
      ends[i] = end;
      if (end >= e && i < count - 1) {
        return malformed.skip(path, n, `expected ${count} comma-separated fields, got ${i + 1}`);
      }
      at = end + 1;
    }
    if (ends[count - 1] < e) {
      const got = countCommas(buf, s, e) + 1;
      return malformed.skip(path, n, `expected ${count} comma-separated fields, got ${got}`);
    }
    let click = 0;
    let purchase = 0;
    for (let i = 0; i < count; i++) {
      const a = starts[i];
      const b = ends[i];
      switch (kinds[i]) {
        case CLICK:
        case PURCHASE: {
          const v = label(buf, a, b);
          if (v < 0) return malformed.skip(path, n, `${columns![i]} is not 0 or 1`);
          if (kinds[i] === CLICK) click = v;
          else purchase = v;
          break;
        }
        case DENSE: {
          if (a === b) {
            rowDense[denseOf[i]] = NaN;
            break;
          }
          const x = decimal(buf, a, b);
          if (Number.isNaN(x)) {
            return malformed.skip(
              path,
              n,
              `${columns![i]} '${printable(buf, a, b)}' is not a number`,
            );
          }
          rowDense[denseOf[i]] = x;
          break;
        }
        default: {
          if (a === b) {
            rowIds[i] = -1;
            break;
          }
          const id = digits(buf, a, b);
          if (id < 0) {
            const text = latin1(buf, a, b);
            if (/^-\d+$/.test(text)) {
              return malformed.skip(path, n, `${columns![i]} id ${text} is negative`);
            }
            return malformed.skip(
              path,
              n,
              `${columns![i]} '${printable(buf, a, b)}' is not an integer id`,
            );
          }
          rowIds[i] = id;
        }
      }
    }
    // The line is valid: commit it.
    for (let i = 0; i < count; i++) {
      if (kinds[i] !== SPARSE || rowIds[i] < 0) continue;
      const slot = slotOf[i];
      const index = scan.add(slot, rowIds[i]);
      if (scan.collect && index > 0x7fffffff) {
        throw new UsageError(
          `${path}:${n}: field ${columns![i]} has id ${rowIds[i]}, too large for a table index ` +
            "(cap the tables with --max-ind-range)",
        );
      }
      if (tableRows && index >= tableRows[slot]) {
        throw new UsageError(
          `${path}:${n}: field ${columns![i]} has id ${rowIds[i]}${
            scan.maxIndRange > 0 ? ` (index ${index} mod ${scan.maxIndRange})` : ""
          } but its table has ${tableRows[slot]} rows`,
        );
      }
    }
    const accs = scan.stats.dense;
    for (let d = 0; d < rowDense.length; d++) {
      const x = rowDense[d];
      if (Number.isNaN(x)) accs[d].missing++;
      else accs[d].add(x);
      if (scan.collect) scan.chunk.dense.push(Number.isNaN(x) ? 0 : x);
    }
    if (scan.endRow(click, purchase)) return scan.takeChunk();
    return undefined;
  });
  const last = scan.finish(path, "row");
  if (last) yield last;
}
