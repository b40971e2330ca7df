import assert from "node:assert/strict";
import fc from "fast-check";
import { BlsAlltoallv } from "../collectives/bls.ts";
import { alltoallvOnce, SyncAlltoallv } from "../collectives/sync.ts";
import { checkBlock, fillBlock } from "../bench/workloads/blocks.ts";
import { connectLocalGroup } from "../transports/open.ts";

const KINDS = ["tcp", "unix"] as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowMs = () => performance.timeOrigin + performance.now();

/** Block sizes: mostly small, sometimes up to 256 KiB, and zero-length blocks. */
const blockBytes = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 300 }) },
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 256 * 1024 }) },
);

Deno.test("sync alltoallv: random block sizes on 2-5 ranks, both transports, byte for byte", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...KINDS),
      fc.integer({ min: 2, max: 5 }).chain((n) =>
        fc.tuple(fc.constant(n), fc.array(blockBytes, { minLength: n * n, maxLength: n * n }))
      ),
      async (kind, [n, sizes]) => {
        const g = await connectLocalGroup(kind, n);
        try {
          const out = await Promise.all(g.transports.map((t) =>
            alltoallvOnce(
              t,
              0,
              Array.from({ length: n }, (_, q) =>
                fillBlock(new Uint8Array(sizes[t.rank * n + q]), 0, t.rank, q)),
            )
          ));
          for (let p = 0; p < n; p++) {
            for (let q = 0; q < n; q++) {
              assert.equal(out[p][q].length, sizes[q * n + p]);
              assert.equal(checkBlock(out[p][q], 0, q, p), -1, `block ${q}->${p}`);
            }
          }
        } finally {
          await g.close();
        }
      },
    ),
    { numRuns: 16 },
  );
});

interface Trace {
  posted: number[][]; // [rank][iter] post time
  returned: Array<Array<{ iter: number; at: number }>>; // per rank, per call index
}

/**
 * Runs `iters` BLS iterations on every rank of a local group, with random
 * per-rank sleeps before each post, checking every block, and records when each
 * rank posted each iteration and when each call returned.
 */
async function runBls(
  kind: "tcp" | "unix",
  n: number,
  lag: number,
  iters: number,
  sizeOf: (iter: number, src: number, dst: number) => number,
  delayOf: (rank: number, iter: number) => number,
) {
  const g = await connectLocalGroup(kind, n);
  const trace: Trace = {
    posted: Array.from({ length: n }, () => []),
    returned: Array.from({ length: n }, () => []),
  };
  const peaks: number[] = [];
  try {
    await Promise.all(g.transports.map(async (t) => {
      const c = new BlsAlltoallv(t, { lag });
      const seen: number[] = [];
      const check = (iter: number, blocks: Uint8Array[]) => {
        seen.push(iter);
        for (let q = 0; q < n; q++) {
          assert.equal(
            blocks[q].length,
            sizeOf(iter, q, t.rank),
            `size of ${q}->${t.rank} @${iter}`,
          );
          assert.equal(
            checkBlock(blocks[q], iter, q, t.rank),
            -1,
            `bytes of ${q}->${t.rank} @${iter}`,
          );
        }
      };
      for (let it = 0; it < iters; it++) {
        const d = delayOf(t.rank, it);
        if (d > 0) await sleep(d);
        const blocks = Array.from(
          { length: n },
          (_, q) => fillBlock(new Uint8Array(sizeOf(it, t.rank, q)), it, t.rank, q),
        );
        trace.posted[t.rank][it] = nowMs();
        const res = await c.exchange(blocks);
        trace.returned[t.rank].push({ iter: res ? res.iter : -1, at: nowMs() });
        if (it < lag) assert.equal(res, undefined, "nothing returned while the pipeline fills");
        else {
          assert.equal(res?.iter, it - lag);
          check(res!.iter, res!.blocks);
        }
      }
      for (const res of await c.drain()) check(res.iter, res.blocks);
      assert.deepEqual(
        seen,
        Array.from({ length: iters }, (_, i) => i),
        "every iteration once, in order",
      );
      peaks[t.rank] = c.buffered().peakBytes;
    }));
  } finally {
    await g.close();
  }
  return { trace, peaks };
}

