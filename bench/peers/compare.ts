/**
 * The FFI overhead benchmark for docs/mpi.md: the native collective through
 * FFI (`alltoallv_ffi.ts`) against the same MPI_Alltoallv loop in C
 * (`alltoallv.c`), and the FFI transport's ping-pong against the same calls in
 * C, side by side in one run. Launches alternate between C and Deno, `--repeat`
 * times, and each cell is the median over launches of the p50 latency (the
 * largest over ranks within a launch).
 *
 *   deno run -A bench/peers/compare.ts [--family openmpi] [--ranks 2] [--repeat 5]
 *     [--iters 5000] [--warmup 200] [--prewarm 30000] [--sizes 8,1024,65536,1048576]
 *
 * `--prewarm` untimed 8-byte iterations run before the first size, in C and in
 * Deno alike: V8 compiles the loop with fast FFI calls only after thousands of
 * calls (the code path is the same for every size).
 *
 * Prints a Markdown table.
 *
 * @module
 */

import { mpiLaunchCommand } from "../../transports/mpi/launch.ts";
import type { MpiFamily } from "../../transports/mpi/mod.ts";

const here = new URL(".", import.meta.url).pathname;

async function run(cmd: string, args: string[]): Promise<string> {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (out.code !== 0) {
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}

/** Parses `<mode> <size> <p50> [rank r]` lines into the largest p50 per mode and size. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const [mode, size, p50] = line.trim().split(/\s+/);
    if (p50 === undefined || Number.isNaN(Number(p50))) continue;
    const key = `${mode} ${size}`;
    out.set(key, Math.max(out.get(key) ?? 0, Number(p50)));
  }
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1];
}

const flags: Record<string, string> = {
  family: "openmpi",
  ranks: "2",
  repeat: "5",
  iters: "5000",
  warmup: "200",
  prewarm: "30000",
  sizes: "8,1024,65536,1048576",
};
for (let i = 0; i < Deno.args.length; i += 2) {
  const name = Deno.args[i].replace(/^--/, "");
  if (!(name in flags) || Deno.args[i + 1] === undefined) {
    console.error(`error: unknown or incomplete flag '${Deno.args[i]}'`);
    Deno.exit(2);
  }
  flags[name] = Deno.args[i + 1];
}
const family = flags.family as MpiFamily;
const ranks = Number(flags.ranks);
const sizes = flags.sizes.split(",");
const binary = (await run("sh", [`${here}build.sh`, family])).trim();
const samples = new Map<string, number[]>();
const add = (prefix: string, results: Map<string, number>) => {
  for (const [key, value] of results) {
    const name = `${prefix} ${key}`;
    samples.set(name, [...(samples.get(name) ?? []), value]);
  }
};
const deno = [Deno.execPath(), "run", "-A", `${here}alltoallv_ffi.ts`];
for (let r = 0; r < Number(flags.repeat); r++) {
  for (const mode of ["alltoallv", "pingpong"]) {
    const n = mode === "pingpong" ? 2 : ranks;
    const args = [mode, flags.iters, flags.warmup, flags.prewarm, ...sizes];
    const c = mpiLaunchCommand(family, n, [binary, ...args]);
    add("c", parse(await run(c.cmd, c.args)));
    const d = mpiLaunchCommand(family, n, [...deno, ...args]);
    add("ffi", parse(await run(d.cmd, d.args)));
    if (mode === "alltoallv") {
      const f = mpiLaunchCommand(family, n, [...deno, "alltoallv-fresh", ...args.slice(1)]);
      add("ffi", parse(await run(f.cmd, f.args)));
    }
  }
}
const cpu = (await Deno.readTextFile("/proc/cpuinfo")).match(/model name\s*:\s*(.*)/)?.[1];
console.log(
  `${family}, ${ranks} ranks (ping-pong: 2), ${flags.repeat} alternating launches, ` +
    `${flags.iters} iterations per size after ${flags.warmup} warm-up ` +
    `(${flags.prewarm} untimed 8-byte iterations first); ${cpu}\n`,
);
console.log(
  "| operation | bytes | C p50 (us) | FFI p50 (us) | FFI / C | FFI, fresh receive buffers (us) |",
);
console.log("|---|---:|---:|---:|---:|---:|");
for (const mode of ["alltoallv", "pingpong"]) {
  for (const size of sizes) {
    const c = median(samples.get(`c ${mode} ${size}`) ?? [NaN]);
    const f = median(samples.get(`ffi ${mode} ${size}`) ?? [NaN]);
    const label = mode === "alltoallv" ? "native alltoallv (lag 0)" : "ping-pong (half round trip)";
    const fresh = samples.get(`ffi alltoallv-fresh ${size}`);
    const freshCell = mode === "alltoallv" && fresh ? median(fresh).toFixed(2) : "";
    const ratio = (f / c).toFixed(2);
    console.log(
      `| ${label} | ${size} | ${c.toFixed(2)} | ${f.toFixed(2)} | ${ratio} | ${freshCell} |`,
    );
  }
}
