/**
 * The transport interface over MPI point-to-point messages, called through
 * Deno FFI.
 *
 * Sends are `MPI_Isend`. Receiving, one matched probe for any source and tag
 * (`MPI_Improbe`) per poll finds every message that has come in, whatever the
 * number of receives waiting (the BLS collective posts receives iterations
 * ahead; probing for each made every poll cost a dozen MPI calls); each is
 * received with `MPI_Imrecv` into a buffer of exactly its size, so messages of
 * any length need no header, and kept per (peer, tag) until asked for. MPI
 * matches messages from one sender in send order, so messages with the same
 * peer and tag are handed out in send order.
 *
 * Tag layout, the same with every MPI library: collective tags (below
 * `CONTROL_TAG_BASE`) travel on one duplicate of `MPI_COMM_WORLD`, control
 * tags (barriers, gathers) on a second one, so the two never match each
 * other. On both, the MPI tag is the transport tag modulo `MPI_TAG_SPACE`
 * (32768, the smallest `MPI_TAG_UB + 1` the standard allows), so the tags in
 * flight at one time must lie within 32768 of each other; two receives waiting
 * for tags that share an MPI tag are refused. Receives nobody will satisfy (the
 * look-ahead a BLS collective posts past its last iteration) are removed with
 * `cancelRecvs`, or, with `cancelOnControl`, by the next control exchange.
 *
 * Progress: a poll loop tests every outstanding request and probes every
 * waiting receive, in three tiers. Hot: while polls keep finding work (and for
 * `spinMs` of fruitless polls after), it polls in microtask turns, so latency
 * stays near the cost of one poll, yielding to the event loop every
 * `sliceTurns` polls through a MessageChannel (a few microseconds, no timer
 * clamping; `setTimeout(0)` measured 2 ms here). Napping: then it sleeps
 * `napMicros` between polls on a helper thread (`usleep`, nonblocking FFI),
 * which costs no CPU: receives posted ahead by the BLS collective keep the loop
 * busy for whole runs, and spinning through them took the core from the rank's
 * own main thread and from other ranks (10x slower iterations with 3 ranks on 2
 * cores). Idle: after `napUntilMs` without progress it sleeps `idleSleepMs`.
 *
 * @module
 */

import { MessageChannel } from "node:worker_threads";
import { RunError } from "../../util/errors.ts";
import {
  checkPeerAndTag,
  CONTROL_TAG_BASE,
  type Transport,
  type TransportStats,
} from "../transport.ts";
import { addressOf, PinnedBlock } from "./memory.ts";
import { type Slot, SlotPool } from "./_slots.ts";
import {
  acquireMpi,
  type MpiFamily,
  type MpiHandle,
  type MpiOptions,
  type MpiSession,
} from "./session.ts";

/**
 * MPI tags per communicator: transport tags are used modulo this, on every MPI
 * library. It is `MPI_TAG_UB + 1` for the smallest `MPI_TAG_UB` (32767) the MPI
 * standard allows, so the layout does not depend on the library.
 *
 * @example The MPI tag of an iteration's messages
 * ```ts
 * import { MPI_TAG_SPACE } from "@blsbench/core/mpi";
 * if ((40000 % MPI_TAG_SPACE) !== 7232) throw new Error("wrong");
 * ```
 */
export const MPI_TAG_SPACE = 32768;

