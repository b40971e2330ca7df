import assert from "node:assert/strict";
import fc from "fast-check";
import { IterationArena } from "../collectives/arena.ts";
import type { Alltoallv, IterationBlocks } from "../collectives/alltoallv.ts";
import { BlsAlltoallv } from "../collectives/bls.ts";
import { ProgressEngine } from "../collectives/progress.ts";
import { SyncAlltoallv } from "../collectives/sync.ts";
import { checkBlock, fillBlock } from "../bench/workloads/blocks.ts";
import { connectLocalGroup } from "../transports/open.ts";
import { startRendezvousStore } from "../transports/rendezvous.ts";

/** Slots start at 64 KiB: sizes above that make a slot grow. */
const blockBytes = fc.oneof(
  { weight: 1, arbitrary: fc.constant(0) },
  { weight: 3, arbitrary: fc.integer({ min: 1, max: 16 }) },
  { weight: 2, arbitrary: fc.integer({ min: 17, max: 4096 }) },
  { weight: 1, arbitrary: fc.integer({ min: 64 * 1024 + 1, max: 200 * 1024 }) },
);

interface Group {
  colls: Alltoallv[];
  close(): Promise<void>;
}

async function threadGroup(n: number, lag: number): Promise<Group> {
  const token = crypto.randomUUID();
  const store = await startRendezvousStore({ token });
  const engines = await Promise.all(
    Array.from(
      { length: n },
      (_, rank) => ProgressEngine.start("tcp", { rank, size: n, token, master: store.address }),
    ),
  );
  return {
    colls: engines.map((e) => e.alltoallv({ lag, timeoutMs: 20_000 })),
    close: async () => {
      await Promise.all(engines.map((e) => e.close()));
      await store.close();
    },
  };
}

async function inlineGroup(n: number, lag: number): Promise<Group> {
  const g = await connectLocalGroup("tcp", n);
  return {
    colls: g.transports.map((t) => {
      const arena = new IterationArena(lag + 2);
      return lag === 0 ? new SyncAlltoallv(t, { arena }) : new BlsAlltoallv(t, { lag, arena });
    }),
    close: () => g.close(),
  };
}

/**
 * Runs `iters` iterations on every rank; checks each result the moment it is
 * returned (views are valid until the next call), byte for byte, and that
 * iterations come back in order, each exactly once.
 */
async function exchangeAll(
  group: Group,
  iters: number,
  sizeOf: (iter: number, src: number, dst: number) => number,
): Promise<void> {
  const n = group.colls.length;
  await Promise.all(group.colls.map(async (c) => {
    const p = c.rank;
    let expected = 0;
    const check = (res: IterationBlocks) => {
      assert.equal(res.iter, expected++, `rank ${p}: iterations out of order`);
      for (let q = 0; q < n; q++) {
        const got = res.blocks[q];
        assert.equal(got.length, sizeOf(res.iter, q, p), `iteration ${res.iter} ${q}->${p}`);
        assert.equal(checkBlock(got, res.iter, q, p), -1, `iteration ${res.iter} ${q}->${p}`);
      }
    };
    for (let t = 0; t < iters; t++) {
      const blocks = Array.from(
        { length: n },
        (_, q) => fillBlock(new Uint8Array(sizeOf(t, p, q)), t, p, q),
      );
      const res = await c.exchange(blocks);
      if (res) check(res);
    }
    for (const res of await c.drain()) check(res);
    assert.equal(expected, iters, `rank ${p} got ${expected} of ${iters} iterations`);
  }));
}

Deno.test("engine and inline arenas: random block sizes (0, tiny, larger than a slot), lags 0-8, 2-5 ranks, byte for byte", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom("thread" as const, "inline" as const),
      fc.integer({ min: 2, max: 5 }),
      fc.integer({ min: 0, max: 8 }),
      fc.integer({ min: 1, max: 12 }),
      fc.array(blockBytes, { minLength: 64, maxLength: 64 }),
      async (mode, n, lag, iters, table) => {
        const group = await (mode === "thread" ? threadGroup(n, lag) : inlineGroup(n, lag));
        try {
          await exchangeAll(group, iters, (t, s, d) => table[(t * 7 + s * 5 + d * 3) % 64]);
        } finally {
          await group.close();
        }
      },
    ),
    { numRuns: 14 },
  );
});

