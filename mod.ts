/**
 * blsbench: synchronous and bounded-lag-synchronous (BLS) alltoallv collectives
 * over pluggable transports (TCP, Unix sockets, MPI through FFI), with
 * asynchronous progress on a Worker thread. This root module is what a program
 * that exchanges data needs; the rest lives under sub-paths:
 * `@blsbench/core/transports`, `/collectives`, `/mpi`, `/dlrm`, `/datasets`,
 * `/bench` (delay models, simulator, result files, report) and `/cli`.
 *
 * @example BLS alltoallv with lag 1 on two ranks in one process
 * ```ts
 * import { connectLocalGroup, createAlltoallv } from "@blsbench/core";
 * const group = await connectLocalGroup("tcp", 2);
 * const colls = group.transports.map((t) => createAlltoallv(t, { lag: 1 }));
 * for (let iter = 0; iter < 3; iter++) {
 *   await Promise.all(colls.map((c) => c.exchange([new Uint8Array([iter]), new Uint8Array([iter])])));
 * }
 * await Promise.all(colls.map((c) => c.drain()));
 * await group.close();
 * ```
 *
 * @module
 */

// Transports
export {
  type Address,
  connectLocalGroup,
  connectTcp,
  connectUnix,
  FRAME_HEADROOM,
  type LocalGroup,
  masterFromEnvironment,
  MAX_TAG,
  type MeshOptions,
  type OpenOptions,
  openTransport,
  parseAddress,
  rankFromEnvironment,
  type RankIdentity,
  type RendezvousStore,
  startRendezvousStore,
  type StoreOptions,
  type Transport,
  type TransportKind,
  type TransportStats,
  withTimeout,
} from "./transports/mod.ts";

// Collectives
export {
  type Alltoallv,
  alltoallvOnce,
  type AlltoallvOptions,
  BlsAlltoallv,
  type BlsOptions,
  type CollectiveOptions,
  type Comm,
  type CommOptions,
  type CommPosition,
  createAlltoallv,
  DEFAULT_SPIN_US,
  type EngineAlltoallvOptions,
  type EngineOptions,
  type ExchangeHook,
  type ExchangeIo,
  IterationArena,
  type IterationBlocks,
  openComm,
  ProgressEngine,
  SyncAlltoallv,
} from "./collectives/mod.ts";

// Errors
export { PeerError, ProtocolError, TimeoutError } from "./transports/errors.ts";
export { RunError, UsageError } from "./util/errors.ts";
