/**
 * The wire format shared by the stream transports (TCP and Unix sockets) and the
 * rendezvous store: a 16-byte header (magic u16, kind u8, version u8, tag u32,
 * length u32, source rank u32, all little-endian) followed by the payload.
 * Headers are checked before anything is allocated for the payload: the magic,
 * the version, the kind, the length against the current limit, and whatever the
 * connection's owner adds (the sender rank, the tag window).
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
export const HEADER_BYTES = 16;
/** First two header bytes of every frame. */
export const MAGIC = 0xb15b;
/** The wire protocol version (header byte 3); frames of other versions are refused. */
export const WIRE_VERSION = 1;
/** The source of frames not sent by a rank (the store, a launcher, a store client). */
export const NO_SOURCE = 0xffff_ffff;
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
  /** The sender's rank (`NO_SOURCE` for non-rank peers). */
  source: number;
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
 * @param source The sender's rank (default `NO_SOURCE`).
 * @returns Header and payload in one buffer.
 */
export function encodeFrame(
  kind: FrameKindValue,
  tag: number,
  payload: Uint8Array,
  source: number = NO_SOURCE,
): Uint8Array {
  const frame = new Uint8Array(HEADER_BYTES + payload.byteLength);
  frame.set(payload, HEADER_BYTES);
  writeHeader(frame, kind, tag, source);
  return frame;
}

/**
 * Writes a frame header into the first `HEADER_BYTES` of `framed`, whose payload
 * follows it, so that header and payload leave in one write without a copy.
 *
 * @example Frame a payload in place
 * ```ts
 * import { decodeHeader, FrameKind, HEADER_BYTES, writeHeader } from "./_framing.ts";
 * const framed = new Uint8Array(HEADER_BYTES + 3);
 * framed.set([1, 2, 3], HEADER_BYTES);
 * writeHeader(framed, FrameKind.Data, 9, 0);
 * if (decodeHeader(framed, 1024, "me").length !== 3) throw new Error("bad header");
 * ```
 *
 * @param framed Header room followed by the payload (or the header alone, with `length`).
 * @param kind The frame kind.
 * @param tag The tag.
 * @param source The sender's rank.
 * @param length The payload's length (default: what follows the header in `framed`).
 */
