/**
 * Benchmark for docs/datasets.md: `data convert` on a generated Mini-Kaggle file
 * against pandas `read_csv` + `factorize` + `savez` on the same file, run
 * alternately in one session; and peak RSS while streaming files of growing size.
 *
 * Usage: deno run -A datasets/_bench/convert_bench.ts [--rows N] [--repeat R] [--big-rows N]
 * Needs /usr/bin/time (Debian `time`) and /usr/bin/python3 with python3-pandas.
 *
 * @module
 */

import { generateMiniKaggle } from "../generate.ts";

function flag(name: string, fallback: number): number {
  const i = Deno.args.indexOf(name);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
}

const rows = flag("--rows", 490_000);
const repeat = flag("--repeat", 3);
const bigRows = flag("--big-rows", 0);
const root = new URL("../../", import.meta.url).pathname;
const dir = await Deno.makeTempDir({ prefix: "blsbench-convert-" });

interface Measure {
  seconds: number;
  rssMiB: number;
}

/** Runs a command under /usr/bin/time -v: wall seconds and peak RSS. */
async function measure(cmd: string[]): Promise<Measure> {
  const out = await new Deno.Command("/usr/bin/time", {
    args: ["-v", ...cmd],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd.join(" ")} failed:\n${err}`);
  const wall = /Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)/.exec(err)!;
  const seconds = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(err)![1]);
  return { seconds, rssMiB: rss / 1024 };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

try {
  const input = `${dir}/mini-kaggle.txt`;
  await generateMiniKaggle(input, rows, 1);
  const mb = (await Deno.stat(input)).size / 1e6;
  const deno = [Deno.execPath(), "run", "-A", `${root}cli.ts`, "data", "convert", "--input", input];
  const pandas = ["/usr/bin/python3", `${root}datasets/_bench/pandas_convert.py`, input];
  const ours: Measure[] = [];
  const theirs: Measure[] = [];
  for (let r = 0; r < repeat; r++) {
    ours.push(await measure([...deno, "--output", `${dir}/ours.npz`]));
    theirs.push(await measure([...pandas, `${dir}/pandas.npz`]));
  }
  const oursS = median(ours.map((m) => m.seconds));
  const theirsS = median(theirs.map((m) => m.seconds));
  console.log(`input: ${rows} rows, ${mb.toFixed(1)} MB; ${repeat} alternating runs each`);
  console.log(`| tool | median s | MB/s | peak RSS MiB |`);
  console.log(`|---|---:|---:|---:|`);
  console.log(
    `| blsbench data convert | ${oursS.toFixed(2)} | ${(mb / oursS).toFixed(0)} | ${
      median(ours.map((m) => m.rssMiB)).toFixed(0)
    } |`,
  );
  console.log(
    `| pandas read_csv+factorize+savez | ${theirsS.toFixed(2)} | ${(mb / theirsS).toFixed(0)} | ${
      median(theirs.map((m) => m.rssMiB)).toFixed(0)
    } |`,
  );
  console.log(`speedup: ${(theirsS / oursS).toFixed(2)}x`);
  if (bigRows > 0) {
    // Streaming memory: peak RSS of convert and inspect as the file grows.
    console.log(`\n| rows | MB | convert peak RSS MiB | inspect peak RSS MiB |`);
    console.log(`|---:|---:|---:|---:|`);
    for (const n of [rows, bigRows]) {
      const path = `${dir}/big-${n}.txt`;
      await generateMiniKaggle(path, n, 2);
      const size = (await Deno.stat(path)).size / 1e6;
      const c = await measure([
        ...deno.slice(0, -1),
        path,
        "--output",
        `${dir}/big.npz`,
      ]);
      const i = await measure([
        Deno.execPath(),
        "run",
        "-A",
        `${root}cli.ts`,
        "data",
        "inspect",
        path,
        "--json",
      ]);
      console.log(
        `| ${n} | ${size.toFixed(0)} | ${c.rssMiB.toFixed(0)} | ${i.rssMiB.toFixed(0)} |`,
      );
      await Deno.remove(path);
      await Deno.remove(`${dir}/big.npz`);
    }
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
