/**
 * Asynchronous progress: a Worker thread owns the transport and runs the
 * collectives, so a rank that is busy computing (not waiting in an `await`)
 * still receives its peers' blocks and lets them proceed.
 *
 * Each collective runs on shared memory (see `_progress_channel.ts`): the main
 * thread copies its blocks into the outgoing arena and bumps a counter; the
 * engine thread sends them from there and receives its peers' blocks straight
 * into the incoming arena; the main thread waits for the result with a short
 * spin, then `Atomics.wait`. No message crosses the threads per iteration.
 *
 * @module
 */

import { MessageChannel } from "node:worker_threads";
import type { OpenOptions } from "../transports/open.ts";
import { PeerError, TimeoutError } from "../transports/errors.ts";
import {
  checkPeerAndTag,
  FRAME_HEADROOM,
  type Transport,
  type TransportKind,
  type TransportStats,
} from "../transports/transport.ts";
import { type Alltoallv, checkBlocks, type IterationBlocks } from "./alltoallv.ts";
import { IterationArena } from "./arena.ts";
import { spinUntil } from "../util/spin.ts";
import type { EngineCall, EngineFailure, EngineReply } from "./_progress_protocol.ts";
import {
  type ChannelBuffers,
  ChannelLayout,
  DONE,
  DRAIN,
  KICK,
  MAIN_WAITING,
  POSTED,
  SENT,
  SIGNAL,
  slotsFor,
  STAT_BUFFERED,
  STAT_PEAK,
  STATE,
  State,
  wake,
  WANT_SENT,
} from "./_progress_channel.ts";

type Pending = { resolve(v: unknown): void; reject(e: Error): void };

function revive(error: { name: string; message: string }): Error {
  if (error.name === "PeerError") return new PeerError(-1, error.message);
  if (error.name === "TimeoutError") return new TimeoutError(error.message);
  const e = new Error(error.message);
  e.name = error.name;
  return e;
}

/**
 * How long a waiting thread (the main thread for a result, the engine thread
 * for the next post) spins before it sleeps, in microseconds. It yields the
 * CPU while it spins, so on a machine with fewer cores than busy threads the
 * thread it waits for still runs. Measured on a 2-core machine with two ranks
 * (four threads): sleeping at once costs two wake-ups of 20-60 us per
 * exchange; 20-100 us of spinning catches most results and posts.
 */
export const DEFAULT_SPIN_US = 100;

/** A blocking wait gives the event loop a turn this often (signals, timers). */
const WAIT_SLICE_MS = 20;

/** Options of `ProgressEngine.start`. */
export interface EngineOptions {
  /** Microseconds the main thread spins before it sleeps (default `DEFAULT_SPIN_US`). */
  spinUs?: number;
}

/** Options of a collective run by the engine. */
export interface EngineAlltoallvOptions {
  /** The lag bound k >= 0 (0 is the synchronous alltoallv). */
  lag: number;
  /** Tag of iteration 0 (default 0); n iterations use tagBase .. tagBase + n. */
  tagBase?: number;
  /** How long one call may wait for its peers, in ms (default: forever). */
  timeoutMs?: number;
  /**
   * Return received blocks as copies of their own instead of views into the
   * engine's arena (which stay valid only until the next call).
   */
  copy?: boolean;
}

/** A transport and collectives run by a progress thread. */
export class ProgressEngine {
  /** The transport, proxied to the progress thread (for setup and control messages). */
  readonly transport: Transport;
  /** Engines open in this thread: with more than one, waits never block the thread. */
  static #open = 0;
  #worker: Worker;
  #seq = 0;
  #pending = new Map<number, Pending>();
  #failures = new Map<number, (e: Error) => void>();
  #nextCollective = 1;
  #dead: Error | undefined;
  #closed = false;
  #spinUs: number;

