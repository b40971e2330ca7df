/**
 * Tag matching: messages that arrive before anyone asks for them are kept per
 * peer and tag, in arrival order, until taken.
 *
 * @module
 */

interface Waiter {
  resolve(data: Uint8Array): void;
  reject(error: Error): void;
}

/** Per-peer, per-tag queues of arrived messages and of waiting receivers. */
export class Mailbox {
  #arrived: Map<number, Uint8Array[]>[];
  #waiting: Map<number, Waiter[]>[];
  #failure: (Error | undefined)[];
  #bufferedBytes = 0;
  #peakBufferedBytes = 0;

  /**
   * Creates a mailbox for `size` peers.
   *
   * @param size The world size.
   */
  constructor(size: number) {
    this.#arrived = Array.from({ length: size }, () => new Map());
    this.#waiting = Array.from({ length: size }, () => new Map());
    this.#failure = new Array(size).fill(undefined);
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
