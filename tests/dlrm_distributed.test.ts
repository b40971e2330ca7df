import assert from "node:assert/strict";
import { testKernels } from "./_helpers/dlrm_helpers.ts";
import type { Alltoallv, IterationBlocks } from "../collectives/alltoallv.ts";
import { architecture, type DlrmConfig, interactionWidth } from "../dlrm/config.ts";
import { mergePredictions, runInference } from "../dlrm/distributed.ts";
import { DlrmModel } from "../dlrm/model.ts";
import { type ShardingKind, shardTables, tableCosts } from "../dlrm/sharding.ts";
import { parseSkew, synthesizeDataset } from "../dlrm/synthetic.ts";
import { initWeights } from "../dlrm/weights.ts";
import type { Dataset } from "../datasets/types.ts";
import { randomStream } from "../util/random.ts";
import { RunError, UsageError } from "../util/errors.ts";

/**
 * An in-process bounded-lag alltoallv over plain arrays, for testing the
 * pipeline logic only (the real collectives are tested with real transports).
 * Call t posts a copy of the blocks and waits until every rank has posted
 * t - lag; blocks are sometimes delivered at odd byte offsets, and ranks get
 * random timer jitter so that they interleave differently.
 */
function inProcessWorld(size: number, lag: number, seed: number): Alltoallv[] {
  const posted: (Uint8Array[] | undefined)[][] = [];
  const waiters = new Map<number, (() => void)[]>();
  const complete = (it: number) => (posted[it] ?? []).filter(Boolean).length === size;
  const whenComplete = (it: number) =>
    complete(it) ? Promise.resolve() : new Promise<void>((resolve) => {
      waiters.set(it, [...(waiters.get(it) ?? []), resolve]);
    });
  return Array.from({ length: size }, (_, rank) => {
    const jitter = randomStream(seed, rank);
    let posts = 0;
    let next = 0;
    const collect = async (it: number): Promise<IterationBlocks> => {
      await whenComplete(it);
      const blocks = posted[it]!.map((fromRank) => {
        const block = fromRank![rank];
        if (it % 2 === 0) return block.slice();
        const shifted = new Uint8Array(block.length + 1);
        shifted.set(block, 1);
        return shifted.subarray(1);
      });
      return { iter: it, blocks };
    };
    return {
      rank,
      size,
      lag,
      async exchange(blocks: Uint8Array[]) {
        assert.equal(blocks.length, size);
        const it = posts++;
        (posted[it] ??= new Array(size))[rank] = blocks.map((b) => b.slice());
        if (complete(it)) { for (const w of waiters.get(it) ?? []) w(); }
        await new Promise((r) => setTimeout(r, jitter.int(3)));
        if (it - lag < 0) return undefined;
        return await collect(next++);
      },
      async drain() {
        const out: IterationBlocks[] = [];
        while (next < posts) out.push(await collect(next++));
        return out;
      },
    };
  });
}

const kernels = testKernels();

const MID: DlrmConfig = {
  bottomLayers: [5, 8, 16],
  topLayers: [interactionWidth(16, 7), 8, 1],
  embeddingDim: 16,
  tableSizes: [40, 3, 100, 17, 1, 60, 25],
};

/** Runs all ranks in this process and returns the predictions by global row. */
async function distributed(
  config: DlrmConfig,
  data: Dataset,
  ranks: number,
  lag: number,
  batchSize: number,
  sharding: ShardingKind,
): Promise<Float32Array> {
  const shards = shardTables(sharding, config.tableSizes.length, ranks, tableCosts(data));
  const world = inProcessWorld(ranks, lag, ranks * 10 + lag);
  const results = await Promise.all(world.map((collective, rank) => {
    const model = new DlrmModel(initWeights(config, 21, { tables: shards[rank] }), kernels);
    return runInference(collective, model, data, { batchSize, shards });
  }));
  return mergePredictions(results, data.rows);
}