  private constructor(
    worker: Worker,
    kind: TransportKind,
    rank: number,
    size: number,
    spinUs: number,
  ) {
    this.#worker = worker;
    this.#spinUs = spinUs;
    const call = this.#call.bind(this);
    this.transport = {
      kind,
      rank,
      size,
      send(peer: number, tag: number, data: Uint8Array) {
        checkPeerAndTag(size, peer, tag);
        const owned = data.slice();
        return call({ op: "send", peer, tag, data: owned }, [owned.buffer]).then(() => {});
      },
      recv(peer: number, tag: number) {
        checkPeerAndTag(size, peer, tag);
        return call({ op: "recv", peer, tag }) as Promise<Uint8Array>;
      },
      close: () => this.close(),
      abort: (reason: string) => this.abort(reason),
    };
  }

  /**
   * Starts the progress thread and opens the transport inside it.
   *
   * @example Two ranks, each with its own progress thread
   * ```ts
   * import { ProgressEngine } from "./progress.ts";
   * import { startRendezvousStore } from "../transports/rendezvous.ts";
   * const store = await startRendezvousStore({ token: "t" });
   * const engines = await Promise.all([0, 1].map((rank) =>
   *   ProgressEngine.start("tcp", { rank, size: 2, token: "t", master: store.address })
   * ));
   * const colls = engines.map((e) => e.alltoallv({ lag: 0 }));
   * const res = await Promise.all(colls.map((c) =>
   *   c.exchange([new Uint8Array([c.rank]), new Uint8Array([c.rank])])
   * ));
   * if (res[0]?.blocks[1][0] !== 1) throw new Error("wrong");
   * await Promise.all(engines.map((e) => e.close()));
   * await store.close();
   * ```
   *
   * @param kind The transport kind.
   * @param options How to join the run, and how the main thread waits.
   * @returns The engine, connected.
   */
  static async start(
    kind: TransportKind,
    options: OpenOptions & EngineOptions,
  ): Promise<ProgressEngine> {
    const spinUs = options.spinUs ?? DEFAULT_SPIN_US;
    if (!(spinUs >= 0)) throw new RangeError(`Spin budget must be >= 0 us, got ${spinUs}`);
    const worker = new Worker(new URL("./_progress_worker.ts", import.meta.url).href, {
      type: "module",
    });
    const engine = new ProgressEngine(worker, kind, options.rank, options.size, spinUs);
    worker.onmessage = (ev: MessageEvent<EngineReply | EngineFailure>) => engine.#settle(ev.data);
    worker.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      engine.#die(new Error(`Progress thread failed: ${ev.message}`));
    };
    // The spin budget serves the engine thread's sockets too; when to spin is
    // the engine thread's to say (and a function cannot cross to it).
    const { spinWhile: _, ...rest } = options;
    const open = { ...rest, spinUs };
    try {
      const id = (await engine.#call({ op: "open", kind, options: open })) as {
        rank: number;
        size: number;
        socketIo?: "native" | "deno";
      };
      (engine.transport as { rank: number }).rank = id.rank;
      (engine.transport as { size: number }).size = id.size;
      if (id.socketIo) (engine.transport as { socketIo?: string }).socketIo = id.socketIo;
    } catch (e) {
      worker.terminate();
      throw e;
    }
    ProgressEngine.#open++;
    return engine;
  }

  #settle(msg: EngineReply | EngineFailure): void {
    if (msg.op === "failed") {
      this.#failures.get(msg.id)?.(revive(msg.error));
      return;
    }
    const p = this.#pending.get(msg.seq);
    if (!p) return;
    this.#pending.delete(msg.seq);
    if (msg.error) p.reject(revive(msg.error));
    else p.resolve(msg.value);
  }

  #die(error: Error): void {
    this.#dead ??= error;
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
    for (const f of this.#failures.values()) f(error);
  }

  #call(request: EngineCall, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.#dead) return Promise.reject(this.#dead);
    const seq = this.#seq++;
    return new Promise((resolve, reject) => {
      this.#pending.set(seq, { resolve, reject });
      this.#worker.postMessage({ ...request, seq }, transfer);
    });
  }

  /**
   * Creates an alltoallv run by the progress thread: the synchronous one for
   * lag 0, BLS otherwise.
   *
   * Received blocks are views into the engine's arena that stay valid until
   * this collective's next `exchange` (or, for those `drain` returns, until the
   * engine closes); pass `copy: true` for blocks of their own. The caller's own
   * block comes back as the very block it posted.
   *
   * @param options Lag, tag base, timeout, copies.
   * @returns The collective.
   */
  alltoallv(options: EngineAlltoallvOptions): Alltoallv {
    const { lag } = options;
    if (!Number.isInteger(lag) || lag < 0) {
      throw new RangeError(`Lag must be a whole number >= 0, got ${lag}`);
    }
    const id = this.#nextCollective++;
    const { size } = this.transport;
    const slots = slotsFor(lag);
    const layout = new ChannelLayout(size, slots, slots);
    const outgoing = new IterationArena(slots, { shared: true });
    const incoming = new IterationArena(slots, { shared: true });
    const buffers: ChannelBuffers = {
      words: new SharedArrayBuffer(4 * layout.words),
      stats: new SharedArrayBuffer(8 * layout.stats),
      outgoing: outgoing.buffers as SharedArrayBuffer[],
      incoming: incoming.buffers as SharedArrayBuffer[],
    };
    const failed = new Promise<Error>((resolve) => this.#failures.set(id, resolve));
    const created = this.#call({
      op: "create",
      id,
      setup: {
        lag,
        tagBase: options.tagBase ?? 0,
        timeoutMs: options.timeoutMs ?? Infinity,
        spinUs: this.#spinUs,
        buffers,
      },
    });
    created.catch(() => {});
    return new EngineAlltoallv({
      policy: () => ({
        spinUs: this.#spinUs,
        block: ProgressEngine.#open <= 1,
        dead: this.#dead,
      }),
      rank: this.transport.rank,
      size,
      lag,
      layout,
      buffers,
      outgoing,
      created,
      failed,
      timeoutMs: options.timeoutMs ?? Infinity,
      copy: options.copy ?? false,
      release: () => {
        this.#failures.delete(id);
        if (!this.#dead && !this.#closed) this.#call({ op: "release", id }).catch(() => {});
      },
    });
  }

  /**
   * The transport's counters, read from the progress thread.
   *
   * @returns The counters, if the transport keeps them.
   */
  async stats(): Promise<TransportStats | undefined> {
    return (await this.#call({ op: "stats" })) as TransportStats | undefined;
  }

  /** Closes the transport and stops the thread. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    ProgressEngine.#open--;
    try {
      if (!this.#dead) await this.#call({ op: "close" });
    } finally {
      this.#worker.terminate();
      this.#die(new Error("Progress engine closed"));
    }
  }

  /**
   * Tells the peers this rank failed, then stops.
   *
   * @param reason Why, for the peers' error messages.
   */
  async abort(reason: string): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    ProgressEngine.#open--;
    try {
      if (!this.#dead) await this.#call({ op: "abort", reason });
    } catch {
      /* best effort */
    } finally {
      this.#worker.terminate();
      this.#die(new Error("Progress engine closed"));
    }
  }
}

