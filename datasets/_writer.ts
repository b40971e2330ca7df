/**
 * A buffered byte writer for generated text files: ASCII pieces go straight into
 * a large buffer that is flushed to the file in blocks.
 *
 * @module
 */

const HEX_DIGITS = new TextEncoder().encode("0123456789abcdef");

/** Writes ASCII text to a file through a big buffer. */
export class AsciiWriter {
  #buffer: Uint8Array;
  #length = 0;

  constructor(readonly file: Deno.FsFile, readonly blockSize = 4 << 20) {
    this.#buffer = new Uint8Array(blockSize + 65536);
  }

  /** Whether the buffer is full enough to flush. */
  get full(): boolean {
    return this.#length >= this.blockSize;
  }

  /** Appends one byte. */
  byte(b: number): void {
    this.#buffer[this.#length++] = b;
  }

  /** Appends an ASCII string. */
  text(s: string): void {
    for (let i = 0; i < s.length; i++) this.#buffer[this.#length++] = s.charCodeAt(i);
  }

  /** Appends a whole number in decimal (negative allowed). */
  int(n: number): void {
    if (n < 0) {
      this.byte(45);
      n = -n;
    }
    if (n < 10) {
      this.#buffer[this.#length++] = 48 + n;
      return;
    }
    this.text(String(n));
  }

  /** Appends a uint32 as 8 lower-case hex digits. */
  hex8(n: number): void {
    const b = this.#buffer;
    let at = this.#length + 8;
    for (let i = 0; i < 8; i++) {
      b[--at] = HEX_DIGITS[n & 15];
      n >>>= 4;
    }
    this.#length += 8;
  }

  /** Writes the buffered bytes to the file. */
  async flush(): Promise<void> {
    let done = 0;
    while (done < this.#length) {
      done += await this.file.write(this.#buffer.subarray(done, this.#length));
    }
    this.#length = 0;
  }
}
