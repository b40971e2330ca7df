/**
 * Zip archives on disk, read and written piece by piece, with zip64 (members,
 * offsets and archives beyond 4 GiB), for `.npz` files of any size. Members are
 * stored or deflated (fflate's streaming `Deflate`/`Inflate`); CRC-32 comes from
 * `node:zlib` (native).
 *
 * @module
 */

import { Deflate, Inflate } from "fflate";
import * as zlib from "node:zlib";

type Crc32 = (data: Uint8Array, value?: number) => number;
const crc32 = (zlib as unknown as { crc32: Crc32 }).crc32;

const LOCAL = 0x04034b50;
const CENTRAL = 0x02014b50;
const END = 0x06054b50;
const END64 = 0x06064b50;
const LOCATOR64 = 0x07064b50;
const U32 = 0xffffffff;
const U16 = 0xffff;
/** DOS date of 1980-01-01 (time 0): a fixed time keeps archives reproducible. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;

/** One member as the central directory describes it. */
export interface ZipEntry {
  /** The member's name. */
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  /** CRC-32 of the uncompressed bytes. */
  crc: number;
  /** Bytes in the archive. */
  compressedSize: number;
  /** Bytes once inflated. */
  size: number;
  /** Offset of the local header. */
  localOffset: number;
}

/** Per file, the read in progress: a seek and its read must not interleave with another's. */
const busy = new WeakMap<Deno.FsFile, Promise<unknown>>();

function readAt(file: Deno.FsFile, offset: number, length: number): Promise<Uint8Array> {
  const run = async () => {
    const out = new Uint8Array(length);
    await file.seek(offset, Deno.SeekMode.Start);
    let done = 0;
    while (done < length) {
      const n = await file.read(out.subarray(done));
      if (n === null) throw new SyntaxError(`unexpected end of file at byte ${offset + done}`);
      done += n;
    }
    return out;
  };
  const result = (busy.get(file) ?? Promise.resolve()).then(run, run);
  busy.set(file, result.catch(() => {}));
  return result;
}

function u64(view: DataView, at: number): number {
  return view.getUint32(at, true) + view.getUint32(at + 4, true) * 2 ** 32;
}

/**
 * Reads the central directory of a zip file (zip64 included).
 *
 * @param file The open file.
 * @returns The members.
 * @throws SyntaxError when the file is not a zip archive.
 */
export async function readZipDirectory(file: Deno.FsFile): Promise<ZipEntry[]> {
  const size = (await file.stat()).size;
  const tailLength = Math.min(size, 22 + 0xffff + 20);
  const tail = await readAt(file, size - tailLength, tailLength);
  const view = new DataView(tail.buffer);
  let end = -1;
  for (let i = tailLength - 22; i >= 0; i--) {
    if (view.getUint32(i, true) === END) {
      end = i;
      break;
    }
  }
  if (end < 0) throw new SyntaxError("not a zip archive (no end of central directory)");
  let count = view.getUint16(end + 10, true);
  let cdSize = view.getUint32(end + 12, true);
  let cdOffset = view.getUint32(end + 16, true);
  if (end >= 20 && view.getUint32(end - 20, true) === LOCATOR64) {
    const at = u64(view, end - 20 + 8);
    const record = new DataView((await readAt(file, at, 56)).buffer);
    if (record.getUint32(0, true) !== END64) throw new SyntaxError("bad zip64 end record");
    count = u64(record, 32);
    cdSize = u64(record, 40);
    cdOffset = u64(record, 48);
  }
  const cd = await readAt(file, cdOffset, cdSize);
  const cv = new DataView(cd.buffer);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let k = 0; k < count; k++) {
    if (cv.getUint32(p, true) !== CENTRAL) throw new SyntaxError("bad central directory entry");
    const nameLength = cv.getUint16(p + 28, true);
    const extraLength = cv.getUint16(p + 30, true);
    const commentLength = cv.getUint16(p + 32, true);
    const entry: ZipEntry = {
      name: new TextDecoder().decode(cd.subarray(p + 46, p + 46 + nameLength)),
      method: cv.getUint16(p + 10, true),
      crc: cv.getUint32(p + 16, true),
      compressedSize: cv.getUint32(p + 20, true),
      size: cv.getUint32(p + 24, true),
      localOffset: cv.getUint32(p + 42, true),
    };
    // The zip64 extra field holds, in this order, the fields whose 32-bit value is 0xffffffff.
    let e = p + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = cv.getUint16(e, true);
      const length = cv.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        if (entry.size === U32) [entry.size, q] = [u64(cv, q), q + 8];
        if (entry.compressedSize === U32) [entry.compressedSize, q] = [u64(cv, q), q + 8];
        if (entry.localOffset === U32) entry.localOffset = u64(cv, q);
      }
      e += 4 + length;
    }
    entries.push(entry);
    p = extraEnd + commentLength;
  }
  return entries;
}

/**
 * The offset of a member's data (after its local header).
 *
 * @param file The open file.
 * @param entry The member.
 * @returns The offset.
 */
