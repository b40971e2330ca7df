/**
 * The vendor baseline: the MPI library's own alltoallv, called through FFI.
 *
 * Lag 0 is `MPI_Alltoall` of the block sizes followed by `MPI_Alltoallv`, both
 * blocking. Lag k keeps a window of up to k + 1 iterations: each posts an
 * `MPI_Ialltoall` of its sizes at once and its `MPI_Ialltoallv` as soon as the
 * sizes are known; a call returns the oldest iteration once more than k are in
 * flight, waiting for it with `MPI_Wait`. Sizes and data travel on two
 * duplicates of `MPI_COMM_WORLD`, because nonblocking collectives must be
 * started in the same order on every rank: on one communicator, a rank whose
 * sizes for t arrived before it posted t + 1 would start them in a different
 * order than a rank where they arrived later.
 *
 * The sizes are exchanged every iteration (not derived by a rule both sides
 * know): that is what a general alltoallv must do. When every block has a size
 * both sides know in advance (`blockBytes`, as in osu_alltoallv or a balanced
 * sweep), there is no counts exchange: lag 0 is one `MPI_Alltoallv`, lag k a
 * window of `MPI_Ialltoallv` started at once. The C comparison program in
 * `bench/peers/` makes the same calls on either path.
 *
 * Blocks are sent without copying when all of this rank's outgoing blocks lie
 * within 2 GiB of each other in memory (the usual case: one buffer and its
 * subarrays), else they are packed. Received blocks are views into one fresh
 * buffer per iteration, owned by the caller (or, with `reuseReceiveBuffers`,
 * into a buffer reused by later iterations). `blocks[rank]` never goes through
 * MPI: it is returned as posted (posted blocks belong to the collective).
 *
 * MPI's nonblocking collectives progress only inside MPI calls, so with lag k
 * the vendor baseline moves data while `exchange`, `drain` or the waits run,
 * not while the application computes: that is the vendor's behaviour the suite
 * measures.
 *
 * @module
 */

import { RunError } from "../util/errors.ts";
import { addressOf, PinnedBlock } from "../transports/mpi/memory.ts";
import {
  acquireMpi,
  type MpiAlltoallvArgs,
  type MpiHandle,
  type MpiOptions,
  type MpiSession,
} from "../transports/mpi/session.ts";
import { type Alltoallv, checkBlocks, type IterationBlocks } from "./alltoallv.ts";

/** Options of the native collective. */
export interface MpiNativeOptions extends MpiOptions {
  /** The lag bound k: 0 is `MPI_Alltoallv`, k > 0 a window of `MPI_Ialltoallv` (default 0). */
  lag?: number;
  /**
   * Receive into buffers reused across iterations (as an osu-style C loop
   * does) instead of a fresh buffer per iteration. The blocks an `exchange`
   * or `drain` returns are then valid only until the next `exchange` call.
   * Default false: returned blocks belong to the caller.
   */
  reuseReceiveBuffers?: boolean;
  /**
   * Every block to and from every other rank has this many bytes, known to all
   * ranks in advance: the counts are not exchanged. A block of another size is
   * a `RangeError`. Default: counts are exchanged every iteration.
   */
  blockBytes?: number;
}

/** The MPI library's alltoallv behind the suite's `Alltoallv` interface. */
export interface MpiNativeAlltoallv extends Alltoallv {
  /** The MPI session in use (family, tag bound, library). */
  readonly session: MpiSession;
  /**
   * `counts`: each iteration exchanges its block sizes first; `known-counts`:
   * sizes are known in advance and only the data is exchanged.
   */
  readonly path: "counts" | "known-counts";
  /**
   * `exchange` without the promise: the native collective never waits on the
   * event loop (its waits are inside MPI), so the result can be returned
   * directly, saving a microtask turn per call (about 0.5 us here).
   *
   * @param blocks `blocks[q]` goes to rank q.
   * @returns The blocks of iteration t - lag, or undefined while the window fills.
   */
  exchangeNow(blocks: Uint8Array[]): IterationBlocks | undefined;
  /** Completes what is in flight, frees the communicators and releases MPI. */
  close(): Promise<void>;
}

const INT_MAX = 0x7fff_ffff;
const EMPTY = new Uint8Array(0);
const NO_BLOCKS: Uint8Array[] = [];

