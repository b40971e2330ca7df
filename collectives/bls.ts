/**
 * The bounded-lag-synchronous (BLS) alltoallv on the transport interface alone.
 *
 * Call t posts this rank's blocks for iteration t and resolves with the blocks of
 * iteration t - k once every peer's block for t - k has arrived, i.e. once every
 * rank has posted t - k. So no rank runs more than k iterations ahead of the
 * slowest. The tag of iteration t is `tagBase + t`, so blocks of different
 * iterations never mix, whatever order they arrive in.
 *
 * Flow control: the block for iteration t goes to peer q only once q's block for
 * t - 1 has arrived here (iteration 0 goes at once). A fast rank's later blocks
 * wait on its own side, so between calls a receiver holds at most k + 1
 * iterations (t - k + 1 .. t + 1); while call t waits for iteration t - k, that
 * iteration's partial blocks come on top, and it is handed over (no longer
 * counted as buffered) the moment it completes. For k = 0 the condition always
 * holds already (the previous call could not return before t - 1 was complete),
 * so the synchronous case pays nothing for it.
 *
 * @module
 */

import { Watchdog } from "../transports/deadline.ts";
import type { Transport } from "../transports/transport.ts";
import {
  type Alltoallv,
  checkBlocks,
  type CollectiveOptions,
  type IterationBlocks,
} from "./alltoallv.ts";
import type { IterationArena } from "./arena.ts";
import { receiveBlock, sendBlock } from "./_block_io.ts";

/** Options of the BLS collective. */
export interface BlsOptions extends CollectiveOptions {
  /** The lag bound k >= 0. */
  lag: number;
}

interface Slot {
  iter: number;
  blocks: Uint8Array[];
  arrived: Promise<void>[];
  missing: Set<number>;
  lastArrivalMs: number;
  /** Bytes of this iteration counted as buffered. */
  heldBytes: number;
}

/**
 * BLS alltoallv over a transport.
 *
 * @example Lag 1 on two ranks in one process
 * ```ts
 * import { connectLocalGroup } from "@blsbench/core";
 * import { BlsAlltoallv } from "@blsbench/core";
 * const g = await connectLocalGroup("unix", 2);
 * const colls = g.transports.map((t) => new BlsAlltoallv(t, { lag: 1 }));
 * const block = (r: number, t: number) => [new Uint8Array([r, t]), new Uint8Array([r, t])];
 * const first = await Promise.all(colls.map((c) => c.exchange(block(c.rank, 0))));
 * if (first[0] !== undefined) throw new Error("pipeline should still be filling");
 * const second = await Promise.all(colls.map((c) => c.exchange(block(c.rank, 1))));
 * if (second[0]?.iter !== 0 || second[0].blocks[1][0] !== 1) throw new Error("wrong");
 * const rest = await Promise.all(colls.map((c) => c.drain()));
 * if (rest[1][0].iter !== 1) throw new Error("wrong drain");
 * await g.close();
 * ```
 */
export class BlsAlltoallv implements Alltoallv {
  readonly rank: number;
  readonly size: number;
  readonly lag: number;
  #transport: Transport;
  #tagBase: number;
  #timeoutMs: number;
  #watchdog: Watchdog;
  #next = 0;
  #returned = 0;
  #awaiting = -1;
  #slots = new Map<number, Slot>();
  #sendError: Error | undefined;
  #sends: Promise<void>[] = [];
  #bufferedBytes = 0;
  #peakBytes = 0;
  #arena: IterationArena | undefined;
  #headroom: boolean;
  #onSent: ((iter: number) => void) | undefined;
  /** Settles once every block posted so far has left (in iteration order). */
  #sentChain: Promise<void> = Promise.resolve();

  /**
   * Creates the collective.
   *
   * @param transport The transport (used for nothing else under these tags).
   * @param options The lag bound, the tag base, the per-call timeout.
   */
  constructor(transport: Transport, options: BlsOptions) {
    if (!Number.isInteger(options.lag) || options.lag < 0) {
      throw new RangeError(`Lag must be a whole number >= 0, got ${options.lag}`);
    }
    this.#transport = transport;
    this.rank = transport.rank;
    this.size = transport.size;
    this.lag = options.lag;
    this.#tagBase = options.tagBase ?? 0;
    this.#timeoutMs = options.timeoutMs ?? Infinity;
    this.#watchdog = new Watchdog(this.#timeoutMs);
    this.#arena = options.arena;
    this.#headroom = options.headroom ?? false;
    this.#onSent = options.onSent;
    if (this.#arena && this.#arena.slots < this.lag + 2) {
      throw new RangeError(
        `An arena for lag ${this.lag} needs ${this.lag + 2} slots, got ${this.#arena.slots}`,
      );
    }
  }

