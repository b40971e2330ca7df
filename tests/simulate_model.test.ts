import assert from "node:assert/strict";
import fc from "fast-check";
import {
  exchangeCostUs,
  fitExchangeCost,
  idealItersPerSecond,
  replayDelays,
  simulateLags,
  simulateRun,
} from "../bench/models/bls_cost.ts";
import { drawDelayUs, parseDelaySpec } from "../bench/models/delay.ts";

function close(actual: number, expected: number, what = "") {
  assert.ok(
    Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)),
    `${what}: ${actual} != ${expected}`,
  );
}

// Delays as [rank][iter] arrays: 1 to 4 ranks, 1 to 8 iterations, 0 to 5000 us.
const delaysArb = fc.integer({ min: 1, max: 4 }).chain((ranks) =>
  fc.integer({ min: 1, max: 8 }).chain((iters) =>
    fc.array(
      fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0, max: 5000, noNaN: true })), {
        minLength: iters,
        maxLength: iters,
      }),
      { minLength: ranks, maxLength: ranks },
    )
  )
);
const commArb = fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1000, noNaN: true }));

function replay(delays: number[][], lags: number[], commUs: number) {
  return replayDelays((p, t) => delays[p][t], delays.length, delays[0].length, lags, commUs);
}

Deno.test("hand-computed: 2 ranks, 3 iterations, lags 0, 1 and 5", () => {
  // Rank 0 waits 3 ms in iteration 0, rank 1 waits 3 ms in iteration 2, c = 1 ms.
  const delays = [[3000, 0, 0], [0, 0, 3000]];
  const [sync, lag1, lagBig] = replay(delays, [0, 1, 5], 1000);
  // Lag 0: (3 + 1) + (0 + 1) + (3 + 1) ms.
  assert.equal(sync.totalUs, 9000);
  // Lag 1: P(0) = [3, 0], A(0) = 4; F(0) = P(0) (nothing to wait for yet).
  // P(1) = [3, 0], A(1) = 4; F(1) = max(P, A(0)) = [4, 4].
  // P(2) = [4, 7], A(2) = 8; the drain ends at A(2) = 8 ms.
  assert.equal(lag1.totalUs, 8000);
  assert.deepEqual([...lag1.arrivalUs], [4000, 4000, 8000]);
  // Lag beyond the run: max over ranks of the sum of delays, plus one c.
  assert.equal(lagBig.totalUs, 4000);
  close(lagBig.itersPerS, 3e6 / 4000);
});

Deno.test("lag 0 costs the sum over iterations of (max delay + c)", () => {
  fc.assert(fc.property(delaysArb, commArb, (delays, commUs) => {
    const iters = delays[0].length;
    let expected = 0;
    for (let t = 0; t < iters; t++) expected += Math.max(...delays.map((d) => d[t])) + commUs;
    close(replay(delays, [0], commUs)[0].totalUs, expected, "lag 0");
  }));
});

Deno.test("a lag of at least iters-1 costs the largest sum of delays plus one c", () => {
  fc.assert(fc.property(delaysArb, commArb, fc.nat(4), (delays, commUs, extra) => {
    const iters = delays[0].length;
    const expected = Math.max(...delays.map((d) => d.reduce((a, b) => a + b, 0))) + commUs;
    close(replay(delays, [iters - 1 + extra], commUs)[0].totalUs, expected, "large lag");
  }));
});

Deno.test("time never grows with the lag and stays within its bounds", () => {
  fc.assert(fc.property(delaysArb, commArb, (delays, commUs) => {
    const lags = [0, 1, 2, 3, 4, 8];
    const results = replay(delays, lags, commUs);
    const lower = Math.max(...delays.map((d) => d.reduce((a, b) => a + b, 0))) + commUs;
    for (let i = 0; i < results.length; i++) {
      assert.ok(results[i].totalUs >= lower - 1e-6);
      if (i > 0) assert.ok(results[i].totalUs <= results[i - 1].totalUs + 1e-6);
      assert.ok(results[i].blockedP50Us >= 0 && results[i].latencyP50Us >= 0);
    }
  }));
});

Deno.test("per-call overhead is paid on every rank's timeline at every lag", () => {
  fc.assert(fc.property(delaysArb, commArb, commArb, (delays, commUs, overheadUs) => {
    const ranks = delays.length;
    const iters = delays[0].length;
    const [sync, free] = replayDelays(
      (p, t) => delays[p][t],
      ranks,
      iters,
      [0, iters],
      commUs,
      overheadUs,
    );
    let expected = 0;
    for (let t = 0; t < iters; t++) {
      expected += Math.max(...delays.map((d) => d[t])) + overheadUs + commUs;
    }
    close(sync.totalUs, expected, "lag 0 with overhead");
    const longest = Math.max(...delays.map((d) => d.reduce((a, b) => a + b, 0)));
    close(free.totalUs, longest + iters * overheadUs + commUs, "large lag with overhead");
  }));
});

