/**
 * Writing an `.npz` archive to disk piece by piece, so arrays larger than memory
 * (kept in part files) can be stored: fflate's streaming `Zip` lays out the
 * archive; stored members get their CRC-32 from `node:zlib` (native, far faster
 * than a JavaScript loop over every byte).
 *
 * @module
 */

import { Zip, ZipDeflate, type ZipInputFile, ZipPassThrough } from "fflate";
import * as zlib from "node:zlib";
import { encodeNpyHeader, type NpyDtype } from "./npy.ts";

/** One array of the archive: its elements in memory or in a part file of raw bytes. */
export interface NpzMember {
  /** The array's name (the member is `<name>.npy`). */
  name: string;
  /** The element type. */
  dtype: NpyDtype;
  /** The array's shape. */
  shape: number[];
  /** The elements' bytes, when in memory. */
  data?: Uint8Array;
  /** A file holding the elements' bytes (C order, little-endian). */
  part?: string;
}

type Crc32 = (data: Uint8Array, value?: number) => number;
const nativeCrc32 = (zlib as unknown as { crc32?: Crc32 }).crc32;

/** A stored (uncompressed) member whose CRC and size are kept as bytes are pushed. */
class StoredMember implements ZipInputFile {
  size = 0;
  crc = 0;
  compression = 0;
  mtime: Date = new Date(1980, 0, 1);
  ondata?: ZipInputFile["ondata"];

  constructor(readonly filename: string, readonly crc32: Crc32) {}

  push(chunk: Uint8Array, final: boolean): void {
    // Zip reads crc and size when the final chunk arrives: update them first.
    this.crc = this.crc32(chunk, this.crc);
    this.size += chunk.length;
    this.ondata!(null, chunk as Uint8Array<ArrayBuffer>, final);
  }
}

/**
 * The bytes of a typed array (a view, no copy).
 *
 * @example Bytes of an Int32Array
 * ```ts
 * import { bytesOf } from "./_npz_stream.ts";
 * if (bytesOf(new Int32Array(3)).length !== 12) throw new Error("wrong length");
 * ```
 *
 * @param a The array.
 * @returns Its bytes.
 */
export function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Writes all bytes to a file (a single write may take only part of them).
 *
 * @example Write bytes
 * ```ts
 * import { writeAll } from "./_npz_stream.ts";
 * const path = await Deno.makeTempFile();
 * const file = await Deno.open(path, { write: true });
 * await writeAll(file, new Uint8Array([1, 2, 3]));
 * file.close();
 * ```
 *
 * @param file The open file.
 * @param bytes The bytes.
 */
export async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await file.write(bytes.subarray(done));
}

/**
 * Writes members into an `.npz` archive at `path` (overwritten), streaming part
 * files through in blocks.
 *
 * @example One array from memory
 * ```ts
 * import { assembleNpz, bytesOf } from "./_npz_stream.ts";
 * import { readNpz } from "./npz.ts";
 * const path = `${await Deno.makeTempDir()}/a.npz`;
 * const data = bytesOf(Int32Array.from([1, 2, 3]));
 * await assembleNpz(path, [{ name: "a", dtype: "<i4", shape: [3], data }], false);
 * if ((await readNpz(path)).get("a")?.data[2] !== 3) throw new Error("wrong value");
 * ```
 *
 * @param path The archive.
 * @param members The arrays, in order.
 * @param compress Deflate the members (else stored).
 */
export async function assembleNpz(
  path: string,
  members: NpzMember[],
  compress: boolean,
): Promise<void> {
  // fflate writes 32-bit zip fields only (no zip64): refuse what would not fit.
  let total = 0;
  for (const member of members) {
    const itemSize = member.dtype === "<i8" || member.dtype === "<f8"
      ? 8
      : member.dtype === "<i4" || member.dtype === "<f4"
      ? 4
      : 1;
    total += 128 + itemSize * member.shape.reduce((a, b) => a * b, 1) +
      2 * (46 + member.name.length + 4);
  }
  if (total > 0xffffffff) {
    throw new RangeError(
      `The npz archive would be ${
        (total / 2 ** 30).toFixed(1)
      } GiB; archives over 4 GiB (zip64) are not supported`,
    );
  }
  const out = await Deno.open(path, { write: true, create: true, truncate: true });
  const pending: Uint8Array[] = [];
  let failure: Error | null = null;
  const zip = new Zip((error, data) => {
    if (error) failure = error;
    else pending.push(data);
  });
  const drain = async () => {
    if (failure) throw failure;
    for (const data of pending.splice(0)) await writeAll(out, data);
  };
  try {
    for (const member of members) {
      const filename = `${member.name}.npy`;
      let entry: { push(chunk: Uint8Array, final: boolean): void };
      if (compress || !nativeCrc32) {
        const stream = compress
          ? new ZipDeflate(filename, { level: 6 })
          : new ZipPassThrough(filename);
        stream.mtime = new Date(1980, 0, 1);
        zip.add(stream);
        entry = stream;
      } else {
        const stored = new StoredMember(filename, nativeCrc32);
        zip.add(stored);
        entry = stored;
      }
      entry.push(encodeNpyHeader(member.dtype, member.shape), false);
      if (member.data) {
        entry.push(member.data, true);
      } else {
        const file = await Deno.open(member.part!, { read: true });
        let reading: Promise<number | null> = Promise.resolve(null);
        try {
          // Two blocks: the next read runs while this one is checksummed and written.
          let block = new Uint8Array(4 << 20);
          let spare = new Uint8Array(4 << 20);
          reading = file.read(block);
          for (;;) {
            const n = await reading;
            if (n === null) break;
            const current = block;
            [block, spare] = [spare, block];
            reading = file.read(block);
            entry.push(current.subarray(0, n), false);
            await drain(); // written before `current` is read into again
          }
        } finally {
          await reading.catch(() => {});
          file.close();
        }
        entry.push(new Uint8Array(0), true);
      }
      await drain();
    }
    zip.end();
    await drain();
  } finally {
    out.close();
  }
}