  buffered(): { bytes: number; peakBytes: number } {
    const inTransport = this.#transport.stats?.().bufferedBytes ?? 0;
    return { bytes: this.#bufferedBytes + inTransport, peakBytes: this.#peakBytes };
  }

  #slot(iter: number): Slot {
    let slot = this.#slots.get(iter);
    if (slot) return slot;
    const { rank, size } = this;
    const blocks = new Array<Uint8Array>(size);
    const missing = new Set<number>();
    slot = { iter, blocks, arrived: [], missing, lastArrivalMs: 0, heldBytes: 0 };
    const s = slot;
    for (let i = 1; i < size; i++) {
      const from = (rank - i + size) % size;
      missing.add(from);
      const got = receiveBlock(this.#transport, from, this.#tagBase + iter, iter, this.#arena);
      s.arrived[from] = got.then((b) => {
        s.blocks[from] = b;
        s.missing.delete(from);
        s.lastArrivalMs = performance.timeOrigin + performance.now();
        if (s.missing.size === 0 && iter === this.#awaiting) {
          // The iteration being waited for is complete: it is handed over, not buffered.
          this.#release(s);
          return;
        }
        s.heldBytes += b.byteLength;
        this.#bufferedBytes += b.byteLength;
        // Blocks that came before their receive was posted wait in the transport.
        const total = this.#bufferedBytes + (this.#transport.stats?.().bufferedBytes ?? 0);
        if (total > this.#peakBytes) this.#peakBytes = total;
      });
      // Failures surface when the iteration is awaited; do not let them go unhandled.
      s.arrived[from].catch(() => {});
    }
    this.#slots.set(iter, slot);
    return slot;
  }

  #release(slot: Slot): void {
    this.#bufferedBytes -= slot.heldBytes;
    slot.heldBytes = 0;
  }

  #post(iter: number, blocks: Uint8Array[]): void {
    const { rank, size } = this;
    const slot = this.#slot(iter);
    slot.blocks[rank] = blocks[rank];
    // Iteration t + 1 can arrive before this rank posts it (flow control lets
    // peers run one ahead): post its receives now so it lands here, counted.
    this.#slot(iter + 1);
    // Receives for this iteration are posted now, so arrivals are seen at once.
    const prev = iter > 0 ? this.#slots.get(iter - 1) : undefined;
    const sentNow: Promise<void>[] = [];
    for (let i = 1; i < size; i++) {
      const to = (rank + i) % size;
      const tag = this.#tagBase + iter;
      const go = () => sendBlock(this.#transport, to, tag, blocks[to], this.#headroom);
      const ready = prev && prev.missing.has(to) ? prev.arrived[to] : undefined;
      const sent = ready ? ready.then(go) : go();
      const tracked = sent.catch((e: Error) => {
        this.#sendError ??= e;
      });
      this.#sends.push(tracked);
      sentNow.push(tracked);
    }
    const onSent = this.#onSent;
    if (onSent) {
      this.#sentChain = Promise.all([this.#sentChain, ...sentNow]).then(() => {
        if (!this.#sendError) onSent(iter);
      });
    }
    if (this.#sends.length > 4 * size) {
      // Keep the list short; settled sends need no tracking.
      const keep = this.#sends.slice(-2 * size);
      this.#sends = keep;
    }
  }

  async #collect(iter: number): Promise<IterationBlocks> {
    const slot = this.#slot(iter);
    this.#awaiting = iter;
    if (slot.missing.size === 0) this.#release(slot);
    try {
      await this.#watchdog.guard(
        Promise.all(slot.arrived),
        () =>
          `Rank ${this.rank} timed out after ${this.#timeoutMs} ms in iteration ${iter} waiting for rank(s) ${
            [...slot.missing].join(", ")
          }`,
      );
    } finally {
      this.#awaiting = -1;
    }
    if (this.#sendError) throw this.#sendError;
    this.#slots.delete(iter);
    this.#release(slot);
    this.#returned = iter + 1;
    return {
      iter,
      blocks: slot.blocks,
      readyAtMs: slot.lastArrivalMs || performance.timeOrigin + performance.now(),
    };
  }

  async exchange(blocks: Uint8Array[]): Promise<IterationBlocks | undefined> {
    checkBlocks(blocks, this.size);
    if (this.#sendError) throw this.#sendError;
    const iter = this.#next++;
    this.#post(iter, blocks);
    const due = iter - this.lag;
    if (due < 0) return undefined;
    return await this.#collect(due);
  }

  async drain(): Promise<IterationBlocks[]> {
    const out: IterationBlocks[] = [];
    while (this.#returned < this.#next) out.push(await this.#collect(this.#returned));
    await Promise.all(this.#sends);
    this.#watchdog.dispose();
    if (this.#sendError) throw this.#sendError;
    return out;
  }
}
