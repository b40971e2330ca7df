/**
 * One rank of the asynchronous-progress test, run as its own process.
 * Usage: deno run -A tests/ranks/progress_rank.ts MODE RANK PORT TOKEN
 * Rank 1 posts 4 iterations of 4 MiB blocks, then spins the CPU for 800 ms
 * without yielding; rank 0 (lag 4) runs 8 calls, so its last 4 calls need rank
 * 1's 4 iterations. Prints a JSON line with the times (ms since the epoch).
 *
 * @module
 */

import { openComm } from "../../collectives/communicator.ts";

const [mode, rankText, port, token] = Deno.args;
const rank = Number(rankText);
const comm = await openComm({
  kind: "tcp",
  progress: mode as "thread" | "inline",
  rank,
  size: 2,
  token,
  master: { hostname: "127.0.0.1", port: Number(port) },
});
const LAG = 4;
const MIB4 = 4 * 1024 * 1024;
const now = () => performance.timeOrigin + performance.now();
const coll = comm.alltoallv(LAG, 8);
await comm.barrier();
const out: Record<string, number> = {};
for (let t = 0; t < 8; t++) {
  if (rank === 1 && t === 4) {
    out.spinStart = now();
    const until = performance.now() + 800;
    while (performance.now() < until) { /* no await: the event loop is stuck */ }
    out.spinEnd = now();
  }
  const res = await coll.exchange([new Uint8Array(MIB4), new Uint8Array(MIB4)]);
  if (rank === 0 && res?.iter === 3) out.fourthReceived = now();
}
await coll.drain();
await comm.barrier();
console.log(JSON.stringify(out));
await comm.close();
