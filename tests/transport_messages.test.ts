import assert from "node:assert/strict";
import { connectLocalGroup } from "../transports/open.ts";
import { authenticateAsClient } from "../transports/_auth.ts";
import { encodeFrame, FrameKind, writeAll } from "../transports/_framing.ts";
import { startRendezvousStore } from "../transports/rendezvous.ts";
import { connectTcp } from "../transports/tcp.ts";
import { PeerError } from "../transports/errors.ts";

function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7 + (i >>> 8)) & 0xff;
  return out;
}

for (const kind of ["tcp", "unix"] as const) {
  Deno.test(`${kind}: 0 B, 1 B, 64 KiB and 16 MiB messages arrive intact`, async () => {
    const g = await connectLocalGroup(kind, 2);
    try {
      const [a, b] = g.transports;
      const sizes = [0, 1, 64 * 1024, 16 * 1024 * 1024];
      await Promise.all(sizes.map((n, i) => a.send(1, i, pattern(n, i))));
      for (let i = 0; i < sizes.length; i++) {
        assert.deepEqual(await b.recv(0, i), pattern(sizes[i], i));
      }
    } finally {
      await g.close();
    }
  });

  Deno.test(`${kind}: tags received out of order and repeated tags in send order`, async () => {
    const g = await connectLocalGroup(kind, 3);
    try {
      const [a, b, c] = g.transports;
      for (let tag = 0; tag < 10; tag++) await a.send(2, tag, pattern(10 + tag, tag));
      await b.send(2, 3, pattern(5, 100));
      await b.send(2, 3, pattern(6, 101));
      for (let tag = 9; tag >= 0; tag--) {
        assert.deepEqual(await c.recv(0, tag), pattern(10 + tag, tag));
      }
      assert.deepEqual(await c.recv(1, 3), pattern(5, 100));
      assert.deepEqual(await c.recv(1, 3), pattern(6, 101));
      // A rank sends to itself too.
      await c.send(2, 77, pattern(3, 3));
      assert.deepEqual(await c.recv(2, 77), pattern(3, 3));
    } finally {
      await g.close();
    }
  });

  Deno.test(`${kind}: a receive from a peer that closed rejects naming the peer`, async () => {
    const g = await connectLocalGroup(kind, 2);
    const [a, b] = g.transports;
    const pending = a.recv(1, 5);
    await b.close();
    await assert.rejects(pending, (e: Error) => e instanceof PeerError && /Rank 1/.test(e.message));
    await g.close();
  });
}

Deno.test("tcp: a peer that dies in the middle of a message gives an error, not a hang", async () => {
  const token = "tok";
  const store = await startRendezvousStore({ token });
  // Rank 1 is played by hand: it joins the mesh like a real rank, writes half a
  // frame and drops the connection.
  const rank0 = connectTcp({ rank: 0, size: 2, token, master: store.address });
  const { RendezvousClient } = await import("../transports/rendezvous.ts");
  const client = await RendezvousClient.connect(store.address, token, 1);
  const addr = JSON.parse(await client.get("mesh/addr/0"));
  const conn = await Deno.connect(addr);
  await authenticateAsClient(conn, token, 1, "rank 0", 1 << 20);
  const a = await rank0;
  const frame = encodeFrame(FrameKind.Data, 0, new Uint8Array(100_000));
  await writeAll(conn, frame.subarray(0, 50_000));
  const pending = a.recv(1, 0);
  conn.close();
  await assert.rejects(pending, /rank 1/i);
  client.close();
  await a.close();
  await store.close();
});
