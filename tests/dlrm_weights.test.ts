import assert from "node:assert/strict";
import { architecture } from "../dlrm/config.ts";
import {
  initWeights,
  loadWeights,
  saveWeights,
  weightsFromArrays,
  weightsToArrays,
} from "../dlrm/weights.ts";
import { writeNpz } from "../datasets/npz.ts";
import type { NpyArray } from "../datasets/npy.ts";
import { UsageError } from "../util/errors.ts";

function tinyArrays(): Map<string, NpyArray> {
  return weightsToArrays(initWeights(architecture("tiny"), 4));
}

function rejects(arrays: Map<string, NpyArray>, name: string) {
  assert.throws(
    () => weightsFromArrays(arrays),
    (e) => e instanceof UsageError && e.message.includes(`'${name}'`),
    `expected a UsageError naming ${name}`,
  );
}

Deno.test("weights round trip through an npz file; the architecture comes from the shapes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const w = initWeights(architecture("kaggle", { maxIndRange: 50 }), 2);
    await saveWeights(`${dir}/w.npz`, w);
    const back = await loadWeights(`${dir}/w.npz`);
    assert.deepEqual(back.config, w.config);
    assert.deepEqual(back.embeddings[3], w.embeddings[3]);
    assert.deepEqual(back.top[2].bias, w.top[2].bias);
    const shard = await loadWeights(`${dir}/w.npz`, { tables: [1, 5] });
    assert.equal(shard.embeddings[0], undefined);
    assert.deepEqual(shard.embeddings[5], w.embeddings[5]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("float64 arrays (np.savez of double tensors) load as float32", () => {
  const arrays = tinyArrays();
  const b = arrays.get("bot_l.0.bias")!;
  arrays.set("bot_l.0.bias", {
    dtype: "<f8",
    shape: b.shape,
    data: Float64Array.from(b.data as Float32Array),
  });
  const w = weightsFromArrays(arrays);
  assert.ok(w.bottom[0].bias instanceof Float32Array);
});

Deno.test("a shape that does not fit is a UsageError naming the array", () => {
  const f = (n: number) => new Float32Array(n);
  let a = tinyArrays();
  a.set("emb_l.1.weight", { dtype: "<f4", shape: [20, 5], data: f(100) });
  rejects(a, "emb_l.1.weight");
  a = tinyArrays();
  a.set("bot_l.2.weight", { dtype: "<f4", shape: [4, 7], data: f(28) });
  rejects(a, "bot_l.2.weight");
  a = tinyArrays();
  a.set("bot_l.0.bias", { dtype: "<f4", shape: [9], data: f(9) });
  rejects(a, "bot_l.0.bias");
  a = tinyArrays();
  a.set("top_l.0.weight", { dtype: "<f4", shape: [8, 11], data: f(88) });
  rejects(a, "top_l.0.weight");
  a = tinyArrays();
  a.set("top_l.2.weight", { dtype: "<f4", shape: [2, 8], data: f(16) });
  a.set("top_l.2.bias", { dtype: "<f4", shape: [2], data: f(2) });
  rejects(a, "top_l.2.weight");
  a = tinyArrays();
  a.delete("emb_l.1.weight");
  rejects(a, "emb_l.1.weight");
  a = tinyArrays();
  a.delete("top_l.2.bias");
  rejects(a, "top_l.2.bias");
  a = tinyArrays();
  a.set("emb_l.0.weight", { dtype: "<i4", shape: [10, 4], data: new Int32Array(40) });
  rejects(a, "emb_l.0.weight");
  a = tinyArrays();
  a.set("module.extra", { dtype: "<f4", shape: [1], data: f(1) });
  rejects(a, "module.extra");
});

Deno.test("loading names the file; a missing file or a non-npz is a UsageError", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const a = tinyArrays();
    a.set("bot_l.2.weight", { dtype: "<f4", shape: [4, 7], data: new Float32Array(28) });
    await writeNpz(`${dir}/bad.npz`, a);
    await assert.rejects(
      loadWeights(`${dir}/bad.npz`),
      (e) =>
        e instanceof UsageError && e.message.includes("bad.npz") &&
        e.message.includes("'bot_l.2.weight'"),
    );
    await assert.rejects(loadWeights(`${dir}/none.npz`), UsageError);
    await Deno.writeTextFile(`${dir}/text.npz`, "not a zip");
    await assert.rejects(loadWeights(`${dir}/text.npz`), UsageError);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reference initialisation: deterministic, per-table streams, right scales", () => {
  const config = architecture("tiny");
  const a = initWeights(config, 9);
  const b = initWeights(config, 9, { tables: [2] });
  assert.deepEqual(a.embeddings[2], b.embeddings[2]);
  assert.equal(b.embeddings[0], undefined);
  assert.notDeepEqual(initWeights(config, 10).embeddings[2], a.embeddings[2]);
  // U(-sqrt(1/rows), sqrt(1/rows)) for the 30-row table.
  const bound = Math.sqrt(1 / 30);
  assert.ok(a.embeddings[2]!.every((v) => Math.abs(v) <= bound));
  // A larger layer's weights have roughly the reference standard deviation sqrt(2 / (in + out)).
  const big = initWeights(architecture("kaggle", { maxIndRange: 10 }), 1);
  const w = big.top[0].weight;
  const std = Math.sqrt(w.reduce((s, v) => s + v * v, 0) / w.length);
  const expected = Math.sqrt(2 / (367 + 512));
  assert.ok(Math.abs(std / expected - 1) < 0.02, `std ${std} vs ${expected}`);
});
