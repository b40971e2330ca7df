/**
 * What `bench --validate` checks on the DLRM workload: after the timed batches
 * (outside the timing), the first batches run again through the same
 * distributed pipeline and lag, and every rank compares the predictions of its
 * slice of each batch with a single-process forward of the whole model over the
 * same rows. A prediction further than 1e-5 from the reference is a mismatch,
 * and a mismatch fails the run (exit 1), as a wrong byte does in alltoallv.
 *
 * @module
 */

import type { Comm } from "../../collectives/communicator.ts";
import { runInference } from "../../dlrm/distributed.ts";
import { DlrmModel, type ModelInput } from "../../dlrm/model.ts";
import { initWeights, loadWeights } from "../../dlrm/weights.ts";

/**
 * The largest difference between a distributed and a single-process prediction that matches.
 *
 * @example A probability off by 1e-6 matches
 * ```ts
 * import { PREDICTION_TOLERANCE } from "./dlrm_check.ts";
 * if (!(Math.abs(0.25 - 0.250001) <= PREDICTION_TOLERANCE)) throw new Error("should match");
 * ```
 */
export const PREDICTION_TOLERANCE = 1e-5;

/**
 * Batches compared per configuration.
 *
 * @example Two batches
 * ```ts
 * import { CHECKED_BATCHES } from "./dlrm_check.ts";
 * if (CHECKED_BATCHES !== 2) throw new Error("two batches are checked");
 * ```
 */
export const CHECKED_BATCHES = 2;

const references = new Map<string, Promise<DlrmModel>>();

/**
 * Runs the check on this rank.
 *
 * @example One rank with a loop-back collective and the weights of the same seed
 * ```ts
 * import { checkPredictions } from "./dlrm_check.ts";
 * import { architecture } from "@blsbench/core/dlrm";
 * import { loadKernels } from "@blsbench/core/dlrm";
 * import { DlrmModel } from "@blsbench/core/dlrm";
 * import { shardTables } from "@blsbench/core/dlrm";
 * import { synthesizeDataset } from "@blsbench/core/dlrm";
 * import { initWeights } from "@blsbench/core/dlrm";
 * import type { Comm } from "@blsbench/core";
 * const config = architecture("tiny");
 * const model = new DlrmModel(initWeights(config, 3), loadKernels({ backend: "typescript" }));
 * let iter = 0;
 * const comm = { rank: 0, size: 1, alltoallv: () => ({ rank: 0, size: 1, lag: 0,
 *   exchange: (blocks: Uint8Array[]) => Promise.resolve({ iter: iter++, blocks }),
 *   drain: () => Promise.resolve([]) }) } as unknown as Comm;
 * const data = synthesizeDataset({ config, rows: 8, seed: 1 });
 * const check = await checkPredictions(comm, 0, model, data,
 *   { batchSize: 4, shards: shardTables("contiguous", 3, 1), batches: 2, seed: 3 });
 * if (check.mismatches !== 0 || check.compared !== 8) throw new Error("should match");
 * ```
 *
 * @param comm This rank's communication context.
 * @param lag The configuration's lag.
 * @param model This rank's model (its own tables).
 * @param dataset The rows the configuration uses.
 * @param options Batch size, shards, batches available, seed and weights file.
 * @returns How many of this rank's predictions did not match, how many were compared, and the
 * first mismatch.
 */
export async function checkPredictions(
  comm: Comm,
  lag: number,
  model: DlrmModel,
  dataset: ModelInput,
  options: {
    batchSize: number;
    shards: readonly (readonly number[])[];
    batches: number;
    seed: number;
    weights?: string;
  },
): Promise<{ mismatches: number; compared: number; first?: string }> {
  const key = JSON.stringify([options.weights ?? null, options.seed, model.config]);
  let reference = references.get(key);
  if (!reference) {
    // Every table, from the same file or the same seed as the ranks' own shards.
    reference = (options.weights
      ? loadWeights(options.weights)
      : Promise.resolve(initWeights(model.config, options.seed))).then((w) =>
        new DlrmModel(w, model.kernels)
      );
    references.set(key, reference);
  }
  const full = await reference;
  const batches = Math.min(CHECKED_BATCHES, options.batches);
  let mismatches = 0;
  let compared = 0;
  let first: string | undefined;
  await runInference(comm.alltoallv(lag, batches), model, dataset, {
    batchSize: options.batchSize,
    shards: options.shards,
    batches,
    collect: false,
    onBatch: ({ slice, probabilities }) => {
      if (slice.count === 0) return;
      const want = full.forward(dataset, slice.start, slice.count);
      for (let i = 0; i < slice.count; i++) {
        compared++;
        if (!(Math.abs(probabilities[i] - want[i]) <= PREDICTION_TOLERANCE)) {
          mismatches++;
          first ??= `row ${slice.start + i}: ${probabilities[i]} against ${want[i]} single-process`;
        }
      }
    },
  });
  return { mismatches, compared, first };
}
