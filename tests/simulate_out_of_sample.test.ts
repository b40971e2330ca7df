/**
 * The simulator checked out of sample, on recorded runs: calibrated on a
 * measured run with one delay mean, it predicts another measured run with a
 * different delay mean (same machine, ranks and size), every lag within 20% of
 * the measured median throughput.
 */

import assert from "node:assert/strict";
import { main } from "../cli.ts";

const FIXTURES = new URL("./fixtures/simulate/", import.meta.url).pathname;
const CALIBRATE = `${FIXTURES}calibrate`;
const PREDICT = `${FIXTURES}predict`;
const TOLERANCE = 0.2;

/** summary.csv as objects (the fixture's fields hold no commas or quotes). */
async function summary(dir: string): Promise<Record<string, string>[]> {
  const [header, ...lines] = (await Deno.readTextFile(`${dir}/summary.csv`)).trim().split("\n");
  const columns = header.split(",");
  return lines.map((line) => Object.fromEntries(line.split(",").map((v, i) => [columns[i], v])));
}

const median = (values: number[]) => {
  const v = [...values].sort((a, b) => a - b);
  return v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

Deno.test("simulate: calibrated on one measured run, predicts another delay mean within 20%", async () => {
  const measured = await summary(PREDICT);
  const calibration = await summary(CALIBRATE);
  const delay = measured[0].delay;
  assert.notEqual(delay, calibration[0].delay, "the two runs differ in their delay");
  assert.equal(measured[0].ranks, calibration[0].ranks);
  const out = await Deno.makeTempDir();
  const log = console.log;
  console.log = () => {};
  let code: number;
  try {
    code = await main(["simulate", "--calibrate", CALIBRATE, "--delay", delay, "--out", out]);
  } finally {
    console.log = log;
  }
  assert.equal(code, 0);
  const predicted = await summary(out);
  await Deno.remove(out, { recursive: true });
  const lags = [...new Set(measured.map((r) => r.lag))];
  assert.deepEqual(predicted.map((r) => r.lag).sort(), [...lags].sort());
  const misses: string[] = [];
  for (const lag of lags) {
    const want = median(measured.filter((r) => r.lag === lag).map((r) => Number(r.iters_per_s)));
    const got = Number(predicted.find((r) => r.lag === lag)!.iters_per_s);
    if (!(Math.abs(got - want) / want <= TOLERANCE)) {
      misses.push(`lag ${lag}: predicted ${got.toFixed(1)}, measured ${want.toFixed(1)} it/s`);
    }
  }
  assert.deepEqual(misses, [], misses.join("; "));
});
