/**
 * Alltoallv collectives on the transport interface: synchronous (pairwise
 * exchange), bounded-lag-synchronous (BLS, lag k), the factory that picks one
 * for a lag, the communicator that gives collectives their own tags, the
 * arenas blocks are received into, and the progress engine that runs them on a
 * Worker thread.
 *
 * @module
 */
export * from "./alltoallv.ts";
export * from "./arena.ts";
export * from "./sync.ts";
export * from "./bls.ts";
export * from "./create.ts";
export * from "./progress.ts";
export * from "./communicator.ts";
