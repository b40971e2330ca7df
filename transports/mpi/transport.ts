/**
 * The transport interface over MPI point-to-point messages, called through
 * Deno FFI.
 *
 * Sends are `MPI_Isend`; receives use a matched probe (`MPI_Improbe`) to learn
 * the size of the next message from that peer under that tag, then
 * `MPI_Imrecv` into a buffer of exactly that size, so messages of any length
 * need no header and no copy. MPI's non-overtaking rule plus one queue per
 * (peer, tag) keep messages with the same peer and tag in send order; MPI also
 * keeps messages that arrive before they are asked for. Transport tags are
 * mapped to MPI tags modulo `MPI_TAG_UB + 1` (2^31 for OpenMPI, 2^28 for
 * MPICH): tags that differ by a multiple of that share one MPI tag and are
 * matched in the order they were sent.
 *
 * Progress: a poll loop tests every outstanding request and probes every
 * waiting receive. While work is outstanding it polls in microtask turns for
 * slices of `sliceTurns` polls (so latency stays near the cost of one poll), between
 * slices yields to the event loop through a MessageChannel (a few microseconds,
 * no timer clamping; `setTimeout(0)` measured 2 ms here) and, after `spinMs`
 * without progress, sleeps `idleSleepMs` between polls so that a rank waiting
 * for a slow peer does not burn a core.
 *
 * @module
 */

import { MessageChannel } from "node:worker_threads";
import { RunError } from "../../util/errors.ts";
import { checkPeerAndTag, type Transport, type TransportStats } from "../transport.ts";
import { addressOf, PinnedBlock } from "./memory.ts";
import { type Slot, SlotPool } from "./_slots.ts";
import {
  acquireMpi,
  type MpiFamily,
  type MpiHandle,
  type MpiOptions,
  type MpiSession,
} from "./session.ts";

/** Options of the MPI transport. */
export interface MpiTransportOptions extends MpiOptions {
  /**
   * Milliseconds the progress loop keeps polling at full speed after the last
   * completed operation before it starts sleeping between polls (default 20).
   */
  spinMs?: number;
  /** Milliseconds slept between polls once idle longer than `spinMs` (default 1). */
  idleSleepMs?: number;
  /**
   * Polls the loop makes in microtask turns before it lets the event loop run
   * timers and I/O (default 256, some 50-100 us).
   */
  sliceTurns?: number;
  /**
   * Receives of at least this many bytes are completed by `MPI_Wait` on a
   * helper thread instead of polling (default 65536; Infinity disables).
   */
  threadWaitBytes?: number;
  /** Milliseconds `close()` waits for outstanding sends to complete (default 2000). */
  closeTimeoutMs?: number;
}

/** The MPI transport: the `Transport` interface plus what MPI reports. */
export interface MpiTransport extends Transport {
  /** Always "mpi". */
  readonly kind: "mpi";
  /** The MPI library family in use. */
  readonly family: MpiFamily;
  /** The MPI tag bound: transport tags are used modulo `tagUpperBound + 1`. */
  readonly tagUpperBound: number;
  /** The shared MPI session (rank, size, library). */
  readonly session: MpiSession;
}

interface SendOp {
  readonly peer: number;
  readonly tag: number;
  readonly data: Uint8Array; // kept referenced until MPI is done with it
  readonly slot: Slot;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

interface RecvOp {
  readonly peer: number;
  readonly tag: number;
  readonly mpiTag: number;
  state: "probe" | "recv" | "thread" | "done";
  buffer?: Uint8Array;
  slot?: Slot;
  readonly resolve: (data: Uint8Array) => void;
  readonly reject: (error: Error) => void;
}

// Offsets in the transport's scratch block.
const FLAG = 0;
const COUNT = 8;
const MESSAGE = 16;
const STATUS = 32;
// Receive slabs: messages up to 4 KiB are carved from 256 KiB slabs.
const SLAB_BYTES = 256 * 1024;
const SLAB_PIECE_MAX = 4096;

class MpiTransportImpl implements MpiTransport {
  readonly kind = "mpi" as const;
  readonly rank: number;
  readonly size: number;
  readonly family: MpiFamily;
  readonly tagUpperBound: number;
  readonly session: MpiSession;

