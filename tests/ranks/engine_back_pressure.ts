/**
 * One rank of the back-pressure test. Usage: engine_back_pressure.ts RANK PORT TOKEN
 * Rank 1 posts 8 iterations of small blocks (lag 8, so none waits), then stops
 * itself (SIGSTOP): its sockets are no longer read or written. Rank 0 (lag 2)
 * sends 8 MiB blocks to it; once the socket buffers fill its blocks cannot
 * leave, and once rank 1's 8 iterations are used up nothing arrives. It must
 * stop within the lag bound with a timeout naming the cause, holding no more
 * than its arenas. Prints a JSON line: calls made, the error, peak RSS.
 *
 * @module
 */

import { ProgressEngine } from "../../collectives/progress.ts";

const [rankText, port, token] = Deno.args;
const rank = Number(rankText);
const engine = await ProgressEngine.start("tcp", {
  rank,
  size: 2,
  token,
  master: { hostname: "127.0.0.1", port: Number(port) },
});
const MIB8 = 8 * 1024 * 1024;
if (rank === 1) {
  const coll = engine.alltoallv({ lag: 8 });
  for (let t = 0; t < 8; t++) await coll.exchange([new Uint8Array(64), new Uint8Array(0)]);
  // Let the engine send them, then stop reading anything.
  await new Promise((r) => setTimeout(r, 500));
  Deno.kill(Deno.pid, "SIGSTOP");
} else {
  const coll = engine.alltoallv({ lag: 2, timeoutMs: 1500 });
  let calls = 0;
  let error = "";
  let name = "";
  try {
    for (; calls < 40; calls++) await coll.exchange([new Uint8Array(0), new Uint8Array(MIB8)]);
  } catch (e) {
    error = (e as Error).message;
    name = (e as Error).name;
  }
  const status = Deno.readTextFileSync("/proc/self/status");
  const peakRss = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  console.log(JSON.stringify({ calls, error, name, peakRss }));
  Deno.exit(0);
}
