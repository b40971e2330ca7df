/**
 * blsbench: synchronous and bounded-lag-synchronous (BLS) alltoallv collectives
 * over pluggable transports, and the benchmarks that compare them.
 *
 * @module
 */
export * from "./transports/mod.ts";
