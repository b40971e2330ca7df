import assert from "node:assert/strict";
import fc from "fast-check";
import { architecture } from "../dlrm/config.ts";
import {
  batchRanges,
  SHARDING_KINDS,
  shardTables,
  splitRows,
  tableCosts,
} from "../dlrm/sharding.ts";
import { formatSkew, parseSkew, synthesizeDataset, tablePooling } from "../dlrm/synthetic.ts";
import { UsageError } from "../util/errors.ts";

Deno.test("contiguous sharding as the reference: divmod, first ranks get one more", () => {
  assert.deepEqual(shardTables("contiguous", 26, 4).map((s) => s.length), [7, 7, 6, 6]);
  assert.deepEqual(shardTables("contiguous", 26, 4)[1], [7, 8, 9, 10, 11, 12, 13]);
  assert.deepEqual(shardTables("roundrobin", 5, 2), [[0, 2, 4], [1, 3]]);
  assert.deepEqual(shardTables("contiguous", 2, 3), [[0], [1], []]);
  assert.throws(() => shardTables("random" as "contiguous", 3, 2), UsageError);
});

Deno.test("every strategy places every table on exactly one rank, in ascending order", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...SHARDING_KINDS),
      fc.integer({ min: 0, max: 40 }),
      fc.integer({ min: 1, max: 9 }),
      fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { maxLength: 40 }),
      (kind, tables, ranks, costs) => {
        const shards = shardTables(kind, tables, ranks, costs);
        assert.equal(shards.length, ranks);
        const all = shards.flat().sort((a, b) => a - b);
        assert.deepEqual(all, Array.from({ length: tables }, (_, t) => t));
        for (const s of shards) assert.deepEqual(s, [...s].sort((a, b) => a - b));
      },
    ),
  );
});

Deno.test("balanced sharding spreads expensive tables: no rank above the greedy bound", () => {
  const costs = [10, 10, 1, 1, 1, 1, 1, 1, 10, 10, 1, 1];
  const shards = shardTables("balanced", costs.length, 4, costs);
  const loads = shards.map((s) => s.reduce((sum, t) => sum + costs[t], 0));
  assert.deepEqual(loads.map((l) => l >= 10), [true, true, true, true]);
  assert.ok(Math.max(...loads) <= 10 + 2, `loads ${loads}`);
  // Contiguous puts two heavy tables on one rank.
  const contiguous = shardTables("contiguous", costs.length, 4).map((s) =>
    s.reduce((x, t) => x + costs[t], 0)
  );
  assert.ok(Math.max(...contiguous) > Math.max(...loads));
});

Deno.test("batch splits: slices differ by at most one, cover every row, partial last batch", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 500 }),
      fc.integer({ min: 1, max: 64 }),
      fc.integer({ min: 1, max: 9 }),
      (rows, batch, ranks) => {
        const batches = batchRanges(rows, batch);
        let next = 0;
        for (const b of batches) {
          assert.equal(b.start, next);
          assert.ok(b.count >= 1 && b.count <= batch);
          const slices = splitRows(b, ranks);
          assert.equal(slices.length, ranks);
          let at = b.start;
          for (const s of slices) {
            assert.equal(s.start, at);
            at += s.count;
          }
          assert.equal(at, b.start + b.count);
          const sizes = slices.map((s) => s.count);
          assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1);
          next += b.count;
        }
        assert.equal(next, rows);
      },
    ),
  );
  assert.throws(() => batchRanges(10, 0), UsageError);
});

Deno.test("skew specs parse, format back, and reject bad input with the spec named", () => {
  for (const s of ["none", "tables:2:8", "zipf:1.2", "burst:0.1:16"]) {
    assert.equal(formatSkew(parseSkew(s)), s);
  }
  for (const s of ["", "tables:1", "tables:-1:2", "zipf:x", "burst:2:3", "none:1", "hot:1:2"]) {
    assert.throws(
      () => parseSkew(s),
      (e) => e instanceof UsageError && e.message.includes(`'${s}'`),
    );
  }
});

Deno.test("synthetic data: seeded, pooling and skew shape the bags", () => {
  const config = architecture("kaggle", { maxIndRange: 1000 });
  const a = synthesizeDataset({ config, rows: 400, seed: 3, pooling: 2 });
  const b = synthesizeDataset({ config, rows: 400, seed: 3, pooling: 2 });
  assert.deepEqual(a.sparse[5].indices, b.sparse[5].indices);
  assert.deepEqual(a.dense, b.dense);
  assert.equal(a.denseNames.length, 13);
  assert.ok(a.sparse.every((f, t) => f.indices.every((i) => i >= 0 && i < config.tableSizes[t])));
  assert.ok(tableCosts(a).every((c) => c === 3));

  // tables:1:4 on 4 ranks: rank 1's contiguous tables (7..13) get 4x the pooling.
  const hot = synthesizeDataset({
    config,
    rows: 400,
    seed: 3,
    pooling: 1.5,
    skew: parseSkew("tables:1:4"),
    ranks: 4,
  });
  const means = tableCosts(hot).map((c) => c - 1);
  for (let t = 0; t < 26; t++) {
    const expected = t >= 7 && t <= 13 ? 6 : 1.5;
    assert.ok(Math.abs(means[t] - expected) < 0.15 * expected, `table ${t}: ${means[t]}`);
  }
  assert.throws(() => tablePooling(26, 1, parseSkew("tables:4:2"), 4), /names rank 4/);

  // burst:1:3 makes every block hot; burst:0:3 none.
  const always = synthesizeDataset({
    config,
    rows: 50,
    seed: 1,
    skew: parseSkew("burst:1:3"),
    blockRows: 10,
  });
  assert.ok(always.sparse.every((f) => f.indices.length === 150));
  const never = synthesizeDataset({
    config,
    rows: 50,
    seed: 1,
    skew: parseSkew("burst:0:3"),
    blockRows: 10,
  });
  assert.ok(never.sparse.every((f) => f.indices.length === 50));
  // Within a block, a table is hot for all rows or none.
  const some = synthesizeDataset({
    config,
    rows: 60,
    seed: 2,
    skew: parseSkew("burst:0.5:2"),
    blockRows: 20,
  });
  for (const f of some.sparse) {
    for (let block = 0; block < 3; block++) {
      const n = f.offsets[(block + 1) * 20] - f.offsets[block * 20];
      assert.ok(n === 20 || n === 40, `block ${block} has ${n} indices`);
    }
  }
});
