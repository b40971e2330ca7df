/**
 * blsbench: synchronous and bounded-lag-synchronous (BLS) alltoallv collectives
 * over pluggable transports (TCP, Unix sockets, MPI), and the benchmarks that
 * compare them.
 *
 * @example BLS alltoallv with lag 1 on two ranks in one process
 * ```ts
 * import { BlsAlltoallv, connectLocalGroup } from "./mod.ts";
 * const group = await connectLocalGroup("tcp", 2);
 * const colls = group.transports.map((t) => new BlsAlltoallv(t, { lag: 1 }));
 * for (let iter = 0; iter < 3; iter++) {
 *   await Promise.all(colls.map((c) => c.exchange([new Uint8Array([iter]), new Uint8Array([iter])])));
 * }
 * await Promise.all(colls.map((c) => c.drain()));
 * await group.close();
 * ```
 *
 * @module
 */
export * from "./transports/mod.ts";
export * from "./collectives/mod.ts";
