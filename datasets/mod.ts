/**
 * Datasets: the `Dataset` form, NumPy `.npy`/`.npz` reading and writing, and the
 * Mini-Kaggle (Criteo) and Ali-CCP readers and generators.
 *
 * @module
 */
export * from "./types.ts";
export * from "./npy.ts";
export * from "./npz.ts";
