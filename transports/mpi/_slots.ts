/**
 * A pool of pinned 8-byte slots that hold MPI requests and messages while
 * MPI writes to them; each slot's address is computed once.
 *
 * @module
 */

import { PinnedBlock } from "./memory.ts";

const SLOTS_PER_BLOCK = 256;
const SLOT_BYTES = 8;

/** A slot: its address, and where to read it back. */
export interface Slot {
  /** The address passed to MPI. */
  readonly address: bigint;
  /** The block that holds it. */
  readonly block: PinnedBlock;
  /** Its byte offset in the block. */
  readonly offset: number;
}

/** Hands out and takes back slots; grows by blocks of 256. */
export class SlotPool {
  #free: Slot[] = [];
  // Blocks stay referenced for the pool's lifetime so that addresses remain valid.
  #blocks: PinnedBlock[] = [];

  /** Takes a free slot. */
  take(): Slot {
    let slot = this.#free.pop();
    if (slot === undefined) {
      const block = new PinnedBlock(SLOTS_PER_BLOCK * SLOT_BYTES);
      this.#blocks.push(block);
      for (let i = SLOTS_PER_BLOCK - 1; i >= 0; i--) {
        const offset = i * SLOT_BYTES;
        this.#free.push({ address: block.at(offset), block, offset });
      }
      slot = this.#free.pop()!;
    }
    return slot;
  }

  /** Returns a slot to the pool. */
  give(slot: Slot): void {
    this.#free.push(slot);
  }
}
