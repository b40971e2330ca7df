import assert from "node:assert/strict";
import { runCli } from "./_helpers/cli.ts";
import {
  checkDelaySpec,
  delayTraceCsv,
  drawDelayUs,
  formatDelaySpec,
  parseDelaySpec,
} from "../bench/models/delay.ts";
import { simulateRun } from "../bench/models/bls_cost.ts";

async function traceFile(text: string): Promise<string> {
  const path = await Deno.makeTempFile({ prefix: "blsbench-trace-", suffix: ".csv" });
  await Deno.writeTextFile(path, text);
  return path;
}

Deno.test("trace: replays recorded delays per rank and iteration, cycling when shorter than the run", async () => {
  const path = await traceFile(
    "# recorded on host A\nrank,iter,delay_us\n1,1,7\n0,0,100\n1,0,0\n0,1,250\n",
  );
  const spec = parseDelaySpec(`trace:${path}`);
  assert.equal(formatDelaySpec(spec), `trace:${path}`);
  assert.deepEqual([0, 1, 2, 3].map((t) => drawDelayUs(spec, 1, 0, t)), [100, 250, 100, 250]);
  assert.deepEqual([0, 1].map((t) => drawDelayUs(spec, 99, 1, t)), [0, 7]);
  checkDelaySpec(spec, 2);
  assert.throws(() => checkDelaySpec(spec, 3), /no delays for rank 2/);
});

Deno.test("trace: a recorded exp draw replays as the same delays, so the model predicts the same run", async () => {
  const drawn = parseDelaySpec("exp:2ms");
  const path = await traceFile(delayTraceCsv(drawn, 5, 4, 200));
  const replay = parseDelaySpec(`trace:${path}`);
  for (let p = 0; p < 4; p++) {
    for (let t = 0; t < 200; t += 17) {
      assert.ok(Math.abs(drawDelayUs(replay, 1, p, t) - drawDelayUs(drawn, 5, p, t)) <= 0.0005);
    }
  }
  const a = simulateRun({ ranks: 4, lag: 2, iters: 200, delay: drawn, seed: 5, commUs: 100 });
  const b = simulateRun({ ranks: 4, lag: 2, iters: 200, delay: replay, seed: 1, commUs: 100 });
  assert.ok(Math.abs(a.itersPerS / b.itersPerS - 1) < 1e-6, `${a.itersPerS} vs ${b.itersPerS}`);
});

Deno.test("trace: malformed files are SyntaxErrors naming FILE:LINE", async () => {
  const cases: [string, RegExp][] = [
    ["rank,iter,delay_us\n0,0,1\n0,x,2\n", /:3: iter 'x' is not a whole number/],
    ["0,0,1\n0,1\n", /:2: expected rank,iter,delay_us/],
    ["0,0,-5\n", /:1: delay_us '-5' is not a number >= 0/],
    ["0,0,1\n0,0,2\n", /:2: rank 0 has iteration 0 twice/],
    ["0,0,1\n0,2,2\n", /no iteration 1 for rank 0/],
    ["\n# nothing\n", /has no delays/],
  ];
  for (const [text, message] of cases) {
    const path = await traceFile(text);
    assert.throws(() => parseDelaySpec(`trace:${path}`), (e: Error) => {
      assert.ok(e instanceof SyntaxError, e.message);
      assert.match(e.message, message);
      if (/:\d+:/.test(e.message)) assert.ok(e.message.startsWith(path), e.message);
      return true;
    });
  }
  assert.throws(() => parseDelaySpec("trace:/nonexistent/trace.csv"), /Cannot read/);
});

Deno.test("trace CLI: bench records its delays and replays them; a bad line or a missing rank exits 2", async () => {
  const dir = await Deno.makeTempDir({ prefix: "blsbench-trace-run-" });
  try {
    const base = ["bench", "--workload", "alltoallv", "--ranks", "2", "--sizes", "64:64"];
    const common = ["--lag", "0,1", "--iters", "30", "--warmup", "2"];
    const recorded = await runCli([
      ...base,
      ...common,
      "--delay",
      "exp:300us",
      "--save-delays",
      `${dir}/trace.csv`,
      "--out",
      `${dir}/a`,
    ]);
    assert.equal(recorded.code, 0, recorded.stderr);
    const lines = (await Deno.readTextFile(`${dir}/trace.csv`)).trim().split("\n");
    assert.equal(lines[0], "rank,iter,delay_us");
    assert.equal(lines.length, 1 + 2 * 30);
    const replayed = await runCli([
      ...base,
      ...common,
      "--delay",
      `trace:${dir}/trace.csv`,
      "--out",
      `${dir}/b`,
    ]);
    assert.equal(replayed.code, 0, replayed.stderr);
    const summary = await Deno.readTextFile(`${dir}/b/summary.csv`);
    assert.ok(summary.includes(`trace:${dir}/trace.csv`));
    await Deno.writeTextFile(`${dir}/bad.csv`, "0,0,5\n0,1,oops\n");
    const bad = await runCli([
      ...base,
      ...common,
      "--delay",
      `trace:${dir}/bad.csv`,
      "--out",
      `${dir}/c`,
    ]);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr.trim(), new RegExp(`^error: .*bad\\.csv:2: delay_us 'oops'[^\\n]*$`));
    await Deno.writeTextFile(`${dir}/one.csv`, "0,0,5\n");
    const missing = await runCli([
      ...base,
      ...common,
      "--delay",
      `trace:${dir}/one.csv`,
      "--out",
      `${dir}/d`,
    ]);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /no delays for rank 1/);
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
