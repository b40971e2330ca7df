/**
 * Asynchronous progress: a Worker thread owns the transport and runs the BLS
 * collectives, so a rank that is busy computing (not waiting in an `await`) still
 * receives its peers' blocks and lets them proceed. The main thread posts blocks
 * and collects results as transferred buffers.
 *
 * @module
 */

import type { OpenOptions } from "../transports/open.ts";
import { PeerError, TimeoutError } from "../transports/errors.ts";
import {
  checkPeerAndTag,
  type Transport,
  type TransportKind,
  type TransportStats,
} from "../transports/transport.ts";
import { type Alltoallv, checkBlocks, type IterationBlocks } from "./alltoallv.ts";
import type { BlsOptions } from "./bls.ts";
import {
  type EngineCall,
  type EngineReply,
  ownedBlocks,
  transferList,
} from "./_progress_protocol.ts";

type Pending = { resolve(v: unknown): void; reject(e: Error): void };

function revive(error: { name: string; message: string }): Error {
  if (error.name === "PeerError") return new PeerError(-1, error.message);
  if (error.name === "TimeoutError") return new TimeoutError(error.message);
  const e = new Error(error.message);
  e.name = error.name;
  return e;
}

/** A transport and BLS collectives run by a progress thread. */
export class ProgressEngine {
  /** The transport, proxied to the progress thread. */
  readonly transport: Transport;
  #worker: Worker;
  #seq = 0;
  #pending = new Map<number, Pending>();
  #nextCollective = 1;
  #dead: Error | undefined;
  #closed = false;

  private constructor(worker: Worker, kind: TransportKind, rank: number, size: number) {
    this.#worker = worker;
    const call = this.#call.bind(this);
    this.transport = {
      kind,
      rank,
      size,
      send(peer: number, tag: number, data: Uint8Array) {
        checkPeerAndTag(size, peer, tag);
        const [owned] = ownedBlocks([data.slice()]);
        return call({ op: "send", peer, tag, data: owned }, transferList([owned])).then(() => {});
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
   * @param options How to join the run.
   * @returns The engine, connected.
   */
  static async start(kind: TransportKind, options: OpenOptions): Promise<ProgressEngine> {
    const worker = new Worker(new URL("./_progress_worker.ts", import.meta.url).href, {
      type: "module",
    });
    const engine = new ProgressEngine(worker, kind, options.rank, options.size);
    worker.onmessage = (ev: MessageEvent<EngineReply>) => engine.#settle(ev.data);
    worker.onerror = (ev: ErrorEvent) => {
      ev.preventDefault();
      engine.#die(new Error(`Progress thread failed: ${ev.message}`));
    };
    try {
      const id = (await engine.#call({ op: "open", kind, options })) as {
        rank: number;
        size: number;
      };
      (engine.transport as { rank: number }).rank = id.rank;
      (engine.transport as { size: number }).size = id.size;
    } catch (e) {
      worker.terminate();
      throw e;
    }
    return engine;
  }

  #settle(msg: EngineReply): void {
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
   * Creates a BLS alltoallv run by the progress thread.
   *
   * @param options Lag, tag base, timeout.
   * @returns The collective.
   */
  alltoallv(options: BlsOptions): Alltoallv {
    const id = this.#nextCollective++;
    const created = this.#call({ op: "create", id, options });
    created.catch(() => {});
    const call = this.#call.bind(this);
    const { rank, size } = this.transport;
    return {
      rank,
      size,
      lag: options.lag,
      async exchange(blocks: Uint8Array[]): Promise<IterationBlocks | undefined> {
        checkBlocks(blocks, size);
        await created;
        const owned = ownedBlocks(blocks);
        return (await call({ op: "post", id, blocks: owned }, transferList(owned))) as
          | IterationBlocks
          | undefined;
      },
      async drain(): Promise<IterationBlocks[]> {
        await created;
        return (await call({ op: "drain", id })) as IterationBlocks[];
      },
    };
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
