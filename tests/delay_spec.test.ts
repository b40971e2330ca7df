import assert from "node:assert/strict";
import fc from "fast-check";
import {
  applyDelay,
  checkDelaySpec,
  type DelaySpec,
  drawDelayUs,
  formatDelaySpec,
  meanDelayUs,
  parseDelaySpec,
} from "../bench/models/delay.ts";

Deno.test("parseDelaySpec reads every form of the grammar", () => {
  const cases: [string, DelaySpec][] = [
    ["none", { kind: "none" }],
    ["const:2ms", { kind: "const", us: 2000 }],
    ["const:250us", { kind: "const", us: 250 }],
    ["const:1.5s", { kind: "const", us: 1_500_000 }],
    ["uniform:0ms:4ms", { kind: "uniform", minUs: 0, maxUs: 4000 }],
    ["exp:2ms", { kind: "exp", meanUs: 2000 }],
    ["lognormal:1ms:0.5", { kind: "lognormal", medianUs: 1000, sigma: 0.5 }],
    ["spike:50ms:0.05", { kind: "spike", us: 50_000, probability: 0.05 }],
    ["straggler:2ms@1", { kind: "straggler", us: 2000, rank: 1 }],
    [" EXP:3MS ", { kind: "exp", meanUs: 3000 }],
  ];
  for (const [text, spec] of cases) assert.deepEqual(parseDelaySpec(text), spec, text);
});

Deno.test("parseDelaySpec rejects bad specs with a SyntaxError", () => {
  const bad = [
    "",
    "fast",
    "none:1ms",
    "const",
    "const:2",
    "const:-2ms",
    "const:2h",
    "const:ms",
    "uniform:4ms:1ms",
    "uniform:1ms",
    "exp:2ms:3",
    "lognormal:1ms",
    "lognormal:1ms:-1",
    "spike:50ms:1.5",
    "spike:50ms",
    "straggler:2ms",
    "straggler:2ms@x",
    "straggler:2ms@-1",
    "straggler:2ms@1@2",
  ];
  for (const text of bad) {
    assert.throws(() => parseDelaySpec(text), SyntaxError, text);
  }
  assert.throws(() => parseDelaySpec("const:2"), /without a unit/);
  assert.throws(() => parseDelaySpec("fast"), /^SyntaxError: Unknown delay 'fast'/);
});

const durationArb = fc.oneof(
  fc.integer({ min: 0, max: 10_000_000 }),
  fc.double({ min: 0, max: 1e7, noNaN: true }),
);
const specArb: fc.Arbitrary<DelaySpec> = fc.oneof(
  fc.constant({ kind: "none" } as DelaySpec),
  durationArb.map((us) => ({ kind: "const", us }) as DelaySpec),
  fc.tuple(durationArb, durationArb).map(([a, b]) =>
    ({ kind: "uniform", minUs: Math.min(a, b), maxUs: Math.max(a, b) }) as DelaySpec
  ),
  durationArb.map((meanUs) => ({ kind: "exp", meanUs }) as DelaySpec),
  fc.tuple(durationArb, fc.double({ min: 0, max: 5, noNaN: true })).map(([medianUs, sigma]) =>
    ({ kind: "lognormal", medianUs, sigma }) as DelaySpec
  ),
  fc.tuple(durationArb, fc.double({ min: 0, max: 1, noNaN: true })).map(([us, probability]) =>
    ({ kind: "spike", us, probability }) as DelaySpec
  ),
  fc.tuple(durationArb, fc.nat(1000)).map(([us, rank]) =>
    ({ kind: "straggler", us, rank }) as DelaySpec
  ),
);

Deno.test("formatDelaySpec round-trips through parseDelaySpec", () => {
  fc.assert(fc.property(specArb, (spec) => {
    assert.deepEqual(parseDelaySpec(formatDelaySpec(spec)), spec);
  }));
  assert.equal(formatDelaySpec(parseDelaySpec("const:2000us")), "const:2ms");
  assert.equal(formatDelaySpec(parseDelaySpec("const:3000ms")), "const:3s");
  assert.equal(formatDelaySpec(parseDelaySpec("straggler:0.5ms@3")), "straggler:500us@3");
});

