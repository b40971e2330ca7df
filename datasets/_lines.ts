/**
 * A chunked line reader over a file: it reads big blocks and hands out line
 * boundaries inside its buffer, so parsers scan bytes without making strings.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";

const NEWLINE = 10;
const CARRIAGE_RETURN = 13;

/**
 * Reads a file's lines as byte ranges of a shared buffer.
 *
 * Use: `while (reader.nextLine()) {...}` then `await reader.fill()` until it
 * returns false. Line `lineNumber` is `buffer[lineStart..lineEnd)`, without the
 * `\n` or `\r\n`; the buffer is only valid until the next `fill()`. The byte at
 * `lineEnd` is always `\r` or `\n` (a `\n` is placed after a last line that has
 * none), so parsers may scan until a byte that ends a field without bound checks.
 */
export class LineReader {
  /** The bytes; valid from `lineStart` to `lineEnd` for the current line. */
  buffer: Uint8Array;
  /** Start of the current line in `buffer`. */
  lineStart = 0;
  /** End (exclusive) of the current line in `buffer`. */
  lineEnd = 0;
  /** 1-based number of the current line in the file. */
  lineNumber = 0;
  /** Bytes read from the file so far. */
  bytesRead = 0;
  #pos = 0;
  #have = 0;
  #eof = false;

  private constructor(readonly path: string, readonly file: Deno.FsFile, chunkSize: number) {
    // One spare byte for the sentinel after an unterminated last line.
    this.buffer = new Uint8Array(chunkSize + 1);
  }

  /**
   * Opens a file for reading; a missing or unreadable file or a directory is a `UsageError`.
   *
   * @param path The file.
   * @param chunkSize Bytes read per block.
   * @returns The reader.
   */
  static async open(path: string, chunkSize = 8 << 20): Promise<LineReader> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
      const info = await file.stat();
      if (!info.isFile) {
        file.close();
        throw new UsageError(`Cannot read ${path}: not a file`);
      }
    } catch (e) {
      if (e instanceof UsageError) throw e;
      throw new UsageError(`Cannot read ${path}: ${(e as Error).message.split("\n")[0]}`);
    }
    return new LineReader(path, file, chunkSize);
  }

  /**
   * Moves to the next complete line in the buffer.
   *
   * @returns false when the buffer holds no further complete line (call `fill`).
   */
  nextLine(): boolean {
    const have = this.#have;
    const pos = this.#pos;
    if (pos >= have) return false;
    const buffer = this.buffer;
    let end = buffer.indexOf(NEWLINE, pos);
    if (end < 0 || end >= have) {
      if (!this.#eof) return false;
      end = have; // the last line has no newline
      this.#pos = have;
    } else {
      this.#pos = end + 1;
    }
    this.lineStart = pos;
    this.lineEnd = end > pos && buffer[end - 1] === CARRIAGE_RETURN ? end - 1 : end;
    this.lineNumber++;
    return true;
  }

  /**
   * Reads the next block, keeping the unfinished line.
   *
   * @returns false at the end of the file once every line was handed out.
   */
  async fill(): Promise<boolean> {
    if (this.#eof) return false;
    const rest = this.#have - this.#pos;
    if (this.#pos > 0) this.buffer.copyWithin(0, this.#pos, this.#have);
    this.#pos = 0;
    this.#have = rest;
    if (rest === this.buffer.length - 1) {
      // One line longer than the buffer: grow it.
      const bigger = new Uint8Array((this.buffer.length - 1) * 2 + 1);
      bigger.set(this.buffer);
      this.buffer = bigger;
    }
    const n = await this.file.read(this.buffer.subarray(this.#have, this.buffer.length - 1));
    if (n === null) {
      this.#eof = true;
      this.buffer[this.#have] = NEWLINE; // the sentinel
      this.file.close();
    } else {
      this.#have += n;
      this.bytesRead += n;
    }
    return true;
  }

  /** Closes the file early (safe to call twice). */
  close(): void {
    if (!this.#eof) {
      this.#eof = true;
      try {
        this.file.close();
      } catch { /* already closed */ }
    }
  }
}
