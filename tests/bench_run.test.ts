import assert from "node:assert/strict";
import { freePort } from "./_helpers/reliability_run.ts";
import { drawDelayUs, parseDelaySpec } from "../bench/models/delay.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

async function bench(...args: string[]) {
  const out = await Deno.makeTempDir({ prefix: "blsbench-run-" });
  const r = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "bench", "--out", out, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = (f: string) => Deno.readTextFile(`${out}/${f}`);
  return {
    code: r.code,
    stdout: new TextDecoder().decode(r.stdout),
    stderr: new TextDecoder().decode(r.stderr),
    out,
    text,
    async rows() {
      const [header, ...lines] = (await text("summary.csv")).trim().split("\n");
      const cols = header.split(",");
      return lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [cols[i], v])));
    },
  };
}

Deno.test("bench alltoallv over TCP, 2 ranks, validated: the three result files and the osu table", async () => {
  const r = await bench(
    "--workload",
    "alltoallv",
    "--transport",
    "tcp",
    "--ranks",
    "2",
    "--validate",
    "--sizes",
    "8:1024",
    "--lag",
    "0,2",
    "--iters",
    "30",
    "--warmup",
    "3",
    "--format",
    "csv,osu",
  );
  assert.equal(r.code, 0, r.stderr);
  const rows = await r.rows();
  assert.equal(rows.length, 8 * 2); // 8..1024 is 8 sizes, two lags
  for (const row of rows) {
    assert.equal(row.validated, "true");
    assert.ok(Number(row.iters_per_s) > 0);
    assert.equal(row.transport, "tcp");
  }
  assert.ok(rows.filter((x) => x.lag === "0").every((x) => x.speedup_vs_sync === "1"));
  const iterations = (await r.text("iterations.csv")).trim().split("\n");
  assert.equal(iterations.length, 1 + 16 * 2 * 30); // header + configs x ranks x iters
  assert.match(
    iterations[0],
    /rank,iter,post_us,done_us,blocked_us,delay_us,bytes_sent,bytes_received$/,
  );
  const run = JSON.parse(await r.text("run.json"));
  assert.equal(run.status, "completed");
  assert.equal(run.config.ranks, 2);
  // Ranks run with every permission: --socket-io auto takes the native path.
  assert.equal(run.socketIo, "native");
  assert.match(
    r.stdout,
    /# Size\s+Avg Latency\(us\)\s+Min Latency\(us\)\s+Max Latency\(us\)\s+Iterations/,
  );
});

Deno.test("bench alltoallv with delays over Unix sockets records delays and the ideal", async () => {
  const r = await bench(
    "--workload",
    "alltoallv",
    "--transport",
    "unix",
    "--ranks",
    "3",
    "--sizes",
    "256:256",
    "--lag",
    "2",
    "--iters",
    "25",
    "--warmup",
    "2",
    "--delay",
    "exp:1ms",
    "--imbalance",
    "random:0.5",
    "--progress",
    "inline",
  );
  assert.equal(r.code, 0, r.stderr);
  const rows = await r.rows();
  assert.deepEqual(rows.map((x) => x.lag), ["0", "2"]);
  for (const row of rows) assert.ok(Number(row.ideal_iters_per_s) > 0, "ideal filled in");
  // Every rank and iteration spent the delay drawn from the seed (1) for it: at least that long,
  // not much longer; the undelayed calibration run is not in the file.
  const spec = parseDelaySpec("exp:1ms");
  const lines = (await r.text("iterations.csv")).trim().split("\n").slice(1);
  assert.equal(lines.length, 2 * 3 * 25);
  for (const line of lines) {
    const cells = line.split(",");
    const [rank, iter, spent] = [Number(cells[8]), Number(cells[9]), Number(cells[13])];
    const drawn = drawDelayUs(spec, 1, rank, iter);
    assert.ok(
      spent >= drawn - 1 && spent <= drawn + 20_000,
      `rank ${rank} iter ${iter}: ${spent} vs ${drawn}`,
    );
  }
});

Deno.test("bench dlrm on synthetic skewed data, 2 ranks, validated against a single-process forward", async () => {
  const r = await bench(
    "--workload",
    "dlrm",
    "--dataset",
    "synthetic",
    "--model",
    "tiny",
    "--rows",
    "600",
    "--batch-size",
    "64",
    "--pooling",
    "2",
    "--skew",
    "tables:1:4",
    "--ranks",
    "2",
    "--lag",
    "0,1",
    "--iters",
    "8",
    "--warmup",
    "1",
    "--validate",
  );
  assert.equal(r.code, 0, r.stderr);
  const rows = await r.rows();
  assert.equal(rows.length, 2);
  for (const row of rows) {
    assert.equal(row.workload, "dlrm");
    assert.equal(row.size_bytes, "");
    assert.equal(row.validated, "true");
    // Every batch is 64 whole rows (8 batches of the 600): samples/s = 64 x batches/s.
    const ratio = Number(row.samples_per_s) / Number(row.iters_per_s);
    assert.ok(Math.abs(ratio - 64) < 0.1, `samples per batch ${ratio}`);
  }
  assert.match(r.stdout, /BLS gain, the requested lag 1: /);
});

