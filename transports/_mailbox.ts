/**
 * Tag matching: messages that arrive before anyone asks for them are kept per
 * peer and tag, in arrival order, until taken.
 *
 * The tag window: a message that nobody is waiting for is kept only when its tag
 * lies within `tagWindow` of the highest tag this rank has asked that peer for,
 * counted per tag region (the 32-bit tag space in 16 regions of 2^28 tags, so
 * the collectives' tags, counted up from 0, and the control tags, counted up
 * from 0xf0000000, each have their own reference). Collectives ask for each
 * iteration before their peers can send it, save at most one or two iterations
 * ahead (BLS flow control lets a peer run one iteration ahead of this rank's
 * posts, whatever the lag), so any frame further out is a broken or hostile
 * peer, refused before its payload is read.
 *
 * @module
 */

interface Waiter {
  resolve(data: Uint8Array): void;
  reject(error: Error): void;
  /** Where the receiver wants the payload (see `Transport.recvInto`). */
  into?: (length: number) => Uint8Array;
}

/**
 * A receive whose payload is being read straight into the receiver's memory:
 * `into` is where, `done` hands it over, `fail` reports a broken read.
 */
export interface ClaimedReceive {
  /** The receiver's memory, exactly the payload's length. */
  into: Uint8Array;
  /** Hands the filled memory to the receiver. */
  done(): void;
  /** Rejects the receive (the connection broke mid-payload). */
  fail(error: Error): void;
}

/** Default distance from the highest tag asked for within which early messages are kept. */
export const DEFAULT_TAG_WINDOW = 1 << 16;

const REGION_BITS = 28;
const REGION_SIZE = 2 ** REGION_BITS;

/** Per-peer, per-tag queues of arrived messages and of waiting receivers. */
export class Mailbox {
  #arrived: Map<number, Uint8Array[]>[];
  #waiting: Map<number, Waiter[]>[];
  #failure: (Error | undefined)[];
  #asked: Map<number, number>[];
  #tagWindow: number;
  #bufferedBytes = 0;
  #peakBufferedBytes = 0;

  /**
   * Creates a mailbox for `size` peers.
   *
   * @param size The world size.
   * @param tagWindow How far from the highest tag asked for an early message may be.
   */
  constructor(size: number, tagWindow: number = DEFAULT_TAG_WINDOW) {
    this.#arrived = Array.from({ length: size }, () => new Map());
    this.#waiting = Array.from({ length: size }, () => new Map());
    this.#asked = Array.from({ length: size }, () => new Map());
    this.#failure = new Array(size).fill(undefined);
    this.#tagWindow = tagWindow;
  }