Deno.test("no delays: lag k pipelines k+1 exchanges", () => {
  // With nothing but the exchange, F advances by c every k+1 iterations.
  for (const lag of [0, 1, 3]) {
    const result = simulateRun({
      ranks: 8,
      lag,
      iters: 12,
      delay: parseDelaySpec("none"),
      seed: 1,
      commUs: 100,
    });
    assert.equal(result.totalUs, 100 * Math.ceil(12 / (lag + 1)));
  }
});

Deno.test("simulateRun draws the delays a measured run draws", () => {
  const delay = parseDelaySpec("exp:2ms");
  const ranks = 5;
  const iters = 20;
  for (const lag of [0, 2]) {
    const simulated = simulateRun({ ranks, lag, iters, delay, seed: 11, commUs: 50 });
    const drawn = new Float64Array(ranks * iters);
    for (let p = 0; p < ranks; p++) {
      for (let t = 0; t < iters; t++) drawn[p * iters + t] = drawDelayUs(delay, 11, p, t);
    }
    close(idealItersPerSecond(drawn, ranks, iters, lag, 50), simulated.itersPerS, "replay");
  }
});

Deno.test("simulateLags gives the same results as separate runs", () => {
  const options = {
    ranks: 7,
    iters: 30,
    delay: parseDelaySpec("spike:5ms:0.1"),
    seed: 3,
    commUs: 80,
  };
  const all = simulateLags({ ...options, lags: [0, 1, 4] });
  for (const result of all) {
    const alone = simulateRun({ ...options, lag: result.lag });
    assert.equal(alone.totalUs, result.totalUs);
    assert.equal(alone.latencyP99Us, result.latencyP99Us);
  }
});

Deno.test("exp delays: a synchronous step pays about H(N) times the mean", () => {
  // E[max of N exponentials] = mean * (1 + 1/2 + ... + 1/N).
  const ranks = 64;
  const result = simulateRun({
    ranks,
    lag: 0,
    iters: 2000,
    delay: parseDelaySpec("exp:1ms"),
    seed: 5,
    commUs: 0,
  });
  let harmonic = 0;
  for (let j = 1; j <= ranks; j++) harmonic += 1 / j;
  assert.ok(Math.abs(result.perIterUs / (1000 * harmonic) - 1) < 0.03, String(result.perIterUs));
});

Deno.test("percentiles: straggler latency and blocking", () => {
  // Rank 0 waits 1 ms every iteration, three others do not: synchronous ranks
  // 1..3 block 1.1 ms each iteration, rank 0 blocks 0.1 ms.
  const result = simulateRun({
    ranks: 4,
    lag: 0,
    iters: 50,
    delay: parseDelaySpec("straggler:1ms@0"),
    seed: 1,
    commUs: 100,
  });
  assert.ok(Math.abs(result.blockedP50Us - 1100) / 1100 < 0.01);
  assert.ok(Math.abs(result.latencyP50Us - 1100) / 1100 < 0.01);
});

Deno.test("bad shapes are RangeErrors", () => {
  const delay = parseDelaySpec("none");
  assert.throws(
    () => simulateRun({ ranks: 0, lag: 0, iters: 1, delay, seed: 1, commUs: 0 }),
    RangeError,
  );
  assert.throws(
    () => simulateRun({ ranks: 1, lag: -1, iters: 1, delay, seed: 1, commUs: 0 }),
    RangeError,
  );
  assert.throws(
    () => simulateRun({ ranks: 1, lag: 0, iters: 0, delay, seed: 1, commUs: 0 }),
    RangeError,
  );
  assert.throws(
    () => simulateRun({ ranks: 1, lag: 0, iters: 1, delay, seed: 1, commUs: -1 }),
    RangeError,
  );
  assert.throws(() => idealItersPerSecond(new Float64Array(3), 2, 2, 0, 0), RangeError);
});

Deno.test("fitExchangeCost recovers latency and bandwidth, and keeps both >= 0", () => {
  fc.assert(fc.property(
    fc.double({ min: 0, max: 1000, noNaN: true }),
    fc.double({ min: 0, max: 1, noNaN: true }),
    (latencyUs, usPerByte) => {
      const samples = [0, 1024, 65536, 262144].map((bytes) => ({
        bytes,
        us: latencyUs + usPerByte * bytes,
      }));
      const fit = fitExchangeCost(samples);
      for (const { bytes, us } of samples) {
        assert.ok(Math.abs(exchangeCostUs(fit, bytes) - us) <= 1e-6 * Math.max(1, us));
      }
    },
  ));
  assert.deepEqual(fitExchangeCost([{ bytes: 100, us: 40 }, { bytes: 100, us: 60 }]), {
    latencyUs: 50,
    usPerByte: 0,
  });
  // Costs that shrink with size: all latency.
  assert.deepEqual(fitExchangeCost([{ bytes: 0, us: 60 }, { bytes: 100, us: 40 }]), {
    latencyUs: 50,
    usPerByte: 0,
  });
  // A negative intercept is forced through the origin.
  const origin = fitExchangeCost([{ bytes: 100, us: 10 }, { bytes: 200, us: 30 }]);
  assert.equal(origin.latencyUs, 0);
  close(origin.usPerByte, (100 * 10 + 200 * 30) / (100 * 100 + 200 * 200));
  assert.throws(() => fitExchangeCost([]), RangeError);
});
