import type { IterationArena } from "./arena.ts";

/**
 * The alltoallv collective interface shared by the synchronous, BLS, threaded
 * and MPI-native implementations.
 *
 * @module
 */

/** The blocks one rank received for one iteration. */
export interface IterationBlocks {
  /** The iteration these blocks belong to (0-based, per collective instance). */
  iter: number;
  /** `blocks[q]` is what rank q posted for this rank in iteration `iter`. */
  blocks: Uint8Array[];
  /** When the last block of the iteration arrived (ms since the epoch, sub-ms precision). */
  readyAtMs?: number;
}

/**
 * An alltoallv with lag bound `lag`: call t posts this rank's blocks for
 * iteration t and resolves with the blocks received for iteration t - lag
 * (undefined while the pipeline fills); `drain` returns the last `lag`
 * iterations. Every rank makes the same calls in the same order. Ownership of
 * posted blocks passes to the collective: do not modify them afterwards.
 */
export interface Alltoallv {
  /** This rank. */
  readonly rank: number;
  /** The number of ranks. */
  readonly size: number;
  /** The lag bound k (0 is synchronous). */
  readonly lag: number;
  /**
   * Posts `blocks` (one per destination rank, any length including 0) for the
   * next iteration.
   */
  exchange(blocks: Uint8Array[]): Promise<IterationBlocks | undefined>;
  /** Returns the iterations still in flight, in order. */
  drain(): Promise<IterationBlocks[]>;
  /** Bytes received and not yet returned, and their peak (for memory checks). */
  buffered?(): { bytes: number; peakBytes: number };
}

/** Options every alltoallv of this package takes. */
export interface CollectiveOptions {
  /**
   * Tag of iteration 0 (default 0). A collective that runs n iterations uses the
   * tags tagBase .. tagBase + n (one past its last iteration: receives are posted
   * one iteration ahead).
   */
  tagBase?: number;
  /** How long one call may wait for its peers, in ms (default: forever). */
  timeoutMs?: number;
  /**
   * Receive into this arena (at least lag + 2 slots). Results are then views
   * into it that stay valid until the next call: copy what must live longer.
   * Without it, every received block is a buffer of its own.
   */
  arena?: IterationArena;
  /**
   * Posted blocks are views with `FRAME_HEADROOM` writable bytes in front of
   * them in their buffer, which the transport may use to frame them in place.
   */
  headroom?: boolean;
  /** Called with each iteration, in order, once all its blocks have left this rank. */
  onSent?: (iter: number) => void;
}

/**
 * Checks that `blocks` has one block per rank.
 *
 * @example Check a block list
 * ```ts
 * import { checkBlocks } from "@blsbench/core/collectives";
 * checkBlocks([new Uint8Array(1), new Uint8Array(0)], 2);
 * ```
 *
 * @param blocks The blocks.
 * @param size The world size.
 * @throws RangeError when the count is wrong.
 */
export function checkBlocks(blocks: Uint8Array[], size: number): void {
  if (blocks.length !== size) {
    throw new RangeError(`Expected ${size} blocks (one per rank), got ${blocks.length}`);
  }
}
