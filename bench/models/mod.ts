/**
 * The models the benchmark draws from and predicts with: per-rank delays, block-size imbalance, and the BLS cost model.
 *
 * @module
 */
export * from "./delay.ts";
export * from "./imbalance.ts";
export * from "./bls_cost.ts";