export function writeHeader(
  framed: Uint8Array,
  kind: FrameKindValue,
  tag: number,
  source: number,
  length: number = framed.byteLength - HEADER_BYTES,
): void {
  const view = new DataView(framed.buffer, framed.byteOffset, HEADER_BYTES);
  view.setUint16(0, MAGIC, true);
  view.setUint8(2, kind);
  view.setUint8(3, WIRE_VERSION);
  view.setUint32(4, tag >>> 0, true);
  view.setUint32(8, length, true);
  view.setUint32(12, source >>> 0, true);
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
 * @throws ProtocolError on a bad magic or version, an unknown kind or a length above the limit.
 */
export function decodeHeader(bytes: Uint8Array, maxLength: number, from: string): FrameHeader {
  if (bytes.byteLength < HEADER_BYTES) {
    throw new ProtocolError(`Bad frame from ${from}: header cut short`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  if (view.getUint16(0, true) !== MAGIC) {
    throw new ProtocolError(`Bad frame from ${from}: not a blsbench frame`);
  }
  const version = view.getUint8(3);
  if (version !== WIRE_VERSION) {
    throw new ProtocolError(
      `Bad frame from ${from}: wire version ${version}, expected ${WIRE_VERSION} (mixed blsbench versions?)`,
    );
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
  return {
    kind: kind as FrameKindValue,
    tag: view.getUint32(4, true),
    length,
    source: view.getUint32(12, true),
  };
}

/** A frame read from a stream. */
export interface Frame extends FrameHeader {
  /** The payload, in a buffer of its own. */
  payload: Uint8Array;
}

/** Largest staging buffer a reader keeps for small frames. */
const STAGING_BYTES = 256 * 1024;

/**
 * A check run on every header before its payload is read (and allocated);
 * it throws a `ProtocolError` to refuse the frame.
 */
export type HeaderCheck = (header: FrameHeader) => void;

/**
 * Says where a frame's payload should be read to, once its header passed the
 * checks: memory of exactly the payload's length, or undefined for a buffer of
 * the reader's own.
 */
export type PayloadDestination = (header: FrameHeader) => Uint8Array | undefined;

/** Payloads up to this size are staged (one read may bring several frames). */
const DIRECT_READ_BYTES = 64 * 1024;

/** Reads frames from a byte stream, with a reusable buffer for small frames. */
export class FrameReader {
  #reader: ByteReader;
  #buf: Uint8Array;
  #start = 0;
  #end = 0;
  #from: string;
  #maxLength: number;
  #largestAllocation: number;
  /** Extra checks on each header before its payload is read (sender, tag window). */
  check?: HeaderCheck;
  /** Where payloads go when their receiver provides the memory (no copy, no allocation). */
  destination?: PayloadDestination;

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
    this.#maxLength = maxLength;
    // Before authentication the limit is tiny: so is the buffer (a stranger
    // makes us allocate no more than a header and a handshake message).
    this.#buf = new Uint8Array(Math.min(STAGING_BYTES, HEADER_BYTES + maxLength));
    this.#largestAllocation = this.#buf.byteLength;
  }

  /**
   * Where the rest of the stream is read from: the same connection through
   * another path (native socket I/O after the handshake). Bytes already
   * buffered are kept.
   */
  set source(reader: ByteReader) {
    this.#reader = reader;
  }

  /** The largest payload accepted; raised once the peer is authenticated. */
  get maxLength(): number {
    return this.#maxLength;
  }

  set maxLength(value: number) {
    this.#maxLength = value;
  }

  /** Who is at the other end, as used in error messages. */
  get from(): string {
    return this.#from;
  }

  set from(value: string) {
    this.#from = value;
  }

  /** The largest single buffer this reader has allocated, in bytes (for tests). */
  get largestAllocation(): number {
    return this.#largestAllocation;
  }

  /**
   * Reads the next frame.
   *
   * @returns The frame, or null on a clean end of stream between frames.
   * @throws ProtocolError on bad frames or a stream that ends mid-frame.
   */
  async next(): Promise<Frame | null> {
    if (!(await this.#fill(HEADER_BYTES, true))) return null;
    const header = decodeHeader(
      this.#buf.subarray(this.#start, this.#start + HEADER_BYTES),
      this.#maxLength,
      this.#from,
    );
    this.check?.(header);
    this.#start += HEADER_BYTES;
    const { length } = header;
    let payload: Uint8Array;
    const staging = Math.min(STAGING_BYTES, HEADER_BYTES + this.#maxLength);
    const into = this.destination?.(header);
    if (into) {
      await this.#readInto(into, length, staging);
      return { ...header, payload: into };
    }
    if (length <= staging) {
      if (this.#buf.byteLength < staging) this.#grow(staging);
      await this.#fill(length, false);
      payload = this.#buf.slice(this.#start, this.#start + length);
      this.#start += length;
    } else {
      // Large payload: read straight into its own buffer instead of staging it.
      payload = new Uint8Array(length);
      if (length > this.#largestAllocation) this.#largestAllocation = length;
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

  async #readInto(into: Uint8Array, length: number, staging: number): Promise<void> {
    if (length <= DIRECT_READ_BYTES && length <= staging) {
      if (this.#buf.byteLength < staging) this.#grow(staging);
      await this.#fill(length, false);
      into.set(this.#buf.subarray(this.#start, this.#start + length));
      this.#start += length;
      return;
    }
    const have = Math.min(this.#end - this.#start, length);
    into.set(this.#buf.subarray(this.#start, this.#start + have));
    this.#start += have;
    if (this.#start === this.#end) this.#start = this.#end = 0;
    let got = have;
    while (got < length) {
      const n = await this.#reader.read(into.subarray(got));
      if (n === null) throw this.#truncated();
      got += n;
    }
  }

  #grow(size: number): void {
    const bigger = new Uint8Array(size);
    bigger.set(this.#buf.subarray(this.#start, this.#end));
    this.#end -= this.#start;
    this.#start = 0;
    this.#buf = bigger;
    if (size > this.#largestAllocation) this.#largestAllocation = size;
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
