/** The summary formulas (iters/s, samples/s, speedup and its spread, ideal, validated) on hand-made records. */

import { equal } from "node:assert/strict";
import type { BenchConfig, Configuration } from "../bench/config.ts";
import { emptyRecord, type RankRecord } from "../bench/records.ts";
import { finishSummary, summarize } from "../bench/results/write.ts";

const config: BenchConfig = {
  workload: "alltoallv",
  transport: "tcp",
  collective: "p2p",
  ranks: 2,
  lags: [0, 2],
  sizes: [64, 64],
  imbalance: { kind: "none" },
  delay: { kind: "none" },
  delayMode: "busy",
  iters: 4,
  warmup: 0,
  repeat: 2,
  seed: 1,
  validate: false,
  progress: "thread",
  timeoutS: 60,
  out: "r",
  formats: ["csv"],
  strict: false,
  extra: {},
};

const ITERS = 4;

/** Two ranks whose timed loops took `totalUs[p]` microseconds. */
function records(totalUs: number[], extra: Partial<RankRecord> = {}): RankRecord[] {
  return totalUs.map((total, rank) => {
    const r = emptyRecord(rank, ITERS);
    r.totalUs = total;
    for (let t = 0; t < ITERS; t++) {
      r.postMs[t] = t;
      r.doneMs[t] = t + 0.5; // 500 us from post to delivery
      r.blockedUs[t] = 100;
    }
    return { ...r, ...extra };
  });
}

function conf(index: number, lag: number, repeat: number): Configuration {
  return {
    index,
    lag,
    sizeBytes: 64,
    repeat,
    warmup: 0,
    iters: ITERS,
    imbalance: { kind: "none" },
    delay: { kind: "none" },
  };
}

Deno.test("summary: iters/s over the slowest rank, speedup per repeat, its spread, the ideal", () => {
  // Repeat 0: sync 8 ms (slowest rank), lag 2 5 ms; repeat 1 (rotated): lag 2 5 ms, sync 10 ms.
  const results = [
    { conf: conf(0, 0, 0), records: records([4000, 8000]) },
    { conf: conf(1, 2, 0), records: records([5000, 3000]) },
    { conf: conf(2, 2, 1), records: records([5000, 5000]) },
    { conf: conf(3, 0, 1), records: records([10000, 9000]) },
  ];
  const rows = finishSummary(results, results.map((r) => summarize(config, r)));
  equal(rows.map((r) => r.iters_per_s).join(","), "500,800,800,400");
  equal(rows.map((r) => r.speedup_vs_sync).join(","), "1,1.6,2,1");
  equal(rows.map((r) => `${r.speedup_lo}-${r.speedup_hi}`).join(","), "1-1,1.6-2,1.6-2,1-1");
  equal(rows[0].latency_p50_us, 500);
  equal(rows[0].blocked_p50_us, 100);
  equal(rows[0].latency_avg_us, 1500); // (4000 + 8000) / 2 ranks / 4 iterations
  // c = 2000 us, the first undelayed lag-0 run's time per iteration. No delays: sync pays c
  // per iteration (500/s); lag 2 overlaps three exchanges, 4 iterations end at 2 c (1000/s).
  equal(rows.map((r) => r.ideal_iters_per_s).join(","), "500,1000,1000,500");
  equal(rows.every((r) => r.validated === false), true);
  equal(rows[0].samples_per_s, null);
});

Deno.test("summary: validated only when asked and every rank compared without a mismatch", () => {
  const checked = { ...config, validate: true };
  const good = summarize(checked, { conf: conf(0, 0, 0), records: records([1000, 1000]) });
  equal(good.validated, true);
  const bad = summarize(checked, {
    conf: conf(0, 0, 0),
    records: records([1000, 1000]).map((r, p) => ({ ...r, mismatches: p })),
  });
  equal(bad.validated, false);
});

Deno.test("summary: DLRM samples/s are every rank's samples over the slowest rank's time", () => {
  const dlrm = { ...config, workload: "dlrm" as const, sizes: null };
  const row = summarize(dlrm, {
    conf: { ...conf(0, 0, 0), sizeBytes: null },
    records: records([20000, 40000], { samples: 1024 }),
  });
  equal(row.samples_per_s, 2048 / 0.04);
  equal(row.iters_per_s, 100);
});
