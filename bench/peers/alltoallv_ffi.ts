/**
 * The Deno side of the FFI overhead comparison: the same loops as
 * `bench/peers/alltoallv.c`, making the same MPI calls, through
 * `collectives/mpi_native.ts` (lag 0) and the MPI transport. Run under a
 * launcher:
 *
 *   mpirun.openmpi --allow-run-as-root -np 2 deno run -A bench/peers/alltoallv_ffi.ts alltoallv-known 1000 100 30000 8 1024
 *
 * Modes: `alltoallv` (block sizes exchanged each iteration, receive buffers
 * reused, as the C loop does), `alltoallv-known` (sizes known in advance: the
 * MPI_Alltoallv alone), `alltoallv-fresh` (as `alltoallv` with a new receive
 * buffer per iteration, the collective's default), `pingpong` (the MPI
 * transport). The alltoallv modes call `exchangeNow` (the result directly);
 * with `-promise` appended they call `exchange` and await its promise. Each size opens its own collective or transport, as the C
 * program duplicates its communicators per size.
 *
 * Prints `<mode> <size> <p50_us> rank <r>` per rank and size; the driver
 * (`compare.ts`) takes the largest over ranks, as the C program does.
 *
 * @module
 */

import { openMpiNativeAlltoallv } from "../../collectives/mpi_native.ts";
import { acquireMpi, openMpiTransport } from "../../transports/mpi/mod.ts";

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

async function alltoallv(
  mode: string,
  sizes: number[],
  iters: number,
  warmup: number,
  quiet = false,
): Promise<void> {
  for (const size of sizes) {
    const promise = mode.endsWith("-promise");
    const base = mode.replace(/-promise$/, "");
    const a2a = await openMpiNativeAlltoallv({
      lag: 0,
      reuseReceiveBuffers: base !== "alltoallv-fresh",
      blockBytes: base === "alltoallv-known" ? size : undefined,
    });
    const { rank, size: ranks } = a2a;
    const { fn, commWorld } = a2a.session.lib;
    // The C loop's clock: MPI_Wtime is a fast FFI call, performance.now() an op (~0.3 us).
    const wtime = fn.MPI_Wtime;
    const sendbuf = new Uint8Array(size * ranks).fill(rank);
    const blocks = Array.from(
      { length: ranks },
      (_, q) => sendbuf.subarray(q * size, (q + 1) * size),
    );
    const times: number[] = [];
    fn.MPI_Barrier(commWorld);
    for (let i = -warmup; i < iters; i++) {
      const t0 = wtime();
      if (promise) await a2a.exchange(blocks);
      else a2a.exchangeNow(blocks);
      const t1 = wtime();
      if (i >= 0) times.push((t1 - t0) * 1e6);
    }
    if (!quiet) console.log(`${mode} ${size} ${median(times).toFixed(2)} rank ${rank}`);
    await a2a.close();
  }
}

async function pingpong(
  sizes: number[],
  iters: number,
  warmup: number,
  quiet = false,
): Promise<void> {
  const threadWait = Deno.env.get("THREAD_WAIT_BYTES");
  for (const size of sizes) {
    const t = await openMpiTransport(threadWait ? { threadWaitBytes: Number(threadWait) } : {});
    const peer = 1 - t.rank;
    const wtime = t.session.lib.fn.MPI_Wtime;
    const data = new Uint8Array(size).fill(t.rank);
    const times: number[] = [];
    for (let i = -warmup; i < iters; i++) {
      const tag = i & 0xffff;
      const t0 = wtime();
      if (t.rank === 0) {
        await t.send(peer, tag, data);
        await t.recv(peer, tag);
      } else {
        await t.recv(peer, tag);
        await t.send(peer, tag, data);
      }
      const t1 = wtime();
      if (i >= 0) times.push((t1 - t0) * 5e5);
    }
    if (!quiet) console.log(`pingpong ${size} ${median(times).toFixed(2)} rank ${t.rank}`);
    await t.close();
  }
}

if (import.meta.main) {
  const [mode, iters, warmup, prewarm, ...sizes] = Deno.args;
  const run = mode === "pingpong"
    ? pingpong
    : (s: number[], n: number, w: number, quiet = false) => alltoallv(mode, s, n, w, quiet);
  // Hold MPI for the whole run: the collective and transport close in between.
  const session = acquireMpi();
  // Untimed 8-byte iterations first, as the C program does: V8 compiles the
  // loop with fast FFI calls only after thousands of calls.
  if (Number(prewarm) > 0) await run([8], 1, Number(prewarm), true);
  await run(sizes.map(Number), Number(iters), Number(warmup));
  session.release();
}
