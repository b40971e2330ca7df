/**
 * In-memory byte streams for the wire tests: a reader over fixed chunks, and a
 * connected pair whose writes can be tampered with on the way.
 *
 * @module
 */

import type { ByteReader, ByteWriter } from "../../transports/_framing.ts";

/** Reads fixed chunks, then reports the end of the stream. */
export class ChunkReader implements ByteReader {
  #chunks: Uint8Array[];
  #i = 0;
  #off = 0;

  /**
   * Creates the reader.
   *
   * @param chunks What successive reads return (split further if `p` is small).
   */
  constructor(chunks: Uint8Array[]) {
    this.#chunks = chunks.filter((c) => c.byteLength > 0);
  }

  /** Reads the next bytes, or null at the end. */
  read(p: Uint8Array): Promise<number | null> {
    if (this.#i >= this.#chunks.length) return Promise.resolve(null);
    const chunk = this.#chunks[this.#i];
    const n = Math.min(p.byteLength, chunk.byteLength - this.#off);
    p.set(chunk.subarray(this.#off, this.#off + n));
    this.#off += n;
    if (this.#off === chunk.byteLength) {
      this.#i++;
      this.#off = 0;
    }
    return Promise.resolve(n);
  }
}

/** One end of an in-memory connection. */
export interface PipeEnd extends ByteReader, ByteWriter {
  /** Ends the stream in both directions. */
  close(): void;
}

/** Changes a write on its way (the write's number on that end, from 0). */
export type Tamper = (write: number, bytes: Uint8Array) => Uint8Array;

/**
 * A connected pair of in-memory streams.
 *
 * @param tamperAtoB Applied to what end A writes.
 * @param tamperBtoA Applied to what end B writes.
 * @returns The two ends.
 */
export function pipePair(tamperAtoB?: Tamper, tamperBtoA?: Tamper): [PipeEnd, PipeEnd] {
  let closed = false;
  const queues: Uint8Array[][] = [[], []];
  const wake: Array<(() => void) | undefined> = [undefined, undefined];
  const writes = [0, 0];
  const end = (me: 0 | 1): PipeEnd => {
    const other = (1 - me) as 0 | 1;
    const tamper = me === 0 ? tamperAtoB : tamperBtoA;
    return {
      async read(p) {
        while (queues[me].length === 0) {
          if (closed) return null;
          await new Promise<void>((r) => (wake[me] = r));
        }
        const head = queues[me][0];
        const n = Math.min(p.byteLength, head.byteLength);
        p.set(head.subarray(0, n));
        if (n === head.byteLength) queues[me].shift();
        else queues[me][0] = head.subarray(n);
        return n;
      },
      write(p) {
        if (closed) return Promise.reject(new Deno.errors.BrokenPipe("pipe closed"));
        const bytes = tamper ? tamper(writes[me]++, p.slice()) : p.slice();
        queues[other].push(bytes);
        wake[other]?.();
        return Promise.resolve(p.byteLength);
      },
      close() {
        closed = true;
        wake[0]?.();
        wake[1]?.();
      },
    };
  };
  return [end(0), end(1)];
}