/** How the main thread waits: its spin budget, whether it may block, and a fatal error. */
interface WaitPolicy {
  spinUs: number;
  block: boolean;
  dead: Error | undefined;
}

interface ChannelParts {
  policy(): WaitPolicy;
  rank: number;
  size: number;
  lag: number;
  layout: ChannelLayout;
  buffers: ChannelBuffers;
  outgoing: IterationArena;
  created: Promise<unknown>;
  failed: Promise<Error>;
  timeoutMs: number;
  copy: boolean;
  release(): void;
}

/** A way to give the event loop a turn that costs microseconds (setTimeout(0) costs ms). */
let turnChannel: MessageChannel | undefined;
const turnWaiters: (() => void)[] = [];

function yieldToEventLoop(): Promise<void> {
  if (!turnChannel) {
    turnChannel = new MessageChannel();
    turnChannel.port1.on("message", () => turnWaiters.shift()?.());
    turnChannel.port1.unref();
    turnChannel.port2.unref();
  }
  const channel = turnChannel;
  return new Promise((resolve) => {
    turnWaiters.push(resolve);
    channel.port2.postMessage(0);
  });
}

/** Exchanges answered from shared memory never return to the event loop on their own. */
const TURN_EVERY_MS = 50;
let nextTurnMs = 0;

