import assert from "node:assert/strict";
import { main } from "../cli.ts";
import { parseCsvObjects } from "../bench/results/csv.ts";
import { calibrate, readMeasuredRun } from "../bench/simulate/_calibrate.ts";
import { simulateLags } from "../bench/models/bls_cost.ts";
import { parseDelaySpec } from "../bench/models/delay.ts";
import { UsageError } from "../util/errors.ts";

const SUMMARY_HEADER =
  "workload,transport,ranks,lag,size_bytes,imbalance,delay,delay_mode,iters,iters_per_s," +
  "samples_per_s,latency_p50_us,latency_p99_us,blocked_p50_us,speedup_vs_sync,ideal_iters_per_s,validated";

async function quietly<T>(run: () => Promise<T>): Promise<{ value: T; out: string; err: string }> {
  const log = console.log;
  const error = console.error;
  let out = "";
  let err = "";
  console.log = (...args: unknown[]) => out += args.join(" ") + "\n";
  console.error = (...args: unknown[]) => err += args.join(" ") + "\n";
  try {
    return { value: await run(), out, err };
  } finally {
    console.log = log;
    console.error = error;
  }
}

/**
 * Writes a measured results directory in the schema the integrator's bench
 * writes: 4 ranks, exp 2 ms delays, lags 0, 2, 8, one or two sizes; the
 * throughputs are those of the model with c = latency + usPerByte * bytes,
 * times a per-row distortion (to stand for measurement noise).
 */
async function writeMeasuredDir(
  options: {
    sizes: number[];
    latencyUs: number;
    usPerByte: number;
    overheadUs?: number;
    distort?: number[];
  },
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "simulate_measured_" });
  const config = {
    workload: "alltoallv",
    transport: "tcp",
    ranks: 4,
    lags: [0, 2, 8],
    sizes: [Math.min(...options.sizes), Math.max(...options.sizes)],
    delay: "exp:2ms",
    delayMode: "sleep",
    imbalance: "none",
    iters: 200,
    warmup: 10,
    seed: 42,
  };
  await Deno.writeTextFile(`${dir}/run.json`, JSON.stringify({ version: "0.1.0", config }));
  const lines = [SUMMARY_HEADER];
  let index = 0;
  for (const size of options.sizes) {
    const commUs = options.latencyUs + options.usPerByte * size * 3;
    const results = simulateLags({
      ranks: 4,
      lags: [0, 2, 8],
      iters: 200,
      delay: parseDelaySpec("exp:2ms"),
      seed: 42,
      commUs,
      overheadUs: options.overheadUs ?? 0,
    });
    const measured = results.map((result) => result.itersPerS * (options.distort?.[index++] ?? 1));
    results.forEach((result, i) => {
      const speedup = measured[i] / measured[0];
      lines.push(
        `alltoallv,tcp,4,${result.lag},${size},none,exp:2ms,sleep,200,${
          measured[i]
        },,1,2,3,${speedup},${result.itersPerS},true`,
      );
    });
  }
  await Deno.writeTextFile(`${dir}/summary.csv`, lines.join("\n") + "\n");
  return dir;
}

