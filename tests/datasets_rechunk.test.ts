import assert from "node:assert/strict";
import fc from "fast-check";
import { concatRows, rechunk } from "../datasets/_rechunk.ts";
import type { DatasetChunk } from "../datasets/stream.ts";

const NAMES = ["a", "b", "c", "d"];
const DENSE = 2;

/** One row as plain values: its dense values and one bag per feature (absent features: empty). */
interface Row {
  dense: number[];
  bags: number[][];
}

/** Chunks of rows, each knowing only the first `features` features (features appear over time). */
const chunksArbitrary = fc.array(
  fc.record({
    rows: fc.array(
      fc.record({
        dense: fc.array(fc.integer({ min: -50, max: 50 }), { minLength: DENSE, maxLength: DENSE }),
        bags: fc.array(fc.array(fc.nat(999), { maxLength: 3 }), {
          minLength: NAMES.length,
          maxLength: NAMES.length,
        }),
      }),
      { maxLength: 12 },
    ),
    newFeatures: fc.nat(2),
  }),
  { minLength: 1, maxLength: 8 },
);

function build(spec: { rows: Row[]; newFeatures: number }[]): {
  chunks: DatasetChunk[];
  rows: Row[];
} {
  const chunks: DatasetChunk[] = [];
  const rows: Row[] = [];
  let features = 1;
  let firstRow = 0;
  for (const c of spec) {
    features = Math.min(NAMES.length, features + c.newFeatures);
    const known = features;
    const sparse = NAMES.slice(0, known).map((name, j) => {
      const offsets = new Int32Array(c.rows.length + 1);
      const indices: number[] = [];
      c.rows.forEach((r, i) => {
        indices.push(...r.bags[j]);
        offsets[i + 1] = indices.length;
      });
      return { name, offsets, indices: Int32Array.from(indices) };
    });
    chunks.push({
      firstRow,
      rows: c.rows.length,
      denseNames: ["x", "y"],
      dense: Float32Array.from(c.rows.flatMap((r) => r.dense)),
      sparse,
    });
    for (const r of c.rows) {
      rows.push({ dense: r.dense, bags: r.bags.map((b, j) => (j < known ? b : [])) });
    }
    firstRow += c.rows.length;
  }
  return { chunks, rows };
}

function rowsOf(chunk: DatasetChunk): Row[] {
  return Array.from({ length: chunk.rows }, (_, i) => ({
    dense: [...chunk.dense.subarray(i * DENSE, (i + 1) * DENSE)],
    bags: chunk.sparse.map((f) => [...f.indices.subarray(f.offsets[i], f.offsets[i + 1])]),
  }));
}

Deno.test("rechunk: any chunk sizes become exact batches with every row, bag and feature name (property)", async () => {
  await fc.assert(
    fc.asyncProperty(chunksArbitrary, fc.integer({ min: 1, max: 15 }), async (spec, batch) => {
      const { chunks, rows } = build(spec);
      const out: DatasetChunk[] = [];
      for await (const c of rechunk(chunks, batch, NAMES, DENSE)) out.push(c);
      const expectedSizes: number[] = [];
      for (let left = rows.length; left > 0; left -= batch) {
        expectedSizes.push(Math.min(batch, left));
      }
      assert.deepEqual(out.map((c) => c.rows), expectedSizes);
      let next = 0;
      for (const c of out) {
        assert.equal(c.firstRow, next);
        assert.deepEqual(c.sparse.map((f) => f.name), NAMES);
        assert.equal(c.sparse.every((f) => f.offsets.length === c.rows + 1), true);
        assert.deepEqual(rowsOf(c), rows.slice(next, next + c.rows));
        next += c.rows;
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("concatRows: the first rows of several chunks, renumbered (property)", () => {
  fc.assert(
    fc.property(chunksArbitrary, fc.nat(), fc.nat(1000), (spec, pick, firstRow) => {
      const { chunks, rows } = build(spec);
      if (rows.length === 0) return;
      const want = 1 + (pick % rows.length);
      const c = concatRows(chunks, want, NAMES, DENSE, firstRow);
      assert.equal(c.rows, want);
      assert.equal(c.firstRow, firstRow);
      assert.deepEqual(c.sparse.map((f) => f.name), NAMES);
      assert.deepEqual(rowsOf(c), rows.slice(0, want));
    }),
    { numRuns: 300 },
  );
});
