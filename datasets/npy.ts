/**
 * NumPy `.npy` files: format versions 1 to 3, little-endian, for the element
 * types the suite needs (`<i4 <i8 <f4 <f8 |u1 |b1`). Arrays are always handed
 * out and written in C order; Fortran-ordered files are reordered on reading.
 *
 * @module
 */

/** The element types this reader and writer support (NumPy `descr` strings). */
export type NpyDtype = "<i4" | "<i8" | "<f4" | "<f8" | "|u1" | "|b1";

/** The typed array that holds the elements of an array of some {@link NpyDtype}. */
export type NpyData = Int32Array | BigInt64Array | Float32Array | Float64Array | Uint8Array;

/** An n-dimensional array in C (row-major) order. */
export interface NpyArray {
  /** The element type. */
  dtype: NpyDtype;
  /** The dimensions; `[]` is a scalar (one element). */
  shape: number[];
  /** The elements in C order; `|b1` is stored as 0/1 bytes. */
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

interface DtypeInfo {
  size: number;
  make: (buffer: ArrayBuffer, byteOffset: number, length: number) => NpyData;
}

const DTYPES: Record<NpyDtype, DtypeInfo> = {
  "<i4": { size: 4, make: (b, o, n) => new Int32Array(b, o, n) },
  "<i8": { size: 8, make: (b, o, n) => new BigInt64Array(b, o, n) },
  "<f4": { size: 4, make: (b, o, n) => new Float32Array(b, o, n) },
  "<f8": { size: 8, make: (b, o, n) => new Float64Array(b, o, n) },
  "|u1": { size: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
  "|b1": { size: 1, make: (b, o, n) => new Uint8Array(b, o, n) },
};

/** Spellings NumPy may write for the same little-endian types. */
const ALIASES: Record<string, NpyDtype> = {
  "<i4": "<i4",
  "<i8": "<i8",
  "<f4": "<f4",
  "<f8": "<f8",
  "|u1": "|u1",
  "<u1": "|u1",
  "u1": "|u1",
  "|b1": "|b1",
  "<b1": "|b1",
  "b1": "|b1",
};

/** The number of elements of an array of the given shape (1 for a scalar). */
function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/**
 * Checks that an array's data matches its dtype and shape.
 *
 * @example Check an array
 * ```ts
 * import { validateNpyArray } from "@blsbench/core/datasets";
 * validateNpyArray({ dtype: "<f4", shape: [2], data: new Float32Array(2) });
 * ```
 *
 * @param array The array.
 * @throws TypeError when the typed array does not match the dtype.
 * @throws RangeError when the element count does not match the shape.
 */
export function validateNpyArray(array: NpyArray): void {
  const info = DTYPES[array.dtype];
  if (!info) throw new TypeError(`Unsupported npy dtype '${array.dtype}'`);
  const expected = {
    "<i4": Int32Array,
    "<i8": BigInt64Array,
    "<f4": Float32Array,
    "<f8": Float64Array,
    "|u1": Uint8Array,
    "|b1": Uint8Array,
  }[array.dtype];
  if (!(array.data instanceof expected)) {
    throw new TypeError(`dtype ${array.dtype} needs a ${expected.name}`);
  }
  for (const d of array.shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`Bad dimension ${d} in shape`);
  }
  const n = elementCount(array.shape);
  if (array.data.length !== n) {
    throw new RangeError(
      `Shape [${array.shape.join(",")}] needs ${n} elements, data has ${array.data.length}`,
    );
  }
}

// ---- header parsing: a tiny reader for the Python dict literal NumPy writes ----

type PyValue = string | number | boolean | PyValue[] | { [key: string]: PyValue };

class PyLiteralReader {
  pos = 0;
  constructor(readonly text: string) {}

  fail(what: string): never {
    throw new SyntaxError(`Bad npy header: ${what} at ${this.pos} in ${JSON.stringify(this.text)}`);
  }

  skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  value(): PyValue {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === "{") return this.dict();
    if (c === "(" || c === "[") return this.sequence(c === "(" ? ")" : "]");
    if (c === "'" || c === '"') return this.string();
    const word = /^(True|False|-?\d+L?)/.exec(this.text.slice(this.pos));
    if (!word) this.fail("unexpected value");
    this.pos += word[0].length;
    if (word[0] === "True") return true;
    if (word[0] === "False") return false;
    return Number(word[0].replace("L", ""));
  }

  string(): string {
    const quote = this.text[this.pos++];
    const end = this.text.indexOf(quote, this.pos);
    if (end < 0) this.fail("unterminated string");
    const s = this.text.slice(this.pos, end);
    this.pos = end + 1;
    return s;
  }

