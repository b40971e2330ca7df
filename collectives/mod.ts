/**
 * Alltoallv collectives on the transport interface: synchronous (pairwise
 * exchange), bounded-lag-synchronous (BLS, lag k), and the progress engine that
 * runs them on a Worker thread.
 *
 * @module
 */
export * from "./alltoallv.ts";
export * from "./sync.ts";
export * from "./bls.ts";
export * from "./progress.ts";
export * from "./arena.ts";