/** One iteration's MPI state; kept alive until its requests complete. */
class Round {
  readonly pinned: PinnedBlock;
  readonly sendCounts: Int32Array;
  readonly sendDispls: Int32Array;
  readonly recvCounts: Int32Array;
  readonly recvDispls: Int32Array;
  readonly sendCountsAddress: bigint;
  readonly sendDisplsAddress: bigint;
  readonly recvCountsAddress: bigint;
  readonly recvDisplsAddress: bigint;
  readonly countsRequest: bigint;
  readonly dataRequest: bigint;
  iter = -1;
  state: "counts" | "data" | "done" = "done";
  sendBase = 0n;
  sendBaseNumber = -1; // sendBase as a Number, to skip BigInt() when unchanged
  sent: Uint8Array[] = []; // keeps the caller's blocks alive while MPI reads them
  pack: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  recvBuffer: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  recvAddress = 0n;
  readonly addresses: number[];
  local: Uint8Array = new Uint8Array(0);

  constructor(size: number) {
    const bytes = 4 * size;
    this.pinned = new PinnedBlock(4 * bytes + 16);
    const buffer = this.pinned.bytes.buffer;
    this.sendCounts = new Int32Array(buffer, 0, size);
    this.sendDispls = new Int32Array(buffer, bytes, size);
    this.recvCounts = new Int32Array(buffer, 2 * bytes, size);
    this.recvDispls = new Int32Array(buffer, 3 * bytes, size);
    this.sendCountsAddress = this.pinned.at(0);
    this.sendDisplsAddress = this.pinned.at(bytes);
    this.recvCountsAddress = this.pinned.at(2 * bytes);
    this.recvDisplsAddress = this.pinned.at(3 * bytes);
    this.countsRequest = this.pinned.at(4 * bytes);
    this.dataRequest = this.pinned.at(4 * bytes + 8);
    this.addresses = new Array(size).fill(0);
  }
}

class MpiNativeImpl implements MpiNativeAlltoallv {
  readonly rank: number;
  readonly size: number;
  readonly lag: number;
  readonly session: MpiSession;
  #countsComm: MpiHandle;
  #dataComm: MpiHandle;
  #free: Round[] = [];
  #window: Round[] = [];
  #next = 0;
  #flag = new PinnedBlock(8);
  #closed = false;
  #reuse: boolean;
  #blockBytes: number | undefined;
  readonly path: "counts" | "known-counts";
  // Base addresses of the ArrayBuffers blocks come from: Deno.UnsafePointer.of
  // costs ~0.3 us, a lookup far less, and benchmarks post the same buffers.
  #bases = new WeakMap<ArrayBufferLike, number>();

  constructor(session: MpiSession, lag: number, reuse: boolean, blockBytes?: number) {
    this.session = session;
    this.rank = session.rank;
    this.size = session.size;
    this.lag = lag;
    this.#reuse = reuse;
    this.#blockBytes = blockBytes;
    this.path = blockBytes === undefined ? "counts" : "known-counts";
    this.#countsComm = session.dupWorld();
    this.#dataComm = session.dupWorld();
    for (let i = 0; i <= lag; i++) {
      const round = new Round(this.size);
      if (blockBytes !== undefined) {
        // Receive counts never change: set once.
        for (let q = 0; q < this.size; q++) round.recvCounts[q] = q === this.rank ? 0 : blockBytes;
      }
      this.#free.push(round);
    }
  }