/** Options of the MPI transport. */
export interface MpiTransportOptions extends MpiOptions {
  /**
   * Control exchanges happen only between collectives: when this rank sends or
   * receives a control tag, receives still waiting for collective tags are
   * leftovers (a BLS look-ahead past the last iteration) and are cancelled
   * (default false).
   */
  cancelOnControl?: boolean;
  /**
   * Milliseconds of polls that find nothing to do before the loop stops
   * spinning and naps (default 0.25).
   */
  spinMs?: number;
  /**
   * The same while sends or receives are in flight, whose data moves inside
   * MPI without completing a request (default 5).
   */
  spinActiveMs?: number;
  /**
   * Polls made in microtask turns before the loop lets the event loop run
   * timers and I/O while spinning (default 256).
   */
  sliceTurns?: number;
  /** Microseconds napped between polls once the loop stops spinning (default 50). */
  napMicros?: number;
  /** Milliseconds of napping without progress before the loop sleeps instead (default 20). */
  napUntilMs?: number;
  /** Milliseconds slept between polls after that (default 1). */
  idleSleepMs?: number;
  /**
   * Receives of at least this many bytes are completed by `MPI_Wait` on a
   * helper thread instead of polling (default 65536 for OpenMPI, Infinity,
   * which disables it, for MPICH).
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
  /** The library's `MPI_TAG_UB` (at least 32767; the transport uses tags below `MPI_TAG_SPACE`). */
  readonly tagUpperBound: number;
  /** The shared MPI session (rank, size, library). */
  readonly session: MpiSession;
  /**
   * Traffic counters; `bufferedBytes` counts messages received from MPI and
   * not yet taken by `recv`.
   */
  stats(): TransportStats;
  /** Restarts the peak-buffer measurement from the current level. */
  resetPeak(): void;
  /** Prints the reason on stderr and calls `MPI_Abort`: the launcher ends every rank. */
  abort(reason: string): Promise<void>;
  /**
   * Cancels the receives waiting, with no message matched, for a tag in
   * `[fromTag, toTag)`; their promises reject. Returns how many.
   */
  cancelRecvs(fromTag: number, toTag: number): number;
  /** Receives waiting for a message (for tests and diagnostics). */
  pendingRecvs(): number;
}

interface SendOp {
  readonly peer: number;
  readonly tag: number;
  readonly data: Uint8Array; // kept referenced until MPI is done with it
  readonly slot: Slot;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

interface Waiter {
  readonly peer: number;
  readonly tag: number;
  readonly resolve: (data: Uint8Array) => void;
  readonly reject: (error: Error) => void;
}

/** A message MPI matched for us, being received or waiting for its `recv`. */
interface Arrival {
  readonly key: number;
  readonly buffer: Uint8Array;
  readonly slot: Slot;
  done: boolean;
}

let libc: { symbols: { usleep(micros: number): Promise<number> } } | undefined;
/** Sleeps on a helper thread: finer than setTimeout (1-2 ms here), and costs no CPU. */
function nap(micros: number): Promise<number> {
  libc ??= Deno.dlopen("libc.so.6", {
    usleep: { parameters: ["u32"], result: "i32", nonblocking: true },
  });
  return libc.symbols.usleep(micros);
}

// Offsets in the transport's scratch block.
const FLAG = 0;
const COUNT = 8;
const MESSAGE = 16;
const STATUS = 32;
// MPI_ANY_TAG is -1 in both families (MPI_ANY_SOURCE differs: see the ABI table).
const ANY_TAG = -1;
// Messages matched per poll before the loop gives others a turn.
const MAX_MATCHES_PER_POLL = 64;
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
  #controlComm: MpiHandle;
  #cancelOnControl: boolean;
  // Receives waiting on the control communicator (probed only while there are).
  #controlWaiting = 0;
  #scratch = new PinnedBlock(64);
  #flagAddress: bigint;
  #slots = new SlotPool();
  #sends: SendOp[] = [];
  // Receives asked for and not yet satisfied, per (peer, MPI tag).
  #waiters = new Map<number, Waiter[]>();
  #waiting = 0;
  // Messages matched by MPI, per (peer, MPI tag) in matching order; those done
  // wait there for their recv() (MPI matches messages of one sender in order).
  #inbox = new Map<number, Arrival[]>();
  // Arrivals whose MPI_Imrecv is still running, tested by the poll loop.
  #inFlight: Arrival[] = [];
  #bufferedBytes = 0;
  #peakBufferedBytes = 0;
  #running = false;
  #closed = false;
  #failure: Error | undefined;
  #spinMs: number;
  #spinActiveMs: number;
  #napMicros: number;
  #napUntilMs: number;
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
  // Whether receives were still running at close (their buffers stay referenced).
  #abandoned: Arrival[] = [];

