import assert from "node:assert/strict";
import { runCli } from "./_helpers/cli.ts";
import { adviseLag } from "../bench/advise/mod.ts";
import type { Calibration, MeasuredRun } from "../bench/simulate/mod.ts";

const run: MeasuredRun = {
  dir: "made-up",
  transport: "tcp",
  ranks: 4,
  lags: [0, 8],
  delay: "exp:2ms",
  delayMode: "sleep",
  imbalance: "none",
  iters: 400,
  seed: 1,
  rows: [],
};
const calibration: Calibration = {
  cost: { latencyUs: 150, usPerByte: 0 },
  samples: [{ bytes: 3072, us: 150 }],
  overheadFraction: 0.1,
};

Deno.test("advise: without a budget the best predicted throughput wins; latency grows with the lag", () => {
  const [advice] = adviseLag(run, calibration, { lags: [1, 2, 4, 8] });
  const byLag = advice.predictions;
  assert.deepEqual(byLag.map((p) => p.lag), [0, 1, 2, 4, 8]);
  for (let i = 1; i < byLag.length; i++) {
    assert.ok(byLag[i].latencyP50Ms > byLag[i - 1].latencyP50Ms, `p50 at lag ${byLag[i].lag}`);
    assert.ok(byLag[i].latencyP99Ms >= byLag[i].latencyP50Ms);
  }
  const best = byLag.reduce((a, b) => (b.itersPerS > a.itersPerS ? b : a));
  assert.ok(best.lag > 0, "exp:2ms on 4 ranks: BLS must be predicted to help");
  assert.equal(advice.lag, best.lag);
  assert.ok(byLag.every((p) => p.fits));
});

Deno.test("advise: a budget rules out the lags whose p99 exceeds it, and none fitting means sync", () => {
  const [free] = adviseLag(run, calibration, { lags: [1, 2, 4, 8] });
  const p99 = new Map(free.predictions.map((p) => [p.lag, p.latencyP99Ms]));
  // Between lag 2's and lag 4's p99: lag 4 and 8 are out.
  const budget = (p99.get(2)! + p99.get(4)!) / 2;
  const [capped] = adviseLag(run, calibration, { lags: [1, 2, 4, 8], latencyBudgetMs: budget });
  assert.ok(capped.lag <= 2 && capped.lag > 0, `advised lag ${capped.lag}`);
  assert.deepEqual(capped.predictions.filter((p) => !p.fits).map((p) => p.lag), [4, 8]);
  assert.match(capped.reason, /4, 8 would be faster but exceed/);
  // Below even sync's p99: nothing fits.
  const [none] = adviseLag(run, calibration, { latencyBudgetMs: p99.get(0)! / 2 });
  assert.equal(none.lag, 0);
  assert.match(none.reason, /no lag keeps the p99 batch latency within/);
  assert.throws(() => adviseLag(run, calibration, { latencyBudgetMs: 0 }), RangeError);
});

Deno.test("advise: more ranks pay more for synchronous steps, so the predicted speedup grows", () => {
  const advice = adviseLag(run, calibration, { ranks: [2, 64], lags: [4] });
  const speedup = advice.map((a) => a.predictions.find((p) => p.lag === 4)!.speedup);
  assert.equal(advice[0].ranks, 2);
  assert.ok(speedup[1] > speedup[0], `speedups ${speedup}`);
});

Deno.test("advise CLI: calibrated on a measured run, a table and advice.json; bad input exits 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "blsbench-advise-" });
  try {
    const bench = await runCli([
      "bench",
      "--workload",
      "alltoallv",
      "--ranks",
      "2",
      "--sizes",
      "1024:1024",
      "--lag",
      "0,2",
      "--delay",
      "exp:1ms",
      "--iters",
      "60",
      "--warmup",
      "5",
      "--out",
      dir,
    ]);
    assert.equal(bench.code, 0, bench.stderr);
    const advise = await runCli([
      "advise",
      "--calibrate",
      dir,
      "--ranks",
      "2,8",
      "--latency-budget",
      "1000",
    ]);
    assert.equal(advise.code, 0, advise.stderr);
    assert.match(advise.stdout, /2 ranks, delay exp:1ms, 1024 B per peer: -> lag \d+/);
    assert.match(advise.stdout, /8 ranks/);
    const json = JSON.parse(await Deno.readTextFile(`${dir}/advice.json`));
    assert.equal(json.latencyBudgetMs, 1000);
    assert.equal(json.advice.length, 2);
    for (const a of json.advice) {
      assert.deepEqual(a.predictions.map((p: { lag: number }) => p.lag), [0, 1, 2, 4, 8]);
      assert.ok(a.predictions.every((p: { itersPerS: number }) => p.itersPerS > 0));
    }
    for (
      const bad of [
        ["advise"],
        ["advise", "--calibrate", `${dir}/missing`],
        ["advise", "--calibrate", dir, "--latency-budget", "0"],
        ["advise", "--calibrate", dir, "--ranks", "zero"],
      ]
    ) {
      const r = await runCli(bad);
      assert.equal(r.code, 2, `${bad.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr.trim(), /^error: [^\n]+$/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("advise: a run whose configurations took their default iterations (config.iters null) calibrates from its rows", async () => {
  const dir = await Deno.makeTempDir({ prefix: "blsbench-advise-null-" });
  try {
    await Deno.writeTextFile(
      `${dir}/run.json`,
      JSON.stringify({
        config: {
          workload: "dlrm",
          transport: "tcp",
          ranks: 2,
          lags: [0, 2],
          iters: null,
          seed: 1,
        },
      }),
    );
    await Deno.writeTextFile(
      `${dir}/summary.csv`,
      "workload,transport,ranks,lag,size_bytes,imbalance,delay,delay_mode,iters,iters_per_s\n" +
        "dlrm,tcp,2,0,,none,exp:5ms,sleep,60,20\n" +
        "dlrm,tcp,2,2,,none,exp:5ms,sleep,60,26\n",
    );
    const { readMeasuredRun, calibrate } = await import("../bench/simulate/mod.ts");
    const measured = await readMeasuredRun(dir);
    assert.equal(measured.iters, 60);
    const [advice] = adviseLag(measured, calibrate(measured), { ranks: [4] });
    assert.equal(advice.sizeBytes, null);
    assert.equal(advice.predictions.length, 5);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
