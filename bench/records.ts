/**
 * What each rank measures in one configuration, and its wire form for the
 * gather to rank 0.
 *
 * @module
 */

/** One rank's measurements of one configuration. */
export interface RankRecord {
  /** The rank. */
  rank: number;
  /** Wall time of the timed loop on this rank, in microseconds (drain included). */
  totalUs: number;
  /** Per timed iteration: when this rank posted it (ms since the epoch). */
  postMs: Float64Array;
  /** Per timed iteration: when this rank got its blocks back (ms since the epoch). */
  doneMs: Float64Array;
  /** Per timed iteration: time spent inside the collective call (us). */
  blockedUs: Float64Array;
  /** Per timed iteration: the delay drawn and spent before posting (us). */
  delayUs: Float64Array;
  /** Per timed iteration: bytes this rank sent to other ranks. */
  bytesSent: Float64Array;
  /** Per timed iteration: bytes this rank received from other ranks. */
  bytesReceived: Float64Array;
  /** Samples processed in the timed loop (DLRM), else 0. */
  samples: number;
  /** Peak bytes buffered by the collective (received, not yet returned). */
  peakBufferedBytes: number;
  /** Blocks that failed validation (0 when valid or not validated). */
  mismatches: number;
}

const SERIES = 6;
const HEADER = 6;

/**
 * Allocates an empty record for `iters` iterations.
 *
 * @param rank The rank.
 * @param iters Timed iterations.
 * @returns The record.
 */
export function emptyRecord(rank: number, iters: number): RankRecord {
  const f = () => new Float64Array(iters);
  return {
    rank,
    totalUs: 0,
    postMs: f(),
    doneMs: f(),
    blockedUs: f(),
    delayUs: f(),
    bytesSent: f(),
    bytesReceived: f(),
    samples: 0,
    peakBufferedBytes: 0,
    mismatches: 0,
  };
}

/**
 * Encodes a record as bytes.
 *
 * @example Round trip
 * ```ts
 * import { decodeRecord, emptyRecord, encodeRecord } from "./records.ts";
 * const r = emptyRecord(2, 3);
 * r.postMs[1] = 5;
 * if (decodeRecord(encodeRecord(r)).postMs[1] !== 5) throw new Error("lost");
 * ```
 *
 * @param r The record.
 * @returns Its bytes.
 */
export function encodeRecord(r: RankRecord): Uint8Array {
  const n = r.postMs.length;
  const out = new Float64Array(HEADER + SERIES * n);
  out.set([r.rank, r.totalUs, n, r.samples, r.peakBufferedBytes, r.mismatches]);
  [r.postMs, r.doneMs, r.blockedUs, r.delayUs, r.bytesSent, r.bytesReceived].forEach((s, i) =>
    out.set(s, HEADER + i * n)
  );
  return new Uint8Array(out.buffer);
}

/**
 * Decodes a record.
 *
 * @param bytes What `encodeRecord` produced.
 * @returns The record.
 */
export function decodeRecord(bytes: Uint8Array): RankRecord {
  const f = new Float64Array(bytes.slice().buffer);
  const n = f[2];
  const s = (i: number) => f.slice(HEADER + i * n, HEADER + (i + 1) * n);
  return {
    rank: f[0],
    totalUs: f[1],
    samples: f[3],
    peakBufferedBytes: f[4],
    mismatches: f[5],
    postMs: s(0),
    doneMs: s(1),
    blockedUs: s(2),
    delayUs: s(3),
    bytesSent: s(4),
    bytesReceived: s(5),
  };
}