/**
 * Gives the event loop a turn if it has not had one for a while, so that
 * timers and signal handlers run while a rank exchanges without waiting.
 */
function keepEventLoopTurning(): Promise<void> | undefined {
  const now = performance.now();
  if (now < nextTurnMs) return undefined;
  nextTurnMs = now + TURN_EVERY_MS;
  return yieldToEventLoop();
}

/** The main thread's side of one collective on a shared channel. */
class EngineAlltoallv implements Alltoallv {
  readonly rank: number;
  readonly size: number;
  readonly lag: number;
  #parts: ChannelParts;
  #words: Int32Array;
  #stats: Float64Array;
  /** The caller's own blocks of the iterations in flight (they come back as they are). */
  #own: Uint8Array[];
  #next = 0;
  #returned = 0;
  #ready = false;
  #finished = false;

  constructor(parts: ChannelParts) {
    this.#parts = parts;
    this.rank = parts.rank;
    this.size = parts.size;
    this.lag = parts.lag;
    this.#words = new Int32Array(parts.buffers.words);
    this.#stats = new Float64Array(parts.buffers.stats);
    this.#own = new Array(parts.lag + 1);
  }

  buffered(): { bytes: number; peakBytes: number } {
    return { bytes: this.#stats[STAT_BUFFERED], peakBytes: this.#stats[STAT_PEAK] };
  }

  async exchange(blocks: Uint8Array[]): Promise<IterationBlocks | undefined> {
    checkBlocks(blocks, this.size);
    if (!this.#ready) {
      await this.#parts.created;
      this.#ready = true;
    }
    if (this.#finished) throw new Error("The collective was drained");
    const turn = keepEventLoopTurning();
    if (turn) await turn;
    const t = this.#next;
    const { layout, outgoing, timeoutMs } = this.#parts;
    const words = this.#words;
    // The slot of iteration t last held t - slots: its blocks must have left.
    const mustHaveSent = t + 1 - layout.outSlots;
    if (Atomics.load(words, SENT) < mustHaveSent) {
      // Set before the wait checks SENT again: the engine then either sees the
      // flag and signals, or stored SENT before the check.
      Atomics.store(words, WANT_SENT, 1);
      try {
        await this.#waitFor(
          () => Atomics.load(words, SENT) >= mustHaveSent,
          timeoutMs,
          () =>
            `Rank ${this.rank} timed out after ${timeoutMs} ms before iteration ${t}: ` +
            `the blocks of iteration ${mustHaveSent - 1} have not left (a peer is not reading)`,
        );
      } finally {
        Atomics.store(words, WANT_SENT, 0);
      }
    }
    for (let q = 0; q < this.size; q++) {
      if (q === this.rank) continue;
      const block = blocks[q];
      const room = outgoing.allocWithRoom(t, block.byteLength, FRAME_HEADROOM);
      room.set(block);
      const at = layout.outBlock(t, q);
      words[at] = room.byteOffset;
      words[at + 1] = block.byteLength;
    }
    this.#own[t % this.#own.length] = blocks[this.rank];
    this.#next = t + 1;
    Atomics.store(words, POSTED, t + 1);
    wake(words, KICK);
    const due = t - this.lag;
    if (due < 0) return undefined;
    // Most results come within the spin; waiting without a promise saves the
    // trips through the microtask queue (about a microsecond per call).
    if (!this.#spinForResult(due + 1)) await this.#waitForResult(due + 1);
    return this.#result(due);
  }

  async drain(): Promise<IterationBlocks[]> {
    if (!this.#ready) {
      await this.#parts.created;
      this.#ready = true;
    }
    if (this.#finished) return [];
    const words = this.#words;
    Atomics.store(words, DRAIN, 1);
    wake(words, KICK);
    await this.#waitFor(
      () => Atomics.load(words, STATE) === State.Drained,
      this.#parts.timeoutMs + (this.lag + 1) * this.#parts.timeoutMs,
      () =>
        `Rank ${this.rank} timed out draining its last ${this.#next - this.#returned} iterations`,
    );
    this.#finished = true;
    const out: IterationBlocks[] = [];
    while (this.#returned < this.#next) out.push(this.#result(this.#returned));
    this.#parts.release();
    return out;
  }

  /** Spins (yielding the CPU) until `done` results are out; false if they are not yet. */
  #spinForResult(done: number): boolean {
    const words = this.#words;
    if (Atomics.load(words, DONE) >= done) return true;
    Atomics.store(words, MAIN_WAITING, 1);
    spinUntil(
      () => Atomics.load(words, DONE) >= done || Atomics.load(words, STATE) !== State.Running,
      this.#parts.policy().spinUs,
    );
    Atomics.store(words, MAIN_WAITING, 0);
    return Atomics.load(words, DONE) >= done;
  }

  /** Waits (after the spin) until `done` results are out. */
  #waitForResult(done: number): Promise<void> | void {
    const words = this.#words;
    if (Atomics.load(words, DONE) >= done) return;
    // The engine thread's own deadline names the missing ranks; this one is a backstop.
    return this.#waitFor(
      () => Atomics.load(words, DONE) >= done,
      this.#parts.timeoutMs + 2000,
      () => `Rank ${this.rank} timed out waiting for iteration ${done - 1}`,
      false,
    );
  }

