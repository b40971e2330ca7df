import assert from "node:assert/strict";
import { runPredictCli } from "./_helpers/dlrm_helpers.ts";
import { generateMiniKaggle } from "../datasets/generate.ts";
import { loadDataset } from "../datasets/load.ts";
import { architecture } from "../dlrm/config.ts";
import { loadKernels } from "../dlrm/kernels.ts";
import { DlrmModel } from "../dlrm/model.ts";
import { initWeights, saveWeights } from "../dlrm/weights.ts";

const dir = await Deno.makeTempDir({ prefix: "blsbench-predict-" });
const data = `${dir}/mini.txt`;
const weightsPath = `${dir}/w.npz`;
let expected: Float32Array | undefined;

async function setup(): Promise<Float32Array> {
  if (expected) return expected;
  await generateMiniKaggle(data, 700, 3);
  const dataset = await loadDataset(data);
  const weights = initWeights(architecture("kaggle", { dataset }), 7);
  await saveWeights(weightsPath, weights);
  expected = new DlrmModel(weights, loadKernels()).forward(dataset, 0, dataset.rows);
  return expected;
}

async function predict(...args: string[]) {
  const out = `${dir}/p-${crypto.randomUUID().slice(0, 8)}.csv`;
  const r = await runPredictCli(data, weightsPath, out, ...args);
  const stderr = new TextDecoder().decode(r.stderr);
  if (r.code !== 0) return { code: r.code, stderr, values: [] as number[] };
  const lines = (await Deno.readTextFile(out)).trim().split("\n");
  assert.equal(lines[0], "row,probability");
  const values = lines.slice(1).map((l, i) => {
    const [row, p] = l.split(",");
    assert.equal(Number(row), i, "rows in input order");
    return Number(p);
  });
  return { code: r.code, stderr, values };
}

Deno.test("predict: 1-4 ranks, lags 0/1/3, TCP and Unix sockets give identical outputs per rank count, within 1e-6 of one process", async () => {
  const single = await setup();
  const runs: Array<[number, number, string]> = [
    [1, 0, "tcp"],
    [2, 1, "unix"],
    [3, 3, "tcp"],
    [4, 0, "unix"],
    [4, 3, "tcp"],
    [2, 0, "tcp"],
    [3, 1, "unix"],
  ];
  // The same rank count must agree bit for bit across lags and transports; different
  // rank counts split the batch differently (GEMM blocking), so they agree within 1e-6.
  const firstByRanks = new Map<number, number[]>();
  for (const [ranks, lag, transport] of runs) {
    // Batches of 96 rows leave a partial last batch and uneven slices.
    const r = await predict(
      "--ranks",
      String(ranks),
      "--lag",
      String(lag),
      "--transport",
      transport,
      "--batch-size",
      "96",
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.values.length, single.length, "one prediction per input row");
    const first = firstByRanks.get(ranks) ?? r.values;
    firstByRanks.set(ranks, first);
    assert.deepEqual(r.values, first, `ranks ${ranks} lag ${lag} ${transport} differs`);
    r.values.forEach((v, i) =>
      assert.ok(Math.abs(v - single[i]) <= 1e-6, `row ${i}: ${v} vs ${single[i]}`)
    );
  }
});

Deno.test("predict: data with an index beyond a table exits 2 naming the row", async () => {
  await setup();
  const small = `${dir}/small.npz`;
  const dataset = await loadDataset(data);
  // Tables of 5 rows cannot hold the data's indices.
  await saveWeights(small, initWeights(architecture("kaggle", { dataset, maxIndRange: 5 }), 1));
  const out = await runPredictCli(data, small, `${dir}/x.csv`);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 2, stderr);
  assert.match(stderr, /^error: .*row \d+/im);
});

Deno.test("predict: weights whose shapes do not fit exit 2 naming the array", async () => {
  await setup();
  const { readNpz, writeNpz } = await import("../datasets/npz.ts");
  const arrays = await readNpz(weightsPath);
  const w = arrays.get("bot_l.0.weight")!;
  arrays.set("bot_l.0.weight", {
    dtype: w.dtype,
    shape: [w.shape[0], w.shape[1] - 1],
    data: (w.data as Float32Array).slice(0, w.shape[0] * (w.shape[1] - 1)),
  });
  const bad = `${dir}/bad.npz`;
  await writeNpz(bad, arrays);
  const out = await runPredictCli(data, bad, `${dir}/y.csv`);
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 2, stderr);
  assert.match(stderr, /^error: .*(bot_l\.0\.weight|dense)/im);
});

Deno.test("predict: a missing data file exits 2 naming it", async () => {
  await setup();
  const out = await runPredictCli(`${dir}/nope.txt`, weightsPath, `${dir}/z.csv`);
  assert.equal(out.code, 2);
  assert.match(new TextDecoder().decode(out.stderr), /nope\.txt/);
});
