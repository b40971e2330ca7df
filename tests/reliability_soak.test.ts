/**
 * Soak: a longer BLS run with random block sizes and delay spikes keeps every
 * byte right (`--validate`) and the ranks' memory flat (resident set sampled
 * from /proc while it runs).
 */

import assert from "node:assert/strict";
import { findProcesses } from "./_helpers/procs.ts";
import { leftBehind, readResults, startCli, waitEnd } from "./_helpers/reliability_run.ts";

function rssKiB(pid: number): number | undefined {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

interface Sample {
  heap: number;
  external: number;
  rss: number;
}

/** The `memory:` lines the ranks print with `BLSBENCH_MEMORY_LOG`, per rank and configuration. */
function memoryLines(stderr: string): Map<number, Sample[][]> {
  const out = new Map<number, Sample[][]>();
  const re = /memory: rank (\d+) iteration (\d+) heapUsed (\d+) external (\d+) rss (\d+)/g;
  for (const m of stderr.matchAll(re)) {
    const configs = out.get(Number(m[1])) ?? [];
    // Iterations count from 0 again in each configuration.
    if (m[2] === "0" || configs.length === 0) configs.push([]);
    configs.at(-1)!.push({ heap: Number(m[3]), external: Number(m[4]), rss: Number(m[5]) });
    out.set(Number(m[1]), configs);
  }
  return out;
}

/** The second quarter's median and the last quarter's maximum of a series. */
function earlyLate(xs: number[]): [number, number] {
  const q = Math.floor(xs.length / 4);
  return [median(xs.slice(q, 2 * q)), Math.max(...xs.slice(3 * q))];
}

const MiB = 1 << 20;

Deno.test({
  name: "soak: 5000 BLS iterations, random sizes, delay spikes: every byte right, memory flat",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "blsbench-soak-" });
    const iters = 5000;
    try {
      const run = startCli([
        "bench",
        "--workload",
        "alltoallv",
        "--ranks",
        "2",
        "--sizes",
        "2048:2048",
        "--lag",
        "3",
        "--iters",
        String(iters),
        "--warmup",
        "10",
        "--imbalance",
        "random:0.8",
        "--delay",
        "spike:3ms:0.01",
        "--validate",
        // One isolate holds the transport and the collective, so its heap is all of it.
        "--progress",
        "inline",
        "--timeout",
        "20",
        "--out",
        out,
      ], { DENO_V8_FLAGS: "--expose-gc", BLSBENCH_MEMORY_LOG: "200" });
      // Also sample every rank's resident set from outside until the run ends.
      const rss: number[] = [];
      let running = true;
      const ended = waitEnd(run, 60_000).finally(() => (running = false));
      while (running) {
        const ranks = findProcesses(out).filter((p) => p.env.RANK !== undefined);
        const kib = ranks.map((p) => rssKiB(p.pid)).filter((x): x is number => x !== undefined);
        if (kib.length === 2) rss.push(Math.max(...kib));
        await new Promise((r) => setTimeout(r, 100));
      }
      const end = await ended;
      assert.equal(end.code, 0, end.stderr);
      const { run: info, rows } = await readResults(out);
      assert.equal(info.status, "completed");
      assert.ok(rows.length >= 2);
      for (const r of rows) {
        assert.equal(r.validated, "true");
        assert.equal(r.iters, String(iters));
      }
      // Flat: after a collection, the heap late in the run holds what it held
      // early on (rank 0 also keeps each finished configuration's records, a
      // few hundred KiB of external memory each); the resident set stays within
      // a loose envelope (the allocator keeps freed pages for a while).
      const perRank = memoryLines(end.stderr);
      assert.equal(perRank.size, 2, "both ranks logged their memory");
      for (const [rank, configs] of perRank) {
        // The last configuration is the BLS one (lag 3): within it, flat.
        const samples = configs.at(-1)!;
        assert.ok(samples.length >= 20, `rank ${rank}: ${samples.length} samples`);
        const [heap0, heap1] = earlyLate(samples.map((s) => s.heap));
        const [ext0, ext1] = earlyLate(samples.map((s) => s.external));
        const [rss0, rss1] = earlyLate(samples.map((s) => s.rss));
        console.log(
          `soak rank ${rank}, lag 3: ${samples.length} samples; heap ${
            (heap0 / MiB).toFixed(1)
          } -> ${(heap1 / MiB).toFixed(1)} MiB, external ${(ext0 / MiB).toFixed(1)} -> ${
            (ext1 / MiB).toFixed(1)
          } MiB, rss ${(rss0 / MiB).toFixed(1)} -> ${(rss1 / MiB).toFixed(1)} MiB`,
        );
        assert.ok(heap1 <= heap0 + 4 * MiB, `rank ${rank}: heap grew ${heap0} -> ${heap1}`);
        assert.ok(ext1 <= ext0 + 8 * MiB, `rank ${rank}: external grew ${ext0} -> ${ext1}`);
        assert.ok(rss1 <= rss0 * 1.5 + 32 * MiB, `rank ${rank}: rss grew ${rss0} -> ${rss1}`);
        // And no configuration leaves a heap behind for the next one.
        const first = configs[0].at(-1)!.heap;
        const last = samples.at(-1)!.heap;
        assert.ok(
          last <= first + 4 * MiB,
          `rank ${rank}: heap ${first} -> ${last} across the sweep`,
        );
      }
      assert.ok(rss.length >= 4, `only ${rss.length} outside samples`);
      const [outside0, outside1] = earlyLate(rss);
      console.log(
        `soak: VmRSS from /proc ${outside0} KiB -> ${outside1} KiB over ${rss.length} samples`,
      );
      assert.ok(
        outside1 <= outside0 * 1.5 + 32 * 1024,
        `VmRSS grew ${outside0} -> ${outside1} KiB`,
      );
      assert.deepEqual(await leftBehind(out), []);
    } finally {
      await leftBehind(out);
      await Deno.remove(out, { recursive: true }).catch(() => {});
    }
  },
});
