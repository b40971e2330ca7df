/**
 * NumPy `.npz` archives: a zip file (stored or deflated) of `.npy` members.
 * Files are read and written piece by piece with zip64, so an archive, or one
 * member, may pass 4 GiB; {@link NpzReader} reads a member's rows in chunks.
 * In-memory archives (`parseNpz`, `encodeNpz`) go through fflate.
 *
 * @module
 */

import { unzipSync, type Zippable, zipSync } from "fflate";
import {
  encodeNpy,
  type NpyArray,
  type NpyData,
  type NpyDtype,
  npyElements,
  type NpyHeader,
  npyItemSize,
  parseNpy,
  parseNpyHeader,
  validateNpyArray,
} from "./npy.ts";
import { assembleNpz } from "./_npz_stream.ts";
import { UsageError } from "../util/errors.ts";
import {
  readFileAt,
  readZipDirectory,
  zipDataOffset,
  type ZipEntry,
  zipMemberBytes,
} from "./_zip.ts";

/** Options for writing an `.npz` archive. */
export interface NpzWriteOptions {
  /** Deflate the members, as `numpy.savez_compressed` does (default false: stored, as `numpy.savez`). */
  compress?: boolean;
  /** Write zip64 records even when nothing needs them, as NumPy does (default false). */
  forceZip64?: boolean;
}

/** Arrays by name, as a map or a plain object. */
export type NpzArrays = Map<string, NpyArray> | Record<string, NpyArray>;

function entriesOf(arrays: NpzArrays): [string, NpyArray][] {
  return arrays instanceof Map ? [...arrays.entries()] : Object.entries(arrays);
}

/**
 * Parses the bytes of an `.npz` archive.
 *
 * @example Parse an encoded archive
 * ```ts
 * import { encodeNpz, parseNpz } from "@blsbench/core/datasets";
 * const bytes = encodeNpz({ y: { dtype: "<f4", shape: [2], data: new Float32Array([0, 1]) } });
 * const arrays = parseNpz(bytes);
 * if (arrays.get("y")?.data[1] !== 1) throw new Error("wrong value");
 * ```
 *
 * @param bytes The archive's content.
 * @returns The arrays by name, without the `.npy` suffix.
 * @throws SyntaxError when the bytes are not a zip archive or a member is not a supported npy file.
 */
export function parseNpz(bytes: Uint8Array): Map<string, NpyArray> {
  let members: Record<string, Uint8Array>;
  try {
    members = unzipSync(bytes);
  } catch (e) {
    throw new SyntaxError(`Not an npz file: ${(e as Error).message}`);
  }
  const out = new Map<string, NpyArray>();
  for (const [name, content] of Object.entries(members)) {
    if (name.endsWith("/")) continue; // a directory entry
    const key = name.endsWith(".npy") ? name.slice(0, -4) : name;
    try {
      out.set(key, parseNpy(content));
    } catch (e) {
      throw new SyntaxError(`Bad npz member '${name}': ${(e as Error).message}`);
    }
  }
  return out;
}

/**
 * Encodes arrays as an `.npz` archive; member names get the `.npy` suffix.
 *
 * @example Encode two arrays, compressed
 * ```ts
 * import { encodeNpz } from "@blsbench/core/datasets";
 * const bytes = encodeNpz(
 *   {
 *     a: { dtype: "<i4", shape: [4], data: new Int32Array(4) },
 *     b: { dtype: "|u1", shape: [], data: new Uint8Array([7]) },
 *   },
 *   { compress: true },
 * );
 * if (bytes[0] !== 0x50) throw new Error("not a zip");
 * ```
 *
 * @param arrays The arrays by name.
 * @param options Whether to deflate.
 * @returns The archive's bytes.
 * @throws TypeError or RangeError when an array's data does not match its dtype and shape.
 */
export function encodeNpz(arrays: NpzArrays, options: NpzWriteOptions = {}): Uint8Array {
  const level = options.compress ? 6 : 0;
  const files: Zippable = {};
  for (const [name, array] of entriesOf(arrays)) {
    files[`${name}.npy`] = [encodeNpy(array), { level }];
  }
  // A fixed modification time keeps the archive's bytes reproducible.
  return zipSync(files, { level, mtime: new Date(1980, 0, 1) });
}

