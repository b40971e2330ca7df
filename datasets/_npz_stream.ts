/**
 * Writing an `.npz` archive to disk piece by piece, so arrays larger than memory
 * (kept in part files) can be stored, with zip64 where a member or the archive
 * passes 4 GiB (see `_zip.ts`).
 *
 * @module
 */

import { encodeNpyHeader, type NpyDtype, npyItemSize } from "./npy.ts";
import { ZipWriter } from "./_zip.ts";

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
 * @param options `forceZip64` writes zip64 records even for a small archive, as NumPy does.
 */
export async function assembleNpz(
  path: string,
  members: NpzMember[],
  compress: boolean,
  options: { forceZip64?: boolean } = {},
): Promise<void> {
  const zip = await ZipWriter.create(path, { compress, forceZip64: options.forceZip64 });
  try {
    for (const member of members) {
      const header = encodeNpyHeader(member.dtype, member.shape);
      const bytes = npyItemSize(member.dtype) * member.shape.reduce((a, b) => a * b, 1);
      await zip.add(`${member.name}.npy`, header.length + bytes, async (push) => {
        await push(header);
        if (member.data) {
          // Pieces of 4 MiB, so deflating never holds a second copy of a large array.
          for (let at = 0; at < member.data.length; at += 4 << 20) {
            await push(member.data.subarray(at, at + (4 << 20)));
          }
          return;
        }
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
            await push(current.subarray(0, n)); // written before `current` is read into again
          }
        } finally {
          await reading.catch(() => {});
          file.close();
        }
      });
    }
  } catch (e) {
    zip.abort();
    throw e;
  }
  await zip.close();
}