  /**
   * Checks whether a message from `peer` under `tag` may be accepted, before its
   * payload is read.
   *
   * @example A tag far ahead of anything asked for is refused
   * ```ts
   * import { Mailbox } from "./_mailbox.ts";
   * const box = new Mailbox(2, 16);
   * if (box.admits(1, 3) !== undefined) throw new Error("tag 3 is in the window");
   * if (box.admits(1, 1000) === undefined) throw new Error("tag 1000 is not");
   * ```
   *
   * @param peer The sender.
   * @param tag The tag.
   * @returns Undefined when accepted, else why not (for a protocol error).
   */
  admits(peer: number, tag: number): string | undefined {
    if (this.#waiting[peer].has(tag)) return undefined;
    const region = Math.floor(tag / REGION_SIZE);
    // Before anything is asked in a region, its start is the reference.
    const ref = this.#asked[peer].get(region) ?? region * REGION_SIZE - 1;
    if (tag <= ref + this.#tagWindow && tag >= ref - this.#tagWindow) return undefined;
    const lo = Math.max(region * REGION_SIZE, ref - this.#tagWindow);
    return `tag ${tag} is outside the window of expected tags ${lo}..${ref + this.#tagWindow}`;
  }

  /** Bytes that arrived and were not yet taken. */
  get bufferedBytes(): number {
    return this.#bufferedBytes;
  }

  /** The largest `bufferedBytes` seen since the last `resetPeak()`. */
  get peakBufferedBytes(): number {
    return this.#peakBufferedBytes;
  }

  /** Restarts the peak measurement from the current level. */
  resetPeak(): void {
    this.#peakBufferedBytes = this.#bufferedBytes;
  }

  /**
   * Hands an arrived message to its receiver, or keeps it.
   *
   * @param peer The sender.
   * @param tag The tag.
   * @param data The payload.
   */
  deliver(peer: number, tag: number, data: Uint8Array): void {
    const waiters = this.#waiting[peer].get(tag);
    if (waiters) {
      const w = waiters.shift()!;
      if (waiters.length === 0) this.#waiting[peer].delete(tag);
      settle(w, data);
      return;
    }
    const queue = this.#arrived[peer].get(tag);
    if (queue) queue.push(data);
    else this.#arrived[peer].set(tag, [data]);
    this.#bufferedBytes += data.byteLength;
    if (this.#bufferedBytes > this.#peakBufferedBytes) {
      this.#peakBufferedBytes = this.#bufferedBytes;
    }
  }

  /**
   * Hands the receive waiting first for `peer` and `tag` the payload that is
   * about to be read, if that receiver provided its own memory: the caller reads
   * the payload into `into` and then calls `done` (or `fail`).
   *
   * @example A waiting receive with its own memory
   * ```ts
   * import { Mailbox } from "./_mailbox.ts";
   * const box = new Mailbox(2);
   * const arena = new Uint8Array(64);
   * const got = box.take(1, 5, (n) => arena.subarray(8, 8 + n));
   * const claim = box.claim(1, 5, 3)!;
   * claim.into.set([1, 2, 3]);
   * claim.done();
   * if ((await got).byteOffset !== 8 || arena[9] !== 2) throw new Error("not in place");
   * ```
   *
   * @param peer The sender.
   * @param tag The tag.
   * @param length The payload's length.
   * @returns The claimed receive, or undefined when nobody waits with memory of its own.
   */
  claim(peer: number, tag: number, length: number): ClaimedReceive | undefined {
    const waiters = this.#waiting[peer].get(tag);
    const w = waiters?.[0];
    if (!w?.into) return undefined;
    waiters!.shift();
    if (waiters!.length === 0) this.#waiting[peer].delete(tag);
    let into: Uint8Array;
    try {
      into = w.into(length);
      if (into.byteLength !== length) {
        throw new RangeError(`Receive memory of ${into.byteLength} bytes for ${length}`);
      }
    } catch (e) {
      // The receiver could not take it (e.g. its arena is full): it fails, and
      // the payload is read and kept as if nobody had asked.
      w.reject(e as Error);
      return undefined;
    }
    return { into, done: () => w.resolve(into), fail: (e) => w.reject(e) };
  }

  /**
   * Takes the next message from `peer` under `tag`, waiting for it if needed.
   *
   * @param peer The sender.
   * @param tag The tag.
   * @param into Where the receiver wants the payload (called with its length).
   * @returns The payload.
   */
  take(peer: number, tag: number, into?: (length: number) => Uint8Array): Promise<Uint8Array> {
    const region = Math.floor(tag / REGION_SIZE);
    const asked = this.#asked[peer];
    if (tag > (asked.get(region) ?? -1)) asked.set(region, tag);
    const queue = this.#arrived[peer].get(tag);
    if (queue) {
      const data = queue.shift()!;
      if (queue.length === 0) this.#arrived[peer].delete(tag);
      this.#bufferedBytes -= data.byteLength;
      try {
        return Promise.resolve(into ? copyInto(into, data) : data);
      } catch (e) {
        return Promise.reject(e);
      }
    }
    const failure = this.#failure[peer];
    if (failure) return Promise.reject(failure);
    return new Promise((resolve, reject) => {
      const w: Waiter = { resolve, reject, into };
      const waiters = this.#waiting[peer].get(tag);
      if (waiters) waiters.push(w);
      else this.#waiting[peer].set(tag, [w]);
    });
  }

  /**
   * Marks a peer as gone: its waiting and future receives reject with `error`
   * (messages that already arrived can still be taken).
   *
   * @param peer The peer.
   * @param error Why.
   */
  fail(peer: number, error: Error): void {
    if (!this.#failure[peer]) this.#failure[peer] = error;
    for (const waiters of this.#waiting[peer].values()) {
      for (const w of waiters) w.reject(this.#failure[peer]!);
    }
    this.#waiting[peer].clear();
  }

  /**
   * Fails every peer.
   *
   * @param error Why.
   */
  failAll(error: Error): void {
    for (let p = 0; p < this.#failure.length; p++) this.fail(p, error);
  }
}

function copyInto(into: (length: number) => Uint8Array, data: Uint8Array): Uint8Array {
  const dst = into(data.byteLength);
  dst.set(data);
  return dst;
}

function settle(w: Waiter, data: Uint8Array): void {
  if (!w.into) return w.resolve(data);
  try {
    w.resolve(copyInto(w.into, data));
  } catch (e) {
    w.reject(e as Error);
  }
}
