/**
 * Running a benchmark: the launcher that spawns ranks, the rank runner, mpirun, and the progress bar.
 *
 * @module
 */
export * from "./launcher.ts";
export * from "./rank.ts";
export * from "./mpirun.ts";
export * from "./progress_bar.ts";
export * from "./progress_events.ts";
