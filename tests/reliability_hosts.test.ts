/**
 * Ranks started by hand, as on several hosts (distinct loopback addresses stand
 * in for hosts): torchrun-style, Slurm-style and PMI-style variables, `--bind`
 * to each rank's own address, a clear failure within the timeout when the
 * secrets differ, and strangers hammering the rendezvous port and a rank's
 * listener while a validated run goes on.
 */

import assert from "node:assert/strict";
import { authenticateAsClient, NO_RANK } from "../transports/_auth.ts";
import { encodeFrame, FrameKind, HEADER_BYTES, writeAll } from "../transports/_framing.ts";
import { RendezvousClient } from "../transports/rendezvous.ts";
import {
  benchArgs,
  type Ended,
  freePort,
  lastError,
  leftBehind,
  readResults,
  type Running,
  startCli,
  waitEnd,
} from "./_helpers/reliability_run.ts";

type Style = "torchrun" | "slurm" | "pmi";

function rankEnv(style: Style, rank: number, size: number): Record<string, string> {
  switch (style) {
    case "torchrun":
      return { RANK: String(rank), WORLD_SIZE: String(size) };
    case "slurm":
      return { SLURM_PROCID: String(rank), SLURM_NTASKS: String(size) };
    case "pmi":
      return { PMI_RANK: String(rank), PMI_SIZE: String(size) };
  }
}

interface HandRun {
  out: string;
  ranks: Running[];
  master: { hostname: string; port: number };
}

/** Starts one rank by hand, as a user would on its host. */
function startRank(
  run: HandRun,
  style: Style,
  rank: number,
  token: string,
  bind: string,
  extra: string[] = [],
): Running {
  const r = startCli(
    benchArgs(run.out, ["--bind", bind, "--validate", "--iters", "100", ...extra]),
    {
      ...rankEnv(style, rank, 2),
      MASTER_ADDR: run.master.hostname,
      MASTER_PORT: String(run.master.port),
      BLSBENCH_TOKEN: token,
    },
  );
  run.ranks.push(r);
  return r;
}

async function handRun(hostname: string, body: (run: HandRun) => Promise<void>): Promise<void> {
  const out = await Deno.makeTempDir({ prefix: "blsbench-hosts-" });
  const run: HandRun = { out, ranks: [], master: { hostname, port: freePort(hostname) } };
  try {
    await body(run);
  } finally {
    for (const r of run.ranks) {
      try {
        r.child.kill("SIGKILL");
      } catch { /* ended */ }
      await r.child.status;
      await r.stderr;
    }
    await leftBehind(out);
    await Deno.remove(out, { recursive: true }).catch(() => {});
  }
}

async function assertValidated(out: string, ends: Ended[]): Promise<void> {
  for (const e of ends) assert.equal(e.code, 0, e.stderr);
  const { run, rows } = await readResults(out);
  assert.equal(run.status, "completed");
  assert.equal(rows.length, 2);
  for (const r of rows) assert.equal(r.validated, "true");
}

Deno.test("two ranks by hand on 127.0.0.2 and 127.0.0.3 (torchrun-style, --bind): a validated run", async () => {
  await handRun("127.0.0.2", async (run) => {
    const token = crypto.randomUUID();
    const r0 = startRank(run, "torchrun", 0, token, "127.0.0.2");
    const r1 = startRank(run, "torchrun", 1, token, "127.0.0.3");
    await assertValidated(run.out, await Promise.all([waitEnd(r0), waitEnd(r1)]));
  });
});

for (const style of ["slurm", "pmi"] as const) {
  Deno.test(`two ranks by hand, ${style}-style variables: a validated run`, async () => {
    await handRun("127.0.0.1", async (run) => {
      const token = crypto.randomUUID();
      const r1 = startRank(run, style, 1, token, "127.0.0.1");
      const r0 = startRank(run, style, 0, token, "127.0.0.1");
      await assertValidated(run.out, await Promise.all([waitEnd(r0), waitEnd(r1)]));
    });
  });
}

