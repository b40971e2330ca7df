/**
 * Distributed inference-only DLRM over an alltoallv collective, as the
 * reference DLRM distributes it: embedding tables are split across ranks
 * (model parallel), every rank looks up its own tables for the whole global
 * batch, the alltoallv sends rank q the pooled rows of q's slice of the batch,
 * and the bottom and top MLPs run data-parallel over the slices.
 *
 * With a bounded-lag collective (lag k) the pipeline keeps the bottom-MLP
 * outputs of the k batches in flight; batch t's predictions are computed when
 * batch t's embeddings arrive. The arithmetic does not depend on the lag or the
 * transport, so the predictions are bit-for-bit identical for all of them.
 *
 * @module
 */

import { RunError, UsageError } from "../util/errors.ts";
import type { Alltoallv, IterationBlocks } from "../collectives/alltoallv.ts";
import type { FeatureSource } from "./kernels.ts";
import { checkIndices, type DlrmModel, type ModelInput } from "./model.ts";
import { batchRanges, type RowRange, splitRows } from "./sharding.ts";

/** When one batch went through this rank, in `performance.now()` milliseconds. */
export interface BatchTiming {
  /** The batch number (0-based, in run order). */
  batch: number;
  /** Rows in the global batch. */
  globalRows: number;
  /** Rows in this rank's slice. */
  rows: number;
  /** Start of the batch's embedding lookups. */
  lookupStartMs: number;
  /** When the blocks were posted (after the delay hook). */
  postMs: number;
  /** When the batch's predictions were ready. */
  readyMs: number;
  /** Time this rank spent waiting in the collective during the call that posted this batch. */
  blockedMs: number;
}

/** The predictions of one batch for this rank's slice. */
export interface BatchPredictions {
  /** The slice's rows: dataset rows `start..start+count`. */
  slice: RowRange;
  /** One click probability per row of the slice. */
  probabilities: Float32Array;
  /** The batch's timing. */
  timing: BatchTiming;
}

/** Options for {@link runInference}. */
export interface InferenceOptions {
  /** Rows per global batch; the last batch holds the rest. */
  batchSize: number;
  /** The tables each rank holds (from `shardTables`), the same on all ranks. */
  shards: readonly (readonly number[])[];
  /**
   * Number of batches to run (default: one pass over the dataset). More
   * batches than the data holds wrap around to the start, for benchmarks.
   */
  batches?: number;
  /** Called before each post (the place to inject a per-rank delay). */
  beforePost?: (batch: number) => void | Promise<void>;
  /** Called when a batch's predictions are ready, in batch order. */
  onBatch?: (batch: BatchPredictions) => void;
  /** Keep all predictions in the result (default true; benchmarks turn it off). */
  collect?: boolean;
  /**
   * A chunked input: rows read at a time, rounded down to whole batches
   * (default about 65,536).
   */
  chunkRows?: number;
}

/** What {@link runInference} returns on each rank. */
export interface InferenceResult {
  /** Global (dataset) row id of each prediction, in batch order. */
  rows: Int32Array;
  /** This rank's predictions, aligned with `rows`. */
  probabilities: Float32Array;
  /** One timing per batch, in batch order. */
  batches: BatchTiming[];
}

/** Where each table's pooled rows are found in the received blocks. */
interface Placement {
  owner: number;
  position: number;
}

function placements(shards: readonly (readonly number[])[], tables: number): Placement[] {
  const out: (Placement | undefined)[] = new Array(tables);
  shards.forEach((shard, owner) =>
    shard.forEach((t, position) => {
      if (!Number.isInteger(t) || t < 0 || t >= tables) {
        throw new UsageError(`Sharding names table ${t} but the model has ${tables} tables`);
      }
      if (out[t]) throw new UsageError(`Sharding places table ${t} on two ranks`);
      out[t] = { owner, position };
    })
  );
  const missing = out.findIndex((p) => !p);
  if (missing >= 0 || out.length !== tables) {
    throw new UsageError(`Sharding places table ${missing} on no rank`);
  }
  return out as Placement[];
}

function asFloats(block: Uint8Array, expected: number, from: number, batch: number): Float32Array {
  if (block.byteLength !== expected * 4) {
    throw new RunError(
      `Batch ${batch}: rank ${from} sent ${block.byteLength} bytes of embeddings, expected ${
        expected * 4
      }`,
    );
  }
  // A view needs 4-byte alignment; otherwise copy.
  return block.byteOffset % 4 === 0
    ? new Float32Array(block.buffer, block.byteOffset, expected)
    : new Float32Array(block.slice().buffer, 0, expected);
}

interface InFlight {
  batch: number;
  globalRows: number;
  slice: RowRange;
  bottom: Float32Array;
  lookupStartMs: number;
  postMs: number;
  blockedMs: number;
}

