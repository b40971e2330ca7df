/**
 * The workloads a rank runs: the synthetic alltoallv exchange and distributed DLRM inference.
 *
 * @module
 */
export * from "./alltoallv.ts";
export * from "./dlrm.ts";
export * from "./dlrm_setup.ts";
export * from "./blocks.ts";
export * from "./dlrm_check.ts";
