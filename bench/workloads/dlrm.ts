/**
 * The DLRM workload of `bench`: distributed inference-only DLRM over the
 * collectives, one alltoallv of pooled embeddings per batch, measured per batch
 * (start of the batch's lookups to its predictions) and in samples per second.
 *
 * @module
 */

import { type Command, InvalidArgumentError, Option } from "@commander-js/extra-typings";
import { DATA_FORMATS, type DataFormat, detectFormat } from "../../datasets/load.ts";
import { ARCHITECTURE_NAMES, type ArchitectureName } from "../../dlrm/config.ts";
import { runInference } from "../../dlrm/distributed.ts";
import { SHARDING_KINDS, type ShardingKind } from "../../dlrm/sharding.ts";
import { parseSkew } from "../../dlrm/synthetic.ts";
import { RunError, UsageError } from "../../util/errors.ts";
import type { Comm } from "../../collectives/communicator.ts";
import type { BenchConfig, Configuration } from "../config.ts";
import { applyDelay, drawDelayUs, parseDelaySpec } from "../models/delay.ts";
import { dataPath, type DlrmSettings, type PreparedDlrm, prepareDlrm } from "./dlrm_setup.ts";
import { firstRows } from "../../datasets/stream.ts";
import type { ModelInput } from "../../dlrm/model.ts";
import { emptyRecord, type RankRecord } from "../records.ts";
import { checkPredictions } from "./dlrm_check.ts";

/** The DLRM flags of `bench` and `predict`, as commander parsed them. */
export interface DlrmFlags {
  dataset?: string;
  data?: string;
  common?: string;
  dataFormat?: string;
  model?: string;
  weights?: string;
  batchSize?: number;
  maxIndRange?: number;
  sharding?: string;
  pooling?: number;
  skew?: string;
  rows?: number;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1) {
    throw new InvalidArgumentError(`expected a whole number >= 1, got '${value}'`);
  }
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError(`expected a number > 0, got '${value}'`);
  }
  return n;
}

/**
 * Adds the data and model flags shared by `bench` and `predict`.
 *
 * @param cmd The command.
 * @param withSynthetic Also add the synthetic-data flags (`bench` only).
 */
export function addDlrmOptions(cmd: Command, withSynthetic: boolean): void {
  cmd
    .option("--data <path>", "a data file (Criteo TSV, DLRM .npz, Ali-CCP CSV or raw skeleton)")
    .option("--common <path>", "Ali-CCP raw: the common-features file")
    .addOption(
      new Option("--data-format <format>", "the data file's format").choices(DATA_FORMATS),
    )
    .addOption(new Option("--model <name>", "built-in architecture").choices(ARCHITECTURE_NAMES))
    .option("--weights <file.npz>", "weights with PyTorch DLRM state_dict names")
    .option("--batch-size <n>", "global batch size", positiveInt)
    .option("--max-ind-range <n>", "cap every table at N rows (values taken mod N)", positiveInt)
    .addOption(
      new Option("--sharding <kind>", "how tables are split across ranks").choices(SHARDING_KINDS),
    );
  if (withSynthetic) {
    cmd
      .addOption(
        new Option("--dataset <name>", "dataset (without --data: a generated file of its format)")
          .choices(["mini-kaggle", "ali-ccp", "synthetic"]),
      )
      .option("--pooling <f>", "synthetic data: indices per lookup per table", positiveNumber)
      .option("--skew <spec>", "synthetic data: none | tables:R:X | zipf:S | burst:P:X (see docs)")
      .option("--rows <n>", "rows of generated or synthetic data", positiveInt);
  }
}

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * Checks the DLRM flags and turns them into settings.
 *
 * @param flags The parsed flags.
 * @param out The results directory (generated data is cached beside it).
 * @param strict Fail on malformed input lines.
 * @returns The settings.
 * @throws UsageError naming the flag or file.
 */
export function dlrmSettingsFromFlags(
  flags: DlrmFlags,
  out: string,
  strict: boolean,
): DlrmSettings {
  for (
    const [flag, path] of [["--data", flags.data], ["--weights", flags.weights], [
      "--common",
      flags.common,
    ]] as const
  ) {
    if (path !== undefined && !exists(path)) {
      throw new UsageError(`Option '${flag}': file ${path} does not exist`);
    }
  }
  const skew = flags.skew ?? "none";
  try {
    parseSkew(skew);
  } catch (e) {
    throw new UsageError(`Option '--skew': ${(e as Error).message}`);
  }
  const dataset = (flags.dataset ?? "mini-kaggle") as DlrmSettings["dataset"];
  if (dataset !== "synthetic" && (flags.skew !== undefined || flags.pooling !== undefined)) {
    throw new UsageError("Options '--pooling' and '--skew' apply to '--dataset synthetic'");
  }
  if (
    flags.data !== undefined &&
    (flags.dataFormat ?? detectFormat(flags.data, flags.common)) === "aliccp-raw"
  ) {
    // Refused before any file is read: the raw form carries no dense feature.
    throw new UsageError(
      `${flags.data} is Ali-CCP raw data, which has no dense features for DLRM's bottom MLP: ` +
        "use the Ali-CCP CSV form (data generate --kind ali-ccp-csv), or read it with 'data inspect'",
    );
  }
  const parent = out.replace(/\/+$/, "").split("/").slice(0, -1).join("/") || ".";
  return {
    dataset,
    data: flags.data,
    common: flags.common,
    dataFormat: flags.dataFormat as DataFormat | undefined,
    model: flags.model as ArchitectureName | undefined,
    weights: flags.weights,
    batchSize: flags.batchSize ?? 2048,
    maxIndRange: flags.maxIndRange,
    sharding: (flags.sharding ?? "contiguous") as ShardingKind,
    pooling: flags.pooling ?? 1,
    skew,
    rows: flags.rows ?? 32_768,
    strict,
    cacheDir: `${parent}/cache`,
  };
}

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
  const delay = parseDelaySpec(conf.delay);

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
