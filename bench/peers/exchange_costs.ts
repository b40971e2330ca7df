/**
 * Where one exchange's time goes: the thread hand-off (shared memory against
 * postMessage), the socket round trip between two processes, the framing of a
 * block (header, arena, copy), one rank's exchange with nobody (what thread
 * progress costs by itself), and the whole synchronous exchange between two
 * ranks with inline and with thread progress, over Deno's socket ops and over
 * native (libc) socket I/O, beside OpenMPI's MPI_Alltoallv from
 * C over its TCP transport (bench/peers/build.sh). Repeats are interleaved; the
 * table gives the median of the repeats' medians and their range.
 *
 * Usage: deno run -A bench/peers/exchange_costs.ts [--iters N] [--repeats R]
 *
 * @module
 */

import { IterationArena } from "../../collectives/arena.ts";
import { DEFAULT_SPIN_US, ProgressEngine } from "../../collectives/progress.ts";
import { SyncAlltoallv } from "../../collectives/sync.ts";
import { spinUntil } from "../../util/spin.ts";
// The framing row times the wire format itself, so it reaches into the transport's internals.
import { decodeHeader, FrameKind, HEADER_BYTES, writeHeader } from "../../transports/_framing.ts";
import { type OpenOptions, openTransport } from "../../transports/open.ts";
import { startRendezvousStore } from "../../transports/rendezvous.ts";
import type { Alltoallv } from "../../collectives/alltoallv.ts";
import { mpiLaunchCommand } from "../../transports/mpi/launch.ts";
import { bindToCpu } from "../../util/affinity.ts";

const SIZES = [1024, 64 * 1024];
const args = Deno.args;
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median of `n` timed calls of `fn`, in microseconds. */
async function timeEach(n: number, fn: () => unknown): Promise<number> {
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await fn();
    t.push((performance.now() - t0) * 1000);
  }
  return median(t);
}

// ---- child processes ----------------------------------------------------

async function socketChild(role: string, port: number, size: number, n: number) {
  let conn: Deno.TcpConn;
  if (role === "server") {
    const listener = Deno.listen({ hostname: "127.0.0.1", port });
    console.log("ready");
    conn = await listener.accept() as Deno.TcpConn;
    listener.close();
  } else {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
  }
  conn.setNoDelay(true);
  const buf = new Uint8Array(size);
  const readFull = async () => {
    let got = 0;
    while (got < size) got += (await conn.read(buf.subarray(got)))!;
  };
  const writeFull = async () => {
    let put = 0;
    while (put < size) put += await conn.write(buf.subarray(put));
  };
  if (role === "server") {
    for (let i = 0; i < n; i++) {
      await readFull();
      await writeFull();
    }
  } else {
    console.log(
      await timeEach(n, async () => {
        await writeFull();
        await readFull();
      }),
    );
  }
  conn.close();
}

/**
 * Opens a lag-0 collective inline or through the progress thread and times its
 * exchanges of `size`-byte blocks (after 100 untimed ones).
 */
async function timeExchanges(
  progress: string,
  options: OpenOptions,
  size: number,
  n: number,
): Promise<number> {
  let coll: Alltoallv;
  let close: () => Promise<void>;
  if (progress === "thread") {
    const engine = await ProgressEngine.start("tcp", options);
    coll = engine.alltoallv({ lag: 0 });
    close = () => engine.close();
  } else {
    const t = await openTransport("tcp", options);
    coll = new SyncAlltoallv(t, { arena: new IterationArena(2) });
    close = () => t.close();
  }
  const blocks = Array.from({ length: options.size }, () => new Uint8Array(size));
  for (let i = 0; i < 100; i++) await coll.exchange(blocks);
  const us = await timeEach(n, () => coll.exchange(blocks));
  await coll.drain();
  await close();
  return us;
}

async function rankChild(
  rank: number,
  port: number,
  token: string,
  mode: string,
  size: number,
  n: number,
) {
  // As bench's local launcher (and mpirun) do: one CPU per rank.
  bindToCpu(rank % navigator.hardwareConcurrency);
  const [progress, socketIo] = mode.split("/") as ["thread" | "inline", "native" | "deno"];
  const master = { hostname: "127.0.0.1", port };
  const us = await timeExchanges(progress, { rank, size: 2, token, master, socketIo }, size, n);
  if (rank === 0) console.log(us);
}