  #comm: MpiHandle;
  #scratch = new PinnedBlock(64);
  #flagAddress: bigint;
  #slots = new SlotPool();
  #sends: SendOp[] = [];
  #queues = new Map<number, RecvOp[]>();
  #receiving = 0;
  #running = false;
  #closed = false;
  #failure: Error | undefined;
  #spinMs: number;
  #idleSleepMs: number;
  #sliceTurns: number;
  #threadWaitBytes: number;
  #threadWaits = 0;
  #closeTimeoutMs: number;
  #channel = new MessageChannel();
  #wake: (() => void) | undefined;
  // Small receive buffers are carved from slabs whose address is known, which
  // saves a Deno.UnsafePointer.of (~0.3 us) per message; a slab lives as long
  // as any message carved from it.
  #slab: Uint8Array<ArrayBuffer> = new Uint8Array(0);
  #slabAddress = 0n;
  #slabUsed = 0;
  // Base addresses of the ArrayBuffers sent from (callers often reuse buffers).
  #bases = new WeakMap<ArrayBufferLike, bigint>();
  #bytesSent = 0;
  #bytesReceived = 0;
  // Receives whose MPI_Imrecv was still running at close: kept until MPI_Finalize.
  #abandoned: RecvOp[] = [];

  constructor(session: MpiSession, options: MpiTransportOptions) {
    this.session = session;
    this.rank = session.rank;
    this.size = session.size;
    this.family = session.abi.family;
    this.tagUpperBound = session.tagUpperBound;
    this.#comm = session.dupWorld();
    this.#flagAddress = this.#scratch.at(FLAG);
    this.#spinMs = options.spinMs ?? 20;
    this.#idleSleepMs = options.idleSleepMs ?? 1;
    this.#sliceTurns = options.sliceTurns ?? 256;
    this.#threadWaitBytes = options.threadWaitBytes ?? 64 * 1024;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? 2000;
    this.#channel.port1.on("message", () => {
      const wake = this.#wake;
      this.#wake = undefined;
      wake?.();
    });
    this.#channel.port1.unref();
  }

  send(peer: number, tag: number, data: Uint8Array): Promise<void> {
    checkPeerAndTag(this.size, peer, tag);
    if (this.#closed) return Promise.reject(this.#closedError(peer, tag));
    if (data.byteLength > 0x7fff_ffff) {
      return Promise.reject(new RangeError(`Message of ${data.byteLength} bytes exceeds 2 GiB`));
    }
    const { fn, byte } = this.session.lib;
    const slot = this.#slots.take();
    try {
      this.session.check(
        fn.MPI_Isend(
          this.#addressOf(data),
          data.byteLength,
          byte,
          peer,
          tag % (this.tagUpperBound + 1),
          this.#comm,
          slot.address,
        ),
        `MPI_Isend to rank ${peer}`,
      );
      if (peer !== this.rank) this.#bytesSent += data.byteLength;
      // Small messages leave eagerly: report them done without a loop turn.
      if (this.#test(slot)) {
        this.#slots.give(slot);
        return Promise.resolve();
      }
    } catch (error) {
      this.#slots.give(slot);
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.#sends.push({ peer, tag, data, slot, resolve, reject });
      this.#start();
    });
  }

  recv(peer: number, tag: number): Promise<Uint8Array> {
    checkPeerAndTag(this.size, peer, tag);
    if (this.#closed) return Promise.reject(this.#closedError(peer, tag));
    const mpiTag = tag % (this.tagUpperBound + 1);
    const key = peer * (this.tagUpperBound + 1) + mpiTag;
    return new Promise((resolve, reject) => {
      const op: RecvOp = { peer, tag, mpiTag, state: "probe", resolve, reject };
      let queue = this.#queues.get(key);
      if (queue === undefined) this.#queues.set(key, queue = []);
      queue.push(op);
      this.#receiving += 1;
      try {
        // Try at once: a message that is already here costs no loop turn.
        if (queue.length === 1) this.#pollQueue(key, queue);
      } catch (error) {
        this.#fail(error as Error);
        return;
      }
      if (op.state !== "done") this.#start();
    });
  }

  /**
   * Traffic counters. Messages that arrived before they were asked for stay
   * inside the MPI library, where they cannot be counted: `bufferedBytes` is 0.
   */
  stats(): TransportStats {
    return {
      bufferedBytes: 0,
      peakBufferedBytes: 0,
      bytesSent: this.#bytesSent,
      bytesReceived: this.#bytesReceived,
    };
  }

  resetPeak(): void {
    // Nothing to reset: see stats().
  }

  /** Reports the reason on stderr, then `MPI_Abort`: the launcher ends every rank. */
  abort(reason: string): Promise<void> {
    console.error(`error: rank ${this.rank} aborted the MPI job: ${reason}`);
    this.session.lib.fn.MPI_Abort(this.session.lib.commWorld, 1);
    return Promise.resolve();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const queue of this.#queues.values()) {
      for (const op of queue) {
        if (op.state === "recv" || op.state === "thread") this.#abandoned.push(op);
        op.state = "done";
        op.reject(this.#closedError(op.peer, op.tag));
      }
    }
    this.#queues.clear();
    this.#receiving = 0;
    // Let outstanding sends finish (MPI_Finalize with active requests is erroneous).
    const deadline = performance.now() + this.#closeTimeoutMs;
    // Threads inside MPI_Wait must leave before MPI_Finalize.
    while ((this.#sends.length > 0 || this.#threadWaits > 0) && performance.now() < deadline) {
      this.#pollSends();
      if (this.#sends.length > 0) await new Promise((r) => setTimeout(r, 1));
    }
    for (const op of this.#sends) {
      op.reject(new RunError(`MPI send to rank ${op.peer} (tag ${op.tag}) did not complete`));
    }
    const clean = this.#sends.length === 0 && this.#abandoned.length === 0 &&
      this.#threadWaits === 0;
    this.#sends = [];
    if (clean && this.#failure === undefined) this.session.freeComm(this.#comm);
    this.#channel.port1.close();
    this.#channel.port2.close();
    this.session.release();
  }

  #addressOf(view: Uint8Array): bigint {
    if (view.byteLength === 0) return 0n;
    const buffer = view.buffer;
    let base = this.#bases.get(buffer);
    if (base === undefined) {
      base = addressOf(view) - BigInt(view.byteOffset);
      this.#bases.set(buffer, base);
    }
    return base + BigInt(view.byteOffset);
  }

  #receiveBuffer(length: number): [Uint8Array, bigint] {
    if (length > SLAB_PIECE_MAX) {
      const buffer = new Uint8Array(length);
      return [buffer, addressOf(buffer)];
    }
    if (this.#slabUsed + length > this.#slab.byteLength) {
      this.#slab = new Uint8Array(SLAB_BYTES);
      this.#slabAddress = addressOf(this.#slab);
      this.#slabUsed = 0;
    }
    const offset = this.#slabUsed;
    // Keep pieces 8-byte aligned.
    this.#slabUsed += (length + 7) & ~7;
    return [this.#slab.subarray(offset, offset + length), this.#slabAddress + BigInt(offset)];
  }

  #closedError(peer: number, tag: number): RunError {
    return new RunError(
      this.#failure
        ? `MPI transport failed before the message from/to rank ${peer} (tag ${tag}): ` +
          this.#failure.message
        : `MPI transport closed before the message from/to rank ${peer} (tag ${tag}) completed`,
      { cause: this.#failure },
    );
  }

  #test(slot: Slot): boolean {
    const { fn } = this.session.lib;
    this.session.check(
      fn.MPI_Test(slot.address, this.#flagAddress, this.session.abi.statusIgnore),
      "MPI_Test",
    );
    return this.#scratch.view.getInt32(FLAG, true) !== 0;
  }

  #pollSends(): boolean {
    let progressed = false;
    let kept = 0;
    for (const op of this.#sends) {
      if (this.#test(op.slot)) {
        this.#slots.give(op.slot);
        op.resolve();
        progressed = true;
      } else {
        this.#sends[kept++] = op;
      }
    }
    this.#sends.length = kept;
    return progressed;
  }

  /** Advances one (peer, tag) queue; returns whether anything moved. */
  #pollQueue(key: number, queue: RecvOp[]): boolean {
    const { fn, byte } = this.session.lib;
    const scratch = this.#scratch;
    let progressed = false;
    for (const op of queue) {
      if (op.state === "probe") {
        this.session.check(
          fn.MPI_Improbe(
            op.peer,
            op.mpiTag,
            this.#comm,
            this.#flagAddress,
            scratch.at(MESSAGE),
            scratch.at(STATUS),
          ),
          `MPI_Improbe for rank ${op.peer}`,
        );
        // Later receives of this queue must wait: MPI matches them in order.
        if (scratch.view.getInt32(FLAG, true) === 0) break;
        this.session.check(
          fn.MPI_Get_count(scratch.at(STATUS), byte, scratch.at(COUNT)),
          "MPI_Get_count",
        );
        const [buffer, address] = this.#receiveBuffer(scratch.view.getInt32(COUNT, true));
        const slot = this.#slots.take();
        this.session.check(
          fn.MPI_Imrecv(
            address,
            buffer.byteLength,
            byte,
            scratch.at(MESSAGE),
            slot.address,
          ),
          `MPI_Imrecv from rank ${op.peer}`,
        );
        op.state = "recv";
        op.buffer = buffer;
        op.slot = slot;
        progressed = true;
        if (buffer.byteLength >= this.#threadWaitBytes) {
          // A large matched message: let a helper thread drive it to the end
          // (it is sure to complete: the sender has sent it).
          op.state = "thread";
          this.#threadWaits += 1;
          this.#receiving -= 1; // the poll loop need not run for it
          fn.MPI_Wait_async(slot.address, this.session.abi.statusIgnore).then((code) => {
            this.#threadWaits -= 1;
            this.#slots.give(slot);
            if (code !== 0) {
              this.#fail(
                new RunError(`MPI_Wait on a message from rank ${op.peer} failed (${code})`),
              );
              return;
            }
            if (op.state !== "thread") return; // closed meanwhile
            op.state = "done";
            if (op.peer !== this.rank) this.#bytesReceived += buffer.byteLength;
            op.resolve(buffer);
            this.#removeDone(key);
          });
          continue;
        }
      }
      if (op.state === "recv" && this.#test(op.slot!)) {
        this.#slots.give(op.slot!);
        op.state = "done";
        this.#receiving -= 1;
        if (op.peer !== this.rank) this.#bytesReceived += op.buffer!.byteLength;
        op.resolve(op.buffer!);
        progressed = true;
      }
    }
    if (progressed) this.#removeDone(key);
    return progressed;
  }

  #removeDone(key: number): void {
    const queue = this.#queues.get(key);
    if (queue === undefined) return;
    const left = queue.filter((op) => op.state !== "done");
    if (left.length === 0) this.#queues.delete(key);
    else if (left.length !== queue.length) this.#queues.set(key, left);
  }

  #poll(): boolean {
    let progressed = this.#sends.length > 0 && this.#pollSends();
    for (const [key, queue] of this.#queues) {
      if (this.#pollQueue(key, queue)) progressed = true;
    }
    return progressed;
  }

  #busy(): boolean {
    return !this.#closed && (this.#sends.length > 0 || this.#receiving > 0);
  }

  #start(): void {
    if (this.#running || !this.#busy()) return;
    this.#running = true;
    this.#loop().catch((error) => this.#fail(error));
  }

  #yield(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
      this.#channel.port2.postMessage(0);
    });
  }

  async #loop(): Promise<void> {
    // A pending operation keeps the process alive; an idle transport does not.
    this.#channel.port1.ref();
    try {
      let lastProgress = performance.now();
      let progressed = false;
      let turns = 0;
      while (this.#busy()) {
        if (this.#poll()) progressed = true;
        if (++turns < this.#sliceTurns) {
          // Microtask turns keep latency near the cost of one poll; other
          // promise continuations (the caller's next send) still run between them.
          await undefined;
          continue;
        }
        // End of a slice (performance.now() is an op, ~0.3 us: read it only here).
        turns = 0;
        const now = performance.now();
        if (progressed) lastProgress = now;
        progressed = false;
        if (now - lastProgress > this.#spinMs) {
          await new Promise((r) => setTimeout(r, this.#idleSleepMs));
        } else {
          await this.#yield(); // let timers and I/O run
        }
      }
    } finally {
      this.#running = false;
      if (!this.#closed) this.#channel.port1.unref();
    }
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const op of this.#sends) op.reject(error);
    this.#sends = [];
    for (const queue of this.#queues.values()) for (const op of queue) op.reject(error);
    this.#queues.clear();
    this.#receiving = 0;
  }
}

/**
 * Opens the MPI transport: tag-matched messages between the ranks of
 * `MPI_COMM_WORLD`, over a duplicate of it.
 *
 * Every rank must call it (it duplicates the world communicator, a collective
 * call). The process must have been started by the library's launcher
 * (`mpiLaunchCommand`), or run alone as a singleton. A rank that dies makes the
 * launcher end the whole job (MPI's default error handler), so the transport
 * does not outlive its peers. Works on the main thread and inside a Worker (one
 * MPI user per process: the session is per JavaScript realm).
 *
 * @example Exchange a message between two ranks
 * ```ts ignore
 * // mpirun.openmpi --allow-run-as-root -np 2 deno run -A this.ts
 * import { openMpiTransport } from "./transport.ts";
 * const t = await openMpiTransport({ family: "openmpi" });
 * const peer = 1 - t.rank;
 * await t.send(peer, 7, new TextEncoder().encode(`hello from ${t.rank}`));
 * console.log(new TextDecoder().decode(await t.recv(peer, 7)));
 * await t.close();
 * ```
 *
 * @param options The MPI family and the progress loop's tuning.
 * @returns The transport; `close()` finalises MPI once its last user closes.
 * @throws RunError when MPI cannot start or the launcher does not match.
 */
export function openMpiTransport(options: MpiTransportOptions = {}): Promise<MpiTransport> {
  try {
    const session = acquireMpi(options);
    try {
      return Promise.resolve(new MpiTransportImpl(session, options));
    } catch (error) {
      session.release();
      throw error;
    }
  } catch (error) {
    return Promise.reject(error);
  }
}