  constructor(session: MpiSession, options: MpiTransportOptions) {
    this.session = session;
    this.rank = session.rank;
    this.size = session.size;
    this.family = session.abi.family;
    this.tagUpperBound = session.tagUpperBound;
    if (session.tagUpperBound < MPI_TAG_SPACE - 1) {
      throw new RunError(
        `MPI_TAG_UB is ${session.tagUpperBound}, below the 32767 the MPI standard guarantees`,
      );
    }
    this.#comm = session.dupWorld();
    this.#controlComm = session.dupWorld();
    this.#cancelOnControl = options.cancelOnControl ?? false;
    this.#flagAddress = this.#scratch.at(FLAG);
    this.#spinMs = options.spinMs ?? 0.25;
    this.#spinActiveMs = options.spinActiveMs ?? 5;
    this.#napMicros = options.napMicros ?? 50;
    this.#napUntilMs = options.napUntilMs ?? 20;
    this.#idleSleepMs = options.idleSleepMs ?? 1;
    this.#sliceTurns = options.sliceTurns ?? 256;
    // MPICH serialises threads on one lock: a helper thread inside MPI_Wait
    // stalled the poll loop (64 KiB ping-pong 220 us instead of 25 us).
    this.#threadWaitBytes = options.threadWaitBytes ??
      (this.family === "mpich" ? Infinity : 64 * 1024);
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
    const control = tag >= CONTROL_TAG_BASE;
    if (control && this.#cancelOnControl) this.#cancelCollectiveRecvs();
    const { fn, byte } = this.session.lib;
    const slot = this.#slots.take();
    try {
      this.session.check(
        fn.MPI_Isend(
          this.#addressOf(data),
          data.byteLength,
          byte,
          peer,
          tag % MPI_TAG_SPACE,
          control ? this.#controlComm : this.#comm,
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
    const control = tag >= CONTROL_TAG_BASE;
    if (control && this.#cancelOnControl) this.#cancelCollectiveRecvs();
    const key = this.#key(control ? 1 : 0, peer, tag % MPI_TAG_SPACE);
    let waiters = this.#waiters.get(key);
    if (waiters !== undefined && waiters[0].tag !== tag) {
      return Promise.reject(
        new RunError(
          `Receives from rank ${peer} for tags ${waiters[0].tag} and ${tag} are both waiting: ` +
            `MPI tags in flight must lie within ${MPI_TAG_SPACE} of each other`,
        ),
      );
    }
    return new Promise((resolve, reject) => {
      if (waiters === undefined) this.#waiters.set(key, waiters = []);
      waiters.push({ peer, tag, resolve, reject });
      this.#waiting += 1;
      if (control) this.#controlWaiting += 1;
      try {
        // A message already here, or matchable now, costs no loop turn.
        this.#deliver(key);
        if (this.#waiting > 0) this.#pollIncoming();
      } catch (error) {
        this.#fail(error as Error);
        return;
      }
      this.#start();
    });
  }

  /**
   * Traffic counters. `bufferedBytes` counts messages received from MPI and not
   * yet taken by `recv`; messages MPI holds but nobody has polled for yet are
   * inside the library, where they cannot be counted.
   */
  stats(): TransportStats {
    return {
      bufferedBytes: this.#bufferedBytes,
      peakBufferedBytes: this.#peakBufferedBytes,
      bytesSent: this.#bytesSent,
      bytesReceived: this.#bytesReceived,
    };
  }

  resetPeak(): void {
    this.#peakBufferedBytes = this.#bufferedBytes;
  }

  cancelRecvs(fromTag: number, toTag: number): number {
    let cancelled = 0;
    for (const [key, waiters] of this.#waiters) {
      // The first waiters of a key whose messages MPI is still receiving are matched.
      const matched = this.#inbox.get(key)?.length ?? 0;
      let kept = 0;
      for (let i = 0; i < waiters.length; i++) {
        const waiter = waiters[i];
        if (i < matched || waiter.tag < fromTag || waiter.tag >= toTag) {
          waiters[kept++] = waiter;
          continue;
        }
        cancelled += 1;
        this.#waiting -= 1;
        if (waiter.tag >= CONTROL_TAG_BASE) this.#controlWaiting -= 1;
        waiter.reject(
          new RunError(
            `Receive from rank ${waiter.peer} (tag ${waiter.tag}) was cancelled: no message came`,
          ),
        );
      }
      waiters.length = kept;
      if (kept === 0) this.#waiters.delete(key);
    }
    return cancelled;
  }

  pendingRecvs(): number {
    return this.#waiting;
  }

  #cancelCollectiveRecvs(): void {
    if (this.#waiting > this.#controlWaiting) this.cancelRecvs(0, CONTROL_TAG_BASE);
  }

  /** The (communicator, peer, MPI tag) of a message as one number. */
  #key(channel: number, peer: number, mpiTag: number): number {
    return (channel * this.size + peer) * MPI_TAG_SPACE + mpiTag;
  }

  #peerOf(key: number): number {
    return Math.floor(key / MPI_TAG_SPACE) % this.size;
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
    for (const waiters of this.#waiters.values()) {
      for (const waiter of waiters) waiter.reject(this.#closedError(waiter.peer, waiter.tag));
    }
    this.#waiters.clear();
    this.#waiting = 0;
    this.#controlWaiting = 0;
    this.#abandoned = this.#inFlight;
    this.#inFlight = [];
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
    if (clean && this.#failure === undefined) {
      this.session.freeComm(this.#comm);
      this.session.freeComm(this.#controlComm);
    }
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

  /** Hands finished arrivals of `key` to its waiters, in order. */
  #deliver(key: number): void {
    const inbox = this.#inbox.get(key);
    const waiters = this.#waiters.get(key);
    if (inbox === undefined || waiters === undefined) return;
    while (inbox.length > 0 && inbox[0].done && waiters.length > 0) {
      const arrival = inbox.shift()!;
      const waiter = waiters.shift()!;
      this.#waiting -= 1;
      if (waiter.tag >= CONTROL_TAG_BASE) this.#controlWaiting -= 1;
      this.#bufferedBytes -= arrival.buffer.byteLength;
      waiter.resolve(arrival.buffer);
    }
    if (inbox.length === 0) this.#inbox.delete(key);
    if (waiters.length === 0) this.#waiters.delete(key);
  }

  #arrived(arrival: Arrival, peer: number): void {
    arrival.done = true;
    this.#slots.give(arrival.slot);
    if (peer !== this.rank) this.#bytesReceived += arrival.buffer.byteLength;
    this.#deliver(arrival.key);
  }

  /**
   * Matches every message MPI has for this communicator (one probe for any
   * source and tag, however many receives wait) and starts receiving each into
   * a buffer of its size; tests those still arriving. Returns whether anything
   * moved.
   */
  #pollIncoming(): boolean {
    let progressed = this.#probe(this.#comm, 0);
    // Control messages are matched only while a control receive waits for one.
    if (this.#controlWaiting > 0 && this.#probe(this.#controlComm, 1)) progressed = true;
    if (this.#inFlight.length > 0) {
      let kept = 0;
      for (const arrival of this.#inFlight) {
        if (this.#test(arrival.slot)) {
          this.#arrived(arrival, this.#peerOf(arrival.key));
          progressed = true;
        } else {
          this.#inFlight[kept++] = arrival;
        }
      }
      this.#inFlight.length = kept;
    }
    return progressed;
  }

  /** Matches and starts receiving the messages waiting on one communicator. */
  #probe(comm: MpiHandle, channel: number): boolean {
    const { fn, byte } = this.session.lib;
    const { abi } = this.session;
    const scratch = this.#scratch;
    let progressed = false;
    for (let matched = 0; matched < MAX_MATCHES_PER_POLL; matched++) {
      this.session.check(
        fn.MPI_Improbe(
          abi.anySource,
          ANY_TAG,
          comm,
          this.#flagAddress,
          scratch.at(MESSAGE),
          scratch.at(STATUS),
        ),
        "MPI_Improbe",
      );
      if (scratch.view.getInt32(FLAG, true) === 0) break;
      const peer = scratch.view.getInt32(STATUS + abi.statusOffsets.source, true);
      const mpiTag = scratch.view.getInt32(STATUS + abi.statusOffsets.tag, true);
      this.session.check(
        fn.MPI_Get_count(scratch.at(STATUS), byte, scratch.at(COUNT)),
        "MPI_Get_count",
      );
      const [buffer, address] = this.#receiveBuffer(scratch.view.getInt32(COUNT, true));
      const slot = this.#slots.take();
      this.session.check(
        fn.MPI_Imrecv(address, buffer.byteLength, byte, scratch.at(MESSAGE), slot.address),
        `MPI_Imrecv from rank ${peer}`,
      );
      const key = this.#key(channel, peer, mpiTag);
      const arrival: Arrival = { key, buffer, slot, done: false };
      let inbox = this.#inbox.get(key);
      if (inbox === undefined) this.#inbox.set(key, inbox = []);
      inbox.push(arrival);
      this.#bufferedBytes += buffer.byteLength;
      if (this.#bufferedBytes > this.#peakBufferedBytes) {
        this.#peakBufferedBytes = this.#bufferedBytes;
      }
      progressed = true;
      if (this.#test(slot)) {
        this.#arrived(arrival, peer);
      } else if (buffer.byteLength >= this.#threadWaitBytes) {
        // A large matched message: a helper thread drives it to the end (it is
        // sure to complete, the sender has sent it) while the loop goes on.
        this.#threadWaits += 1;
        fn.MPI_Wait_async(slot.address, abi.statusIgnore).then((code) => {
          this.#threadWaits -= 1;
          if (this.#closed) return;
          if (code !== 0) {
            this.#fail(new RunError(`MPI_Wait on a message from rank ${peer} failed (${code})`));
            return;
          }
          this.#arrived(arrival, peer);
        });
      } else {
        this.#inFlight.push(arrival);
      }
    }
    return progressed;
  }

  #poll(): boolean {
    const sent = this.#sends.length > 0 && this.#pollSends();
    const received = this.#pollIncoming();
    return sent || received;
  }

  /**
   * How long fruitless polls may spin. Longer while sends or receives are in
   * flight: large transfers advance inside MPI (pipelined through shared
   * memory) without completing a request, and napping between their steps
   * made a 64 KiB MPICH ping-pong 10x slower.
   */
  #spinBudget(): number {
    return this.#sends.length > 0 || this.#inFlight.length > 0 ? this.#spinActiveMs : this.#spinMs;
  }

  #busy(): boolean {
    return !this.#closed &&
      (this.#sends.length > 0 || this.#waiting > 0 || this.#inFlight.length > 0);
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
      let fruitless = 0; // polls in a row that moved nothing
      let turns = 0;
      let idleSince = 0;
      let cold = false;
      while (this.#busy()) {
        if (this.#poll()) {
          fruitless = 0;
          cold = false;
        } else {
          fruitless += 1;
        }
        if (!cold) {
          // Read the clock every 32 fruitless polls only: performance.now() is
          // an op (~0.3 us), a poll often less.
          if (fruitless > 0 && (fruitless & 31) === 0) {
            const now = performance.now();
            if (fruitless === 32) idleSince = now;
            else if (now - idleSince > this.#spinBudget()) cold = true;
          }
          if (!cold) {
            // Hot: microtask turns keep latency near the cost of one poll;
            // other promise continuations (the caller's next send) run between.
            if (++turns < this.#sliceTurns) {
              await undefined;
            } else {
              turns = 0;
              await this.#yield(); // let timers and I/O run
            }
            continue;
          }
        }
        // Cold: receives posted ahead (BLS) keep the loop busy for long
        // stretches; spinning through them would take the core from this
        // rank's own main thread and from other ranks.
        if (performance.now() - idleSince < this.#napUntilMs) await nap(this.#napMicros);
        else await new Promise((r) => setTimeout(r, this.#idleSleepMs));
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
    for (const waiters of this.#waiters.values()) for (const w of waiters) w.reject(error);
    this.#waiters.clear();
    this.#waiting = 0;
    this.#controlWaiting = 0;
  }
}

/**
 * Opens the MPI transport: tag-matched messages between the ranks of
 * `MPI_COMM_WORLD`, over two duplicates of it (collective tags and control
 * tags apart).
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
 * import { openMpiTransport } from "@blsbench/core/mpi";
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
