/**
 * The shared memory one collective of the progress engine runs on: a word
 * array of counters and block tables, a few float statistics, and the arenas
 * of outgoing and incoming blocks. The rank's main thread and the engine's
 * thread both map it; nothing on the per-iteration path is a message.
 *
 * Counters (Int32Array words):
 * - `KICK`: bumped by the main thread after it posts or asks for the drain;
 *   the engine thread waits on it with `Atomics.waitAsync`.
 * - `SIGNAL`: bumped by the engine thread after it publishes a result, frees
 *   an outgoing slot, finishes the drain or fails; the main thread spins on it,
 *   then `Atomics.wait`s.
 * - `POSTED`, `DONE`, `SENT`: iterations posted by the main thread, results
 *   published by the engine (in order), iterations whose blocks have all left.
 * - `STATE`: running, failed or drained. `DRAIN`: the main thread asks for it.
 * - `WANT_SENT`: set while the main thread waits for an outgoing slot; only
 *   then does a finished send bump `SIGNAL` (a wake-up it does not wait for
 *   would take the CPU from the engine thread in the middle of an exchange).
 * - `MAIN_WAITING`: set while the main thread waits for the engine; the
 *   engine thread spins on its sockets only then (when the main thread
 *   computes, a spinning engine thread on its CPU would slow it down).
 *
 * @module
 */

/** Index of the main thread's wake-up counter. */
export const KICK = 0;
/** Index of the engine thread's wake-up counter. */
export const SIGNAL = 1;
/** Index of the count of iterations the main thread posted. */
export const POSTED = 2;
/** Index of the count of results the engine published. */
export const DONE = 3;
/** Index of the count of iterations whose blocks have all been sent. */
export const SENT = 4;
/** Index of the channel state. */
export const STATE = 5;
/** Index of the drain request. */
export const DRAIN = 6;
/** Index of the flag the main thread sets while it waits for an outgoing slot. */
export const WANT_SENT = 7;
/** Index of the flag the main thread sets while it waits for the engine thread. */
export const MAIN_WAITING = 8;
const FIXED_WORDS = 10;

/** Values of the `STATE` word. */
export const State = { Running: 0, Failed: 1, Drained: 2 } as const;

/** Index of the bytes buffered in the engine (Float64Array). */
export const STAT_BUFFERED = 0;
/** Index of their peak since the collective started (Float64Array). */
export const STAT_PEAK = 1;
const FIXED_STATS = 2;

/** The shared buffers of one collective, as sent to the engine thread at setup. */
export interface ChannelBuffers {
  /** Counters and block tables. */
  words: SharedArrayBuffer;
  /** Buffered-byte statistics and each incoming slot's completion time. */
  stats: SharedArrayBuffer;
  /** Outgoing blocks, one slot per iteration in flight. */
  outgoing: SharedArrayBuffer[];
  /** Incoming blocks, one slot per iteration in flight. */
  incoming: SharedArrayBuffer[];
}

/** Where things are in a channel of `size` ranks with the given slot counts. */
export class ChannelLayout {
  /** Ranks. */
  readonly size: number;
  /** Outgoing slots. */
  readonly outSlots: number;
  /** Incoming slots. */
  readonly inSlots: number;

  /**
   * Computes the layout.
   *
   * @param size Ranks.
   * @param outSlots Outgoing slots.
   * @param inSlots Incoming slots.
   */
  constructor(size: number, outSlots: number, inSlots: number) {
    this.size = size;
    this.outSlots = outSlots;
    this.inSlots = inSlots;
  }

  /** Words in the counter array. */
  get words(): number {
    return FIXED_WORDS + 2 * this.size * this.outSlots + (1 + 2 * this.size) * this.inSlots;
  }

  /** Float64 entries in the statistics array. */
  get stats(): number {
    return FIXED_STATS + this.inSlots;
  }

  /**
   * Word of the offset of the outgoing block for `peer` in iteration `iter`
   * (its length is the next word).
   *
   * @param iter The iteration.
   * @param peer The destination.
   * @returns The word index.
   */
  outBlock(iter: number, peer: number): number {
    return FIXED_WORDS + 2 * (this.size * (iter % this.outSlots) + peer);
  }

  /**
   * Word holding which iteration an incoming slot holds.
   *
   * @param iter The iteration.
   * @returns The word index.
   */
  inStamp(iter: number): number {
    return FIXED_WORDS + 2 * this.size * this.outSlots +
      (1 + 2 * this.size) * (iter % this.inSlots);
  }

  /**
   * Word of the offset of the block received from `peer` in iteration `iter`
   * (its length is the next word).
   *
   * @param iter The iteration.
   * @param peer The sender.
   * @returns The word index.
   */
  inBlock(iter: number, peer: number): number {
    return this.inStamp(iter) + 1 + 2 * peer;
  }

  /**
   * Statistics entry of an incoming slot's completion time (ms since the epoch).
   *
   * @param iter The iteration.
   * @returns The Float64Array index.
   */
  readyAt(iter: number): number {
    return FIXED_STATS + (iter % this.inSlots);
  }
}

/**
 * Slots a collective with lag `lag` needs on each side: iterations
 * t - lag .. t + 1 can be held at once (the result the caller is still
 * reading, those in flight, and the one peers may already send).
 *
 * @param lag The lag bound.
 * @returns The slot count.
 */
export function slotsFor(lag: number): number {
  return lag + 2;
}

/**
 * Bumps a wake-up counter and wakes whoever waits on it.
 *
 * @param words The counter array.
 * @param index `KICK` or `SIGNAL`.
 */
export function wake(words: Int32Array, index: number): void {
  Atomics.add(words, index, 1);
  Atomics.notify(words, index);
}
