/**
 * Inference-only DLRM: architectures, weights in PyTorch `state_dict` npz
 * form, OpenBLAS or TypeScript kernels, the single-process forward pass, table
 * sharding, seeded synthetic data with pooling and skew, and distributed
 * pipelined inference over a (bounded-lag) alltoallv.
 *
 * @example Predict with the tiny model
 * ```ts
 * import { architecture, DlrmModel, initWeights, loadKernels, synthesizeDataset } from "@blsbench/core/dlrm";
 * const config = architecture("tiny");
 * const model = new DlrmModel(initWeights(config, 1), loadKernels({ backend: "typescript" }));
 * const p = model.forward(synthesizeDataset({ config, rows: 3, seed: 1 }), 0, 3);
 * if (p.length !== 3) throw new Error("expected 3 predictions");
 * ```
 *
 * @module
 */
export * from "./config.ts";
export * from "./kernels.ts";
export * from "./weights.ts";
export * from "./model.ts";
export * from "./sharding.ts";
export * from "./synthetic.ts";
export * from "./distributed.ts";
// The data types this module's API mentions, so its documentation is complete on its own.
export type { Dataset, SparseFeature } from "../datasets/types.ts";
export type { NpyArray, NpyData, NpyDtype } from "../datasets/npy.ts";
export type { Alltoallv, IterationBlocks } from "../collectives/alltoallv.ts";
