/**
 * blsbench: synchronous and bounded-lag-synchronous (BLS) alltoallv collectives
 * over pluggable transports (TCP, Unix sockets, MPI through FFI), distributed
 * inference-only DLRM on top of them, and the benchmarks that compare them.
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
export * from "./transports/mpi/mod.ts";
export * from "./collectives/mod.ts";
export * from "./collectives/mpi_native.ts";
export * from "./dlrm/mod.ts";
export * from "./datasets/mod.ts";
export * from "./bench/delay.ts";
export * from "./bench/imbalance.ts";
export * from "./bench/simulate.ts";
export {
  parseRunJson,
  parseSummaryCsv,
  readResultDir,
  readResultDirs,
  type ResultRun,
  type RunInfo,
  SUMMARY_COLUMNS,
  type SummaryRow,
} from "./bench/results_read.ts";
export { FIGURE_IDS, type FigureId } from "./bench/figure_specs.ts";
export * from "./bench/claims.ts";
export * from "./bench/report.ts";