/**
 * Rows read in chunks instead of held whole (as `openStreamedDataset` gives
 * them): each chunk's rows are `firstRow..firstRow+rows` of the dataset.
 */
export interface ChunkedInput {
  /** Rows of the whole dataset. */
  rows: number;
  /**
   * Reads the rows in order, in chunks of `batchRows` (the last may be shorter).
   *
   * @param batchRows Rows per chunk.
   * @returns The chunks.
   */
  chunks(batchRows: number): AsyncIterable<ModelInput & { firstRow: number }>;
}

/** Rows per chunk of a chunked input: whole batches, about `want` rows. */
function chunkRows(batchSize: number, want = 65536): number {
  return batchSize * Math.max(1, Math.floor(want / batchSize));
}

/**
 * Runs distributed inference on this rank. Every rank must call it with the
 * same dataset, batch size, shards and batch count, and a collective of the
 * same run. The model needs to hold only this rank's tables.
 *
 * @example One rank with a synchronous loop-back collective
 * ```ts
 * import { architecture } from "@blsbench/core/dlrm";
 * import { runInference } from "@blsbench/core/dlrm";
 * import { loadKernels } from "@blsbench/core/dlrm";
 * import { DlrmModel } from "@blsbench/core/dlrm";
 * import { shardTables } from "@blsbench/core/dlrm";
 * import { synthesizeDataset } from "@blsbench/core/dlrm";
 * import { initWeights } from "@blsbench/core/dlrm";
 * const config = architecture("tiny");
 * const model = new DlrmModel(initWeights(config, 1), loadKernels({ backend: "typescript" }));
 * const data = synthesizeDataset({ config, rows: 10, seed: 2 });
 * let iter = 0;
 * const loopback = {
 *   rank: 0, size: 1, lag: 0,
 *   exchange: (blocks: Uint8Array[]) => Promise.resolve({ iter: iter++, blocks }),
 *   drain: () => Promise.resolve([]),
 * };
 * const result = await runInference(loopback, model, data, { batchSize: 4, shards: shardTables("contiguous", 3, 1) });
 * if (result.rows.length !== 10 || result.batches.length !== 3) throw new Error("rows dropped");
 * ```
 *
 * @param collective This rank's alltoallv.
 * @param model The model (with at least this rank's tables).
 * @param dataset The whole dataset (the same on every rank), in memory or read in chunks as
 * the batches need them.
 * @param options Batch size, shards, hooks.
 * @returns This rank's predictions with their global row ids, and per-batch timings.
 * @throws UsageError when data, model and shards do not fit; RunError when a peer sends a block of the wrong size.
 */
