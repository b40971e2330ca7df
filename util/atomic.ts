/**
 * Atomic file writes: write to a temporary name beside the target, then rename,
 * so that no reader ever sees half a file.
 *
 * @module
 */

/**
 * Writes text, bytes or a stream of bytes (written as it comes, for content
 * larger than one string) to `path` atomically.
 *
 * @example Write a file
 * ```ts
 * import { writeFileAtomic } from "./atomic.ts";
 * const dir = await Deno.makeTempDir();
 * await writeFileAtomic(`${dir}/a.txt`, "hello\n");
 * ```
 *
 * @param path The final path.
 * @param data The content.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array | ReadableStream<Uint8Array>,
): Promise<void> {
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw e;
  }
}
