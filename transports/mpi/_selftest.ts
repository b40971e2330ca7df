/**
 * A rank program that checks the MPI transport under a real launcher; tests
 * start it with `mpiLaunchCommand`, and users can run it to check an MPI
 * installation:
 *
 *   mpirun.openmpi --allow-run-as-root -np 3 deno run -A transports/mpi/_selftest.ts transport
 *
 * Modes:
 * - `transport [iters]`: an uneven alltoallv written with plain send/recv of
 *   all pairs (block sizes depend on source, destination and iteration, zero
 *   and 70 KB blocks included), every iteration sent first and received in
 *   reverse tag order, plus two messages under one peer and tag; checked byte
 *   for byte.
 * - `worker [iters]`: the same inside a Deno Worker.
 * - `init`: only starts and stops MPI (for the wrong-launcher check).
 *
 * Prints `ok <mode> rank <r> of <n> <family>` on success; on failure prints
 * `error: ...` and exits with the error's exit code (1 for a failed run).
 *
 * @module
 */

import type { Transport } from "../transport.ts";
import { acquireMpi } from "./session.ts";
import { openMpiTransport } from "./transport.ts";

/** The size of the block `source` sends `destination` in iteration `iter`. */
export function blockSize(iter: number, source: number, destination: number): number {
  if ((iter + source + destination) % 4 === 0) return 0;
  if (iter % 5 === 2 && source !== destination) return 70_000 + 17 * source + destination;
  return ((source + 1) * (destination + 2) * (iter + 1) * 37) % 300;
}

/** The block `source` sends `destination` in iteration `iter`. */
export function makeBlock(iter: number, source: number, destination: number): Uint8Array {
  const block = new Uint8Array(blockSize(iter, source, destination));
  for (let i = 0; i < block.length; i++) {
    block[i] = (iter * 31 + source * 7 + destination * 13 + i) & 255;
  }
  return block;
}

/** Throws unless `got` is exactly the block `source` sent `destination` in `iter`. */
export function checkBlock(
  got: Uint8Array,
  iter: number,
  source: number,
  destination: number,
): void {
  const want = makeBlock(iter, source, destination);
  if (got.length !== want.length) {
    throw new Error(
      `iteration ${iter}: block ${source}->${destination} has ${got.length} bytes, want ${want.length}`,
    );
  }
  for (let i = 0; i < want.length; i++) {
    if (got[i] !== want[i]) {
      throw new Error(`iteration ${iter}: block ${source}->${destination} differs at byte ${i}`);
    }
  }
}

/** The uneven all-pairs exchange over a transport, received out of tag order. */
export async function exchangeAllPairs(transport: Transport, iters: number): Promise<void> {
  const { rank, size } = transport;
  const sends: Promise<void>[] = [];
  for (let t = 0; t < iters; t++) {
    for (let q = 0; q < size; q++) sends.push(transport.send(q, t, makeBlock(t, rank, q)));
  }
  // Two messages under one peer and tag must arrive in send order.
  const next = (rank + 1) % size;
  const extra = 1_000_000 + rank;
  sends.push(transport.send(next, extra, new Uint8Array([1])));
  sends.push(transport.send(next, extra, new Uint8Array(100_000).fill(2)));
  // The largest tag: a control tag, sent on the control communicator modulo 32768.
  sends.push(transport.send(next, 0xffff_ffff, new Uint8Array([3, rank])));
  const receives: Promise<void>[] = [];
  for (let t = iters - 1; t >= 0; t--) {
    for (let q = size - 1; q >= 0; q--) {
      receives.push(transport.recv(q, t).then((block) => checkBlock(block, t, q, rank)));
    }
  }
  const previous = (rank + size - 1) % size;
  const first = transport.recv(previous, 1_000_000 + previous);
  const second = transport.recv(previous, 1_000_000 + previous);
  await Promise.all([...sends, ...receives]);
  const top = await transport.recv(previous, 0xffff_ffff);
  if (top.length !== 2 || top[0] !== 3 || top[1] !== previous) {
    throw new Error("the message under tag 2^32-1 was lost or altered");
  }
  const [a, b] = await Promise.all([first, second]);
  if (a.length !== 1 || a[0] !== 1 || b.length !== 100_000 || b[99_999] !== 2) {
    throw new Error("two messages under one peer and tag arrived out of order");
  }
}

async function runTransport(iters: number): Promise<string> {
  const transport = await openMpiTransport();
  try {
    await exchangeAllPairs(transport, iters);
    const stats = transport.stats();
    if (stats.bufferedBytes !== 0 || (transport.size > 1 && stats.bytesSent === 0)) {
      throw new Error(`unexpected counters ${JSON.stringify(stats)}`);
    }
    return `rank ${transport.rank} of ${transport.size} ${transport.family}`;
  } finally {
    await transport.close();
  }
}

function runWorker(iters: number): Promise<string> {
  const worker = new Worker(new URL("./_selftest.ts", import.meta.url), { type: "module" });
  return new Promise((resolve, reject) => {
    worker.onmessage = (event: MessageEvent<{ ok?: string; error?: string }>) => {
      worker.terminate();
      if (event.data.ok !== undefined) resolve(event.data.ok);
      else reject(new Error(event.data.error));
    };
    worker.onerror = (event) => {
      event.preventDefault();
      worker.terminate();
      reject(new Error(event.message));
    };
    worker.postMessage({ iters });
  });
}

async function main(args: string[]): Promise<void> {
  const mode = args[0] ?? "transport";
  const iters = Number(args[1] ?? 6);
  try {
    let what: string;
    if (mode === "transport") what = await runTransport(iters);
    else if (mode === "worker") what = await runWorker(iters);
    else if (mode === "init") {
      const session = acquireMpi();
      what = `rank ${session.rank} of ${session.size} ${session.abi.family}`;
      session.release();
    } else throw new Error(`unknown mode '${mode}'`);
    console.log(`ok ${mode} ${what}`);
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    Deno.exit((error as { exitCode?: number }).exitCode ?? 1);
  }
}

// deno-lint-ignore no-explicit-any
const workerScope = (globalThis as any).WorkerGlobalScope !== undefined;
if (workerScope) {
  // Inside the Worker: run the transport exchange and report back.
  // deno-lint-ignore no-explicit-any
  const scope = globalThis as any;
  scope.onmessage = async (event: MessageEvent<{ iters: number }>) => {
    try {
      scope.postMessage({ ok: `${await runTransport(event.data.iters)} (in a Worker)` });
    } catch (error) {
      scope.postMessage({ error: (error as Error).message });
    }
  };
} else if (import.meta.main) {
  await main(Deno.args);
}
