/**
 * A rank's communication context: the transport and a factory of alltoallv
 * collectives, with progress on a thread or inline, plus the control exchanges
 * (barrier, gather) the benchmark needs between configurations.
 *
 * @module
 */

import type { Alltoallv } from "./alltoallv.ts";
import { IterationArena } from "./arena.ts";
import { ProgressEngine } from "./progress.ts";
import { createAlltoallv } from "./create.ts";
import { withTimeout } from "../transports/deadline.ts";
import { TimeoutError } from "../transports/errors.ts";
import { type OpenOptions, openTransport } from "../transports/open.ts";
import { CONTROL_TAG_BASE, type Transport, type TransportKind } from "../transports/transport.ts";

/** Where a rank is in its exchanges, for messages that say where a run failed. */
export interface CommPosition {
  /** Which collective, counted from 1 since the last `resetPosition()`. */
  collective: number;
  /** The iterations it was created for. */
  iterations: number;
  /** Exchanges started on it: the iteration in progress is `started - 1`. */
  started: number;
  /** Whether it is in its final drain. */
  draining: boolean;
  /** Whether its drain finished (every iteration is done). */
  done?: boolean;
  /** The control exchange in progress (`barrier`, `gather`), if any. */
  control?: string;
}

/** Called before each exchange (a place to inject faults in tests). */
export type ExchangeHook = (collective: number, iteration: number) => void | Promise<void>;

/** How a rank talks to the others. */
export interface Comm {
  /** The transport (a proxy to the progress thread in thread mode). */
  readonly transport: Transport;
  /** This rank. */
  readonly rank: number;
  /** The world size. */
  readonly size: number;
  /**
   * A new alltoallv with lag `lag`; each gets its own range of tags.
   *
   * @param lag The lag bound.
   * @param iterations How many iterations it will run (to reserve tags).
   * @param blockBytes When every block has this size on every rank: the
   *   native collective then skips its counts exchange.
   */
  alltoallv(lag: number, iterations: number, blockBytes?: number): Alltoallv;
  /** Waits until every rank gets here. */
  barrier(): Promise<void>;
  /** Rank 0 gets every rank's bytes (others get an empty list). */
  gather(data: Uint8Array): Promise<Uint8Array[]>;
  /** Closes the transport. */
  close(): Promise<void>;
  /** Tells the peers this rank failed, then closes. */
  abort(reason: string): Promise<void>;
  /** Where this rank is: the current collective and iteration, or a control exchange. */
  position(): CommPosition | undefined;
  /** Starts counting collectives again from 1 (at each configuration). */
  resetPosition(): void;
  /** Run before every exchange of every collective; unset by default. */
  onExchange?: ExchangeHook;
}

/** Options of `openComm`. */
export interface CommOptions extends OpenOptions {
  /** The transport kind. */
  kind: TransportKind;
  /** Where progress happens. */
  progress: "thread" | "inline";
  /**
   * Microseconds a waiting thread spins before it sleeps: with thread progress
   * the main thread, and on native sockets a waiting receive.
   */
  spinUs?: number;
  /** Per-exchange timeout in ms. */
  exchangeTimeoutMs?: number;
  /** `native`: the MPI library's own alltoallv (mpi transport only). */
  collective?: "p2p" | "native";
}

/** Where a communicator's collectives run: its transport and how to make a collective. */
interface Backend {
  transport: Transport;
  make: (lag: number, tagBase: number, blockBytes?: number) => Alltoallv;
  close: () => Promise<void>;
  abort: (reason: string) => Promise<void>;
}

/** Opens the progress engine, MPI's own collective, or a transport for inline collectives. */
async function openBackend(options: CommOptions): Promise<Backend> {
  const timeoutMs = options.exchangeTimeoutMs;
  if (options.progress === "thread") {
    const engine = await ProgressEngine.start(options.kind, options);
    return {
      transport: engine.transport,
      make: (lag, tagBase) => engine.alltoallv({ lag, tagBase, timeoutMs }),
      close: () => engine.close(),
      abort: (reason) => engine.abort(reason),
    };
  }
  const native = options.collective === "native";
  const t = await openTransport(native ? "mpi" : options.kind, options);
  const close = () => t.close();
  const abort = (reason: string) => t.abort ? t.abort(reason) : t.close();
  if (native) {
    const { openMpiNativeAlltoallv } = await import("./mpi_native.ts");
    return {
      transport: t,
      make: (lag, _tagBase, blockBytes) =>
        lazyAlltoallv(
          t,
          lag,
          () => openMpiNativeAlltoallv({ lag, family: options.mpi, blockBytes }),
        ),
      close,
      abort,
    };
  }
  return {
    transport: t,
    // Received blocks land in an arena per collective: no allocation per message.
    make: (lag, tagBase) =>
      createAlltoallv(t, { lag, tagBase, timeoutMs, arena: new IterationArena(lag + 2) }),
    close,
    abort,
  };
}