  #result(iter: number): IterationBlocks {
    const { layout, buffers, copy } = this.#parts;
    const words = this.#words;
    if (words[layout.inStamp(iter)] !== iter) {
      throw new Error(`Iteration ${iter} was not published by the progress thread`);
    }
    const slot = buffers.incoming[iter % buffers.incoming.length];
    const blocks = new Array<Uint8Array>(this.size);
    for (let q = 0; q < this.size; q++) {
      if (q === this.rank) {
        blocks[q] = this.#own[iter % this.#own.length];
        continue;
      }
      const at = layout.inBlock(iter, q);
      const view = new Uint8Array(slot, words[at], words[at + 1]);
      blocks[q] = copy ? view.slice() : view;
    }
    this.#returned = iter + 1;
    return { iter, blocks, readyAtMs: this.#stats[layout.readyAt(iter)] };
  }

  /**
   * Waits until `ready()`: a short spin, then `Atomics.wait` on the engine's
   * signal word (in slices, giving the event loop a turn between them), or
   * `Atomics.waitAsync` when other engines share this thread.
   */
  async #waitFor(
    ready: () => boolean,
    timeoutMs: number,
    timeoutMessage: () => string,
    spin = true,
  ) {
    const words = this.#words;
    const policy = this.#parts.policy();
    Atomics.store(words, MAIN_WAITING, 1);
    try {
      await this.#waitUntil(ready, timeoutMs, timeoutMessage, spin ? policy.spinUs : 0, policy);
    } finally {
      Atomics.store(words, MAIN_WAITING, 0);
    }
  }

  async #waitUntil(
    ready: () => boolean,
    timeoutMs: number,
    timeoutMessage: () => string,
    spinUs: number,
    policy: WaitPolicy,
  ) {
    const words = this.#words;
    spinUntil(() => ready() || Atomics.load(words, STATE) === State.Failed, spinUs);
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const signal = Atomics.load(words, SIGNAL);
      if (ready()) return;
      if (Atomics.load(words, STATE) === State.Failed) throw await this.#parts.failed;
      const dead = this.#parts.policy().dead;
      if (dead) throw dead;
      const left = deadline - performance.now();
      if (left <= 0) throw new TimeoutError(timeoutMessage());
      const slice = Math.min(WAIT_SLICE_MS, left);
      if (policy.block) {
        if (Atomics.wait(words, SIGNAL, signal, slice) === "timed-out") {
          nextTurnMs = performance.now() + TURN_EVERY_MS;
          await yieldToEventLoop();
        }
      } else {
        const waiting = Atomics.waitAsync(words, SIGNAL, signal, slice);
        if (waiting.async) await waiting.value;
      }
    }
  }
}
