/**
 * NumPy `.npz` archives: a zip file (stored or deflated) of `.npy` members, read
 * and written through fflate.
 *
 * @module
 */

import { unzipSync, type Zippable, zipSync } from "fflate";
import { encodeNpy, type NpyArray, parseNpy, validateNpyArray } from "./npy.ts";
import { assembleNpz } from "./_npz_stream.ts";

/** Options for writing an `.npz` archive. */
export interface NpzWriteOptions {
  /** Deflate the members, as `numpy.savez_compressed` does (default false: stored, as `numpy.savez`). */
  compress?: boolean;
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
 * import { encodeNpz, parseNpz } from "./npz.ts";
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
 * import { encodeNpz } from "./npz.ts";
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

/**
 * Reads an `.npz` file.
 *
 * @example Write and read back
 * ```ts
 * import { readNpz, writeNpz } from "./npz.ts";
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
  const bytes = await Deno.readFile(path);
  try {
    return parseNpz(bytes);
  } catch (e) {
    throw new SyntaxError(`${path}: ${(e as Error).message}`);
  }
}

/**
 * Writes arrays to an `.npz` file atomically (a reader never sees half a file).
 *
 * @example Write a compressed archive
 * ```ts
 * import { writeNpz } from "./npz.ts";
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
    await assembleNpz(tmp, members, options.compress ?? false);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
