/**
 * Arenas for the blocks of an alltoallv: one growable buffer per iteration in
 * flight, reused in a ring, so that steady-state exchanges allocate nothing.
 * Received blocks are read straight into them; the progress engine shares them
 * between its thread and the rank's main thread.
 *
 * @module
 */

/** Bytes a slot starts with. */
const INITIAL_SLOT_BYTES = 64 * 1024;
/** The most one slot (one iteration's blocks) may grow to. */
export const MAX_SLOT_BYTES = 2 ** 31;
/** Block offsets are multiples of this, so typed views (Float64Array too) fit. */
const ALIGN = 8;

/** A buffer an arena slot can live in: growable, shared between threads or not. */
export type Growable = SharedArrayBuffer | ArrayBuffer;

function grow(buffer: Growable, bytes: number): void {
  if (buffer instanceof SharedArrayBuffer) buffer.grow(bytes);
  else buffer.resize(bytes);
}

/**
 * A ring of `slots` growable buffers; iteration t's blocks live in slot
 * t mod `slots`, allocated one after the other, until the slot is taken by
 * iteration t + `slots`.
 *
 * @example Blocks of one iteration, side by side
 * ```ts
 * import { IterationArena } from "@blsbench/core";
 * const arena = new IterationArena(2);
 * const a = arena.alloc(0, 3);
 * const b = arena.alloc(0, 5);
 * if (a.buffer !== b.buffer || b.byteOffset < 3) throw new Error("not one slot");
 * if (arena.alloc(1, 1).buffer === a.buffer) throw new Error("iteration 1 shares slot 0");
 * ```
 */
export class IterationArena {
  /** The slots' buffers (shared ones when the arena crosses threads). */
  readonly buffers: readonly Growable[];
  #used: number[];
  #iter: number[];

  /**
   * Creates an arena, or wraps the buffers of one made on another thread.
   *
   * @param slots How many iterations it holds at once, or the buffers to wrap.
   * @param options `shared`: SharedArrayBuffers (for the progress engine);
   *   `initialBytes`: each slot's starting size.
   */
  constructor(
    slots: number | readonly Growable[],
    options: { shared?: boolean; initialBytes?: number } = {},
  ) {
    if (typeof slots === "number") {
      if (!Number.isInteger(slots) || slots < 1) {
        throw new RangeError(`An arena needs at least one slot, got ${slots}`);
      }
      const bytes = options.initialBytes ?? INITIAL_SLOT_BYTES;
      this.buffers = Array.from(
        { length: slots },
        () =>
          options.shared
            ? new SharedArrayBuffer(bytes, { maxByteLength: MAX_SLOT_BYTES })
            : new ArrayBuffer(bytes, { maxByteLength: MAX_SLOT_BYTES }),
      );
    } else {
      this.buffers = slots;
    }
    this.#used = this.buffers.map(() => 0);
    this.#iter = this.buffers.map(() => -1);
  }

  /** The number of slots. */
  get slots(): number {
    return this.buffers.length;
  }

  /**
   * Room for `length` bytes of iteration `iter`: the first call for an
   * iteration starts its slot afresh (whatever it held is gone), later ones go
   * after the earlier blocks; the slot grows when they do not fit.
   *
   * @param iter The iteration.
   * @param length Bytes.
   * @returns A view of exactly `length` bytes.
   * @throws RangeError when the iteration's blocks exceed `MAX_SLOT_BYTES`.
   */
  alloc(iter: number, length: number): Uint8Array {
    const slot = iter % this.buffers.length;
    if (this.#iter[slot] !== iter) {
      this.#iter[slot] = iter;
      this.#used[slot] = 0;
    }
    return this.#take(slot, length);
  }

  /**
   * Like `alloc`, with `before` writable bytes in front of the block (room for
   * a frame header) that belong to the same slot.
   *
   * @param iter The iteration.
   * @param length Bytes of the block.
   * @param before Bytes of room in front of it.
   * @returns A view of the block (the room precedes it in the same buffer).
   */
  allocWithRoom(iter: number, length: number, before: number): Uint8Array {
    const room = this.alloc(iter, before + length);
    return room.subarray(before);
  }

  #take(slot: number, length: number): Uint8Array {
    const buffer = this.buffers[slot];
    const offset = Math.ceil(this.#used[slot] / ALIGN) * ALIGN;
    const end = offset + length;
    if (end > buffer.byteLength) {
      if (end > MAX_SLOT_BYTES) {
        throw new RangeError(
          `One iteration's blocks need ${end} bytes, more than the ${MAX_SLOT_BYTES} an arena slot holds`,
        );
      }
      grow(buffer, Math.min(MAX_SLOT_BYTES, Math.max(end, 2 * buffer.byteLength)));
    }
    this.#used[slot] = end;
    return new Uint8Array(buffer, offset, length);
  }
}
