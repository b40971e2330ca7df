/**
 * Reading a child process's output line by line.
 *
 * @module
 */

/**
 * Calls `onLine` for every line of a byte stream (UTF-8, `\n` line ends), the
 * last one too when it has no line end.
 *
 * @example Two lines
 * ```ts
 * import { forEachLine } from "./lines.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 * const lines: string[] = [];
 * await forEachLine(new Blob(["a\nb"]).stream(), (line) => lines.push(line));
 * deepStrictEqual(lines, ["a", "b"]);
 * ```
 *
 * @param stream The bytes.
 * @param onLine Called once per line, without its line end.
 */
export async function forEachLine(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  const decoder = new TextDecoder();
  let carry = "";
  for await (const chunk of stream) {
    const lines = (carry + decoder.decode(chunk, { stream: true })).split("\n");
    carry = lines.pop()!;
    for (const line of lines) onLine(line);
  }
  carry += decoder.decode();
  if (carry) onLine(carry);
}
