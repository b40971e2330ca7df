/**
 * The synchronous alltoallv: a pairwise exchange where step i sends to
 * (r + i) mod N and receives from (r - i) mod N, the iteration number as the tag.
 * Nobody finishes an iteration before every rank has posted it.
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

/** Where `alltoallvOnce` puts what it receives and how it sends. */
export interface ExchangeIo {
  /** Receive into this arena, in the slot of `iter`. */
  arena?: IterationArena;
  /** The iteration (the arena slot). */
  iter?: number;
  /** Blocks have frame-header room in front of them (see `CollectiveOptions`). */
  headroom?: boolean;
}

/**
 * One synchronous alltoallv over a transport.
 *
 * @example Two ranks in one process
 * ```ts
 * import { connectLocalGroup } from "@blsbench/core";
 * import { alltoallvOnce } from "@blsbench/core";
 * const g = await connectLocalGroup("tcp", 2);
 * const out = await Promise.all(g.transports.map((t) =>
 *   alltoallvOnce(t, 0, [new Uint8Array([t.rank, 0]), new Uint8Array([t.rank, 1])])
 * ));
 * if (out[1][0][0] !== 0 || out[1][0][1] !== 1) throw new Error("wrong block");
 * await g.close();
 * ```
 *
 * @param transport The transport.
 * @param tag The tag of this exchange.
 * @param blocks `blocks[q]` goes to rank q.
 * @param missing If given, holds the ranks whose block has not arrived yet (for timeout messages).
 * @param io Where received blocks go and whether blocks have header room.
 * @returns `result[q]` is what rank q sent to this rank.
 */
export async function alltoallvOnce(
  transport: Transport,
  tag: number,
  blocks: Uint8Array[],
  missing?: Set<number>,
  io: ExchangeIo = {},
): Promise<Uint8Array[]> {
  const { rank, size } = transport;
  checkBlocks(blocks, size);
  const out = new Array<Uint8Array>(size);
  out[rank] = blocks[rank];
  const pending: Promise<unknown>[] = [];
  for (let i = 1; i < size; i++) {
    const to = (rank + i) % size;
    const from = (rank - i + size) % size;
    missing?.add(from);
    pending.push(sendBlock(transport, to, tag, blocks[to], io.headroom ?? false));
    pending.push(
      receiveBlock(transport, from, tag, io.iter ?? 0, io.arena).then((b) => {
        out[from] = b;
        missing?.delete(from);
      }),
    );
  }
  await Promise.all(pending);
  return out;
}

/** The synchronous alltoallv as an `Alltoallv` with lag 0. */
export class SyncAlltoallv implements Alltoallv {
  readonly rank: number;
  readonly size: number;
  readonly lag = 0;
  #transport: Transport;
  #tagBase: number;
  #next = 0;
  #timeoutMs: number;
  #options: CollectiveOptions;
  #watchdog: Watchdog;

  /**
   * Creates the collective.
   *
   * @param transport The transport.
   * @param opts Tag base, timeout, arena (see `CollectiveOptions`).
   */
  constructor(transport: Transport, opts: CollectiveOptions = {}) {
    this.#transport = transport;
    this.rank = transport.rank;
    this.size = transport.size;
    this.#tagBase = opts.tagBase ?? 0;
    this.#timeoutMs = opts.timeoutMs ?? Infinity;
    this.#options = opts;
    this.#watchdog = new Watchdog(this.#timeoutMs);
    if (opts.arena && opts.arena.slots < 2) {
      throw new RangeError(`An arena for lag 0 needs 2 slots, got ${opts.arena.slots}`);
    }
  }

  async exchange(blocks: Uint8Array[]): Promise<IterationBlocks> {
    const iter = this.#next++;
    const missing = new Set<number>();
    const out = await this.#watchdog.guard(
      alltoallvOnce(this.#transport, this.#tagBase + iter, blocks, missing, {
        arena: this.#options.arena,
        iter,
        headroom: this.#options.headroom,
      }),
      () =>
        `Rank ${this.rank} timed out after ${this.#timeoutMs} ms in iteration ${iter} waiting for rank(s) ${
          [...missing].join(", ")
        }`,
    );
    // The exchange awaited its sends: they have left.
    this.#options.onSent?.(iter);
    return { iter, blocks: out, readyAtMs: performance.timeOrigin + performance.now() };
  }

  drain(): Promise<IterationBlocks[]> {
    this.#watchdog.dispose();
    return Promise.resolve([]);
  }
}
