import assert from "node:assert/strict";
import { generateAliCcpCsv, generateAliCcpRaw, generateMiniKaggle } from "../datasets/generate.ts";
import { loadDataset } from "../datasets/load.ts";
import { convertCriteoToNpz } from "../datasets/dlrm_npz.ts";
import { openStreamedDataset, type StreamedDataset } from "../datasets/stream.ts";
import type { Dataset } from "../datasets/types.ts";
import { architecture } from "../dlrm/config.ts";
import { runInference } from "../dlrm/distributed.ts";
import { DlrmModel } from "../dlrm/model.ts";
import { shardTables } from "../dlrm/sharding.ts";
import { initWeights } from "../dlrm/weights.ts";
import { testKernels } from "./_helpers/dlrm_helpers.ts";

const dir = await Deno.makeTempDir({ prefix: "blsbench-stream-" });
const ROWS = 1000;
const files: Record<string, string> = {};

async function file(kind: string): Promise<string> {
  if (files[kind]) return files[kind];
  switch (kind) {
    case "criteo":
      files[kind] = `${dir}/mk.txt`;
      await generateMiniKaggle(files[kind], ROWS, 4);
      break;
    case "npz":
      files[kind] = `${dir}/mk.npz`;
      await convertCriteoToNpz(await file("criteo"), files[kind]);
      break;
    case "aliccp-csv":
      files[kind] = `${dir}/ali_ccp.csv`;
      await generateAliCcpCsv(files[kind], ROWS, 4);
      break;
    case "aliccp-raw":
      files[kind] = `${dir}/sample_skeleton_t.csv`;
      await generateAliCcpRaw(files[kind], ROWS, 4);
      break;
  }
  return files[kind];
}

function rowBag(data: Pick<Dataset, "sparse">, j: number, r: number): number[] {
  const f = data.sparse[j];
  return [...f.indices.subarray(f.offsets[r], f.offsets[r + 1])];
}

/**
 * Reads `streamed` in chunks of `batch` rows, checking each against the same rows of `whole`
 * (dense values, and the bags of every `every`-th row); returns the chunk sizes.
 */
async function chunkSizesMatching(
  streamed: StreamedDataset,
  whole: Dataset,
  batch: number,
  every: number,
): Promise<number[]> {
  let next = 0;
  const sizes: number[] = [];
  for await (const chunk of streamed.chunks(batch)) {
    assert.equal(chunk.firstRow, next);
    sizes.push(chunk.rows);
    const d = whole.denseNames.length;
    assert.deepEqual(chunk.dense, whole.dense.subarray(next * d, (next + chunk.rows) * d));
    for (let r = 0; r < chunk.rows; r += every) {
      for (let j = 0; j < whole.sparse.length; j++) {
        assert.deepEqual(rowBag(chunk, j, r), rowBag(whole, j, next + r), `row ${next + r}`);
      }
    }
    next += chunk.rows;
  }
  return sizes;
}

for (const kind of ["criteo", "npz", "aliccp-csv", "aliccp-raw"]) {
  Deno.test(`stream ${kind}: chunks hold the rows loadDataset reads, and inference over them matches`, async () => {
    const path = await file(kind);
    const whole = await loadDataset(path);
    const streamed = await openStreamedDataset(path);
    assert.equal(streamed.rows, whole.rows);
    assert.deepEqual(streamed.tableSizes, whole.tableSizes);
    assert.deepEqual(streamed.sparseNames, whole.sparse.map((f) => f.name));
    assert.deepEqual(await chunkSizesMatching(streamed, whole, 300, 37), [300, 300, 300, 100]);
    // Ali-CCP raw has no dense features, which the DLRM bottom MLP needs.
    if (kind === "aliccp-raw") return;
    // Inference: batches of 64 over chunks of 128 rows, two passes (wrapping), as a benchmark runs.
    const config = architecture(kind.startsWith("aliccp") ? "aliccp" : "kaggle", {
      dataset: whole,
      maxIndRange: undefined,
    });
    const model = new DlrmModel(initWeights(config, 3), testKernels());
    const run = (input: Dataset | typeof streamed) => {
      let iter = 0;
      const loopback = {
        rank: 0,
        size: 1,
        lag: 0,
        exchange: (blocks: Uint8Array[]) => Promise.resolve({ iter: iter++, blocks }),
        drain: () => Promise.resolve([]),
      };
      return runInference(loopback, model, input, {
        batchSize: 64,
        shards: shardTables("contiguous", config.tableSizes.length, 1),
        batches: 2 * Math.ceil(ROWS / 64),
        chunkRows: 128,
      });
    };
    const a = await run(whole);
    const b = await run(streamed);
    assert.deepEqual([...b.rows], [...a.rows]);
    assert.deepEqual([...b.probabilities], [...a.probabilities]);
  });
}

for (const kind of ["criteo", "aliccp-csv", "aliccp-raw"]) {
  Deno.test(`stream ${kind}: malformed lines between valid ones: chunks are exact batches of the valid rows`, async () => {
    const lines = (await Deno.readTextFile(await file(kind))).split("\n");
    // A malformed line after every 97th: the scanner's chunks then end off the batch grid.
    const corrupted = lines.flatMap((l, i) => i > 0 && i % 97 === 0 && l ? ["x,y", l] : [l]);
    const base = (await file(kind)).split("/").pop()!;
    const sub = `${dir}/malformed-${kind}`;
    await Deno.mkdir(sub, { recursive: true });
    const path = `${sub}/${base}`;
    await Deno.writeTextFile(path, corrupted.join("\n"));
    if (kind === "aliccp-raw") {
      const common = base.replace("sample_skeleton", "common_features");
      await Deno.copyFile(`${dir}/${common}`, `${sub}/${common}`);
    }
    const whole = await loadDataset(path);
    assert.equal(whole.rows, ROWS);
    const streamed = await openStreamedDataset(path);
    assert.ok(streamed.skipped > 0);
    const sizes = await chunkSizesMatching(streamed, whole, 64, 1);
    assert.deepEqual(sizes, [...Array(15).fill(64), ROWS - 15 * 64]);
  });
}

Deno.test("stream: cleanup", async () => {
  await Deno.remove(dir, { recursive: true });
});