  sequence(close: string): PyValue[] {
    this.pos++;
    const items: PyValue[] = [];
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === close) {
        this.pos++;
        return items;
      }
      items.push(this.value());
      this.skipSpace();
      if (this.text[this.pos] === ",") this.pos++;
      else if (this.text[this.pos] !== close) this.fail(`expected ',' or '${close}'`);
    }
  }

  dict(): { [key: string]: PyValue } {
    this.pos++;
    const out: { [key: string]: PyValue } = {};
    for (;;) {
      this.skipSpace();
      if (this.text[this.pos] === "}") {
        this.pos++;
        return out;
      }
      const key = this.value();
      if (typeof key !== "string") this.fail("dict key is not a string");
      this.skipSpace();
      if (this.text[this.pos] !== ":") this.fail("expected ':'");
      this.pos++;
      out[key] = this.value();
      this.skipSpace();
      if (this.text[this.pos] === ",") this.pos++;
      else if (this.text[this.pos] !== "}") this.fail("expected ',' or '}'");
    }
  }
}

/** The header of an `.npy` file: what its elements are and where they start. */
export interface NpyHeader {
  /** The element type. */
  dtype: NpyDtype;
  /** The array's shape. */
  shape: number[];
  /** Byte offset of the first element from the start of the file. */
  dataOffset: number;
  /** Whether the elements are in Fortran (column-major) order. */
  fortranOrder: boolean;
}

/**
 * Bytes per element of a dtype.
 *
 * @example
 * ```ts
 * import { npyItemSize } from "@blsbench/core/datasets";
 * if (npyItemSize("<f8") !== 8) throw new Error("wrong size");
 * ```
 *
 * @param dtype The element type.
 * @returns The size in bytes.
 */
export function npyItemSize(dtype: NpyDtype): number {
  return DTYPES[dtype].size;
}

/**
 * A typed array of a dtype over bytes (copied when they are not aligned).
 *
 * @example Four bytes as one int32
 * ```ts
 * import { npyElements } from "@blsbench/core/datasets";
 * if (npyElements("<i4", new Uint8Array([7, 0, 0, 0]))[0] !== 7) throw new Error("wrong value");
 * ```
 *
 * @param dtype The element type.
 * @param bytes The elements' bytes (little-endian).
 * @returns The elements.
 */
export function npyElements(dtype: NpyDtype, bytes: Uint8Array): NpyData {
  const info = DTYPES[dtype];
  const count = Math.floor(bytes.byteLength / info.size);
  if (bytes.byteOffset % info.size === 0) {
    return info.make(bytes.buffer as ArrayBuffer, bytes.byteOffset, count);
  }
  return info.make(bytes.slice(0, count * info.size).buffer, 0, count);
}

/**
 * Parses the header of an `.npy` file from its first bytes (at least up to the
 * end of the header), so large arrays can be read in pieces.
 *
 * @example The header of an encoded array
 * ```ts
 * import { encodeNpyHeader, parseNpyHeader } from "@blsbench/core/datasets";
 * const header = parseNpyHeader(encodeNpyHeader("<i4", [5, 2]));
 * if (header.shape.join() !== "5,2" || header.dataOffset % 64 !== 0) throw new Error("bad header");
 * ```
 *
 * @param bytes The file's first bytes.
 * @returns The header.
 * @throws SyntaxError on a bad or unsupported header.
 */
export function parseNpyHeader(bytes: Uint8Array): NpyHeader {
  return parseHeader(bytes);
}

function parseHeader(bytes: Uint8Array): NpyHeader {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new SyntaxError("Not an npy file (missing \\x93NUMPY magic)");
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new SyntaxError("Truncated npy header");
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new SyntaxError(`Unsupported npy format version ${major}.${bytes[7]}`);
  }
  const dataOffset = headerStart + headerLength;
  if (dataOffset > bytes.length) throw new SyntaxError("Truncated npy header");
  // Version 1 and 2 headers are latin1, version 3 UTF-8; the keys we read are ASCII either way.
  const text = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(headerStart, dataOffset),
  );
  const dict = new PyLiteralReader(text).value();
  if (typeof dict !== "object" || Array.isArray(dict)) {
    throw new SyntaxError("Bad npy header: not a dict");
  }
  const descr = dict["descr"];
  if (typeof descr !== "string") {
    throw new SyntaxError("Unsupported npy dtype: structured arrays are not supported");
  }
  const dtype = ALIASES[descr];
  if (!dtype) {
    if (descr.startsWith(">")) {
      throw new SyntaxError(`Unsupported npy dtype '${descr}': big-endian data is not supported`);
    }
    throw new SyntaxError(
      `Unsupported npy dtype '${descr}' (supported: ${Object.keys(DTYPES).join(" ")})`,
    );
  }
  const fortranOrder = dict["fortran_order"];
  if (typeof fortranOrder !== "boolean") throw new SyntaxError("Bad npy header: no fortran_order");
  const shape = dict["shape"];
  if (
    !Array.isArray(shape) ||
    shape.some((d) => typeof d !== "number" || !Number.isSafeInteger(d) || d < 0)
  ) {
    throw new SyntaxError("Bad npy header: shape is not a tuple of sizes");
  }
  return { dtype, shape: shape as number[], dataOffset, fortranOrder };
}

/**
 * Reorders elements stored in Fortran (column-major) order into C order. NumPy
 * writes Fortran order for transposed arrays (DLRM's `X_cat`, pandas frames).
 */
