import assert from "node:assert/strict";
import { connectLocalGroup } from "../transports/open.ts";
import { authenticateAsClient } from "../transports/_auth.ts";
import { encodeFrame, FrameKind, writeAll } from "../transports/_framing.ts";
import { startRendezvousStore } from "../transports/rendezvous.ts";
import { connectTcp } from "../transports/tcp.ts";
import { StreamTransport } from "../transports/_stream_transport.ts";
import { PeerError } from "../transports/errors.ts";

function pattern(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + seed * 7 + (i >>> 8)) & 0xff;
  return out;
}

const variants = [
  { kind: "tcp", socketIo: "native", name: "tcp (native socket I/O)" },
  { kind: "tcp", socketIo: "deno", name: "tcp (Deno socket I/O)" },
  { kind: "unix", socketIo: "auto", name: "unix" },
] as const;

for (const { kind, socketIo, name } of variants) {
  Deno.test(`${name}: 0 B, 1 B, 64 KiB and 16 MiB messages arrive intact`, async () => {
    const g = await connectLocalGroup(kind, 2, { socketIo });
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

  Deno.test(`${name}: tags received out of order and repeated tags in send order`, async () => {
    const g = await connectLocalGroup(kind, 3, { socketIo });
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

  Deno.test(`${name}: a receive from a peer that closed rejects naming the peer`, async () => {
    const g = await connectLocalGroup(kind, 2, { socketIo });
    const [a, b] = g.transports;
    const pending = a.recv(1, 5);
    await b.close();
    await assert.rejects(pending, (e: Error) => e instanceof PeerError && /Rank 1/.test(e.message));
    await g.close();
  });
}

for (const socketIo of ["native", "deno"] as const) {
  Deno.test(`tcp (${socketIo} socket I/O): a peer that dies in the middle of a message gives an error, not a hang`, async () => {
    const token = "tok";
    const store = await startRendezvousStore({ token });
    // Rank 1 is played by hand: it joins the mesh like a real rank, writes half a
    // frame and drops the connection.
    const rank0 = connectTcp({ rank: 0, size: 2, token, master: store.address, socketIo });
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
}

Deno.test("tcp: the transport uses the socket I/O asked for, and native is the default here", async () => {
  for (const socketIo of ["native", "deno", "auto"] as const) {
    const g = await connectLocalGroup("tcp", 2, { socketIo });
    try {
      for (const t of g.transports) {
        assert.ok(t instanceof StreamTransport);
        assert.equal(t.socketIo, socketIo === "deno" ? "deno" : "native", socketIo);
      }
    } finally {
      await g.close();
    }
  }
});

Deno.test("tcp: native and Deno socket I/O carry the same bytes both ways at once, from 0 B to 8 MiB (writes that fill the socket wait and go on)", async () => {
  const sizes = [0, 1, 15, 1024, 16 * 1024 + 3, 200_000, 8 * 1024 * 1024];
  for (const socketIo of ["native", "deno"] as const) {
    const g = await connectLocalGroup("tcp", 3, { socketIo });
    try {
      // Every rank sends every size to every other rank before receiving anything.
      await Promise.all(g.transports.map(async (t) => {
        const sends: Promise<void>[] = [];
        for (let q = 0; q < 3; q++) {
          if (q === t.rank) continue;
          sizes.forEach((n, i) => sends.push(t.send(q, i, pattern(n, 10 * t.rank + q + i))));
        }
        for (let q = 0; q < 3; q++) {
          if (q === t.rank) continue;
          for (let i = 0; i < sizes.length; i++) {
            const got = await t.recv(q, i);
            assert.equal(got.byteLength, sizes[i]);
            assert.deepEqual(
              got,
              pattern(sizes[i], 10 * q + t.rank + i),
              `${socketIo} ${q}->${t.rank} #${i}`,
            );
          }
        }
        await Promise.all(sends);
      }));
    } finally {
      await g.close();
    }
  }
});

Deno.test("tcp: a socket I/O mode that cannot be used is refused with a clear error", async () => {
  await assert.rejects(
    connectLocalGroup("unix", 2, { socketIo: "native" }),
    (e: Error) =>
      e instanceof TypeError && /Native socket I\/O is for TCP, not unix/.test(e.message),
  );
  await assert.rejects(
    connectLocalGroup("tcp", 2, { socketIo: "fast" as "native" }),
    (e: Error) => e instanceof TypeError && /auto, native or deno, got 'fast'/.test(e.message),
  );
});

Deno.test("tcp (native socket I/O): frames are read while no receive waits (they are held, not left in the socket)", async () => {
  const g = await connectLocalGroup("tcp", 2, { socketIo: "native" });
  try {
    const [a, b] = g.transports;
    await b.send(0, 7, pattern(5000, 7));
    await b.send(0, 8, pattern(70_000, 8));
    const deadline = Date.now() + 5000;
    while (a.stats!().bufferedBytes < 75_000 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(a.stats!().bufferedBytes, 75_000);
    assert.deepEqual(await a.recv(1, 8), pattern(70_000, 8));
    assert.deepEqual(await a.recv(1, 7), pattern(5000, 7));
    assert.equal(a.stats!().bufferedBytes, 0);
  } finally {
    await g.close();
  }
});

Deno.test("tcp: without every permission, auto falls back to Deno's socket ops and native is refused", async () => {
  const script = new URL("./ranks/socket_io_permissions.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-ffi", "--allow-read", "--allow-env", script],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout).trim().split("\n");
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.equal(stdout[0], "deno,deno");
  assert.match(stdout[1], /^TypeError: Native socket I\/O needs Linux and every permission/);
});

/** Fails instead of hanging when `p` does not settle within `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

Deno.test("tcp (native socket I/O): a receive that waits past its spin, or may not spin at all, still gets its data", async () => {
  for (const spinWhile of [() => true, () => false]) {
    const g = await connectLocalGroup("tcp", 2, { socketIo: "native", spinUs: 50, spinWhile });
    try {
      const [a, b] = g.transports;
      const small = a.recv(1, 0);
      const large = a.recv(1, 1);
      // Long after the 50 µs spin: the sockets wait in Deno's ops by now.
      await new Promise((r) => setTimeout(r, 300));
      await b.send(0, 0, pattern(100, 1));
      await b.send(0, 1, pattern(3 * 1024 * 1024, 2));
      assert.deepEqual(await within(small, 5000, "the small receive"), pattern(100, 1));
      assert.deepEqual(await within(large, 5000, "the large receive"), pattern(3 * 1024 * 1024, 2));
      // And the next exchange, right away, in both directions.
      const back = b.recv(0, 2);
      await a.send(1, 2, pattern(5000, 3));
      assert.deepEqual(await within(back, 5000, "the reply"), pattern(5000, 3));
    } finally {
      await g.close();
    }
  }
});
