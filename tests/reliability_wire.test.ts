/**
 * Hostile bytes: the frame decoder and the handshake under fast-check (random
 * bytes, truncated frames, absurd lengths, unknown kinds, wrong HMACs, tampered
 * handshakes), and an authenticated peer that breaks the protocol (a frame from
 * another rank, a tag outside the window, an unknown kind, a length above the
 * limit): always a protocol error naming the peer, never a crash, never a large
 * allocation.
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeHeader,
  encodeFrame,
  FrameKind,
  type FrameKindValue,
  FrameReader,
  HEADER_BYTES,
  MAGIC,
  MAX_HANDSHAKE_BYTES,
  WIRE_VERSION,
  writeAll,
} from "../transports/_framing.ts";
import { authenticateAsClient, authenticateAsServer } from "../transports/_auth.ts";
import { Mailbox } from "../transports/_mailbox.ts";
import { PeerError, ProtocolError } from "../transports/errors.ts";
import { RendezvousClient, startRendezvousStore } from "../transports/rendezvous.ts";
import { connectTcp } from "../transports/tcp.ts";
import { connectLocalGroup } from "../transports/open.ts";
import { BlsAlltoallv } from "../collectives/bls.ts";
import { ChunkReader, pipePair } from "./_helpers/reliability_pipe.ts";

/** Splits bytes into chunks at the given cut points. */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.byteLength + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...at, bytes.byteLength]) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  return out;
}

/** Reads frames until the end or an error; returns the frames and the error. */
async function readAll(reader: FrameReader): Promise<{ frames: number; error?: unknown }> {
  let frames = 0;
  try {
    while (await reader.next()) frames++;
    return { frames };
  } catch (error) {
    return { frames, error };
  }
}

function header(kind: number, tag: number, length: number, source: number, version = 1) {
  const h = new Uint8Array(HEADER_BYTES);
  const v = new DataView(h.buffer);
  v.setUint16(0, MAGIC, true);
  v.setUint8(2, kind);
  v.setUint8(3, version);
  v.setUint32(4, tag, true);
  v.setUint32(8, length, true);
  v.setUint32(12, source, true);
  return h;
}

Deno.test("frame decoder: random bytes in random chunks give frames or a ProtocolError, never more memory than the limit", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.uint8Array({ maxLength: 3000 }),
      fc.array(fc.nat(), { maxLength: 8 }),
      fc.integer({ min: 0, max: 4096 }),
      async (bytes, cuts, maxLength) => {
        const reader = new FrameReader(new ChunkReader(split(bytes, cuts)), "peer 7", maxLength);
        const { error } = await readAll(reader);
        if (error !== undefined) {
          assert.ok(error instanceof ProtocolError, `not a ProtocolError: ${error}`);
          assert.match((error as Error).message, /peer 7/);
        }
        assert.ok(reader.largestAllocation <= HEADER_BYTES + maxLength);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("frame decoder: plausible headers with any kind, version, length and payload", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 3 }),
      fc.oneof(fc.nat(5000), fc.constant(0xffff_ffff), fc.integer({ min: 0, max: 0xffff_ffff })),
      fc.uint8Array({ maxLength: 5000 }),
      fc.array(fc.nat(), { maxLength: 4 }),
      async (kind, version, length, payload, cuts) => {
        const maxLength = 2048;
        const bytes = new Uint8Array([...header(kind, 5, length, 1, version), ...payload]);
        const reader = new FrameReader(new ChunkReader(split(bytes, cuts)), "rank 1", maxLength);
        const { frames, error } = await readAll(reader);
        const known = kind >= 1 && kind <= 6;
        if (version !== WIRE_VERSION) assert.match(String(error), /wire version/);
        else if (!known) assert.match(String(error), /unknown kind/);
        else if (length > maxLength) assert.match(String(error), /exceeds the limit/);
        else if (payload.byteLength < length) assert.match(String(error), /middle of a frame/);
        else assert.ok(frames >= 1);
        if (error !== undefined) assert.ok(error instanceof ProtocolError);
        assert.ok(reader.largestAllocation <= HEADER_BYTES + maxLength);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("frame decoder: valid frames cut anywhere come back intact up to the cut, then a clear error", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.uint8Array({ maxLength: 600 }), { minLength: 1, maxLength: 5 }),
      fc.nat(),
      async (payloads, cutSeed) => {
        const frames = payloads.map((p, i) => encodeFrame(FrameKind.Data, i, p, 3));
        const all = new Uint8Array(frames.reduce((n, f) => n + f.byteLength, 0));
        let off = 0;
        const ends: number[] = [];
        for (const f of frames) {
          all.set(f, off);
          off += f.byteLength;
          ends.push(off);
        }
        const cut = cutSeed % (all.byteLength + 1);
        const reader = new FrameReader(new ChunkReader([all.subarray(0, cut)]), "rank 3", 1024);
        const whole = ends.filter((e) => e <= cut).length;
        for (let i = 0; i < whole; i++) {
          const f = await reader.next();
          assert.deepEqual(f?.payload, payloads[i]);
          assert.equal(f?.tag, i);
          assert.equal(f?.source, 3);
        }
        if (ends.includes(cut) || cut === 0) assert.equal(await reader.next(), null);
        else {
          await assert.rejects(
            reader.next(),
            (e: Error) =>
              e instanceof ProtocolError && /rank 3 ended in the middle of a frame/.test(e.message),
          );
        }
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("frame decoder: an absurd length is refused from the header alone", () => {
  for (const length of [MAX_HANDSHAKE_BYTES + 1, 1 << 30, 0xffff_ffff]) {
    assert.throws(
      () => decodeHeader(header(FrameKind.Data, 0, length, 0), MAX_HANDSHAKE_BYTES, "a stranger"),
      (e: Error) =>
        e instanceof ProtocolError &&
        e.message ===
          `Bad frame from a stranger: length ${length} exceeds the limit of ${MAX_HANDSHAKE_BYTES} bytes`,
    );
  }
});

Deno.test("handshake: random bytes from a client are refused with a ProtocolError, small buffers only", async () => {
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 400 }), async (junk) => {
      const [client, server] = pipePair();
      const serving = authenticateAsServer(server, "secret", 0, "a stranger", 1 << 20);
      await client.write(junk);
      client.close();
      await assert.rejects(serving, (e: Error) => e instanceof ProtocolError);
    }),
    { numRuns: 100 },
  );
});