  exchange(blocks: Uint8Array[]): Promise<IterationBlocks | undefined> {
    try {
      return Promise.resolve(this.#exchange(blocks));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  exchangeNow(blocks: Uint8Array[]): IterationBlocks | undefined {
    return this.#exchange(blocks);
  }

  drain(): Promise<IterationBlocks[]> {
    try {
      const out: IterationBlocks[] = [];
      while (this.#window.length > 0) out.push(this.#completeOldest());
      return Promise.resolve(out);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.drain();
    this.#closed = true;
    this.session.freeComm(this.#countsComm);
    this.session.freeComm(this.#dataComm);
    this.session.release();
  }

  #exchange(blocks: Uint8Array[]): IterationBlocks | undefined {
    if (this.#closed) throw new RunError("The native alltoallv is closed");
    checkBlocks(blocks, this.size);
    const round = this.#free.pop()!;
    try {
      this.#prepareSend(round, blocks);
    } catch (error) {
      // Refused blocks (a size not announced, over 2 GiB) start no iteration.
      this.#free.push(round);
      throw error;
    }
    round.iter = this.#next++;
    const { fn, int } = this.session.lib;
    if (this.#blockBytes !== undefined) return this.#exchangeKnown(round);
    if (this.lag === 0) {
      this.#call(
        fn.MPI_Alltoall(
          round.sendCountsAddress,
          1,
          int,
          round.recvCountsAddress,
          1,
          int,
          this.#countsComm,
        ),
        "MPI_Alltoall",
      );
      this.#prepareRecv(round);
      this.#call(
        fn.MPI_Alltoallv(...this.#dataArgs(round)),
        "MPI_Alltoallv",
      );
      return this.#finish(round);
    }
    this.#call(
      fn.MPI_Ialltoall(
        round.sendCountsAddress,
        1,
        int,
        round.recvCountsAddress,
        1,
        int,
        this.#countsComm,
        round.countsRequest,
      ),
      "MPI_Ialltoall",
    );
    round.state = "counts";
    this.#window.push(round);
    this.#progress();
    return this.#window.length > this.lag ? this.#completeOldest() : undefined;
  }

  /** Known block sizes: the data collective alone. */
  #exchangeKnown(round: Round): IterationBlocks | undefined {
    if (this.lag === 0) {
      this.#prepareRecv(round);
      const { fn } = this.session.lib;
      this.#call(
        fn.MPI_Alltoallv(...this.#dataArgs(round)),
        "MPI_Alltoallv",
      );
      return this.#finish(round);
    }
    this.#postData(round);
    this.#window.push(round);
    this.#progress();
    return this.#window.length > this.lag ? this.#completeOldest() : undefined;
  }

  /** The data collective's arguments for a round whose counts and buffers are ready. */
  #dataArgs(round: Round): MpiAlltoallvArgs {
    const { byte } = this.session.lib;
    return [
      round.sendBase,
      round.sendCountsAddress,
      round.sendDisplsAddress,
      byte,
      round.recvAddress,
      round.recvCountsAddress,
      round.recvDisplsAddress,
      byte,
      this.#dataComm,
    ];
  }

  #call(code: number, what: string): void {
    // The message is built only on failure: this runs twice per iteration.
    if (code !== 0) this.session.check(code, `${what} (iteration ${this.#next - 1})`);
  }

  /** Fills counts and displacements; finds a base address or packs. */
  #prepareSend(round: Round, blocks: Uint8Array[]): void {
    const { size, rank } = this;
    round.local = blocks[rank];
    round.sent = blocks;
    // Addresses as Numbers (user-space addresses are below 2^47, so exact):
    // BigInt arithmetic allocates, and this runs for every block.
    let low = Infinity;
    let high = 0;
    let total = 0;
    const addresses = round.addresses;
    for (let q = 0; q < size; q++) {
      const length = q === rank ? 0 : blocks[q].byteLength;
      if (length > INT_MAX) throw new RangeError(`Block for rank ${q} exceeds 2 GiB`);
      if (this.#blockBytes !== undefined && q !== rank && length !== this.#blockBytes) {
        throw new RangeError(
          `Block for rank ${q} has ${length} bytes, not the ${this.#blockBytes} both sides expect`,
        );
      }
      round.sendCounts[q] = length;
      total += length;
      if (length === 0) continue;
      const address = this.#addressOf(blocks[q]);
      addresses[q] = address;
      if (address < low) low = address;
      if (address + length > high) high = address + length;
    }
    if (total === 0) {
      round.sendDispls.fill(0);
      round.sendBase = 0n;
    } else if (high - low <= INT_MAX) {
      // Zero copy: displacements relative to the lowest block.
      for (let q = 0; q < size; q++) {
        round.sendDispls[q] = round.sendCounts[q] === 0 ? 0 : addresses[q] - low;
      }
      if (low !== round.sendBaseNumber) {
        round.sendBaseNumber = low;
        round.sendBase = BigInt(low);
      }
    } else {
      if (total > INT_MAX) throw new RangeError(`Outgoing blocks exceed 2 GiB in total`);
      if (round.pack.byteLength < total) round.pack = new Uint8Array(total);
      let offset = 0;
      for (let q = 0; q < size; q++) {
        round.sendDispls[q] = offset;
        if (round.sendCounts[q] > 0) round.pack.set(blocks[q], offset);
        offset += round.sendCounts[q];
      }
      round.sendBase = addressOf(round.pack);
      round.sendBaseNumber = -1;
    }
  }

  /** A view's address as a Number, from a per-ArrayBuffer cache. */
  #addressOf(view: Uint8Array): number {
    const buffer = view.buffer;
    let base = this.#bases.get(buffer);
    if (base === undefined) {
      base = Number(addressOf(view)) - view.byteOffset;
      this.#bases.set(buffer, base);
    }
    return base + view.byteOffset;
  }

  #prepareRecv(round: Round): void {
    // Known counts: displacements and the reused buffer are set up once.
    if (this.#blockBytes !== undefined && this.#reuse && round.recvBuffer.byteLength > 0) return;
    let total = 0;
    for (let q = 0; q < this.size; q++) {
      round.recvDispls[q] = total;
      total += round.recvCounts[q];
    }
    if (total > INT_MAX) throw new RangeError(`Incoming blocks exceed 2 GiB in total`);
    if (!this.#reuse || round.recvBuffer.byteLength < total) {
      round.recvBuffer = new Uint8Array(total);
      round.recvAddress = addressOf(round.recvBuffer);
    }
  }