Deno.test("drawDelayUs depends only on (spec, seed, rank, iteration) and is >= 0", () => {
  fc.assert(
    fc.property(specArb, fc.nat(), fc.nat(70000), fc.nat(100000), (spec, seed, rank, iter) => {
      const a = drawDelayUs(spec, seed, rank, iter);
      assert.equal(drawDelayUs(spec, seed, rank, iter), a);
      assert.ok(a >= 0 && Number.isFinite(a));
    }),
  );
  const spec = parseDelaySpec("exp:2ms");
  const draws = new Set<number>();
  for (let rank = 0; rank < 10; rank++) {
    for (let iter = 0; iter < 10; iter++) draws.add(drawDelayUs(spec, 1, rank, iter));
  }
  assert.equal(draws.size, 100, "different ranks and iterations draw different delays");
  assert.notEqual(drawDelayUs(spec, 1, 0, 0), drawDelayUs(spec, 2, 0, 0));
});

function sampleMean(spec: DelaySpec, n: number, ranks = 100): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += drawDelayUs(spec, 5, i % ranks, Math.floor(i / ranks));
  return sum / n;
}

Deno.test("drawn delays follow their distributions (100k draws)", () => {
  const n = 100_000;
  for (const text of ["exp:2ms", "uniform:1ms:3ms", "lognormal:1ms:0.5", "spike:50ms:0.05"]) {
    const spec = parseDelaySpec(text);
    const mean = meanDelayUs(spec, 100);
    const got = sampleMean(spec, n);
    assert.ok(Math.abs(got - mean) / mean < 0.03, `${text}: mean ${got}, expected ${mean}`);
  }
  // Exponential: variance equals mean squared; the median is mean * ln 2.
  const exp = parseDelaySpec("exp:2ms");
  const xs: number[] = [];
  for (let i = 0; i < n; i++) xs.push(drawDelayUs(exp, 9, i % 64, Math.floor(i / 64)));
  xs.sort((a, b) => a - b);
  assert.ok(Math.abs(xs[n / 2] - 2000 * Math.LN2) / (2000 * Math.LN2) < 0.03);
  // Lognormal: the median is the given median.
  const logn = parseDelaySpec("lognormal:1ms:0.5");
  const ys: number[] = [];
  for (let i = 0; i < n; i++) ys.push(drawDelayUs(logn, 9, i % 64, Math.floor(i / 64)));
  ys.sort((a, b) => a - b);
  assert.ok(Math.abs(ys[n / 2] - 1000) / 1000 < 0.03);
  // Uniform stays in range, spikes take only their two values.
  const uni = parseDelaySpec("uniform:1ms:3ms");
  for (let i = 0; i < 1000; i++) {
    const d = drawDelayUs(uni, 1, i, 0);
    assert.ok(d >= 1000 && d < 3000);
    assert.ok([0, 50_000].includes(drawDelayUs(parseDelaySpec("spike:50ms:0.05"), 1, i, 0)));
  }
});

Deno.test("const and straggler delays are exact; means are analytical", () => {
  const straggler = parseDelaySpec("straggler:2ms@1");
  assert.equal(drawDelayUs(straggler, 3, 1, 17), 2000);
  assert.equal(drawDelayUs(straggler, 3, 0, 17), 0);
  assert.equal(meanDelayUs(straggler, 4), 500);
  assert.equal(drawDelayUs(parseDelaySpec("const:2ms"), 3, 5, 6), 2000);
  assert.equal(meanDelayUs(parseDelaySpec("uniform:0ms:4ms"), 4), 2000);
  assert.equal(meanDelayUs(parseDelaySpec("spike:50ms:0.05"), 4), 2500);
  assert.equal(meanDelayUs(parseDelaySpec("none"), 4), 0);
  assert.throws(() => checkDelaySpec(straggler, 1), RangeError);
  checkDelaySpec(straggler, 2);
});

Deno.test("applyDelay never returns early, in both modes", async () => {
  for (const mode of ["busy", "sleep"] as const) {
    for (const us of [0, 300, 1500, 3500]) {
      const start = performance.now();
      const spent = await applyDelay(us, mode);
      const elapsed = (performance.now() - start) * 1000;
      assert.ok(spent >= us, `${mode} ${us}: spent ${spent}`);
      assert.ok(elapsed >= us);
    }
  }
});