Deno.test("handshake: a wrong secret fails on both sides with a clear error", async () => {
  await fc.assert(
    fc.asyncProperty(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), async (a, b) => {
      fc.pre(a !== b);
      const [client, server] = pipePair();
      const fail = (e: unknown) => {
        client.close();
        throw e;
      };
      const results = await Promise.allSettled([
        authenticateAsClient(client, a, 1, "rank 0", 1024).catch(fail),
        authenticateAsServer(server, b, 0, "rank 1", 1024).catch(fail),
      ]);
      assert.equal(results[0].status, "rejected");
      assert.equal(results[1].status, "rejected");
      const reason = (results[0] as PromiseRejectedResult).reason as Error;
      assert.ok(reason instanceof ProtocolError);
      assert.match(reason.message, /rank 0 failed to prove the run's secret.*BLSBENCH_TOKEN/);
    }),
    { numRuns: 50 },
  );
});

Deno.test("handshake: a flipped bit in any nonce, rank or HMAC makes it fail; untouched, both sides agree", async () => {
  // Writes: client hello (rank, nonce), server reply (rank, nonce, HMAC), client proof (HMAC).
  const payloadLength = [20, 52, 32];
  await fc.assert(
    fc.asyncProperty(
      fc.option(fc.record({ frame: fc.nat(2), byte: fc.nat(), bit: fc.nat(7) })),
      async (flip) => {
        // The client writes its hello (frame 0) then its proof (frame 2); the
        // server writes its reply (frame 1).
        const flipIf = (hit: (write: number) => boolean) => (write: number, bytes: Uint8Array) => {
          if (flip && hit(write)) {
            bytes[HEADER_BYTES + (flip.byte % payloadLength[flip.frame])] ^= 1 << flip.bit;
          }
          return bytes;
        };
        const [client, server] = pipePair(
          flipIf((w) => (flip?.frame === 0 && w === 0) || (flip?.frame === 2 && w === 1)),
          flipIf((w) => flip?.frame === 1 && w === 0),
        );
        const fail = (e: unknown) => {
          client.close();
          throw e;
        };
        const [c, s] = await Promise.allSettled([
          authenticateAsClient(client, "tok", 2, "rank 1", 1024).catch(fail),
          authenticateAsServer(server, "tok", 1, "rank 2", 1024).catch(fail),
        ]);
        if (!flip) {
          assert.equal(c.status, "fulfilled");
          assert.equal(s.status, "fulfilled");
          assert.equal((c as PromiseFulfilledResult<{ peerRank: number }>).value.peerRank, 1);
          assert.equal((s as PromiseFulfilledResult<{ peerRank: number }>).value.peerRank, 2);
        } else {
          assert.ok(c.status === "rejected" || s.status === "rejected", JSON.stringify(flip));
          for (const r of [c, s]) {
            if (r.status === "rejected") assert.ok(r.reason instanceof ProtocolError);
          }
        }
        client.close();
      },
    ),
    { numRuns: 150 },
  );
});

