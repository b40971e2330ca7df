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
      w.resolve(data);
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
   * Takes the next message from `peer` under `tag`, waiting for it if needed.
   *
   * @param peer The sender.
   * @param tag The tag.
   * @returns The payload.
   */
  take(peer: number, tag: number): Promise<Uint8Array> {
    const region = Math.floor(tag / REGION_SIZE);
    const asked = this.#asked[peer];
    if (tag > (asked.get(region) ?? -1)) asked.set(region, tag);
    const queue = this.#arrived[peer].get(tag);
    if (queue) {
      const data = queue.shift()!;
      if (queue.length === 0) this.#arrived[peer].delete(tag);
      this.#bufferedBytes -= data.byteLength;
      return Promise.resolve(data);
    }
    const failure = this.#failure[peer];
    if (failure) return Promise.reject(failure);
    return new Promise((resolve, reject) => {
      const waiters = this.#waiting[peer].get(tag);
      if (waiters) waiters.push({ resolve, reject });
      else this.#waiting[peer].set(tag, [{ resolve, reject }]);
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