Deno.test("BLS: every block returned for iteration t is what its sender posted for t (2-5 ranks, lags 0-8, delays)", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...KINDS),
      fc.integer({ min: 2, max: 5 }),
      fc.integer({ min: 0, max: 8 }),
      fc.integer({ min: 1, max: 5 }),
      fc.array(blockBytes, { minLength: 64, maxLength: 64 }),
      fc.array(fc.constantFrom(0, 0, 0, 1, 3), { minLength: 32, maxLength: 32 }),
      async (kind, n, lag, extra, sizes, delays) => {
        const iters = lag + extra;
        await runBls(
          kind,
          n,
          lag,
          iters,
          (it, src, dst) => sizes[(it * 7 + src * 3 + dst) % sizes.length],
          (rank, it) => delays[(rank * 5 + it) % delays.length],
        );
      },
    ),
    { numRuns: 24 },
  );
});

Deno.test("BLS lag 0 gives the same blocks as the synchronous alltoallv", async () => {
  const g = await connectLocalGroup("tcp", 3);
  try {
    const sizes = [0, 5, 1000, 70_000, 1, 9, 0, 3, 4096];
    const make = (r: number, it: number) =>
      Array.from(
        { length: 3 },
        (_, q) => fillBlock(new Uint8Array(sizes[r * 3 + q] + it), it, r, q),
      );
    const sync = g.transports.map((t) => new SyncAlltoallv(t, { tagBase: 0 }));
    const bls = g.transports.map((t) => new BlsAlltoallv(t, { lag: 0, tagBase: 100 }));
    for (let it = 0; it < 3; it++) {
      const a = await Promise.all(sync.map((c) => c.exchange(make(c.rank, it))));
      const b = await Promise.all(bls.map((c) => c.exchange(make(c.rank, it))));
      assert.deepEqual(a.map((x) => x.blocks), b.map((x) => x!.blocks));
    }
  } finally {
    await g.close();
  }
});

Deno.test("BLS bound: call t returns only after every rank posted t-k; memory stays within k+1 iterations", async () => {
  for (const [n, lag] of [[2, 1], [3, 2], [4, 4], [3, 0]]) {
    const iters = 14;
    // One size per iteration, nearly uniform, so running ahead would show.
    const sizeOfIter = (it: number) => (it % 5 === 4 ? 1000 : 40_000);
    const { trace, peaks } = await runBls(
      "tcp",
      n,
      lag,
      iters,
      (it, src, dst) => (src === dst ? 0 : sizeOfIter(it)),
      // Rank 0 straggles, so the others run ahead and fill its buffers.
      (rank, it) => (rank === 0 ? 6 : (rank + it) % 3 === 0 ? 2 : 0),
    );
    for (let p = 0; p < n; p++) {
      trace.returned[p].forEach(({ iter, at }, call) => {
        if (iter < 0) return;
        assert.equal(iter, call - lag);
        for (let q = 0; q < n; q++) {
          assert.ok(
            at >= trace.posted[q][iter],
            `rank ${p} returned iteration ${iter} before rank ${q} posted it`,
          );
        }
      });
      // The bound between ranks: no rank posts t+k+1 before every rank has posted t.
      for (let t = 0; t + lag + 1 < iters; t++) {
        for (let q = 0; q < n; q++) {
          assert.ok(
            trace.posted[p][t + lag + 1] >= trace.posted[q][t],
            `rank ${p} posted ${t + lag + 1} before rank ${q} posted ${t} (n=${n}, k=${lag})`,
          );
        }
      }
    }
    // And the lag is used: with lag >= 1 a fast rank posts iteration t+1 while the
    // straggler (rank 0) has not yet posted t; with lag 0 never.
    const ranAhead = Array.from({ length: n - 1 }, (_, i) => i + 1).some((p) =>
      Array.from({ length: iters - 1 }, (_, t) => t).some((t) =>
        trace.posted[p][t + 1] < trace.posted[0][t]
      )
    );
    assert.equal(ranAhead, lag >= 1, `n=${n}, k=${lag}: a fast rank ran ahead: ${ranAhead}`);
    const largestIteration = Math.max(
      ...Array.from({ length: iters }, (_, it) => (n - 1) * sizeOfIter(it)),
    );
    for (let p = 0; p < n; p++) {
      assert.ok(
        peaks[p] <= (lag + 1) * largestIteration,
        `rank ${p} buffered ${
          peaks[p]
        } bytes > ${(lag + 1)} x ${largestIteration} (n=${n}, k=${lag})`,
      );
    }
  }
});
