/**
 * The wire format shared by the stream transports (TCP and Unix sockets) and the
 * rendezvous store: a 12-byte header (magic, kind, flags, tag, length) followed by
 * the payload. Headers are checked before anything is allocated for the payload.
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";

/** Something bytes can be read from (a connection). */
export interface ByteReader {
  /** Reads into `p`; resolves with the count, or null at the end of the stream. */
  read(p: Uint8Array): Promise<number | null>;
}

/** Something bytes can be written to (a connection). */
export interface ByteWriter {
  /** Writes some of `p`; resolves with the count written. */
  write(p: Uint8Array): Promise<number>;
}

/** Bytes in a frame header. */
export const HEADER_BYTES = 12;
/** First two header bytes of every frame. */
export const MAGIC = 0xb15b;
/** Default largest payload a frame may carry (1 GiB). */
export const DEFAULT_MAX_FRAME_BYTES = 1 << 30;
/** Largest payload accepted before a connection has proved it belongs to the run. */
export const MAX_HANDSHAKE_BYTES = 256;

/** What a frame carries. */
export const FrameKind = {
  /** Application data under a tag. */
  Data: 1,
  /** Orderly goodbye: the sender closes and sends nothing more. */
  Close: 2,
  /** The sender failed; the payload is a UTF-8 reason. */
  Abort: 3,
  /** Handshake messages (hello, challenge, proof). */
  Hello: 4,
  /** A request to the rendezvous store (JSON). */
  StoreRequest: 5,
  /** A reply from the rendezvous store (JSON). */
  StoreReply: 6,
} as const;

/** A frame kind value. */
export type FrameKindValue = typeof FrameKind[keyof typeof FrameKind];

const KNOWN_KINDS = new Set<number>(Object.values(FrameKind));

/** A decoded frame header. */
export interface FrameHeader {
  /** The frame kind. */
  kind: FrameKindValue;
  /** The tag (iteration) of a data frame; 0 otherwise. */
  tag: number;
  /** Payload length in bytes. */
  length: number;
}

/**
 * Encodes one frame into a single buffer, so that it goes out in one write.
 *
 * @example Encode and decode
 * ```ts
 * import { decodeHeader, encodeFrame, FrameKind } from "./_framing.ts";
 * const frame = encodeFrame(FrameKind.Data, 7, new Uint8Array([1, 2, 3]));
 * const h = decodeHeader(frame, 1024, "peer 1");
 * if (h.tag !== 7 || h.length !== 3) throw new Error("bad frame");
 * ```
 *
 * @param kind The frame kind.
 * @param tag The tag.
 * @param payload The payload bytes.
 * @returns Header and payload in one buffer.
 */
export function encodeFrame(kind: FrameKindValue, tag: number, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(HEADER_BYTES + payload.byteLength);
  const view = new DataView(frame.buffer);
  view.setUint16(0, MAGIC, true);
  view.setUint8(2, kind);
  view.setUint32(4, tag >>> 0, true);
  view.setUint32(8, payload.byteLength, true);
  frame.set(payload, HEADER_BYTES);
  return frame;
}

/**
 * Decodes and checks a frame header at the start of `bytes`.
 *
 * @example Reject garbage
 * ```ts
 * import { decodeHeader } from "./_framing.ts";
 * try {
 *   decodeHeader(new Uint8Array(12), 1024, "peer 2");
 *   throw new Error("accepted garbage");
 * } catch (e) {
 *   if ((e as Error).name !== "ProtocolError") throw e;
 * }
 * ```
 *
 * @param bytes At least `HEADER_BYTES` bytes.
 * @param maxLength The largest payload accepted.
 * @param from Who sent it, for the error message.
 * @returns The header.
 * @throws ProtocolError on a bad magic, unknown kind or a length above the limit.
 */
export function decodeHeader(bytes: Uint8Array, maxLength: number, from: string): FrameHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  if (view.getUint16(0, true) !== MAGIC) {
    throw new ProtocolError(`Bad frame from ${from}: not a blsbench frame`);
  }
  const kind = view.getUint8(2);
  if (!KNOWN_KINDS.has(kind)) {
    throw new ProtocolError(`Bad frame from ${from}: unknown kind ${kind}`);
  }
  const length = view.getUint32(8, true);
  if (length > maxLength) {
    throw new ProtocolError(
      `Bad frame from ${from}: length ${length} exceeds the limit of ${maxLength} bytes`,
    );
  }
  return { kind: kind as FrameKindValue, tag: view.getUint32(4, true), length };
}

/** A frame read from a stream. */
export interface Frame extends FrameHeader {
  /** The payload, in a buffer of its own. */
  payload: Uint8Array;
}

/** Reads frames from a byte stream, with a reusable buffer for small frames. */
export class FrameReader {
  #reader: ByteReader;
  #buf: Uint8Array;
  #start = 0;
  #end = 0;
  #from: string;
  /** The largest payload accepted; lower it until the peer is authenticated. */
  maxLength: number;

  /**
   * Creates a reader.
   *
   * @param reader Where bytes come from (a connection).
   * @param from Who is at the other end, for error messages.
   * @param maxLength The largest payload accepted.
   */
  constructor(reader: ByteReader, from: string, maxLength: number) {
    this.#reader = reader;
    this.#from = from;
    this.maxLength = maxLength;
    this.#buf = new Uint8Array(256 * 1024);
  }

  /**
   * Reads the next frame.
   *
   * @returns The frame, or null on a clean end of stream between frames.
   * @throws ProtocolError on bad frames or a stream that ends mid-frame.
   */
  async next(): Promise<Frame | null> {
    if (!(await this.#fill(HEADER_BYTES, true))) return null;
    const header = decodeHeader(this.#buf.subarray(this.#start), this.maxLength, this.#from);
    this.#start += HEADER_BYTES;
    const { length } = header;
    let payload: Uint8Array;
    if (length <= this.#buf.length) {
      await this.#fill(length, false);
      payload = this.#buf.slice(this.#start, this.#start + length);
      this.#start += length;
    } else {
      // Large payload: read straight into its own buffer instead of staging it.
      payload = new Uint8Array(length);
      const have = this.#end - this.#start;
      payload.set(this.#buf.subarray(this.#start, this.#end));
      this.#start = this.#end = 0;
      let got = have;
      while (got < length) {
        const n = await this.#reader.read(payload.subarray(got));
        if (n === null) throw this.#truncated();
        got += n;
      }
    }
    return { ...header, payload };
  }

  async #fill(want: number, eofOk: boolean): Promise<boolean> {
    if (this.#end - this.#start >= want) return true;
    if (this.#start + want > this.#buf.length) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    while (this.#end - this.#start < want) {
      const n = await this.#reader.read(this.#buf.subarray(this.#end));
      if (n === null) {
        if (eofOk && this.#end === this.#start) return false;
        throw this.#truncated();
      }
      this.#end += n;
    }
    return true;
  }

  #truncated(): ProtocolError {
    return new ProtocolError(`Connection to ${this.#from} ended in the middle of a frame`);
  }
}

/**
 * Writes all of `bytes` to `writer`, looping over partial writes.
 *
 * @param writer The connection.
 * @param bytes What to write.
 */
export async function writeAll(writer: ByteWriter, bytes: Uint8Array): Promise<void> {
  let off = 0;
  while (off < bytes.byteLength) off += await writer.write(bytes.subarray(off));
}
