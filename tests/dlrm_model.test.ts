import assert from "node:assert/strict";
import fc from "fast-check";
import { testKernels } from "./_helpers/dlrm_helpers.ts";
import { architecture, type DlrmConfig, interactionWidth } from "../dlrm/config.ts";
import { type Kernels, loadKernels } from "../dlrm/kernels.ts";
import { checkIndices, DlrmModel } from "../dlrm/model.ts";
import { synthesizeDataset } from "../dlrm/synthetic.ts";
import type { DlrmWeights } from "../dlrm/weights.ts";
import { initWeights } from "../dlrm/weights.ts";
import type { Dataset } from "../datasets/types.ts";
import { UsageError } from "../util/errors.ts";

const f32 = (...v: number[]) => new Float32Array(v);

/** Two dense features, d = 2, two tables of three rows, top 5-2-1: small enough to do by hand. */
function handModel(): DlrmWeights {
  const config: DlrmConfig = {
    bottomLayers: [2, 2],
    topLayers: [5, 2, 1],
    embeddingDim: 2,
    tableSizes: [3, 3],
  };
  return {
    config,
    embeddings: [f32(1, 0, 0, 1, 2, 2), f32(1, 1, 3, 0, 0, -1)],
    bottom: [{ inFeatures: 2, outFeatures: 2, weight: f32(1, 0, 0, 1), bias: f32(0, -1) }],
    top: [
      {
        inFeatures: 5,
        outFeatures: 2,
        weight: f32(0.1, 0.1, 0.1, -0.1, -0.1, 0, 0, 0, 1, 0),
        bias: f32(-0.5, 0),
      },
      { inFeatures: 2, outFeatures: 1, weight: f32(1, 0.5), bias: f32(-1) },
    ],
  };
}

function handData(): Dataset {
  return {
    rows: 2,
    denseNames: ["I1", "I2"],
    dense: f32(1, 3, 1, 0.5),
    sparse: [
      { name: "C1", offsets: new Int32Array([0, 2, 2]), indices: new Int32Array([0, 2]) },
      { name: "C2", offsets: new Int32Array([0, 1, 3]), indices: new Int32Array([1, 2, 2]) },
    ],
    tableSizes: [3, 3],
    labels: f32(0, 1),
    skipped: 0,
  };
}

const backends: Kernels[] = [loadKernels({ backend: "typescript" }), testKernels()];

Deno.test("tiny model matches values computed by hand", () => {
  // Row 0: bottom relu([1, 3] + [0, -1]) = [1, 2]; C1 bag {0, 2} = [3, 2]; C2 bag {1} = [3, 0];
  // pairs: [3,2].[1,2] = 7, [3,0].[1,2] = 3, [3,0].[3,2] = 9 -> R = [1, 2, 7, 3, 9];
  // hidden relu([0.1 + 0.2 + 0.7 - 0.3 - 0.9 - 0.5, 3]) = [0, 3]; out = 1.5 - 1 = 0.5.
  // Row 1: bottom relu([1, -0.5]) = [1, 0]; C1 empty bag = [0, 0]; C2 bag {2, 2} = [0, -2];
  // pairs all 0 -> R = [1, 0, 0, 0, 0]; hidden relu([-0.4, 0]) = [0, 0]; out = -1.
  const expected = [1 / (1 + Math.exp(-0.5)), 1 / (1 + Math.exp(1))];
  for (const kernels of backends) {
    const model = new DlrmModel(handModel(), kernels);
    const p = model.forward(handData(), 0, 2);
    assert.equal(p.length, 2);
    for (let i = 0; i < 2; i++) {
      assert.ok(Math.abs(p[i] - expected[i]) < 1e-6, `${kernels.backend} row ${i}: ${p[i]}`);
    }
    assert.deepEqual([...model.lookup(handData(), [1, 0], 0, 2)], [3, 0, 3, 2, 0, -2, 0, 0]);
  }
});