export async function zipDataOffset(file: Deno.FsFile, entry: ZipEntry): Promise<number> {
  const header = new DataView((await readAt(file, entry.localOffset, 30)).buffer);
  if (header.getUint32(0, true) !== LOCAL) {
    throw new SyntaxError(`bad local header of ${entry.name}`);
  }
  return entry.localOffset + 30 + header.getUint16(26, true) + header.getUint16(28, true);
}

/**
 * Reads `length` bytes at `offset` of a file.
 *
 * @param file The open file.
 * @param offset Where to start.
 * @param length How many bytes.
 * @returns The bytes.
 */
export function readFileAt(
  file: Deno.FsFile,
  offset: number,
  length: number,
): Promise<Uint8Array> {
  return readAt(file, offset, length);
}

/**
 * A member's uncompressed bytes in pieces of about `blockBytes`, in order.
 *
 * @param file The open file.
 * @param entry The member.
 * @param blockBytes Bytes read from the file at a time.
 * @returns The pieces.
 */
export async function* zipMemberBytes(
  file: Deno.FsFile,
  entry: ZipEntry,
  blockBytes = 4 << 20,
): AsyncGenerator<Uint8Array> {
  const start = await zipDataOffset(file, entry);
  const out: Uint8Array[] = [];
  const inflate = entry.method === 8 ? new Inflate((chunk) => out.push(chunk)) : undefined;
  if (entry.method !== 0 && entry.method !== 8) {
    throw new SyntaxError(`${entry.name}: unsupported compression method ${entry.method}`);
  }
  let crc = 0;
  let produced = 0;
  for (let at = 0; at < entry.compressedSize; at += blockBytes) {
    const n = Math.min(blockBytes, entry.compressedSize - at);
    const block = await readAt(file, start + at, n);
    const last = at + n >= entry.compressedSize;
    if (inflate) inflate.push(block, last);
    else out.push(block);
    for (const piece of out.splice(0)) {
      crc = crc32(piece, crc);
      produced += piece.length;
      yield piece;
    }
  }
  if (entry.compressedSize === 0 && inflate) inflate.push(new Uint8Array(0), true);
  for (const piece of out.splice(0)) {
    crc = crc32(piece, crc);
    produced += piece.length;
    yield piece;
  }
  if (produced !== entry.size || (crc >>> 0) !== entry.crc) {
    throw new SyntaxError(`${entry.name}: corrupt member (size or CRC-32 does not match)`);
  }
}

/** Options of {@link ZipWriter}. */
export interface ZipWriterOptions {
  /** Deflate members (default false: stored). */
  compress?: boolean;
  /** Write zip64 records even for a small archive (NumPy does for every member). */
  forceZip64?: boolean;
}

interface Written {
  name: Uint8Array;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  zip64: boolean;
}

/**
 * Writes a zip archive member by member to a file: each member's bytes are
 * pushed in pieces; its local header is patched with the CRC and sizes at the
 * end. zip64 records are written where a size or offset needs them.
 */
export class ZipWriter {
  #file: Deno.FsFile;
  #offset = 0;
  #written: Written[] = [];
  #options: ZipWriterOptions;

  private constructor(file: Deno.FsFile, options: ZipWriterOptions) {
    this.#file = file;
    this.#options = options;
  }

  /**
   * Creates (or truncates) the archive file.
   *
   * @param path The file.
   * @param options Compression and zip64.
   * @returns The writer.
   */
  static async create(path: string, options: ZipWriterOptions = {}): Promise<ZipWriter> {
    const file = await Deno.open(path, { write: true, create: true, truncate: true });
    return new ZipWriter(file, options);
  }