/**
 * One rank alone, so nothing crosses a socket: what a synchronous exchange of
 * one block costs by itself, inline or through the progress thread (post,
 * hand-off, the engine's bookkeeping, hand-off back, result).
 */
async function soloChild(progress: string, size: number, n: number) {
  bindToCpu(0);
  const token = crypto.randomUUID();
  const store = await startRendezvousStore({ token });
  const master = { hostname: "127.0.0.1", port: store.address.port };
  console.log(await timeExchanges(progress, { rank: 0, size: 1, token, master }, size, n));
  await store.close();
}

// ---- measurements run by the parent --------------------------------------

async function handoff(n: number, how: "shared" | "message", spinUs: number): Promise<number> {
  const worker = new Worker(new URL("./_handoff_worker.ts", import.meta.url).href, {
    type: "module",
  });
  try {
    if (how === "message") {
      const roundTrip = () =>
        new Promise<void>((resolve) => {
          worker.onmessage = () => resolve();
          worker.postMessage("ping");
        });
      for (let i = 0; i < 100; i++) await roundTrip();
      return await timeEach(n, roundTrip);
    }
    const words = new Int32Array(new SharedArrayBuffer(16));
    words[2] = spinUs;
    worker.postMessage(words.buffer);
    await new Promise((r) => setTimeout(r, 50));
    const roundTrip = () => {
      const seen = Atomics.load(words, 1);
      Atomics.add(words, 0, 1);
      Atomics.notify(words, 0);
      if (spinUntil(() => Atomics.load(words, 1) !== seen, spinUs)) return;
      while (Atomics.load(words, 1) === seen) Atomics.wait(words, 1, seen, 20);
    };
    for (let i = 0; i < 100; i++) roundTrip();
    return await timeEach(n, roundTrip);
  } finally {
    worker.terminate();
  }
}

function framing(size: number, n: number): Promise<number> {
  const arena = new IterationArena(2, { shared: true });
  const out = new IterationArena(2, { shared: true });
  const payload = new Uint8Array(size).fill(7);
  let iter = 0;
  return timeEach(n, () => {
    // Sender: copy into the outgoing arena with header room, frame in place.
    const block = out.allocWithRoom(iter, size, HEADER_BYTES);
    block.set(payload);
    const framed = new Uint8Array(
      block.buffer,
      block.byteOffset - HEADER_BYTES,
      size + HEADER_BYTES,
    );
    writeHeader(framed, FrameKind.Data, iter, 0);
    // Receiver: check the header, place the payload in the incoming arena.
    const h = decodeHeader(framed, 1 << 30, "peer");
    arena.alloc(iter++, h.length).set(framed.subarray(HEADER_BYTES));
  });
}

const self = new URL(import.meta.url).pathname;

async function socketRoundTrip(size: number, n: number): Promise<number> {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const server = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", self, "--child", "socket", "server", String(port), String(size), String(n)],
    stdout: "piped",
  }).spawn();
  const reader = server.stdout.getReader();
  await reader.read(); // "ready"
  const client = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", self, "--child", "socket", "client", String(port), String(size), String(n)],
    stdout: "piped",
  }).output();
  reader.releaseLock();
  await server.stdout.cancel();
  await server.status;
  return Number(new TextDecoder().decode(client.stdout).trim());
}

async function wholeExchange(mode: string, size: number, n: number): Promise<number> {
  const token = crypto.randomUUID();
  const store = await startRendezvousStore({ token });
  try {
    const ranks = [0, 1].map((rank) =>
      new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          self,
          "--child",
          "rank",
          String(rank),
          String(store.address.port),
          token,
          mode,
          String(size),
          String(n),
        ],
        stdout: "piped",
      }).output()
    );
    const outs = await Promise.all(ranks);
    return Number(new TextDecoder().decode(outs[0].stdout).trim());
  } finally {
    await store.close();
  }
}

