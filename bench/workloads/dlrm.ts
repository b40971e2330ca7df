/**
 * The DLRM workload of `bench`: distributed inference-only DLRM over the
 * collectives, one alltoallv of pooled embeddings per batch, measured per batch
 * (start of the batch's lookups to its predictions) and in samples per second.
 *
 * @module
 */

import { runInference } from "../../dlrm/distributed.ts";
import { RunError } from "../../util/errors.ts";
import type { Comm } from "../../collectives/communicator.ts";
import type { BenchConfig, Configuration } from "../config.ts";
import { applyDelay, drawDelayUs } from "../models/delay.ts";
import { dataPath, type DlrmSettings, type PreparedDlrm, prepareDlrm } from "./dlrm_setup.ts";
import { firstRows } from "../../datasets/stream.ts";
import type { ModelInput } from "../../dlrm/model.ts";
import { emptyRecord, type RankRecord } from "../records.ts";
import { checkPredictions } from "./dlrm_check.ts";

const prepared = new Map<string, Promise<PreparedDlrm>>();
const inMemory = new Map<string, Promise<ModelInput>>();

/**
 * Runs one configuration of the DLRM workload on this rank: warm-up batches,
 * barrier, timed batches (each one alltoallv of pooled embeddings).
 *
 * @param comm This rank's communication context.
 * @param conf The configuration (`iters` = batches).
 * @param config The run's config (`extra.dlrm` holds the settings).
 * @returns This rank's measurements.
 */
export async function runDlrmConfiguration(
  comm: Comm,
  conf: Configuration,
  config: BenchConfig,
): Promise<RankRecord> {
  const s = config.extra.dlrm as DlrmSettings;
  const key = JSON.stringify([s, config.seed, comm.rank, comm.size]);
  let ready = prepared.get(key);
  if (!ready) {
    // Rank 0 generates the data once; the others then read it from the cache.
    if (comm.rank === 0) await dataPath(s, config.seed);
    await comm.barrier();
    ready = prepareDlrm(s, config.seed, comm.rank, comm.size);
    prepared.set(key, ready);
  }
  const { model, shards } = await ready;
  // A file is streamed; the rows this configuration uses are read before timing starts.
  const rowsUsed = Math.max(conf.warmup, conf.iters) * s.batchSize;
  const dataKey = `${key}/${rowsUsed}`;
  let data = inMemory.get(dataKey);
  if (!data) {
    const whole = (await ready).dataset;
    data = "chunks" in whole ? firstRows(whole, rowsUsed) : Promise.resolve(whole);
    inMemory.clear(); // one configuration's rows at a time
    inMemory.set(dataKey, data);
  }
  const dataset = await data;
  const d = model.config.embeddingDim;
  const tables = model.config.tableSizes.length;
  const mine = shards[comm.rank].length;
  const delay = conf.delay;

  if (conf.warmup > 0) {
    await runInference(comm.alltoallv(conf.lag, conf.warmup), model, dataset, {
      batchSize: s.batchSize,
      shards,
      batches: conf.warmup,
      collect: false,
    });
  }
  const record = emptyRecord(comm.rank, conf.iters);
  const origin = performance.timeOrigin;
  const coll = comm.alltoallv(conf.lag, conf.iters);
  await comm.barrier();
  const start = performance.now();
  await runInference(coll, model, dataset, {
    batchSize: s.batchSize,
    shards,
    batches: conf.iters,
    collect: false,
    beforePost: async (batch) => {
      const us = drawDelayUs(delay, config.seed, comm.rank, batch);
      record.delayUs[batch] = us > 0 ? await applyDelay(us, config.delayMode) : 0;
    },
    onBatch: ({ timing }) => {
      const t = timing.batch;
      record.postMs[t] = origin + timing.lookupStartMs;
      record.doneMs[t] = origin + timing.readyMs;
      record.blockedUs[t] = timing.blockedMs * 1000;
      record.bytesSent[t] = (timing.globalRows - timing.rows) * mine * d * 4;
      record.bytesReceived[t] = timing.rows * (tables - mine) * d * 4;
      record.samples += timing.rows;
    },
  });
  record.totalUs = (performance.now() - start) * 1000;
  record.peakBufferedBytes = coll.buffered?.().peakBytes ?? 0;
  if (config.validate) {
    // Outside the timing: this rank's predictions against a single-process forward.
    const check = await checkPredictions(comm, conf.lag, model, dataset, {
      batchSize: s.batchSize,
      shards,
      batches: conf.iters,
      seed: config.seed,
      weights: s.weights,
    });
    record.mismatches = check.mismatches;
    if (check.first) {
      throw new RunError(
        `Validation failed on rank ${comm.rank}: ${check.mismatches} of ${check.compared} predictions differ from a single-process forward (first: ${check.first})`,
      );
    }
  }
  return record;
}