Deno.test("forward of a range equals the forward of its pieces (batch size does not change results)", () => {
  const config: DlrmConfig = {
    bottomLayers: [5, 8, 16],
    topLayers: [interactionWidth(16, 6), 8, 1],
    embeddingDim: 16,
    tableSizes: [50, 7, 100, 1, 30, 64],
  };
  const model = new DlrmModel(initWeights(config, 11), testKernels());
  const data = synthesizeDataset({ config, rows: 40, seed: 3, pooling: 2.5 });
  const whole = model.forward(data, 0, 40);
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 39 }),
      fc.integer({ min: 1, max: 40 }),
      (start, count) => {
        count = Math.min(count, 40 - start);
        const part = model.forward(data, start, count);
        for (let i = 0; i < count; i++) assert.ok(Math.abs(part[i] - whole[start + i]) <= 1e-6);
      },
    ),
    { numRuns: 30 },
  );
});

Deno.test("TypeScript and OpenBLAS forward passes agree within 1e-6", () => {
  const config = architecture("kaggle", { maxIndRange: 1000 });
  const weights = initWeights(config, 5);
  const data = synthesizeDataset({ config, rows: 64, seed: 8 });
  const a = new DlrmModel(weights, loadKernels({ backend: "typescript" })).forward(data, 0, 64);
  const b = new DlrmModel(weights, testKernels()).forward(data, 0, 64);
  for (let i = 0; i < 64; i++) {
    assert.ok(Math.abs(a[i] - b[i]) <= 1e-6, `row ${i}: ${a[i]} vs ${b[i]}`);
  }
});

Deno.test("an index beyond a table is a UsageError naming the row and table", () => {
  const data = handData();
  data.sparse[1].indices[2] = 3; // row 1's second C2 index; the table has 3 rows
  const model = new DlrmModel(handModel(), backends[0]);
  assert.throws(
    () => model.forward(data, 0, 2),
    (e) =>
      e instanceof UsageError &&
      /^Row 1: index 3 of sparse feature 'C2' is beyond table 1 \(3 rows\)/.test(e.message),
  );
  assert.throws(
    () => checkIndices(data, handModel().config),
    (e) => e instanceof UsageError && /^Row 1:/.test(e.message),
  );
  data.sparse[1].indices[2] = -2;
  assert.throws(() => checkIndices(data, handModel().config), /Row 1: index -2/);
});

Deno.test("data of the wrong shape is a UsageError", () => {
  const model = new DlrmModel(handModel(), backends[0]);
  const data = handData();
  assert.throws(
    () => model.forward({ ...data, denseNames: ["x"] }, 0, 2),
    /1 dense features but the model expects 2/,
  );
  assert.throws(
    () => model.forward({ ...data, sparse: data.sparse.slice(1) }, 0, 2),
    /1 sparse features but the model has 2 tables/,
  );
  assert.throws(() => model.forward(data, 1, 2), RangeError);
});

Deno.test("architectures: kaggle sizes, caps, dataset-driven tables", () => {
  const k = architecture("kaggle");
  assert.deepEqual(k.bottomLayers, [13, 512, 256, 64, 16]);
  assert.deepEqual(k.topLayers, [367, 512, 256, 1]);
  assert.equal(k.tableSizes.length, 26);
  assert.equal(k.tableSizes[2], 10131227);
  assert.equal(architecture("kaggle", { maxIndRange: 1000 }).tableSizes[2], 1000);
  const a = architecture("aliccp");
  assert.equal(a.bottomLayers[0], 8);
  assert.equal(a.tableSizes.length, 23);
  const data = handData();
  const fromData = architecture("aliccp", {
    dataset: { ...data, tableSizes: [0, 3] },
    maxIndRange: 2,
  });
  assert.equal(fromData.bottomLayers[0], 2);
  assert.deepEqual(fromData.tableSizes, [1, 2]);
  assert.equal(fromData.topLayers[0], interactionWidth(16, 2));
  assert.throws(() => architecture("huge"), UsageError);
  assert.throws(() => architecture("tiny", { maxIndRange: 0 }), UsageError);
});