Deno.test("ranks with different secrets: a clear failure on both within the timeout", async () => {
  await handRun("127.0.0.2", async (run) => {
    const timeoutS = 3;
    const r0 = startRank(run, "torchrun", 0, "secret-a", "127.0.0.2", ["--timeout", "3"]);
    const r1 = startRank(run, "torchrun", 1, "secret-b", "127.0.0.3", ["--timeout", "3"]);
    const [e0, e1] = await Promise.all([waitEnd(r0, 20_000), waitEnd(r1, 20_000)]);
    assert.equal(e1.code, 1);
    assert.match(
      lastError(e1.stderr),
      /^error: Rank 1 could not join the run: the rendezvous store at 127\.0\.0\.2:\d+ failed to prove the run's secret \(is BLSBENCH_TOKEN the same on every rank\?\)/,
    );
    assert.equal(e0.code, 1);
    assert.match(
      lastError(e0.stderr),
      /^error: Rank 0 could not join the run: Rank 0 timed out after 3000 ms: rank\(s\) 1 did not connect; the rendezvous store dropped 1 connection\(s\) that failed the handshake \(is BLSBENCH_TOKEN the same on every rank\?\)/,
    );
    // The wrong rank fails at once (before the other's timeout); the right one
    // at its timeout, not later (start-up included, with room for a loaded machine).
    assert.ok(e1.endedAt <= e0.endedAt, "the rank with the wrong secret failed first");
    assert.ok(
      e0.endedAt - r0.startedAt < timeoutS * 1000 + 10_000,
      `${e0.endedAt - r0.startedAt} ms`,
    );
  });
});

/** One stranger's visit; resolves when it is over (never hangs: everything is bounded). */
async function stranger(kind: number, where: { hostname: string; port: number }): Promise<void> {
  let conn: Deno.TcpConn | undefined;
  try {
    conn = await Deno.connect(where);
    switch (kind % 6) {
      case 0: // random bytes
        await writeAll(conn, crypto.getRandomValues(new Uint8Array(1 + (kind * 37) % 2000)));
        break;
      case 1: { // a header announcing 1 GiB
        const f = encodeFrame(FrameKind.Hello, 0, new Uint8Array(0));
        new DataView(f.buffer).setUint32(8, 1 << 30, true);
        await writeAll(conn, f);
        break;
      }
      case 2: { // a hello as rank 1, then a made-up proof (a wrong HMAC)
        const hello = new Uint8Array(20);
        hello[0] = 1;
        await writeAll(conn, encodeFrame(FrameKind.Hello, 0, hello, 1));
        await conn.read(new Uint8Array(HEADER_BYTES + 52));
        const proof = crypto.getRandomValues(new Uint8Array(32));
        await writeAll(conn, encodeFrame(FrameKind.Hello, 0, proof, 1));
        await conn.read(new Uint8Array(16));
        break;
      }
      case 3: // the handshake with a wrong secret, as a store client
        await authenticateAsClient(conn, "guess", NO_RANK, "victim", 1024).catch(() => {});
        break;
      case 4: // a store request without any handshake
        await writeAll(
          conn,
          encodeFrame(
            FrameKind.StoreRequest,
            0,
            new TextEncoder().encode('{"id":1,"op":"set","key":"mesh/addr/1","value":"x"}'),
          ),
        );
        break;
      case 5: // connect and say nothing for a while
        await new Promise((r) => setTimeout(r, 300));
        break;
    }
  } catch { /* refused or reset: a stranger does not care */ }
  try {
    conn?.close();
  } catch { /* closed */ }
}

Deno.test("strangers on the rendezvous port and a rank's listener during a validated run: dropped, logged, the run completes", async () => {
  await handRun("127.0.0.2", async (run) => {
    const token = crypto.randomUUID();
    const r0 = startRank(run, "torchrun", 0, token, "127.0.0.2", ["--iters", "300"]);
    // Find rank 0's listener the way rank 1 would (this test knows the secret).
    const client = await RendezvousClient.connect(run.master, token, NO_RANK, 20_000);
    const listener = JSON.parse(await client.get("mesh/addr/0", 20_000));
    client.close();
    assert.equal(listener.hostname, "127.0.0.2", "rank 0 listens on its --bind address");
    // Strangers first, while rank 0 waits for its peer...
    await Promise.all(Array.from({ length: 12 }, (_, i) => stranger(i, run.master)));
    await Promise.all(Array.from({ length: 12 }, (_, i) => stranger(i, listener)));
    // ...then the real peer arrives, and strangers keep coming during the run.
    const r1 = startRank(run, "torchrun", 1, token, "127.0.0.3", ["--iters", "300"]);
    let done = false;
    const ended = Promise.all([waitEnd(r0), waitEnd(r1)]).finally(() => (done = true));
    for (let i = 0; i < 60 && !done; i++) {
      await Promise.all([stranger(i, run.master), stranger(i + 3, listener)]);
    }
    const ends = await ended;
    await assertValidated(run.out, ends);
    assert.match(ends[0].stderr, /rendezvous: dropped a connection from 127\.0\.0\.1:\d+/);
    assert.match(ends[0].stderr, /rank 0: dropped a connection from 127\.0\.0\.1:\d+/);
    assert.match(ends[0].stderr, /failed to prove the run's secret/);
  });
});