Deno.test("bench dlrm on generated Ali-CCP data", async () => {
  const r = await bench(
    "--workload",
    "dlrm",
    "--dataset",
    "ali-ccp",
    "--rows",
    "400",
    "--batch-size",
    "128",
    "--ranks",
    "2",
    "--lag",
    "1",
    "--iters",
    "4",
    "--warmup",
    "0",
    "--validate",
  );
  assert.equal(r.code, 0, r.stderr);
  const rows = await r.rows();
  assert.deepEqual(rows.map((x) => x.lag), ["0", "1"]);
  for (const row of rows) {
    assert.equal(row.dataset, "ali-ccp");
    assert.equal(row.batch_size, "128");
    assert.equal(row.validated, "true");
    // 400 rows in 4 batches (3 of 128 and a partial one of 16, no row dropped): 100 per batch.
    const ratio = Number(row.samples_per_s) / Number(row.iters_per_s);
    assert.ok(Math.abs(ratio - 100) < 0.2, `samples per batch ${ratio}`);
  }
});

Deno.test("bench with the local launcher and --master: the launcher hosts the store at that address", async () => {
  const port = freePort();
  const r = await bench(
    "--workload",
    "alltoallv",
    "--ranks",
    "3",
    "--master",
    `127.0.0.1:${port}`,
    "--validate",
    "--sizes",
    "64:64",
    "--lag",
    "0,1",
    "--iters",
    "20",
    "--warmup",
    "2",
    "--format",
    "csv",
    "--timeout",
    "30",
  );
  assert.equal(r.code, 0, r.stderr);
  const rows = await r.rows();
  assert.deepEqual(rows.map((x) => [x.ranks, x.lag, x.validated]), [["3", "0", "true"], [
    "3",
    "1",
    "true",
  ]]);
  // The port is taken while it runs: a second launcher cannot host its store there.
  const busy = Deno.listen({ hostname: "127.0.0.1", port });
  try {
    const refused = await bench(
      "--workload",
      "alltoallv",
      "--ranks",
      "2",
      "--master",
      `127.0.0.1:${port}`,
    );
    assert.equal(refused.code, 2, refused.stderr);
    const lines = refused.stderr.trim().split("\n");
    assert.equal(lines.length, 1, refused.stderr);
    assert.match(
      lines[0],
      new RegExp(`^error: .*rendezvous store at --master 127\\.0\\.0\\.1:${port}`),
    );
  } finally {
    busy.close();
  }
});

Deno.test("bench dlrm on Ali-CCP raw data exits 2 before reading it: the raw form has no dense features", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const skeleton = `${dir}/sample_skeleton_t.csv`;
    await Deno.writeTextFile(skeleton, "1,1,0,u1,0,\n");
    await Deno.writeTextFile(`${dir}/common_features_t.csv`, "u1,1,101\x027\x031.0\n");
    const r = await bench("--dataset", "ali-ccp", "--data", skeleton, "--ranks", "2");
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^error: .*Ali-CCP raw data, which has no dense features/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bench: repeats interleave the lags, rotated per repeat; speedup spread over repeats", async () => {
  const args = ["--workload", "alltoallv", "--ranks", "2", "--sizes", "64:64", "--lag", "1,2"];
  const short = ["--iters", "20", "--warmup", "2", "--repeat", "3"];
  const r = await bench(...args, ...short);
  assert.equal(r.code, 0, r.stderr);
  const rows = await r.rows();
  // Rows in run order: repeat 0 runs 0,1,2; repeat 1 starts at lag 1; repeat 2 at lag 2.
  assert.equal(
    rows.map((x) => `${x.repeat}:${x.lag}`).join(" "),
    "0:0 0:1 0:2 1:1 1:2 1:0 2:2 2:0 2:1",
  );
  for (const lag of ["1", "2"]) {
    const own = rows.filter((x) => x.lag === lag);
    const speedups = own.map((x) => Number(x.speedup_vs_sync));
    for (const row of own) {
      assert.equal(Number(row.speedup_lo), Math.min(...speedups));
      assert.equal(Number(row.speedup_hi), Math.max(...speedups));
    }
  }
  // The new columns come after every existing one.
  const header = (await r.text("summary.csv")).split("\n")[0];
  assert.match(header, /,pooling,speedup_lo,speedup_hi$/);
  // The closing line names what it compares.
  assert.match(r.stdout, /BLS gain, best of 2 lags: lag [12]: [\d.]+x .*median of 3 repeats/);

  const seq = await bench(...args, ...short, "--order", "sequential", "--lag", "2");
  assert.equal(seq.code, 0, seq.stderr);
  const seqRows = await seq.rows();
  assert.equal(seqRows.map((x) => `${x.repeat}:${x.lag}`).join(" "), "0:0 0:2 1:0 1:2 2:0 2:2");
  assert.match(seq.stdout, /BLS gain, the requested lag 2: /);

  const bad = await bench(...args, "--order", "random");
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^error: .*--order/);
  assert.equal(bad.stderr.trim().split("\n").length, 1);
});

Deno.test("bench over TCP with Deno's socket ops (--socket-io deno) validates and says so in run.json", async () => {
  const r = await bench(
    "--workload",
    "alltoallv",
    "--ranks",
    "3",
    "--sizes",
    "64:65536",
    "--lag",
    "0,2",
    "--iters",
    "20",
    "--warmup",
    "2",
    "--validate",
    "--socket-io",
    "deno",
  );
  assert.equal(r.code, 0, r.stderr);
  const rows = await r.rows();
  assert.equal(rows.length, 11 * 2);
  for (const row of rows) assert.equal(row.validated, "true");
  const run = JSON.parse(await r.text("run.json"));
  assert.equal(run.socketIo, "deno");
  assert.equal(run.config.socketIo, "deno");
});