  async #write(bytes: Uint8Array): Promise<void> {
    let done = 0;
    while (done < bytes.length) done += await this.#file.write(bytes.subarray(done));
    this.#offset += bytes.length;
  }

  /**
   * Adds one member whose bytes `feed` pushes in pieces.
   *
   * @param name The member's name.
   * @param size Its uncompressed size (decides zip64 for the member).
   * @param feed Calls `push` with each piece, in order, and awaits it.
   */
  async add(
    name: string,
    size: number,
    feed: (push: (piece: Uint8Array) => Promise<void>) => Promise<void>,
  ): Promise<void> {
    const compress = this.#options.compress ?? false;
    // Deflate may expand incompressible data slightly: leave room for it.
    const bound = compress ? size + Math.ceil(size / 1000) + (1 << 20) : size;
    const zip64 = (this.#options.forceZip64 ?? false) || bound >= U32;
    const nameBytes = new TextEncoder().encode(name);
    const localOffset = this.#offset;
    const header = new Uint8Array(30 + nameBytes.length + (zip64 ? 20 : 0));
    const hv = new DataView(header.buffer);
    hv.setUint32(0, LOCAL, true);
    hv.setUint16(4, zip64 ? 45 : 20, true);
    hv.setUint16(8, compress ? 8 : 0, true);
    hv.setUint16(12, DOS_DATE, true);
    hv.setUint16(26, nameBytes.length, true);
    hv.setUint16(28, zip64 ? 20 : 0, true);
    header.set(nameBytes, 30);
    await this.#write(header);
    let crc = 0;
    let total = 0;
    let compressed = 0;
    const pending: Uint8Array[] = [];
    const deflate = compress
      ? new Deflate({ level: 6 }, (chunk) => pending.push(chunk))
      : undefined;
    const flush = async () => {
      for (const chunk of pending.splice(0)) {
        compressed += chunk.length;
        await this.#write(chunk);
      }
    };
    await feed(async (piece) => {
      crc = crc32(piece, crc);
      total += piece.length;
      if (deflate) {
        deflate.push(piece, false);
        await flush();
      } else {
        compressed += piece.length;
        await this.#write(piece);
      }
    });
    if (deflate) {
      deflate.push(new Uint8Array(0), true);
      await flush();
    }
    if (total !== size) throw new RangeError(`${name}: ${total} bytes written, ${size} announced`);
    if (!zip64 && compressed >= U32) {
      throw new RangeError(`${name}: deflated to ${compressed} bytes, past 4 GiB without zip64`);
    }
    // Patch the local header with the CRC and sizes.
    hv.setUint32(14, crc >>> 0, true);
    if (zip64) {
      hv.setUint32(18, U32, true);
      hv.setUint32(22, U32, true);
      const x = 30 + nameBytes.length;
      hv.setUint16(x, 1, true);
      hv.setUint16(x + 2, 16, true);
      setU64(hv, x + 4, total);
      setU64(hv, x + 12, compressed);
    } else {
      hv.setUint32(18, compressed, true);
      hv.setUint32(22, total, true);
    }
    await this.#file.seek(localOffset, Deno.SeekMode.Start);
    let done = 0;
    while (done < header.length) done += await this.#file.write(header.subarray(done));
    await this.#file.seek(0, Deno.SeekMode.End);
    this.#written.push({
      name: nameBytes,
      method: compress ? 8 : 0,
      crc: crc >>> 0,
      compressedSize: compressed,
      size: total,
      localOffset,
      zip64,
    });
  }

  /** Writes the central directory and closes the file. */
  async close(): Promise<void> {
    try {
      const cdOffset = this.#offset;
      const force = this.#options.forceZip64 ?? false;
      for (const w of this.#written) {
        const big = w.zip64 || w.localOffset >= U32;
        const entry = new Uint8Array(46 + w.name.length + (big ? 28 : 0));
        const v = new DataView(entry.buffer);
        v.setUint32(0, CENTRAL, true);
        v.setUint16(4, big ? 45 : 20, true);
        v.setUint16(6, big ? 45 : 20, true);
        v.setUint16(10, w.method, true);
        v.setUint16(14, DOS_DATE, true);
        v.setUint32(16, w.crc, true);
        v.setUint32(20, big ? U32 : w.compressedSize, true);
        v.setUint32(24, big ? U32 : w.size, true);
        v.setUint16(28, w.name.length, true);
        v.setUint16(30, big ? 28 : 0, true);
        v.setUint32(42, big ? U32 : w.localOffset, true);
        entry.set(w.name, 46);
        if (big) {
          const x = 46 + w.name.length;
          v.setUint16(x, 1, true);
          v.setUint16(x + 2, 24, true);
          setU64(v, x + 4, w.size);
          setU64(v, x + 12, w.compressedSize);
          setU64(v, x + 20, w.localOffset);
        }
        await this.#write(entry);
      }
      const cdSize = this.#offset - cdOffset;
      const count = this.#written.length;
      const zip64 = force || count >= U16 || cdOffset >= U32 || cdSize >= U32 ||
        this.#written.some((w) => w.zip64);
      if (zip64) {
        const recordOffset = this.#offset;
        const record = new Uint8Array(56 + 20);
        const v = new DataView(record.buffer);
        v.setUint32(0, END64, true);
        setU64(v, 4, 44);
        v.setUint16(12, 45, true);
        v.setUint16(14, 45, true);
        setU64(v, 24, count);
        setU64(v, 32, count);
        setU64(v, 40, cdSize);
        setU64(v, 48, cdOffset);
        v.setUint32(56, LOCATOR64, true);
        setU64(v, 56 + 8, recordOffset);
        v.setUint32(56 + 16, 1, true);
        await this.#write(record);
      }
      const end = new Uint8Array(22);
      const v = new DataView(end.buffer);
      v.setUint32(0, END, true);
      // As Python's zipfile: the 32-bit fields saturate; zip64 readers use the record above.
      v.setUint16(8, Math.min(count, U16), true);
      v.setUint16(10, Math.min(count, U16), true);
      v.setUint32(12, Math.min(cdSize, U32), true);
      v.setUint32(16, Math.min(cdOffset, U32), true);
      await this.#write(end);
    } finally {
      this.#file.close();
    }
  }

  /** Closes the file without finishing the archive (after a failure). */
  abort(): void {
    try {
      this.#file.close();
    } catch { /* closed */ }
  }
}

function setU64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value % 2 ** 32, true);
  view.setUint32(at + 4, Math.floor(value / 2 ** 32), true);
}
