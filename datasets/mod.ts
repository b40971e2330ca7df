/**
 * Datasets: the `Dataset` form, NumPy `.npy`/`.npz` reading and writing, the
 * Mini-Kaggle (Criteo) and Ali-CCP readers with DLRM's preprocessing, DLRM's
 * processed `.npz`, seeded generators, and file statistics.
 *
 * @module
 */
export * from "./types.ts";
export * from "./npy.ts";
export * from "./npz.ts";
export * from "./malformed.ts";
export * from "./criteo.ts";
export * from "./dlrm_npz.ts";
export * from "./aliccp.ts";
export * from "./generate.ts";
export * from "./load.ts";
export * from "./stats.ts";
export * from "./inspect.ts";
export * from "./stream.ts";