async function soloExchange(progress: string, size: number, n: number): Promise<number> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", self, "--child", "solo", progress, String(size), String(n)],
    stdout: "piped",
  }).output();
  if (out.code !== 0) throw new Error(`the one-rank ${progress} exchange failed`);
  return Number(new TextDecoder().decode(out.stdout).trim());
}

let cBinary: string | undefined;

/** OpenMPI's MPI_Alltoallv from C over its TCP transport, block sizes known (no counts exchange). */
async function openMpiC(size: number, n: number): Promise<number> {
  if (!cBinary) {
    const built = await new Deno.Command("sh", {
      args: [new URL("./build.sh", import.meta.url).pathname, "openmpi"],
      stdout: "piped",
    }).output();
    if (built.code !== 0) throw new Error("bench/peers/build.sh openmpi failed");
    cBinary = new TextDecoder().decode(built.stdout).trim();
  }
  const argv = [cBinary, "alltoallv-known", String(n), "100", "0", String(size)];
  const c = mpiLaunchCommand("openmpi", 2, argv, { OMPI_MCA_btl: "self,tcp" });
  const out = await new Deno.Command(c.cmd, { args: c.args, stdout: "piped" })
    .output();
  const line = new TextDecoder().decode(out.stdout).trim().split("\n").find((l) =>
    l.startsWith("alltoallv-known ")
  );
  if (out.code !== 0 || !line) throw new Error("the OpenMPI C peer failed");
  return Number(line.split(/\s+/)[2]);
}

if (args[0] === "--child") {
  const [, kind, ...rest] = args;
  if (kind === "socket") {
    await socketChild(rest[0], Number(rest[1]), Number(rest[2]), Number(rest[3]));
  } else if (kind === "solo") {
    await soloChild(rest[0], Number(rest[1]), Number(rest[2]));
  } else {
    await rankChild(
      Number(rest[0]),
      Number(rest[1]),
      rest[2],
      rest[3],
      Number(rest[4]),
      Number(rest[5]),
    );
  }
  Deno.exit(0);
}

const n = flag("--iters", 3000);
const repeats = flag("--repeats", 3);
const rows: [string, () => Promise<number>][] = [
  ["thread hand-off, postMessage round trip", () => handoff(n, "message", 0)],
  ["thread hand-off, shared memory, sleep at once", () => handoff(n, "shared", 0)],
  [
    `thread hand-off, shared memory, spin ${DEFAULT_SPIN_US} us`,
    () => handoff(n, "shared", DEFAULT_SPIN_US),
  ],
  ...SIZES.flatMap((size): [string, () => Promise<number>][] => {
    const kib = `${size / 1024} KiB`;
    return [
      [`framing and arena copies, ${kib}`, () => framing(size, n * 10)],
      ...["inline", "thread"].map((progress): [string, () => Promise<number>] => [
        `one rank alone (nothing sent), ${progress} progress, ${kib}`,
        () => soloExchange(progress, size, n * 5),
      ]),
      [`TCP round trip between two processes, ${kib}`, () => socketRoundTrip(size, n)],
      ...["inline", "thread"].flatMap((progress) =>
        ["deno", "native"].map((io): [string, () => Promise<number>] => [
          `sync exchange, 2 ranks, ${progress} progress, ${io} socket I/O, ${kib}`,
          () => wholeExchange(`${progress}/${io}`, size, n),
        ])
      ),
      [`OpenMPI MPI_Alltoallv from C, TCP transport, 2 ranks, ${kib}`, () => openMpiC(size, n)],
    ];
  }),
];
const results = rows.map(() => [] as number[]);
for (let r = 0; r < repeats; r++) {
  // Rotate the order each repeat so drift does not favour one row.
  for (let k = 0; k < rows.length; k++) {
    const i = (k + r) % rows.length;
    results[i].push(await rows[i][1]());
  }
}
console.log(`| step | median us | range over ${repeats} repeats |`);
console.log("|---|---|---|");
rows.forEach(([name], i) => {
  const xs = results[i];
  const fmt = (x: number) => x < 10 ? x.toFixed(2) : x.toFixed(1);
  console.log(`| ${name} | ${fmt(median(xs))} | ${fmt(Math.min(...xs))}-${fmt(Math.max(...xs))} |`);
});