Deno.test("mailbox: the tag window follows the tags asked for, per region", () => {
  const box = new Mailbox(2, 100);
  assert.equal(box.admits(1, 0), undefined);
  assert.equal(box.admits(1, 99), undefined);
  assert.match(box.admits(1, 101) ?? "", /tag 101 is outside the window of expected tags 0\.\.99/);
  box.take(1, 5000).catch(() => {});
  assert.equal(box.admits(1, 5050), undefined);
  assert.ok(box.admits(1, 5101));
  assert.ok(box.admits(1, 10), "a stale tag far below is refused");
  // Control tags have their own region and reference.
  assert.equal(box.admits(1, 0xf000_0000), undefined);
  assert.ok(box.admits(1, 0xf000_0000 + 200));
  // A tag someone waits for is always accepted.
  box.take(1, 0xf000_0000 + 5000).catch(() => {});
  assert.equal(box.admits(1, 0xf000_0000 + 5000), undefined);
});

Deno.test("tag window: BLS with lags 0, 1 and 64 across a region boundary keeps working", async () => {
  const g = await connectLocalGroup("tcp", 3, { tagWindow: 8 });
  try {
    for (const lag of [0, 1, 64]) {
      const base = 2 ** 28 - 40 + lag * 1000;
      const colls = g.transports.map((t) => new BlsAlltoallv(t, { lag, tagBase: base }));
      await Promise.all(colls.map(async (c) => {
        let got = 0;
        for (let t = 0; t < 100; t++) {
          const blocks = Array.from({ length: 3 }, (_, q) => new Uint8Array([c.rank, q, t]));
          const res = await c.exchange(blocks);
          if (res) got++;
        }
        got += (await c.drain()).length;
        assert.equal(got, 100);
      }));
    }
  } finally {
    await g.close();
  }
});

/** Rank 0 of a 2-rank run, and rank 1 played by hand over an authenticated connection. */
async function handPlayedPeer() {
  const token = "tok";
  const store = await startRendezvousStore({ token, log: () => {} });
  const rank0 = connectTcp({
    rank: 0,
    size: 2,
    token,
    master: store.address,
    maxFrameBytes: 1 << 20,
    tagWindow: 1000,
  });
  const client = await RendezvousClient.connect(store.address, token, 1);
  const addr = JSON.parse(await client.get("mesh/addr/0"));
  const conn = await Deno.connect(addr);
  await authenticateAsClient(conn, token, 1, "rank 0", 1 << 20);
  const t = await rank0;
  client.close();
  return {
    t,
    conn,
    async done() {
      try {
        conn.close();
      } catch { /* closed */ }
      await t.close();
      await store.close();
    },
  };
}

const violations: Array<[string, Uint8Array, RegExp]> = [
  [
    "a frame claiming another rank",
    encodeFrame(FrameKind.Data, 0, new Uint8Array(8), 2),
    /Protocol error from rank 1: the connection of rank 1 carried a frame from rank 2/,
  ],
  [
    "a frame without a sender",
    encodeFrame(FrameKind.Data, 0, new Uint8Array(8)),
    /the connection of rank 1 carried a frame from no rank/,
  ],
  [
    "a tag outside the window",
    encodeFrame(FrameKind.Data, 1_000_000, new Uint8Array(8), 1),
    /Protocol error from rank 1: rank 1 sent a frame whose tag 1000000 is outside the window/,
  ],
  [
    "an unknown kind",
    new Uint8Array([...header(42, 0, 0, 1)]),
    /Protocol error from rank 1: Bad frame from rank 1: unknown kind 42/,
  ],
  [
    "a length above the limit",
    new Uint8Array([...header(FrameKind.Data as FrameKindValue, 0, 0xffff_fff0, 1)]),
    /Protocol error from rank 1: Bad frame from rank 1: length 4294967280 exceeds the limit/,
  ],
  [
    "a handshake frame after the handshake",
    encodeFrame(FrameKind.Hello, 0, new Uint8Array(4), 1),
    /Protocol error from rank 1: rank 1 sent an unexpected frame kind 4/,
  ],
];

for (const [what, bytes, message] of violations) {
  Deno.test(`an authenticated peer sending ${what}: a protocol error naming it, no crash`, async () => {
    const p = await handPlayedPeer();
    try {
      const pending = p.t.recv(1, 0);
      await writeAll(p.conn, bytes);
      await assert.rejects(
        pending,
        (e: Error) => e instanceof PeerError && e.peer === 1 && message.test(e.message),
      );
      // The connection is dropped: the peer sees its end close.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const n = await Promise.race([
        p.conn.read(new Uint8Array(64)).catch(() => null),
        new Promise((r) => (timer = setTimeout(() => r("still open"), 5000))),
      ]);
      clearTimeout(timer);
      assert.equal(n, null);
    } finally {
      await p.done();
    }
  });
}
