import assert from "node:assert/strict";
import fc from "fast-check";
import {
  blockSize,
  checkImbalanceSpec,
  formatImbalanceSpec,
  type ImbalanceSpec,
  parseImbalanceSpec,
} from "../bench/models/imbalance.ts";

Deno.test("parseImbalanceSpec reads every form of the grammar", () => {
  assert.deepEqual(parseImbalanceSpec("none"), { kind: "none" });
  assert.deepEqual(parseImbalanceSpec("hot:2:4"), { kind: "hot", rank: 2, factor: 4 });
  assert.deepEqual(parseImbalanceSpec("hot:0:0.5"), { kind: "hot", rank: 0, factor: 0.5 });
  assert.deepEqual(parseImbalanceSpec("random:0.5"), { kind: "random", cv: 0.5 });
  assert.deepEqual(parseImbalanceSpec("zipf:1.1"), { kind: "zipf", s: 1.1 });
  assert.deepEqual(parseImbalanceSpec(" ZIPF:2 "), { kind: "zipf", s: 2 });
});

Deno.test("parseImbalanceSpec rejects bad specs with a SyntaxError", () => {
  for (
    const text of [
      "",
      "skewed",
      "none:1",
      "hot",
      "hot:1",
      "hot:x:2",
      "hot:-1:2",
      "hot:1:-2",
      "hot:1:2:3",
      "random",
      "random:-0.1",
      "random:abc",
      "zipf",
      "zipf:",
      "zipf:1:2",
    ]
  ) {
    assert.throws(() => parseImbalanceSpec(text), SyntaxError, text);
  }
});

const specArb: fc.Arbitrary<ImbalanceSpec> = fc.oneof(
  fc.constant({ kind: "none" } as ImbalanceSpec),
  fc.tuple(fc.nat(100), fc.double({ min: 0, max: 100, noNaN: true })).map(([rank, factor]) =>
    ({ kind: "hot", rank, factor }) as ImbalanceSpec
  ),
  fc.double({ min: 0, max: 10, noNaN: true }).map((cv) =>
    ({ kind: "random", cv }) as ImbalanceSpec
  ),
  fc.double({ min: 0, max: 5, noNaN: true }).map((s) => ({ kind: "zipf", s }) as ImbalanceSpec),
);

Deno.test("formatImbalanceSpec round-trips", () => {
  fc.assert(fc.property(specArb, (spec) => {
    assert.deepEqual(parseImbalanceSpec(formatImbalanceSpec(spec)), spec);
  }));
});

Deno.test("blockSize is a deterministic whole number >= 0", () => {
  fc.assert(fc.property(
    specArb,
    fc.nat(1 << 20),
    fc.nat(),
    fc.nat(10000),
    fc.integer({ min: 1, max: 64 }).chain((ranks) =>
      fc.tuple(fc.constant(ranks), fc.nat(ranks - 1), fc.nat(ranks - 1))
    ),
    (spec, base, seed, iter, [ranks, src, dst]) => {
      const size = blockSize(spec, base, seed, iter, src, dst, ranks);
      assert.ok(Number.isSafeInteger(size) && size >= 0);
      assert.equal(blockSize(spec, base, seed, iter, src, dst, ranks), size);
    },
  ));
});

Deno.test("hot blocks are larger to and from the hot rank only", () => {
  const spec = parseImbalanceSpec("hot:1:3");
  for (let src = 0; src < 4; src++) {
    for (let dst = 0; dst < 4; dst++) {
      const expected = src === 1 || dst === 1 ? 3000 : 1000;
      assert.equal(blockSize(spec, 1000, 0, 5, src, dst, 4), expected);
    }
  }
  assert.throws(() => checkImbalanceSpec(spec, 1), RangeError);
  checkImbalanceSpec(spec, 2);
});

Deno.test("random sizes keep their mean and coefficient of variation, and change per iteration", () => {
  const spec = parseImbalanceSpec("random:0.5");
  const ranks = 16;
  let sum = 0;
  let sumSq = 0;
  let n = 0;
  for (let iter = 0; iter < 400; iter++) {
    for (let src = 0; src < ranks; src++) {
      for (let dst = 0; dst < ranks; dst++) {
        const size = blockSize(spec, 10_000, 3, iter, src, dst, ranks);
        sum += size;
        sumSq += size * size;
        n++;
      }
    }
  }
  const mean = sum / n;
  const cv = Math.sqrt(sumSq / n - mean * mean) / mean;
  assert.ok(Math.abs(mean - 10_000) / 10_000 < 0.02, `mean ${mean}`);
  assert.ok(Math.abs(cv - 0.5) < 0.03, `cv ${cv}`);
  assert.notEqual(blockSize(spec, 10_000, 3, 0, 0, 1, 4), blockSize(spec, 10_000, 3, 1, 0, 1, 4));
  assert.equal(blockSize(parseImbalanceSpec("random:0"), 777, 3, 0, 0, 1, 4), 777);
});

Deno.test("zipf sizes fall with the destination and keep the mean", () => {
  const spec = parseImbalanceSpec("zipf:1");
  const ranks = 8;
  const sizes = Array.from(
    { length: ranks },
    (_, dst) => blockSize(spec, 8000, 0, 0, 3, dst, ranks),
  );
  for (let q = 1; q < ranks; q++) assert.ok(sizes[q] < sizes[q - 1]);
  const harmonic = [1, 2, 3, 4, 5, 6, 7, 8].reduce((s, j) => s + 1 / j, 0);
  assert.equal(sizes[0], Math.round(8000 * ranks / harmonic));
  const mean = sizes.reduce((a, b) => a + b, 0) / ranks;
  assert.ok(Math.abs(mean - 8000) <= 1);
  // The same profile from every source; s = 0 is balanced.
  assert.equal(blockSize(spec, 8000, 0, 9, 5, 2, ranks), sizes[2]);
  assert.equal(blockSize(parseImbalanceSpec("zipf:0"), 8000, 0, 0, 1, 7, ranks), 8000);
});