Deno.test("calibrate recovers the exchange cost from lag-0 rows with delays", async () => {
  const dir = await writeMeasuredDir({ sizes: [1024, 65536], latencyUs: 250, usPerByte: 0.002 });
  const run = await readMeasuredRun(dir);
  assert.equal(run.ranks, 4);
  assert.deepEqual(run.lags, [0, 2, 8]);
  assert.equal(run.rows.length, 6);
  const { cost, samples, overheadFraction } = calibrate(run);
  assert.equal(overheadFraction, 0);
  assert.equal(samples.length, 2);
  assert.ok(Math.abs(cost.latencyUs - 250) < 0.01, String(cost.latencyUs));
  assert.ok(Math.abs(cost.usPerByte - 0.002) < 1e-7, String(cost.usPerByte));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("calibrate splits the synchronous cost into overhead and overlapping exchange", async () => {
  // o = 300 us on each rank's timeline, c = 100 us overlapping: e = 400 us, f = 0.75.
  const dir = await writeMeasuredDir({
    sizes: [4096],
    latencyUs: 100,
    usPerByte: 0,
    overheadUs: 300,
  });
  const { cost, overheadFraction } = calibrate(await readMeasuredRun(dir));
  assert.ok(Math.abs(cost.latencyUs - 400) < 0.01, String(cost.latencyUs));
  assert.equal(cost.usPerByte, 0);
  assert.ok(Math.abs(overheadFraction - 0.75) <= 0.02, String(overheadFraction));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("simulate --calibrate predicts a measured 4-rank exp:2ms run within 15%", async () => {
  // Measured throughputs off the model by up to 8% either way, as real runs are.
  const dir = await writeMeasuredDir({
    sizes: [4096],
    latencyUs: 400,
    usPerByte: 0,
    distort: [1.05, 0.93, 1.08],
  });
  const out = `${dir}/simulated`;
  const { value: code, out: stdout } = await quietly(() =>
    main(["simulate", "--calibrate", dir, "--out", out])
  );
  assert.equal(code, 0);
  assert.match(stdout, /Calibrated on/);
  const rows = parseCsvObjects(await Deno.readTextFile(`${out}/summary.csv`));
  assert.deepEqual(rows.map((row) => row.lag), ["0", "2", "8"]);
  for (const row of rows) {
    assert.equal(row.workload, "simulated");
    assert.equal(row.transport, "tcp");
    assert.equal(row.ranks, "4");
    assert.equal(row.size_bytes, "4096");
    assert.equal(row.delay, "exp:2ms");
    const predicted = Number(row.iters_per_s);
    const measured = Number(row.measured_iters_per_s);
    assert.ok(
      Math.abs(predicted - measured) / measured < 0.15,
      `lag ${row.lag}: ${predicted} vs ${measured}`,
    );
  }
  assert.equal(rows[0].speedup_vs_sync, "1");
  const run = JSON.parse(await Deno.readTextFile(`${out}/run.json`));
  assert.equal(run.config.workload, "simulated");
  assert.equal(run.config.calibratedFrom, dir);
  assert.ok(run.config.exchangeCost.latencyUs > 0);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("simulate --calibrate with --ranks extrapolates the measured run", async () => {
  const dir = await writeMeasuredDir({ sizes: [4096], latencyUs: 300, usPerByte: 0 });
  const out = `${dir}/big`;
  const { value: code } = await quietly(() =>
    main(["simulate", "--calibrate", dir, "--ranks", "64", "--iters", "100", "--out", out])
  );
  assert.equal(code, 0);
  const rows = parseCsvObjects(await Deno.readTextFile(`${out}/summary.csv`));
  assert.equal(rows.length, 3);
  for (const row of rows) {
    assert.equal(row.ranks, "64");
    assert.equal(row.iters, "100");
    assert.equal(row.measured_iters_per_s, "");
    assert.ok(Math.abs(Number(row.comm_us) - 300) < 0.1);
  }
  assert.ok(Number(rows[2].speedup_vs_sync) > Number(rows[1].speedup_vs_sync));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("simulate writes the summary schema and a table without calibration", async () => {
  const out = await Deno.makeTempDir({ prefix: "simulate_out_" });
  const { value: code, out: stdout } = await quietly(() =>
    main([
      "simulate",
      "--ranks",
      "2:8",
      "--lag",
      "2",
      "--delay",
      "exp:2ms,straggler:1ms@1",
      "--iters",
      "50",
      "--out",
      out,
    ])
  );
  assert.equal(code, 0);
  assert.match(stdout, /iters\/s/);
  const text = await Deno.readTextFile(`${out}/summary.csv`);
  assert.ok(text.startsWith(SUMMARY_HEADER + ",comm_us,overhead_us,measured_iters_per_s\n"));
  const rows = parseCsvObjects(text);
  // 3 rank counts x 2 delays x lags {0, 2}.
  assert.equal(rows.length, 12);
  assert.deepEqual([...new Set(rows.map((row) => row.ranks))], ["2", "4", "8"]);
  for (const row of rows) {
    assert.equal(row.workload, "simulated");
    assert.equal(row.comm_us, "100");
    assert.equal(row.ideal_iters_per_s, row.iters_per_s);
  }
  const run = JSON.parse(await Deno.readTextFile(`${out}/run.json`));
  assert.deepEqual(run.config.ranks, [2, 4, 8]);
  assert.deepEqual(run.config.lags, [0, 2]);
  await Deno.remove(out, { recursive: true });
});

Deno.test("simulate exits 2 on bad usage", async () => {
  const cases = [
    ["simulate", "--delay", "exp:2ms"],
    ["simulate", "--ranks", "4"],
    ["simulate", "--ranks", "4", "--delay", "exp:2"],
    ["simulate", "--ranks", "0", "--delay", "none"],
    ["simulate", "--ranks", "4", "--delay", "straggler:1ms@4"],
    ["simulate", "--ranks", "4", "--delay", "none", "--lag", "x"],
    ["simulate", "--calibrate", "/nonexistent/blsbench-results"],
  ];
  for (const args of cases) {
    const { value: code } = await quietly(() => main(args));
    assert.equal(code, 2, args.join(" "));
  }
});

Deno.test("simulate reports a bad flag in one error line and exit code 2", async () => {
  const cli = new URL("../cli.ts", import.meta.url).pathname;
  for (const args of [["--ranks", "4", "--delay", "exp:2"], ["--delay", "none"]]) {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", cli, "simulate", ...args],
      stdout: "null",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stderr).trim();
    assert.equal(code, 2);
    assert.equal(text.split("\n").length, 1, text);
    assert.match(text, /^error: .*(--delay|--ranks)/);
  }
});

Deno.test("calibration rejects directories without a lag-0 throughput", async () => {
  const dir = await Deno.makeTempDir({ prefix: "simulate_bad_" });
  await Deno.writeTextFile(`${dir}/run.json`, JSON.stringify({ config: { ranks: 2, iters: 10 } }));
  await Deno.writeTextFile(
    `${dir}/summary.csv`,
    `${SUMMARY_HEADER}\nalltoallv,tcp,2,1,64,none,none,busy,10,100,,,,,,,\n`,
  );
  const run = await readMeasuredRun(dir);
  assert.throws(() => calibrate(run), UsageError);
  await Deno.writeTextFile(`${dir}/run.json`, "{ not json");
  await assert.rejects(() => readMeasuredRun(dir), UsageError);
  await Deno.remove(dir, { recursive: true });
});
