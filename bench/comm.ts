/**
 * A rank's communication context: the transport and a factory of alltoallv
 * collectives, with progress on a thread or inline, plus the control exchanges
 * (barrier, gather) the benchmark needs between configurations.
 *
 * @module
 */

import type { Alltoallv } from "../collectives/alltoallv.ts";
import { BlsAlltoallv } from "../collectives/bls.ts";
import { ProgressEngine } from "../collectives/progress.ts";
import { alltoallvOnce, SyncAlltoallv } from "../collectives/sync.ts";
import { type OpenOptions, openTransport } from "../transports/open.ts";
import type { Transport, TransportKind } from "../transports/transport.ts";

/** Tags at and above this are for control exchanges, below for collectives. */
const CONTROL_TAG_BASE = 0xf000_0000;

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
   */
  alltoallv(lag: number, iterations: number): Alltoallv;
  /** Waits until every rank gets here. */
  barrier(): Promise<void>;
  /** Rank 0 gets every rank's bytes (others get an empty list). */
  gather(data: Uint8Array): Promise<Uint8Array[]>;
  /** Closes the transport. */
  close(): Promise<void>;
  /** Tells the peers this rank failed, then closes. */
  abort(reason: string): Promise<void>;
}

/** Options of `openComm`. */
export interface CommOptions extends OpenOptions {
  /** The transport kind. */
  kind: TransportKind;
  /** Where progress happens. */
  progress: "thread" | "inline";
  /** Per-exchange timeout in ms. */
  exchangeTimeoutMs?: number;
  /** `native`: the MPI library's own alltoallv (mpi transport only). */
  collective?: "p2p" | "native";
}

/**
 * Opens the communication context of this rank.
 *
 * @example Two ranks, inline progress
 * ```ts
 * import { openComm } from "./comm.ts";
 * import { startRendezvousStore } from "../transports/rendezvous.ts";
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
export async function openComm(options: CommOptions): Promise<Comm> {
  let nextTag = 0;
  let nextControl = CONTROL_TAG_BASE;
  const timeoutMs = options.exchangeTimeoutMs;
  const reserve = (iterations: number) => {
    const base = nextTag;
    nextTag += iterations + 1;
    if (nextTag >= CONTROL_TAG_BASE) nextTag = 0;
    return base;
  };
  let transport: Transport;
  let make: (lag: number, tagBase: number) => Alltoallv;
  let closeAll: () => Promise<void>;
  let abortAll: (reason: string) => Promise<void>;
  if (options.progress === "thread") {
    const engine = await ProgressEngine.start(options.kind, options);
    transport = engine.transport;
    make = (lag, tagBase) => engine.alltoallv({ lag, tagBase, timeoutMs });
    closeAll = () => engine.close();
    abortAll = (reason) => engine.abort(reason);
  } else if (options.collective === "native") {
    transport = await openTransport("mpi", options);
    const t = transport;
    const { openMpiNativeAlltoallv } = await import("../collectives/mpi_native.ts");
    make = (lag) =>
      lazyAlltoallv(t, lag, () => openMpiNativeAlltoallv({ lag, family: options.mpi }));
    closeAll = () => t.close();
    abortAll = (reason) => t.abort ? t.abort(reason) : t.close();
  } else {
    transport = await openTransport(options.kind, options);
    const t = transport;
    make = (lag, tagBase) =>
      lag === 0
        ? new SyncAlltoallv(t, tagBase, timeoutMs)
        : new BlsAlltoallv(t, { lag, tagBase, timeoutMs });
    closeAll = () => t.close();
    abortAll = (reason) => t.abort ? t.abort(reason) : t.close();
  }
  const { rank, size } = transport;
  return {
    transport,
    rank,
    size,
    alltoallv: (lag, iterations) => make(lag, reserve(iterations)),
    async barrier() {
      const empty = new Array(size).fill(new Uint8Array(0));
      await alltoallvOnce(transport, nextControl++, empty);
    },
    async gather(data) {
      const tag = nextControl++;
      if (rank !== 0) {
        await transport.send(0, tag, data);
        return [];
      }
      const out: Uint8Array[] = [data];
      for (let p = 1; p < size; p++) out.push(await transport.recv(p, tag));
      return out;
    },
    close: closeAll,
    abort: abortAll,
  };
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