/**
 * Opens the communication context of this rank.
 *
 * @example Two ranks, inline progress
 * ```ts
 * import { openComm } from "@blsbench/core";
 * import { startRendezvousStore } from "@blsbench/core";
 * const store = await startRendezvousStore({ token: "t" });
 * const comms = await Promise.all([0, 1].map((rank) =>
 *   openComm({ kind: "tcp", progress: "inline", rank, size: 2, token: "t", master: store.address })
 * ));
 * await Promise.all(comms.map((c) => c.barrier()));
 * await Promise.all(comms.map((c) => c.close()));
 * await store.close();
 * ```
 *
 * @param options Transport kind, progress mode, how to join.
 * @returns The context.
 */
export async function openComm(commOptions: CommOptions): Promise<Comm> {
  // Barriers and gathers run only between collectives: on MPI, each one cancels
  // the receives a drained collective left waiting (its look-ahead).
  const options = { ...commOptions, cancelOnControl: true };
  let nextTag = 0;
  let nextControl = CONTROL_TAG_BASE;
  const timeoutMs = options.exchangeTimeoutMs;
  const reserve = (iterations: number) => {
    const base = nextTag;
    nextTag += iterations + 1;
    if (nextTag >= CONTROL_TAG_BASE) nextTag = 0;
    return base;
  };
  const { transport, make, close: closeAll, abort: abortAll } = await openBackend(options);
  const { rank, size } = transport;
  let collectives = 0;
  let current: CommPosition | undefined;
  let control: string | undefined;

  // Control exchanges wait no longer than the collectives do, and name the
  // ranks that did not answer.
  const controlExchange = async (
    what: string,
    sends: number[],
    recvs: number[],
    tag: number,
    data: Uint8Array,
  ): Promise<Uint8Array[]> => {
    control = what;
    const missing = new Set(recvs);
    const got: Uint8Array[] = new Array(size);
    const work = Promise.all([
      ...sends.map((p) => transport.send(p, tag, data)),
      ...recvs.map((p) =>
        transport.recv(p, tag).then((b) => {
          got[p] = b;
          missing.delete(p);
        })
      ),
    ]);
    try {
      await withTimeout(work, timeoutMs ?? Infinity, "");
    } catch (e) {
      if (e instanceof TimeoutError) {
        throw new TimeoutError(
          `Rank ${rank} timed out after ${timeoutMs} ms in a ${what} waiting for rank(s) ${
            [...missing].join(", ")
          }`,
        );
      }
      throw e;
    } finally {
      control = undefined;
    }
    return got;
  };
  const others = Array.from({ length: size }, (_, p) => p).filter((p) => p !== rank);

  const comm: Comm = {
    transport,
    rank,
    size,
    alltoallv: (lag, iterations, blockBytes) => {
      const tagBase = reserve(iterations);
      const inner = make(lag, tagBase, blockBytes);
      const pos: CommPosition = {
        collective: ++collectives,
        iterations,
        started: 0,
        draining: false,
      };
      current = pos;
      return {
        rank: inner.rank,
        size: inner.size,
        lag: inner.lag,
        buffered: inner.buffered?.bind(inner),
        async exchange(blocks) {
          current = pos;
          pos.started++;
          await comm.onExchange?.(pos.collective, pos.started - 1);
          return await inner.exchange(blocks);
        },
        async drain() {
          current = pos;
          pos.draining = true;
          const out = await inner.drain();
          // Nothing is sent under this collective's tags any more.
          transport.cancelRecvs?.(tagBase, tagBase + iterations + 1);
          pos.done = true;
          return out;
        },
      };
    },
    async barrier() {
      await controlExchange("barrier", others, others, nextControl++, new Uint8Array(0));
    },
    async gather(data) {
      const tag = nextControl++;
      if (rank !== 0) {
        await controlExchange("gather to rank 0", [0], [], tag, data);
        return [];
      }
      const got = await controlExchange("gather", [], others, tag, data);
      got[0] = data;
      return got;
    },
    close: closeAll,
    abort: abortAll,
    position: () => (control ? { ...(current ?? emptyPosition()), control } : current),
    resetPosition() {
      collectives = 0;
      current = undefined;
    },
  };
  return comm;
}

function emptyPosition(): CommPosition {
  return { collective: 0, iterations: 0, started: 0, draining: false };
}

/**
 * An alltoallv opened on first use (the MPI-native collective opens
 * asynchronously) and closed after its drain.
 */
function lazyAlltoallv(
  t: Transport,
  lag: number,
  open: () => Promise<Alltoallv & { close(): Promise<void> }>,
): Alltoallv {
  let opened: Promise<Alltoallv & { close(): Promise<void> }> | undefined;
  const get = () => (opened ??= open());
  return {
    rank: t.rank,
    size: t.size,
    lag,
    async exchange(blocks) {
      return await (await get()).exchange(blocks);
    },
    async drain() {
      const c = await get();
      const rest = await c.drain();
      await c.close();
      return rest;
    },
  };
}