export async function runInference(
  collective: Alltoallv,
  model: DlrmModel,
  dataset: ModelInput | ChunkedInput,
  options: InferenceOptions,
): Promise<InferenceResult> {
  const { rank, size } = collective;
  const { config } = model;
  const d = config.embeddingDim;
  const { shards } = options;
  if (shards.length !== size) {
    throw new UsageError(`The sharding is for ${shards.length} ranks but the run has ${size}`);
  }
  const where = placements(shards, config.tableSizes.length);
  const chunked = "chunks" in dataset ? dataset : undefined;
  if (!chunked) checkIndices(dataset as ModelInput, config);
  const mine = shards[rank];
  const ranges = batchRanges(dataset.rows, options.batchSize);
  const total = options.batches ?? ranges.length;
  if (!Number.isInteger(total) || total < 0) {
    throw new UsageError(`Batches must be >= 0, got ${total}`);
  }
  if (total > 0 && ranges.length === 0) throw new UsageError(`The dataset has no rows`);
  const collect = options.collect ?? true;

  const inFlight: InFlight[] = [];
  const timings: BatchTiming[] = [];
  const rowIds: Int32Array[] = [];
  const predictions: Float32Array[] = [];
  let lastIter: number | undefined;

  const finish = (received: IterationBlocks) => {
    const entry = inFlight.shift();
    if (!entry) {
      throw new RunError(
        `The collective returned iteration ${received.iter} that was never posted`,
      );
    }
    if (lastIter !== undefined && received.iter !== lastIter + 1) {
      throw new RunError(`The collective returned iteration ${received.iter} after ${lastIter}`);
    }
    lastIter = received.iter;
    if (received.blocks.length !== size) {
      throw new RunError(
        `Batch ${entry.batch}: received ${received.blocks.length} blocks for ${size} ranks`,
      );
    }
    const rows = entry.slice.count;
    const fromRank = received.blocks.map((block, p) =>
      asFloats(block, rows * shards[p].length * d, p, entry.batch)
    );
    const sources: FeatureSource[] = where.map(({ owner, position }) => ({
      data: fromRank[owner],
      offset: position * d,
      stride: shards[owner].length * d,
    }));
    const probabilities = model.top(entry.bottom, sources, rows);
    const timing: BatchTiming = {
      batch: entry.batch,
      globalRows: entry.globalRows,
      rows,
      lookupStartMs: entry.lookupStartMs,
      postMs: entry.postMs,
      readyMs: performance.now(),
      blockedMs: entry.blockedMs,
    };
    timings.push(timing);
    if (collect) {
      const ids = new Int32Array(rows);
      for (let i = 0; i < rows; i++) ids[i] = entry.slice.start + i;
      rowIds.push(ids);
      predictions.push(probabilities);
    }
    options.onBatch?.({ slice: entry.slice, probabilities, timing });
  };

  // A chunked input is read as the batches reach it; every batch lies in one
  // chunk (chunks hold whole batches). Passes after the first start it again.
  let reader: AsyncIterator<ModelInput & { firstRow: number }> | undefined;
  let current: (ModelInput & { firstRow: number }) | undefined;
  const inputFor = async (range: RowRange): Promise<{ input: ModelInput; shift: number }> => {
    if (!chunked) return { input: dataset as ModelInput, shift: 0 };
    if (!current || range.start < current.firstRow) {
      await reader?.return?.();
      reader = chunked.chunks(chunkRows(options.batchSize, options.chunkRows))
        [Symbol.asyncIterator]();
      current = undefined;
    }
    while (!current || range.start >= current.firstRow + current.rows) {
      const next = await reader!.next();
      if (next.done) throw new RunError(`The data ended before row ${range.start}`);
      current = next.value;
      checkIndices(current, config, current.firstRow);
    }
    return { input: current, shift: current.firstRow };
  };

  try {
    for (let batch = 0; batch < total; batch++) {
      const range = ranges[batch % ranges.length];
      const slices = splitRows(range, size);
      const { input, shift } = await inputFor(range);
      const lookupStartMs = performance.now();
      // One buffer per destination: a collective may transfer or keep each block.
      const blocks = slices.map((s) => {
        const pooled = model.lookup(input, mine, s.start - shift, s.count);
        return new Uint8Array(pooled.buffer);
      });
      await options.beforePost?.(batch);
      const postMs = performance.now();
      const pending = collective.exchange(blocks);
      let bottom: Float32Array;
      try {
        // The bottom MLP overlaps with the exchange in flight.
        bottom = model.bottom(input, slices[rank].start - shift, slices[rank].count);
      } catch (e) {
        pending.catch(() => {});
        throw e;
      }
      const entry: InFlight = {
        batch,
        globalRows: range.count,
        slice: slices[rank],
        bottom,
        lookupStartMs,
        postMs,
        blockedMs: 0,
      };
      inFlight.push(entry);
      const waitStart = performance.now();
      const received = await pending;
      entry.blockedMs = performance.now() - waitStart;
      if (received) finish(received);
    }
    for (const received of await collective.drain()) finish(received);
  } finally {
    await reader?.return?.();
  }
  if (inFlight.length > 0) {
    throw new RunError(`The collective's drain left ${inFlight.length} batches without embeddings`);
  }

  const count = rowIds.reduce((n, a) => n + a.length, 0);
  const rows = new Int32Array(count);
  const probabilities = new Float32Array(count);
  let at = 0;
  rowIds.forEach((ids, i) => {
    rows.set(ids, at);
    probabilities.set(predictions[i], at);
    at += ids.length;
  });
  return { rows, probabilities, batches: timings };
}

/**
 * Puts the predictions of all ranks back in dataset order (for `predict` on
 * rank 0 after gathering every rank's `rows` and `probabilities`).
 *
 * @example Two ranks' slices
 * ```ts
 * import { mergePredictions } from "@blsbench/core/dlrm";
 * const p = mergePredictions([
 *   { rows: new Int32Array([0, 1, 4]), probabilities: new Float32Array([0.5, 0.25, 1]) },
 *   { rows: new Int32Array([2, 3]), probabilities: new Float32Array([0, 0.75]) },
 * ], 5);
 * if (p.join() !== "0.5,0.25,0,0.75,1") throw new Error("wrong order");
 * ```
 *
 * @param parts Each rank's row ids and predictions.
 * @param rows Rows in the dataset.
 * @returns One probability per dataset row.
 * @throws RunError when a row is missing, predicted twice or out of range.
 */
export function mergePredictions(
  parts: readonly Pick<InferenceResult, "rows" | "probabilities">[],
  rows: number,
): Float32Array {
  const out = new Float32Array(rows);
  const seen = new Uint8Array(rows);
  for (const part of parts) {
    part.rows.forEach((row, i) => {
      if (!(row >= 0 && row < rows)) {
        throw new RunError(`Prediction for row ${row} is outside 0..${rows - 1}`);
      }
      if (seen[row]) throw new RunError(`Row ${row} was predicted twice`);
      seen[row] = 1;
      out[row] = part.probabilities[i];
    });
  }
  const missing = seen.indexOf(0);
  if (missing >= 0) throw new RunError(`Row ${missing} has no prediction`);
  return out;
}