  #postData(round: Round): void {
    this.#prepareRecv(round);
    const { fn } = this.session.lib;
    this.session.check(
      fn.MPI_Ialltoallv(...this.#dataArgs(round), round.dataRequest),
      `MPI_Ialltoallv (iteration ${round.iter})`,
    );
    round.state = "data";
  }

  #test(request: bigint): boolean {
    const { fn } = this.session.lib;
    this.session.check(
      fn.MPI_Test(request, this.#flag.base, this.session.abi.statusIgnore),
      "MPI_Test",
    );
    return this.#flag.view.getInt32(0, true) !== 0;
  }

  #wait(request: bigint, what: string): void {
    const { fn } = this.session.lib;
    this.session.check(fn.MPI_Wait(request, this.session.abi.statusIgnore), what);
  }

  /** Tests what is in flight, starting data exchanges in iteration order. */
  #progress(): void {
    for (const round of this.#window) {
      if (round.state === "counts") {
        if (!this.#test(round.countsRequest)) return;
        this.#postData(round);
      }
      if (round.state === "data" && this.#test(round.dataRequest)) round.state = "done";
    }
  }

  #completeOldest(): IterationBlocks {
    const round = this.#window.shift()!;
    if (round.state === "counts") {
      this.#wait(round.countsRequest, `MPI_Wait on sizes of iteration ${round.iter}`);
      this.#postData(round);
    }
    if (round.state === "data") {
      this.#wait(round.dataRequest, `MPI_Wait on iteration ${round.iter}`);
    }
    return this.#finish(round);
  }

  #finish(round: Round): IterationBlocks {
    const blocks: Uint8Array[] = new Array(this.size);
    for (let q = 0; q < this.size; q++) {
      blocks[q] = q === this.rank
        ? round.local
        : new Uint8Array(round.recvBuffer.buffer, round.recvDispls[q], round.recvCounts[q]);
    }
    // No readyAtMs: blocks are ready when the call returns, and performance.now()
    // costs ~0.3 us here (as much as a small MPI_Alltoallv) per iteration.
    const result = { iter: round.iter, blocks };
    round.state = "done";
    round.sent = NO_BLOCKS;
    round.local = EMPTY;
    if (!this.#reuse) round.recvBuffer = EMPTY;
    this.#free.push(round);
    return result;
  }
}

/**
 * Opens the MPI library's own alltoallv (the vendor baseline) with lag bound
 * `lag`: `MPI_Alltoallv` for 0, a window of `MPI_Ialltoallv` for k > 0.
 *
 * Every rank must call it at the same point (it duplicates the world
 * communicator twice). It shares the process's MPI session with the MPI
 * transport.
 *
 * @example Three iterations with lag 1 under mpirun
 * ```ts ignore
 * // mpirun.openmpi --allow-run-as-root -np 2 deno run -A this.ts
 * import { openMpiNativeAlltoallv } from "@blsbench/core/mpi";
 * const a2a = await openMpiNativeAlltoallv({ lag: 1 });
 * for (let t = 0; t < 3; t++) {
 *   const blocks = Array.from({ length: a2a.size }, (_, q) => new Uint8Array(q + 1).fill(t));
 *   const done = await a2a.exchange(blocks);
 *   if (done) console.log(`iteration ${done.iter}:`, done.blocks);
 * }
 * console.log(await a2a.drain());
 * await a2a.close();
 * ```
 *
 * @param options The lag bound, the MPI family, known block sizes.
 * @returns The collective; `close()` it (finalises MPI after its last user).
 * @throws RangeError for a negative or fractional lag.
 * @throws RunError when MPI cannot start.
 */
export function openMpiNativeAlltoallv(
  options: MpiNativeOptions = {},
): Promise<MpiNativeAlltoallv> {
  const lag = options.lag ?? 0;
  if (!Number.isInteger(lag) || lag < 0) {
    return Promise.reject(new RangeError(`Lag ${lag} must be a non-negative integer`));
  }
  const blockBytes = options.blockBytes;
  if (blockBytes !== undefined && (!Number.isInteger(blockBytes) || blockBytes < 0)) {
    return Promise.reject(
      new RangeError(`Block size ${blockBytes} must be a non-negative integer`),
    );
  }
  try {
    const session = acquireMpi(options);
    try {
      return Promise.resolve(
        new MpiNativeImpl(session, lag, options.reuseReceiveBuffers ?? false, blockBytes),
      );
    } catch (error) {
      session.release();
      throw error;
    }
  } catch (error) {
    return Promise.reject(error);
  }
}
