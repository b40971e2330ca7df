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
  /** Wall time of the whole command (process start included). */
  seconds: number;
  /** Time the tool reports for the work itself (no interpreter start, no imports). */
  inner: number;
  /** User + system CPU seconds (less sensitive than wall time to other load on the machine). */
  cpu: number;
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
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`${cmd.join(" ")} failed:\n${err}`);
  const wall = /Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)/.exec(err)!;
  const seconds = Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]);
  const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(err)![1]);
  // data convert prints "... in S s"; the pandas script prints JSON with total_s.
  const inner = text.startsWith("{")
    ? JSON.parse(text).total_s
    : Number(/ in ([\d.]+) s/.exec(text)?.[1] ?? NaN);
  const cpu = Number(/User time \(seconds\): ([\d.]+)/.exec(err)![1]) +
    Number(/System time \(seconds\): ([\d.]+)/.exec(err)![1]);
  return { seconds, inner, cpu, rssMiB: rss / 1024 };
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
  const strings: Measure[] = [];
  for (let r = 0; r < repeat; r++) {
    ours.push(await measure([...deno, "--output", `${dir}/ours.npz`]));
    theirs.push(await measure([...pandas, `${dir}/pandas.npz`]));
    strings.push(await measure([...pandas, `${dir}/pandas-strings.npz`, "--strings"]));
  }
  console.log(`input: ${rows} rows, ${mb.toFixed(1)} MB; ${repeat} alternating runs each`);
  const row = (name: string, m: Measure[]) => {
    const wall = median(m.map((x) => x.seconds));
    const inner = median(m.map((x) => x.inner));
    const cpu = median(m.map((x) => x.cpu));
    const rss = median(m.map((x) => x.rssMiB));
    console.log(
      `| ${name} | ${wall.toFixed(2)} | ${(mb / wall).toFixed(0)} | ${inner.toFixed(2)} | ${
        (mb / inner).toFixed(0)
      } | ${cpu.toFixed(2)} | ${rss.toFixed(0)} |`,
    );
  };
  console.log(`| tool | wall s | wall MB/s | work s | work MB/s | CPU s | peak RSS MiB |`);
  console.log(`|---|---:|---:|---:|---:|---:|---:|`);
  row("blsbench data convert", ours);
  row("pandas read_csv+factorize+savez (hex parsed, DLRM-exact)", theirs);
  row("pandas read_csv+factorize+savez (hex strings)", strings);
  const ratio = (base: Measure[], f: (m: Measure) => number) =>
    (median(base.map(f)) / median(ours.map(f))).toFixed(2);
  for (const [name, base] of [["hex parsed", theirs], ["hex strings", strings]] as const) {
    console.log(
      `speedup vs pandas (${name}): ${ratio(base, (m) => m.seconds)}x wall, ${
        ratio(base, (m) => m.inner)
      }x work, ${ratio(base, (m) => m.cpu)}x CPU`,
    );
  }
  if (bigRows > 0) {
    // Streaming memory: peak RSS of convert and inspect as the file grows.
    console.log(
      `\n| rows | MB | convert peak RSS MiB | convert --max-ind-range 1000000 peak RSS MiB | inspect peak RSS MiB |`,
    );
    console.log(`|---:|---:|---:|---:|---:|`);
    for (const n of [rows, bigRows]) {
      const path = `${dir}/big-${n}.txt`;
      await generateMiniKaggle(path, n, 2);
      const size = (await Deno.stat(path)).size / 1e6;
      const convert = [...deno.slice(0, -1), path, "--output", `${dir}/big.npz`];
      const c = await measure(convert);
      const capped = await measure([...convert, "--max-ind-range", "1000000"]);
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
        `| ${n} | ${size.toFixed(0)} | ${c.rssMiB.toFixed(0)} | ${capped.rssMiB.toFixed(0)} | ${
          i.rssMiB.toFixed(0)
        } |`,
      );
      await Deno.remove(path);
      await Deno.remove(`${dir}/big.npz`);
    }
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
