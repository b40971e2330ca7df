/**
 * A rank program for tests/mpi_layout.test.ts: the MPI transport's tag and
 * communicator layout under a real launcher.
 *
 *   mpiexec.mpich -np 2 deno run -A tests/ranks/mpi_layout_rank.ts
 *
 * Checks, against every other rank:
 * - a control message whose tag equals a waiting collective receive's tag
 *   modulo 32768 (and modulo 2^28, MPICH's tag bound) goes to the control
 *   receive, never to the collective one;
 * - tags above 32767 work, and two receives waiting for tags that share an MPI
 *   tag are refused with a clear error instead of being mixed up;
 * - `cancelRecvs` cancels unmatched receives and only those;
 * - with `cancelOnControl`, the look-ahead receive a drained BLS collective
 *   leaves waiting is cancelled by the next control exchange, and a later
 *   collective whose tags alias it then runs correctly;
 * - `bench`'s communication context (inline progress) leaves no receive
 *   waiting once a BLS collective has drained.
 *
 * With the argument `engine`, only the look-ahead check, through the progress
 * engine (the transport then lives in its Worker, opened with
 * `cancelOnControl` as `bench` opens it); prints `ok layout-engine ...`.
 *
 * Prints `ok layout rank <r> of <n> <family>`; on failure `error: ...`, exit 1.
 *
 * @module
 */

import { BlsAlltoallv } from "../../collectives/bls.ts";
import { ProgressEngine } from "../../collectives/progress.ts";
import { SyncAlltoallv } from "../../collectives/sync.ts";
import {
  MPI_TAG_SPACE,
  type MpiTransport,
  openMpiTransport,
} from "../../transports/mpi/transport.ts";
import { CONTROL_TAG_BASE } from "../../transports/transport.ts";
import { openComm } from "../../collectives/communicator.ts";
import { acquireMpi } from "../../transports/mpi/session.ts";

const text = (s: string) => new TextEncoder().encode(s);
const read = (b: Uint8Array) => new TextDecoder().decode(b);

function expect(condition: boolean, what: string): void {
  if (!condition) throw new Error(what);
}

async function controlExchange(t: MpiTransport, tag: number): Promise<void> {
  const others = [...Array(t.size).keys()].filter((p) => p !== t.rank);
  await Promise.all([
    ...others.map((p) => t.send(p, tag, text(`control ${t.rank}`))),
    ...others.map(async (p) => expect(read(await t.recv(p, tag)) === `control ${p}`, "control")),
  ]);
}

async function separation(t: MpiTransport): Promise<void> {
  const others = [...Array(t.size).keys()].filter((p) => p !== t.rank);
  // Collective receives wait first; the control message with the aliasing tag
  // (CONTROL_TAG_BASE is a multiple of 2^28 and of 32768) is sent before the
  // collective one.
  const collective = others.map((p) => t.recv(p, 5));
  await Promise.all(others.map((p) => t.send(p, CONTROL_TAG_BASE + 5, text(`ctl ${t.rank}`))));
  for (const p of others) {
    expect(read(await t.recv(p, CONTROL_TAG_BASE + 5)) === `ctl ${p}`, "control message lost");
  }
  expect(t.pendingRecvs() === others.length, "a collective receive took a control message");
  await controlExchange(t, CONTROL_TAG_BASE + 6);
  await Promise.all(others.map((p) => t.send(p, 5, text(`data ${t.rank}`))));
  for (const [i, p] of others.entries()) {
    const got = read(await collective[i]);
    expect(got === `data ${p}`, `collective receive from ${p} got '${got}'`);
  }
}

async function aliasing(t: MpiTransport): Promise<void> {
  const others = [...Array(t.size).keys()].filter((p) => p !== t.rank);
  // A tag above the smallest tag bound.
  await Promise.all(others.map((p) => t.send(p, 40_000, text(`high ${t.rank}`))));
  for (const p of others) expect(read(await t.recv(p, 40_000)) === `high ${p}`, "tag 40000");
  // Two receives for tags one tag space apart cannot both wait.
  const p = others[0];
  const first = t.recv(p, 9);
  const refused = await t.recv(p, 9 + MPI_TAG_SPACE).then(
    () => "",
    (e: Error) => e.message,
  );
  expect(/both waiting/.test(refused), `aliasing receive not refused: '${refused}'`);
  expect(t.cancelRecvs(10, 100) === 0, "cancelled a receive outside the range");
  expect(t.cancelRecvs(0, 10) === 1, "did not cancel the waiting receive");
  const cancelled = await first.then(() => "", (e: Error) => e.message);
  expect(/cancelled/.test(cancelled), `cancelled receive: '${cancelled}'`);
  expect(t.pendingRecvs() === 0, "receives left waiting");
  await controlExchange(t, CONTROL_TAG_BASE + 7);
}