Deno.test("engine: a view handed out by call t is intact until call t+1, while peers run ahead", async () => {
  for (const lag of [0, 1, 3]) {
    const group = await threadGroup(2, lag);
    try {
      const [mine, peer] = group.colls;
      const iters = 12;
      const size = 48 * 1024;
      const make = (t: number, p: number) =>
        Array.from({ length: 2 }, (_, q) => fillBlock(new Uint8Array(size), t, p, q));
      // The peer runs as far ahead as the lag bound lets it.
      const peerRun = (async () => {
        for (let t = 0; t < iters; t++) await peer.exchange(make(t, 1));
        await peer.drain();
      })();
      for (let t = 0; t < iters; t++) {
        const res = await mine.exchange(make(t, 0));
        if (!res) continue;
        const snapshot = res.blocks[1].slice();
        // Let the engine receive whatever the peer can send meanwhile.
        await new Promise((r) => setTimeout(r, 15));
        assert.deepEqual(res.blocks[1], snapshot, `lag ${lag}: iteration ${res.iter} changed`);
        assert.equal(checkBlock(res.blocks[1], res.iter, 1, 0), -1);
      }
      const rest = await mine.drain();
      await new Promise((r) => setTimeout(r, 15));
      for (const res of rest) assert.equal(checkBlock(res.blocks[1], res.iter, 1, 0), -1);
      await peerRun;
    } finally {
      await group.close();
    }
  }
});

Deno.test("engine: copy option hands out blocks of their own", async () => {
  const token = crypto.randomUUID();
  const store = await startRendezvousStore({ token });
  const engines = await Promise.all(
    [0, 1].map((rank) =>
      ProgressEngine.start("unix", { rank, size: 2, token, master: store.address })
    ),
  );
  try {
    const colls = engines.map((e) => e.alltoallv({ lag: 0, copy: true }));
    const kept: Uint8Array[] = [];
    for (let t = 0; t < 6; t++) {
      const res = await Promise.all(
        colls.map((c) =>
          c.exchange([0, 1].map((q) => fillBlock(new Uint8Array(100), t, c.rank, q)))
        ),
      );
      kept.push(res[0]!.blocks[1]);
    }
    kept.forEach((b, t) => assert.equal(checkBlock(b, t, 1, 0), -1, `kept block ${t}`));
    assert.ok(!(kept[0].buffer instanceof SharedArrayBuffer));
  } finally {
    await Promise.all(engines.map((e) => e.close()));
    await store.close();
  }
});

Deno.test("engine: peak buffered bytes are measured on the engine thread", async () => {
  const group = await threadGroup(2, 2);
  try {
    // Lag 2: rank 1 posts iterations 0 and 1 before rank 0 posts anything, so
    // rank 0's engine holds at least iteration 0's 10,000 bytes until rank 0
    // asks for them.
    const ahead = group.colls[1];
    const block = (t: number) => fillBlock(new Uint8Array(10_000), t, 1, 0);
    assert.equal(await ahead.exchange([block(0), new Uint8Array(0)]), undefined);
    assert.equal(await ahead.exchange([block(1), new Uint8Array(0)]), undefined);
    await new Promise((r) => setTimeout(r, 200));
    const behind = (async () => {
      for (let t = 0; t < 4; t++) {
        await group.colls[0].exchange([
          new Uint8Array(0),
          fillBlock(new Uint8Array(10_000), t, 0, 1),
        ]);
      }
      await group.colls[0].drain();
    })();
    for (let t = 2; t < 4; t++) await ahead.exchange([block(t), new Uint8Array(0)]);
    await ahead.drain();
    await behind;
    const peak = group.colls[0].buffered!().peakBytes;
    // Never more than lag + 1 iterations plus the one being filled.
    assert.ok(peak >= 10_000 && peak <= 4 * 10_000, `peak ${peak}`);
  } finally {
    await group.close();
  }
});

Deno.test("engine: a peer that stops reading (and sending) gives a clear error within the lag bound, not a hang or unbounded memory", async () => {
  const token = crypto.randomUUID();
  const store = await startRendezvousStore({ token });
  const script = new URL("./ranks/engine_back_pressure.ts", import.meta.url).pathname;
  const spawn = (rank: number) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", script, String(rank), String(store.address.port), token],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  const stopped = spawn(1);
  const sender = spawn(0);
  try {
    const out = await sender.output();
    const text = new TextDecoder().decode(out.stdout).trim();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    const r = JSON.parse(text) as { calls: number; error: string; name: string; peakRss: number };
    assert.equal(r.name, "TimeoutError", r.error);
    assert.match(r.error, /not reading|waiting for rank\(s\) 1/);
    // Lag 2 and 8 iterations from rank 1: at most 8 + 2 calls can complete.
    assert.ok(r.calls <= 10, `the sender made ${r.calls} calls before it stopped`);
    // 40 calls of 8 MiB would be 320 MiB if blocks piled up; the arenas hold 4 slots.
    assert.ok(r.peakRss < 300 * 1024 * 1024, `peak RSS ${(r.peakRss / 2 ** 20).toFixed(0)} MiB`);
  } finally {
    try {
      stopped.kill("SIGKILL");
    } catch { /* already gone */ }
    await stopped.output();
    await store.close();
  }
});
