/**
 * The synthetic alltoallv workload: osu_alltoallv-style timed iterations with
 * per-pair block sizes from the imbalance model, per-rank delays from the delay
 * model, and optional byte-for-byte validation.
 *
 * @module
 */

import type { IterationBlocks } from "../../collectives/alltoallv.ts";
import { RunError } from "../../util/errors.ts";
import { checkBlock, fillBlock } from "./blocks.ts";
import type { Comm } from "../../collectives/communicator.ts";
import { type Configuration, knownBlockBytes } from "../config.ts";
import { applyDelay, drawDelayUs } from "../models/delay.ts";
import { blockSize } from "../models/imbalance.ts";
import { emptyRecord, type RankRecord } from "../records.ts";

/** Settings shared by every configuration of a run. */
export interface AlltoallvSettings {
  /** Seed of the delay and imbalance draws. */
  seed: number;
  /** How delays are spent. */
  delayMode: "busy" | "sleep";
  /** Check every received byte. */
  validate: boolean;
  /** Called after every iteration (for progress display). */
  onIteration?: (iter: number) => void;
}

const nowMs = () => performance.timeOrigin + performance.now();

/**
 * Runs one configuration on this rank: warm-up, barrier, timed loop, drain.
 *
 * @param comm This rank's communication context.
 * @param conf The configuration.
 * @param settings Seed, delay mode, validation.
 * @returns This rank's measurements.
 * @throws RunError on a validation mismatch, naming the iteration and the ranks.
 */
export async function runAlltoallvConfiguration(
  comm: Comm,
  conf: Configuration,
  settings: AlltoallvSettings,
): Promise<RankRecord> {
  const { rank, size } = comm;
  const delay = conf.delay;
  const imbalance = conf.imbalance;
  const base = conf.sizeBytes ?? 0;
  const record = emptyRecord(rank, conf.iters);
  let mismatch: string | undefined;
  // Balanced blocks: every rank knows every size (the native collective skips its counts exchange).
  const known = knownBlockBytes("alltoallv", conf);

  const makeBlocks = (iter: number) => {
    const blocks = new Array<Uint8Array>(size);
    for (let q = 0; q < size; q++) {
      const n = blockSize(imbalance, base, settings.seed, iter, rank, q, size);
      blocks[q] = new Uint8Array(n);
      if (settings.validate) fillBlock(blocks[q], iter, rank, q);
    }
    return blocks;
  };
  const check = (res: IterationBlocks, offset: number) => {
    const iter = res.iter + offset;
    for (let q = 0; q < size; q++) {
      const want = blockSize(imbalance, base, settings.seed, iter, q, rank, size);
      const got = res.blocks[q];
      if (got.length !== want) {
        mismatch ??=
          `block from rank ${q} in iteration ${iter} has ${got.length} bytes, expected ${want}`;
        record.mismatches++;
      } else if (settings.validate) {
        const bad = checkBlock(got, iter, q, rank);
        if (bad >= 0) {
          mismatch ??= `byte ${bad} of the block from rank ${q} in iteration ${iter} is wrong`;
          record.mismatches++;
        }
      }
    }
  };

  // Warm-up: its own collective, iterations numbered after the timed ones so
  // that their data patterns differ.
  if (conf.warmup > 0) {
    const warm = comm.alltoallv(conf.lag, conf.warmup, known);
    for (let i = 0; i < conf.warmup; i++) {
      const res = await warm.exchange(makeBlocks(conf.iters + i));
      if (res) check(res, conf.iters);
    }
    for (const res of await warm.drain()) check(res, conf.iters);
  }

  const coll = comm.alltoallv(conf.lag, conf.iters, known);
  let bytesIn = 0;
  const finish = (res: IterationBlocks, at: number) => {
    check(res, 0);
    record.doneMs[res.iter] = at;
    bytesIn = 0;
    for (let q = 0; q < size; q++) if (q !== rank) bytesIn += res.blocks[q].length;
    record.bytesReceived[res.iter] = bytesIn;
  };
  await comm.barrier();
  const start = performance.now();
  for (let t = 0; t < conf.iters; t++) {
    const d = drawDelayUs(delay, settings.seed, rank, t);
    record.delayUs[t] = d > 0 ? await applyDelay(d, settings.delayMode) : 0;
    const blocks = makeBlocks(t);
    let out = 0;
    for (let q = 0; q < size; q++) if (q !== rank) out += blocks[q].length;
    record.bytesSent[t] = out;
    const posted = nowMs();
    record.postMs[t] = posted;
    const res = await coll.exchange(blocks);
    const returned = nowMs();
    record.blockedUs[t] = (returned - posted) * 1000;
    if (res) finish(res, returned);
    settings.onIteration?.(t);
  }
  const drained = await coll.drain();
  const end = nowMs();
  for (const res of drained) finish(res, end);
  record.totalUs = (performance.now() - start) * 1000;
  record.peakBufferedBytes = coll.buffered?.().peakBytes ?? 0;
  if (mismatch) throw new RunError(`Validation failed on rank ${rank}: ${mismatch}`);
  return record;
}