async function lookAhead(t: MpiTransport): Promise<void> {
  const { rank, size } = t;
  const blocks = (iter: number) =>
    Array.from({ length: size }, (_, q) => text(`${iter}:${rank}->${q}`));
  const check = (iter: number, got: Uint8Array[]) => {
    for (let q = 0; q < size; q++) {
      expect(read(got[q]) === `${iter}:${q}->${rank}`, `iteration ${iter} from ${q}`);
    }
  };
  const bls = new BlsAlltoallv(t, { lag: 2, tagBase: 100, timeoutMs: 10_000 });
  let next = 0;
  for (let i = 0; i < 5; i++) {
    const done = await bls.exchange(blocks(i));
    if (done) check(next++, done.blocks);
  }
  for (const done of await bls.drain()) check(next++, done.blocks);
  expect(next === 5, "BLS returned every iteration");
  // The look-ahead for iteration 5 (tag 105), from every peer, still waits ...
  expect(t.pendingRecvs() === size - 1, `pending after drain: ${t.pendingRecvs()}`);
  // ... until the next control exchange cancels it.
  await controlExchange(t, CONTROL_TAG_BASE + 8);
  expect(t.pendingRecvs() === 0, `pending after the control exchange: ${t.pendingRecvs()}`);
  // A collective whose first tag shares tag 105's MPI tag runs correctly.
  const sync = new SyncAlltoallv(t, { tagBase: 105 + MPI_TAG_SPACE, timeoutMs: 10_000 });
  for (let i = 0; i < 3; i++) check(i, (await sync.exchange(blocks(i))).blocks);
}

// A layout that mixes messages up hangs: fail instead.
const watchdog = setTimeout(() => {
  console.error("error: timed out after 30 s");
  Deno.exit(1);
}, 30_000);
Deno.unrefTimer(watchdog);

async function benchComm(): Promise<void> {
  const comm = await openComm({
    kind: "mpi",
    progress: "inline",
    rank: 0,
    size: 1,
    token: "",
    master: { hostname: "127.0.0.1", port: 0 },
    exchangeTimeoutMs: 10_000,
  });
  const t = comm.transport as MpiTransport;
  const { rank, size } = comm;
  const coll = comm.alltoallv(3, 6);
  for (let i = 0; i < 6; i++) {
    await coll.exchange(Array.from({ length: size }, (_, q) => text(`${i}:${rank}->${q}`)));
  }
  await coll.drain();
  expect(t.pendingRecvs() === 0, `bench comm left ${t.pendingRecvs()} receive(s) after a drain`);
  await comm.barrier();
  await comm.close();
}

/** The look-ahead check through a progress engine, as `bench --progress thread` runs. */
async function engineLookAhead(): Promise<string> {
  const engine = await ProgressEngine.start("mpi", {
    rank: Number(Deno.env.get("OMPI_COMM_WORLD_RANK") ?? Deno.env.get("PMI_RANK")),
    size: Number(Deno.env.get("OMPI_COMM_WORLD_SIZE") ?? Deno.env.get("PMI_SIZE")),
    token: "",
    master: { hostname: "127.0.0.1", port: 0 },
    cancelOnControl: true,
  });
  const t = engine.transport;
  const { rank, size } = t;
  const blocks = (iter: number) =>
    Array.from({ length: size }, (_, q) => text(`${iter}:${rank}->${q}`));
  const bls = engine.alltoallv({ lag: 2, tagBase: 100, timeoutMs: 10_000 });
  for (let i = 0; i < 5; i++) await bls.exchange(blocks(i));
  await bls.drain();
  // A control exchange, then a collective whose first tag shares the look-ahead's MPI tag.
  const others = [...Array(size).keys()].filter((p) => p !== rank);
  await Promise.all([
    ...others.map((p) => t.send(p, CONTROL_TAG_BASE + 1, text("c"))),
    ...others.map((p) => t.recv(p, CONTROL_TAG_BASE + 1)),
  ]);
  const sync = engine.alltoallv({ lag: 0, tagBase: 105 + MPI_TAG_SPACE, timeoutMs: 10_000 });
  for (let i = 0; i < 3; i++) {
    const got = (await sync.exchange(blocks(i)))!.blocks;
    for (let q = 0; q < size; q++) {
      expect(read(got[q]) === `${i}:${q}->${rank}`, `engine: iteration ${i} from ${q}`);
    }
  }
  await engine.close();
  return `rank ${rank} of ${size}`;
}

if (Deno.args[0] === "engine") {
  try {
    console.log(`ok layout-engine ${await engineLookAhead()}`);
    Deno.exit(0);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    Deno.exit(1);
  }
}

// Hold MPI for the whole program: the comm's close would finalise it.
const session = acquireMpi();
try {
  await benchComm();
  const plain = await openMpiTransport();
  const fenced = await openMpiTransport({ cancelOnControl: true });
  try {
    await separation(plain);
    await aliasing(plain);
    await lookAhead(fenced);
  } finally {
    await fenced.close();
    await plain.close();
  }
  console.log(`ok layout rank ${plain.rank} of ${plain.size} ${plain.family}`);
  session.release();
} catch (error) {
  console.error(`error: ${(error as Error).message}`);
  Deno.exit(1);
}