function fortranToC(data: NpyData, shape: readonly number[]): NpyData {
  const n = data.length;
  const out = new (data.constructor as { new (n: number): NpyData })(n);
  const rank = shape.length;
  // Fortran strides: the first index moves fastest.
  const strides: number[] = [];
  let s = 1;
  for (let k = 0; k < rank; k++) {
    strides.push(s);
    s *= shape[k];
  }
  const index = new Array(rank).fill(0);
  let source = 0;
  for (let i = 0; i < n; i++) {
    out[i] = data[source];
    // Advance the C-order multi-index (the last index moves fastest).
    for (let k = rank - 1; k >= 0; k--) {
      index[k]++;
      source += strides[k];
      if (index[k] < shape[k]) break;
      source -= strides[k] * shape[k];
      index[k] = 0;
    }
  }
  return out;
}

/**
 * Parses the bytes of an `.npy` file. The returned data is always in C order
 * (a Fortran-ordered file, as NumPy writes for transposed arrays, is reordered);
 * it may share memory with `bytes` when the elements are suitably aligned.
 *
 * @example Parse an encoded array
 * ```ts
 * import { encodeNpy, parseNpy } from "@blsbench/core/datasets";
 * const bytes = encodeNpy({ dtype: "<i4", shape: [3], data: new Int32Array([1, 2, 3]) });
 * const array = parseNpy(bytes);
 * if (array.data[2] !== 3) throw new Error("wrong value");
 * ```
 *
 * @param bytes The file's content.
 * @returns The array.
 * @throws SyntaxError on a bad or unsupported file (big-endian, other dtypes, truncated data).
 */
export function parseNpy(bytes: Uint8Array): NpyArray {
  const { dtype, shape, dataOffset, fortranOrder } = parseHeader(bytes);
  const info = DTYPES[dtype];
  const count = elementCount(shape);
  const byteLength = count * info.size;
  if (dataOffset + byteLength > bytes.length) {
    throw new SyntaxError(
      `Truncated npy data: shape [${shape.join(",")}] needs ${byteLength} bytes, file has ${
        bytes.length - dataOffset
      }`,
    );
  }
  const start = bytes.byteOffset + dataOffset;
  let data: NpyData;
  if (start % info.size === 0) {
    data = info.make(bytes.buffer as ArrayBuffer, start, count);
  } else {
    // Typed arrays need aligned offsets: copy the elements into a fresh buffer.
    const copy = bytes.slice(dataOffset, dataOffset + byteLength);
    data = info.make(copy.buffer, 0, count);
  }
  if (fortranOrder && shape.length > 1) data = fortranToC(data, shape);
  return { dtype, shape, data };
}

/**
 * Encodes the header of an `.npy` file (magic, version, padded dict) for an
 * array of the given dtype and shape; the elements follow it. Version 1, or 2
 * when the header is too long for version 1; the data starts at a multiple of
 * 64 bytes, as NumPy writes it. Use it to stream large arrays to a file.
 *
 * @example A header for a 3 x 4 float array
 * ```ts
 * import { encodeNpyHeader } from "@blsbench/core/datasets";
 * const header = encodeNpyHeader("<f4", [3, 4]);
 * if (header.length % 64 !== 0) throw new Error(`unaligned: ${header.length}`);
 * ```
 *
 * @param dtype The element type.
 * @param shape The dimensions.
 * @returns The header bytes.
 * @throws RangeError on a bad dimension.
 */
export function encodeNpyHeader(dtype: NpyDtype, shape: readonly number[]): Uint8Array {
  if (!DTYPES[dtype]) throw new TypeError(`Unsupported npy dtype '${dtype}'`);
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new RangeError(`Bad dimension ${d} in shape`);
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  const dict = `{'descr': '${dtype}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let version = 1;
  let prefix = 10;
  let total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  if (total - prefix > 0xffff) {
    version = 2;
    prefix = 12;
    total = Math.ceil((prefix + dict.length + 1) / 64) * 64;
  }
  const headerText = dict + " ".repeat(total - prefix - dict.length - 1) + "\n";
  const out = new Uint8Array(total);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, total - prefix, true);
  else view.setUint32(8, total - prefix, true);
  for (let i = 0; i < headerText.length; i++) out[prefix + i] = headerText.charCodeAt(i);
  return out;
}

/**
 * Encodes an array as an `.npy` file (see {@link encodeNpyHeader} for the header).
 *
 * @example Encode an array
 * ```ts
 * import { encodeNpy } from "@blsbench/core/datasets";
 * const bytes = encodeNpy({ dtype: "<f8", shape: [2, 2], data: new Float64Array(4) });
 * if (bytes.length !== 128 + 32) throw new Error(`unexpected size ${bytes.length}`);
 * ```
 *
 * @param array The array.
 * @returns The file's bytes.
 * @throws TypeError or RangeError when the data does not match the dtype and shape.
 */
export function encodeNpy(array: NpyArray): Uint8Array {
  validateNpyArray(array);
  const header = encodeNpyHeader(array.dtype, array.shape);
  const payload = new Uint8Array(
    array.data.buffer,
    array.data.byteOffset,
    array.data.byteLength,
  );
  const out = new Uint8Array(header.length + payload.length);
  out.set(header, 0);
  out.set(payload, header.length);
  return out;
}