for (
  const [name, config, pooling] of [["tiny", architecture("tiny"), 1], ["d16x7", MID, 2.5]] as const
) {
  Deno.test(`distributed ${name}: 1..4 ranks, lags 0/1/3 equal the single-process forward, identical across lags`, async () => {
    const data = synthesizeDataset({
      config,
      rows: 23,
      seed: 4,
      pooling,
      skew: parseSkew("zipf:1"),
    });
    const single = new DlrmModel(initWeights(config, 21), kernels).forward(data, 0, data.rows);
    for (let ranks = 1; ranks <= 4; ranks++) {
      for (
        const [batchSize, sharding] of [[7, "contiguous"], [3, "roundrobin"], [
          23,
          "balanced",
        ]] as const
      ) {
        let reference: Uint32Array | undefined;
        for (const lag of [0, 1, 3]) {
          const got = await distributed(config, data, ranks, lag, batchSize, sharding);
          for (let i = 0; i < data.rows; i++) {
            assert.ok(
              Math.abs(got[i] - single[i]) <= 1e-6,
              `ranks ${ranks} lag ${lag} batch ${batchSize} row ${i}: ${got[i]} vs ${single[i]}`,
            );
          }
          const bits = new Uint32Array(got.buffer);
          if (reference) {
            assert.deepEqual(bits, reference, `lag ${lag} differs from lag 0 bit for bit`);
          }
          reference = bits;
        }
      }
    }
  });
}

Deno.test("runInference: timings per batch, delay hook before each post, wrap-around batches", async () => {
  const config = architecture("tiny");
  const data = synthesizeDataset({ config, rows: 10, seed: 1 });
  const shards = shardTables("contiguous", 3, 2);
  const world = inProcessWorld(2, 1, 5);
  const hooks: string[] = [];
  const seen: number[] = [];
  const results = await Promise.all(
    world.map((collective, rank) =>
      runInference(collective, new DlrmModel(initWeights(config, 2), kernels), data, {
        batchSize: 4,
        shards,
        batches: 5,
        collect: rank === 0,
        beforePost: (b) => {
          hooks.push(`${rank}:${b}`);
        },
        onBatch: (b) => {
          if (rank === 0) seen.push(b.timing.batch);
        },
      })
    ),
  );
  assert.equal(hooks.length, 10);
  assert.deepEqual(seen, [0, 1, 2, 3, 4]);
  const timings = results[0].batches;
  assert.deepEqual(timings.map((t) => t.globalRows), [4, 4, 2, 4, 4]);
  assert.deepEqual(timings.map((t) => t.rows), [2, 2, 1, 2, 2]);
  for (const t of timings) {
    assert.ok(t.lookupStartMs <= t.postMs && t.postMs <= t.readyMs && t.blockedMs >= 0);
  }
  // Batches 3 and 4 wrap around to rows 0..7 again.
  assert.deepEqual([...results[0].rows], [0, 1, 4, 5, 8, 0, 1, 4, 5]);
  assert.equal(results[1].rows.length, 0);
});

Deno.test("runInference rejects bad shards, bad indices, and wrong block sizes", async () => {
  const config = architecture("tiny");
  const data = synthesizeDataset({ config, rows: 4, seed: 1 });
  const model = new DlrmModel(initWeights(config, 2), kernels);
  const [solo] = inProcessWorld(1, 0, 1);
  await assert.rejects(
    runInference(solo, model, data, { batchSize: 2, shards: [[0, 1]] }),
    /table 2 on no rank/,
  );
  await assert.rejects(
    runInference(solo, model, data, { batchSize: 2, shards: [[0, 1, 2], []] }),
    UsageError,
  );
  await assert.rejects(
    runInference(solo, model, data, { batchSize: 0, shards: [[0, 1, 2]] }),
    UsageError,
  );
  const bad = { ...data, sparse: data.sparse.map((f) => ({ ...f, indices: f.indices.slice() })) };
  bad.sparse[2].indices[3] = 30;
  await assert.rejects(
    runInference(solo, model, bad, { batchSize: 2, shards: [[0, 1, 2]] }),
    (e) => e instanceof UsageError && e.message.startsWith("Row 3:"),
  );
  const short: Alltoallv = {
    rank: 0,
    size: 1,
    lag: 0,
    exchange: (blocks) => Promise.resolve({ iter: 0, blocks: [blocks[0].subarray(4)] }),
    drain: () => Promise.resolve([]),
  };
  await assert.rejects(
    runInference(short, model, data, { batchSize: 2, shards: [[0, 1, 2]] }),
    RunError,
  );
});

Deno.test("mergePredictions puts rows in order and rejects missing or doubled rows", () => {
  const part = (rows: number[]) => ({
    rows: new Int32Array(rows),
    probabilities: new Float32Array(rows.map((r) => r / 10)),
  });
  assert.deepEqual(
    [...mergePredictions([part([2, 0]), part([1])], 3)],
    [0, 0.1, 0.2].map(Math.fround),
  );
  assert.throws(() => mergePredictions([part([0, 1])], 3), /Row 2 has no prediction/);
  assert.throws(
    () => mergePredictions([part([0, 1]), part([1, 2])], 3),
    /Row 1 was predicted twice/,
  );
  assert.throws(() => mergePredictions([part([0, 3])], 3), RunError);
});
