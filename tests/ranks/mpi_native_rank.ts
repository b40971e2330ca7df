/**
 * A rank program for tests/mpi_*.test.ts: the uneven all-pairs exchange over
 * the MPI transport, then the native alltoallv for each lag of a list on uneven
 * blocks, the native alltoallv with known block sizes (no counts exchange) for
 * each lag, then the transport again (one shared MPI session), all checked byte
 * for byte.
 *
 *   mpirun.openmpi --allow-run-as-root -np 3 deno run -A tests/ranks/mpi_native_rank.ts 0,3 ITERS
 *
 * Prints `ok native lag <k> rank <r> of <n>` (and `ok known-counts ...`) per
 * lag, then `ok transport ...`.
 *
 * @module
 */

import type { Alltoallv, IterationBlocks } from "../../collectives/alltoallv.ts";
import { BlsAlltoallv } from "../../collectives/bls.ts";
import { type MpiNativeAlltoallv, openMpiNativeAlltoallv } from "../../collectives/mpi_native.ts";
import { ProgressEngine } from "../../collectives/progress.ts";
import { SyncAlltoallv } from "../../collectives/sync.ts";
import { openMpiTransport } from "../../transports/mpi/mod.ts";
import { checkBlock, exchangeAllPairs, makeBlock } from "../../transports/mpi/_selftest.ts";

const engineMode = Deno.args[0] === "engine";
const args = engineMode ? Deno.args.slice(1) : Deno.args;
const lags = (args[0] ?? "0").split(",").map(Number);
const iters = Number(args[1] ?? 8);

function blocksFor(iter: number, rank: number, size: number): Uint8Array[] {
  const blocks = Array.from({ length: size }, (_, q) => makeBlock(iter, rank, q));
  if (iter % 2 === 0) return blocks;
  // Odd iterations: subarrays of one buffer, in reverse order (the zero-copy path).
  const total = blocks.reduce((n, b) => n + b.length, 0);
  const buffer = new Uint8Array(total);
  const views: Uint8Array[] = new Array(size);
  let offset = 0;
  for (let q = size - 1; q >= 0; q--) {
    buffer.set(blocks[q], offset);
    views[q] = buffer.subarray(offset, offset + blocks[q].length);
    offset += blocks[q].length;
  }
  return views;
}

/** Runs `iters` uneven iterations through a collective and checks every byte. */
async function runCollective(a2a: Alltoallv, label: string): Promise<void> {
  const { rank, size, lag } = a2a;
  let expected = 0;
  const check = (done: { iter: number; blocks: Uint8Array[] }) => {
    if (done.iter !== expected) throw new Error(`got iteration ${done.iter}, want ${expected}`);
    for (let q = 0; q < size; q++) checkBlock(done.blocks[q], done.iter, q, rank);
    expected += 1;
  };
  for (let t = 0; t < iters; t++) {
    const done = await a2a.exchange(blocksFor(t, rank, size));
    if (t < lag) {
      if (done !== undefined) throw new Error(`iteration ${t} returned data while filling`);
    } else {
      if (done === undefined) throw new Error(`iteration ${t} returned nothing`);
      check(done);
    }
  }
  const rest = await a2a.drain();
  if (rest.length !== Math.min(lag, iters)) {
    throw new Error(`drain returned ${rest.length} iterations, want ${lag}`);
  }
  rest.forEach(check);
  console.log(`ok ${label} lag ${lag} rank ${rank} of ${size}`);
}

/** Even 300-byte blocks whose bytes name (iteration, source, destination). */
async function runKnown(a2a: MpiNativeAlltoallv): Promise<void> {
  const { rank, size, lag } = a2a;
  const block = (t: number, from: number, to: number) =>
    new Uint8Array(300).map((_, i) => (t * 31 + from * 7 + to * 13 + i) & 255);
  const got: IterationBlocks[] = [];
  for (let t = 0; t < iters; t++) {
    const done = await a2a.exchange(Array.from({ length: size }, (_, q) => block(t, rank, q)));
    if (done) got.push(done);
  }
  got.push(...await a2a.drain());
  if (got.length !== iters) throw new Error(`known counts: ${got.length} iterations returned`);
  for (const [t, done] of got.entries()) {
    if (done.iter !== t) throw new Error(`known counts: iteration ${done.iter}, want ${t}`);
    for (let q = 0; q < size; q++) {
      if (done.blocks[q].join() !== block(t, q, rank).join()) {
        throw new Error(`known counts: block ${q}->${rank} of iteration ${t} differs`);
      }
    }
  }
  // A block of another size than announced is refused before any MPI call.
  const wrong = Array.from({ length: size }, () => new Uint8Array(299));
  const refused = await a2a.exchange(wrong).then(() => false, (e) => e instanceof RangeError);
  if (!refused && size > 1) throw new Error("known counts: a 299-byte block was accepted");
  // ... and leaves the collective usable: the next iteration is numbered on.
  const again = await a2a.exchange(Array.from({ length: size }, (_, q) => block(iters, rank, q)));
  const last = again ?? (await a2a.drain())[0];
  if (
    last?.iter !== iters ||
    last.blocks[(rank + 1) % size].join() !== block(iters, (rank + 1) % size, rank).join()
  ) {
    throw new Error("known counts: the iteration after a refused one is wrong");
  }
  console.log(`ok known-counts lag ${lag} rank ${rank} of ${size}`);
}

async function main(): Promise<void> {
  if (engineMode) {
    // The integrator's progress engine opens the MPI transport inside a Worker.
    const engine = await ProgressEngine.start("mpi", {
      rank: Number(Deno.env.get("OMPI_COMM_WORLD_RANK") ?? Deno.env.get("PMI_RANK")),
      size: Number(Deno.env.get("OMPI_COMM_WORLD_SIZE") ?? Deno.env.get("PMI_SIZE")),
      token: "",
      master: { hostname: "127.0.0.1", port: 0 },
      mpi: Deno.env.get("BLSBENCH_MPI_LIB") as "openmpi" | "mpich",
    });
    for (const [i, lag] of lags.entries()) {
      await runCollective(engine.alltoallv({ lag, tagBase: 1000 * i }), "engine");
    }
    await engine.close();
    return;
  }
  const transport = await openMpiTransport();
  await exchangeAllPairs(transport, iters);
  for (const lag of lags) {
    const native = await openMpiNativeAlltoallv({ lag });
    await runCollective(native, "native");
    await native.close();
  }
  // Known block sizes: the data collective alone, on even blocks.
  for (const lag of lags) {
    const known = await openMpiNativeAlltoallv({ lag, blockBytes: 300 });
    if (known.path !== "known-counts") throw new Error(`path is ${known.path}`);
    await runKnown(known);
    await known.close();
  }
  // The suite's own collectives over the MPI transport (--collective p2p).
  for (const [i, lag] of lags.entries()) {
    const tagBase = 2_000_000 + 1000 * i;
    const p2p = lag === 0
      ? new SyncAlltoallv(transport, { tagBase })
      : new BlsAlltoallv(transport, { lag, tagBase });
    await runCollective(p2p, "p2p");
  }
  // The transport still works after the collectives released their references.
  await exchangeAllPairs(transport, 3);
  await transport.close();
  console.log(`ok transport rank ${transport.rank} of ${transport.size} ${transport.family}`);
}

try {
  await main();
} catch (error) {
  console.error(`error: ${(error as Error).message}`);
  Deno.exit((error as { exitCode?: number }).exitCode ?? 1);
}
