/** `bench --validate` on DLRM compares predictions with a single-process forward, and can fail. */

import assert from "node:assert/strict";
import { checkPredictions } from "../bench/workloads/dlrm_check.ts";
import type { Comm } from "../collectives/communicator.ts";
import { architecture } from "../dlrm/config.ts";
import { loadKernels } from "../dlrm/kernels.ts";
import { DlrmModel } from "../dlrm/model.ts";
import { shardTables } from "../dlrm/sharding.ts";
import { synthesizeDataset } from "../dlrm/synthetic.ts";
import { initWeights } from "../dlrm/weights.ts";

/** One rank whose alltoallv hands its own blocks back (lag 0). */
function loopbackComm(): Comm {
  let iter = 0;
  return {
    rank: 0,
    size: 1,
    alltoallv: () => ({
      rank: 0,
      size: 1,
      lag: 0,
      exchange: (blocks: Uint8Array[]) => Promise.resolve({ iter: iter++, blocks }),
      drain: () => Promise.resolve([]),
    }),
  } as unknown as Comm;
}

const config = architecture("tiny");
const kernels = loadKernels({ backend: "typescript" });
const data = synthesizeDataset({ config, rows: 20, seed: 2 });
const shards = shardTables("contiguous", config.tableSizes.length, 1);

Deno.test("dlrm validate: the same weights match on every compared row", async () => {
  const model = new DlrmModel(initWeights(config, 7), kernels);
  const check = await checkPredictions(loopbackComm(), 0, model, data, {
    batchSize: 8,
    shards,
    batches: 3,
    seed: 7,
  });
  assert.equal(check.compared, 16); // two batches of 8 rows
  assert.equal(check.mismatches, 0);
});

Deno.test("dlrm validate: predictions from other weights are mismatches", async () => {
  const model = new DlrmModel(initWeights(config, 7), kernels);
  const check = await checkPredictions(loopbackComm(), 0, model, data, {
    batchSize: 8,
    shards,
    batches: 3,
    seed: 8, // the reference is built from another seed
  });
  assert.equal(check.compared, 16);
  assert.ok(check.mismatches > 8, `${check.mismatches} of 16 differ`);
});