/** One member of an `.npz` archive, from its npy header. */
export interface NpzMemberInfo {
  /** The array's name (without `.npy`). */
  name: string;
  /** The element type. */
  dtype: NpyDtype;
  /** The array's shape. */
  shape: number[];
  /** Whether the elements are in Fortran order. */
  fortranOrder: boolean;
  /** Whether the member is deflated (else stored). */
  compressed: boolean;
}

/** Rows `start..start+rows` of an array, C order. */
export interface NpzRows {
  /** The first row. */
  start: number;
  /** Rows in this piece. */
  rows: number;
  /** The elements, row-major [rows x row length]. */
  data: NpyData;
}

interface Member {
  info: NpzMemberInfo;
  entry: ZipEntry;
  /** Offset of the first element in the file (stored members). */
  elements: number;
  header: NpyHeader;
}

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * An `.npz` file opened for reading: the members' headers are read up front, the
 * elements when asked for, whole or in chunks of rows, so memory holds one
 * chunk. zip64 archives (beyond 4 GiB, and NumPy's, which marks every member
 * zip64) are read as well.
 *
 * @example Read a member in chunks of two rows
 * ```ts
 * import { NpzReader, writeNpz } from "@blsbench/core/datasets";
 * const path = `${await Deno.makeTempDir()}/a.npz`;
 * await writeNpz(path, { x: { dtype: "<i4", shape: [5, 2], data: Int32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]) } });
 * const npz = await NpzReader.open(path);
 * const starts: number[] = [];
 * for await (const piece of npz.rows("x", 2)) starts.push(piece.start);
 * npz.close();
 * if (starts.join() !== "0,2,4") throw new Error(`chunks ${starts}`);
 * ```
 */
export class NpzReader {
  /** The members by name. */
  readonly members: Map<string, NpzMemberInfo> = new Map();
  #members = new Map<string, Member>();
  #file: Deno.FsFile;

  private constructor(readonly path: string, file: Deno.FsFile) {
    this.#file = file;
  }

  /**
   * Opens a file and reads its directory and the members' npy headers.
   *
   * @param path The file.
   * @returns The reader.
   * @throws SyntaxError naming the file when it is not a supported npz archive.
   */
  static async open(path: string): Promise<NpzReader> {
    const file = await Deno.open(path, { read: true });
    const reader = new NpzReader(path, file);
    try {
      await reader.#readHeaders();
    } catch (e) {
      file.close();
      if (e instanceof SyntaxError) throw new SyntaxError(`${path}: ${e.message}`);
      throw e;
    }
    return reader;
  }

