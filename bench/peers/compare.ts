/**
 * The FFI overhead benchmark for docs/mpi.md: the native collective through
 * FFI (`alltoallv_ffi.ts`) against the same MPI calls in C (`alltoallv.c`),
 * with block sizes exchanged (`alltoallv`) and known in advance
 * (`alltoallv-known`), and the FFI transport's ping-pong against the same calls
 * in C, side by side in one run. Launches alternate between C and Deno (the
 * order flipped every repeat), `--repeat` times, and each cell is the median
 * over launches of the p50 latency (the largest over ranks within a launch).
 *
 *   deno run -A bench/peers/compare.ts [--family openmpi] [--ranks 2] [--repeat 5]
 *     [--iters 5000] [--warmup 200] [--prewarm 30000] [--sizes 8,1024,65536,1048576]
 *     [--modes alltoallv-known,alltoallv,pingpong] [--btl tcp|sm]
 *
 * `--btl tcp` runs OpenMPI over its TCP transport (`OMPI_MCA_btl=self,tcp`),
 * `--btl sm` over shared memory (`self,vader`); without it the library
 * chooses. `--prewarm` untimed 8-byte iterations run before the first size, in
 * C and in Deno alike: V8 compiles the loop with fast FFI calls only after
 * thousands of calls (the code path is the same for every size).
 *
 * Prints a Markdown table: C, FFI (`exchangeNow`, the result returned
 * directly), their ratio, and FFI through the `exchange` promise.
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
  modes: "alltoallv-known,alltoallv,pingpong",
  btl: "",
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
if (family !== "openmpi" && family !== "mpich") {
  console.error(`error: --family must be openmpi or mpich, not '${family}'`);
  Deno.exit(2);
}
const btls: Record<string, string> = { tcp: "self,tcp", sm: "self,vader" };
if (flags.btl !== "" && (family !== "openmpi" || !(flags.btl in btls))) {
  console.error(`error: --btl takes tcp or sm, with --family openmpi`);
  Deno.exit(2);
}
const modes = flags.modes.split(",");
for (const mode of modes) {
  if (!["alltoallv", "alltoallv-known", "pingpong"].includes(mode)) {
    console.error(`error: unknown mode '${mode}' (alltoallv, alltoallv-known, pingpong)`);
    Deno.exit(2);
  }
}
const env: Record<string, string> = flags.btl ? { OMPI_MCA_btl: btls[flags.btl] } : {};
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
const started = new Date();
const load = async () =>
  (await Deno.readTextFile("/proc/loadavg")).split(" ").slice(0, 3).join(", ");
const loadBefore = await load();
for (let r = 0; r < Number(flags.repeat); r++) {
  for (const mode of modes) {
    const n = mode === "pingpong" ? 2 : ranks;
    const args = [mode, flags.iters, flags.warmup, flags.prewarm, ...sizes];
    const launches: [string, string[]][] = [["c", [binary, ...args]], ["ffi", [...deno, ...args]]];
    if (mode !== "pingpong") {
      launches.push(["ffi", [...deno, `${mode}-promise`, ...args.slice(1)]]);
    }
    // Alternate who goes first, so drift on a shared machine favours neither.
    if (r % 2 === 1) launches.reverse();
    for (const [prefix, argv] of launches) {
      const c = mpiLaunchCommand(family, n, argv, env);
      add(prefix, parse(await run(c.cmd, c.args)));
    }
  }
}
const cpu = (await Deno.readTextFile("/proc/cpuinfo")).match(/model name\s*:\s*(.*)/)?.[1];
console.log(
  `${family}${flags.btl ? ` (OMPI_MCA_btl=${btls[flags.btl]})` : ""}, ${ranks} ranks ` +
    `(ping-pong: 2), ${flags.repeat} alternating launches, ` +
    `${flags.iters} iterations per size after ${flags.warmup} warm-up ` +
    `(${flags.prewarm} untimed 8-byte iterations first); ${cpu}; ` +
    `${started.toISOString()} to ${
      new Date().toISOString()
    }, load ${loadBefore} -> ${await load()}\n`,
);
console.log(
  "| operation | bytes | C p50 (us) | C range | FFI p50 (us) | FFI range | FFI / C | " +
    "FFI, awaiting exchange() (us) |",
);
console.log("|---|---:|---:|---:|---:|---:|---:|---:|");
const labels: Record<string, string> = {
  "alltoallv-known": "native alltoallv, known counts (lag 0)",
  alltoallv: "native alltoallv, counts exchanged (lag 0)",
  pingpong: "ping-pong (half round trip)",
};
const range = (v: number[]) => `${Math.min(...v).toFixed(1)}-${Math.max(...v).toFixed(1)}`;
for (const mode of modes) {
  for (const size of sizes) {
    const cs = samples.get(`c ${mode} ${size}`) ?? [NaN];
    const fs = samples.get(`ffi ${mode} ${size}`) ?? [NaN];
    const c = median(cs);
    const f = median(fs);
    const promised = samples.get(`ffi ${mode}-promise ${size}`);
    const promisedCell = promised ? median(promised).toFixed(2) : "";
    console.log(
      `| ${labels[mode]} | ${size} | ${c.toFixed(2)} | ${range(cs)} | ${f.toFixed(2)} | ` +
        `${range(fs)} | ${(f / c).toFixed(2)} | ${promisedCell} |`,
    );
  }
}