  async #readHeaders(): Promise<void> {
    for (const entry of await readZipDirectory(this.#file)) {
      if (entry.name.endsWith("/")) continue; // a directory entry
      const name = entry.name.endsWith(".npy") ? entry.name.slice(0, -4) : entry.name;
      let first: Uint8Array;
      const start = await zipDataOffset(this.#file, entry);
      if (entry.method === 0) {
        first = await readFileAt(this.#file, start, Math.min(entry.size, 1 << 16));
      } else {
        const pieces: Uint8Array[] = [];
        let have = 0;
        for await (const piece of zipMemberBytes(this.#file, entry, 1 << 16)) {
          pieces.push(piece);
          have += piece.length;
          if (have >= 1 << 16) break;
        }
        first = new Uint8Array(have);
        let at = 0;
        for (const p of pieces) {
          first.set(p, at);
          at += p.length;
        }
      }
      let header: NpyHeader;
      try {
        header = parseNpyHeader(first);
      } catch (e) {
        throw new SyntaxError(`Bad npz member '${entry.name}': ${(e as Error).message}`);
      }
      const bytes = elementCount(header.shape) * npyItemSize(header.dtype);
      if (header.dataOffset + bytes > entry.size) {
        throw new SyntaxError(
          `Bad npz member '${entry.name}': Truncated npy data: shape [${
            header.shape.join(",")
          }] needs ${bytes} bytes, file has ${entry.size - header.dataOffset}`,
        );
      }
      const info: NpzMemberInfo = {
        name,
        dtype: header.dtype,
        shape: header.shape,
        fortranOrder: header.fortranOrder && header.shape.length > 1,
        compressed: entry.method !== 0,
      };
      this.members.set(name, info);
      this.#members.set(name, { info, entry, elements: start + header.dataOffset, header });
    }
  }

  #member(name: string): Member {
    const m = this.#members.get(name);
    if (!m) throw new SyntaxError(`${this.path}: no member '${name}'`);
    return m;
  }

  /**
   * Reads a whole member.
   *
   * @param name The array's name.
   * @returns The array, C order.
   * @throws SyntaxError when the member is missing or corrupt.
   */
  async read(name: string): Promise<NpyArray> {
    const m = this.#member(name);
    const { dtype, shape } = m.info;
    const bytes = elementCount(shape) * npyItemSize(dtype);
    if (m.entry.method === 0) {
      if (!m.info.fortranOrder) {
        return {
          dtype,
          shape,
          data: npyElements(dtype, await readFileAt(this.#file, m.elements, bytes)),
        };
      }
      const start = m.elements - m.header.dataOffset;
      return parseNpy(await readFileAt(this.#file, start, m.header.dataOffset + bytes));
    }
    const all = new Uint8Array(m.entry.size);
    let at = 0;
    try {
      for await (const piece of zipMemberBytes(this.#file, m.entry)) {
        all.set(piece, at);
        at += piece.length;
      }
    } catch (e) {
      throw new SyntaxError(`${this.path}: ${(e as Error).message}`);
    }
    return parseNpy(all);
  }

  /**
   * Reads a member's rows (its first axis) in chunks, in order; memory holds one
   * chunk (a deflated Fortran-ordered member is read whole first).
   *
   * @param name The array's name.
   * @param rowsPerChunk Rows per chunk.
   * @returns The chunks.
   * @throws SyntaxError when the member is missing, a scalar or corrupt.
   */
  async *rows(name: string, rowsPerChunk: number): AsyncGenerator<NpzRows> {
    const m = this.#member(name);
    const { dtype, shape, fortranOrder } = m.info;
    if (shape.length === 0) throw new SyntaxError(`${this.path}: '${name}' is a scalar`);
    const total = shape[0];
    const rowLength = elementCount(shape.slice(1));
    const item = npyItemSize(dtype);
    const rowBytes = rowLength * item;
    const step = Math.max(1, Math.floor(rowsPerChunk));
    if (m.entry.method === 0) {
      for (let start = 0; start < total; start += step) {
        const rows = Math.min(step, total - start);
        if (!fortranOrder) {
          const bytes = await readFileAt(
            this.#file,
            m.elements + start * rowBytes,
            rows * rowBytes,
          );
          yield { start, rows, data: npyElements(dtype, bytes) };
          continue;
        }
        // Fortran order, 2-D: each column's rows are contiguous.
        const out = npyElements(dtype, new Uint8Array(rows * rowBytes));
        for (let j = 0; j < rowLength; j++) {
          const at = m.elements + (j * total + start) * item;
          const column = npyElements(dtype, await readFileAt(this.#file, at, rows * item));
          for (let r = 0; r < rows; r++) out[r * rowLength + j] = column[r];
        }
        yield { start, rows, data: out };
      }
      return;
    }
    if (fortranOrder) {
      const whole = await this.read(name);
      for (let start = 0; start < total; start += step) {
        const rows = Math.min(step, total - start);
        yield {
          start,
          rows,
          data: whole.data.subarray(start * rowLength, (start + rows) * rowLength) as NpyData,
        };
      }
      return;
    }
    // Deflated, C order: inflate in order, skipping the header, cutting chunks of rows.
    let skip = m.header.dataOffset;
    const chunkBytes = step * rowBytes;
    let buffer = new Uint8Array(Math.max(1, Math.min(chunkBytes, total * rowBytes)));
    let have = 0;
    let start = 0;
    try {
      for await (let piece of zipMemberBytes(this.#file, m.entry)) {
        if (skip > 0) {
          const n = Math.min(skip, piece.length);
          piece = piece.subarray(n);
          skip -= n;
        }
        while (piece.length > 0 && start < total) {
          const n = Math.min(piece.length, buffer.length - have);
          buffer.set(piece.subarray(0, n), have);
          have += n;
          piece = piece.subarray(n);
          if (have === buffer.length) {
            const rows = have / rowBytes;
            yield { start, rows, data: npyElements(dtype, buffer) };
            start += rows;
            buffer = new Uint8Array(Math.max(1, Math.min(chunkBytes, (total - start) * rowBytes)));
            have = 0;
          }
        }
      }
    } catch (e) {
      throw new SyntaxError(`${this.path}: ${(e as Error).message}`);
    }
  }

  /** Closes the file. */
  close(): void {
    try {
      this.#file.close();
    } catch { /* closed */ }
  }
}

/**
 * Reads an `.npz` file (stored or deflated members, zip64 included).
 *
 * @example Write and read back
 * ```ts
 * import { readNpz, writeNpz } from "@blsbench/core/datasets";
 * const path = `${await Deno.makeTempDir()}/a.npz`;
 * await writeNpz(path, { x: { dtype: "<f8", shape: [1], data: new Float64Array([2.5]) } });
 * const arrays = await readNpz(path);
 * if (arrays.get("x")?.data[0] !== 2.5) throw new Error("wrong value");
 * ```
 *
 * @param path The file.
 * @returns The arrays by name.
 * @throws SyntaxError when the file is not a supported npz archive (the message names the file).
 */
export async function readNpz(path: string): Promise<Map<string, NpyArray>> {
  const npz = await NpzReader.open(path);
  try {
    const out = new Map<string, NpyArray>();
    for (const name of npz.members.keys()) out.set(name, await npz.read(name));
    return out;
  } finally {
    npz.close();
  }
}

/**
 * Writes arrays to an `.npz` file atomically (a reader never sees half a file),
 * piece by piece, with zip64 records where the archive or a member passes 4 GiB.
 *
 * @example Write a compressed archive
 * ```ts
 * import { writeNpz } from "@blsbench/core/datasets";
 * const path = `${await Deno.makeTempDir()}/w.npz`;
 * await writeNpz(path, new Map([["w", { dtype: "<f4", shape: [2, 2], data: new Float32Array(4) }]]), {
 *   compress: true,
 * });
 * ```
 *
 * @param path The file.
 * @param arrays The arrays by name.
 * @param options Whether to deflate.
 */
export async function writeNpz(
  path: string,
  arrays: NpzArrays,
  options: NpzWriteOptions = {},
): Promise<void> {
  const members = entriesOf(arrays).map(([name, array]) => {
    validateNpyArray(array);
    const d = array.data;
    return {
      name,
      dtype: array.dtype,
      shape: array.shape,
      data: new Uint8Array(d.buffer, d.byteOffset, d.byteLength),
    };
  });
  // Streamed to a temporary file (no second copy of the arrays in memory), then renamed.
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    await assembleNpz(tmp, members, options.compress ?? false, {
      forceZip64: options.forceZip64,
    });
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}

/**
 * Opens a data file as {@link NpzReader.open} does, for a user's input: a file
 * that cannot be read at all is a usage error naming it; a malformed archive
 * stays a `SyntaxError`.
 *
 * @example A missing file
 * ```ts
 * import { openNpzData } from "@blsbench/core/datasets";
 * import { rejects } from "node:assert/strict";
 * await rejects(openNpzData("/nonexistent/data.npz"), /Cannot read \/nonexistent\/data.npz/);
 * ```
 *
 * @param path The file.
 * @returns The reader.
 * @throws UsageError when the file cannot be read; SyntaxError when it is not an npz archive.
 */
export async function openNpzData(path: string): Promise<NpzReader> {
  try {
    return await NpzReader.open(path);
  } catch (e) {
    if (e instanceof SyntaxError) throw e;
    throw new UsageError(`Cannot read ${path}: ${(e as Error).message.split("\n")[0]}`);
  }
}
