/** The sweep progress display and the summary table printer. */

import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { createProgress, formatDuration, formatSummaryTable } from "../bench/run/progress_bar.ts";
import { parseSummaryCsv } from "../bench/results/read.ts";
import { plainBenchRows, summaryCsv } from "./_helpers/report_fixture.ts";

function capture(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, stream: { isTTY, columns: 120, write: (t: string) => (chunks.push(t), true) } };
}

Deno.test("non-terminal: one line per finished configuration, nothing else", () => {
  const { chunks, stream } = capture(false);
  const progress = createProgress(3, { stream });
  progress.startConfig("alltoallv lag 0 64 B", 50);
  for (let i = 1; i <= 50; i++) progress.tick(i);
  progress.endConfig({ itersPerS: 1234.5, latencyP50Us: 810, speedupVsSync: 1 });
  progress.startConfig("dlrm lag 2", 10);
  progress.tick(10);
  progress.endConfig({ samplesPerS: 25600, itersPerS: 100, speedupVsSync: 1.25 });
  progress.startConfig("alltoallv lag 4 64 B", 10);
  progress.endConfig("failed: rank 2 timed out");
  progress.finish();
  const lines = chunks.join("").split("\n").filter((l) => l !== "");
  equal(lines.length, 3);
  match(lines[0], /^\[1\/3\] alltoallv lag 0 64 B: 1,235 it\/s, p50 810 µs, 1\.00× sync \(\d+s\)$/);
  match(lines[1], /^\[2\/3\] dlrm lag 2: 25,600 samples\/s, 1\.25× sync/);
  match(lines[2], /^\[3\/3\] alltoallv lag 4 64 B: failed: rank 2 timed out/);
});

Deno.test("terminal: a cli-progress bar with configuration, iteration and ETA", () => {
  const { chunks, stream } = capture(true);
  const progress = createProgress(2, { stream });
  progress.startConfig("alltoallv lag 1 1 KiB", 20);
  for (let i = 1; i <= 20; i++) progress.tick(i);
  progress.endConfig({ itersPerS: 900 });
  progress.finish();
  const out = chunks.join("");
  ok(out.includes("[1/2] alltoallv lag 1 1 KiB |"), "the bar shows the configuration");
  ok(/iter \d+\/20/.test(out), "the bar shows the iteration");
  ok(out.includes("ETA"), "the bar shows an ETA");
  ok(out.includes("[1/2] alltoallv lag 1 1 KiB: 900 it/s"), "the finished line follows");
});

Deno.test("summary table: aligned columns, empty columns left out, typed or CSV rows", () => {
  const rows = parseSummaryCsv(summaryCsv(plainBenchRows()), "summary.csv");
  const table = formatSummaryTable(rows);
  const lines = table.trimEnd().split("\n");
  equal(lines.length, rows.length + 1);
  ok(lines[0].includes("iters/s") && lines[0].includes("p50 µs"));
  ok(!lines[0].includes("samples/s"), "samples/s is empty for alltoallv");
  // Right-aligned numbers: every line has the same length up to the last numeric column.
  const width = lines[0].indexOf("iters/s") + "iters/s".length;
  for (const line of lines.slice(1)) equal(line[width], " ");
  deepStrictEqual(formatSummaryTable([]), "");
  ok(formatSummaryTable([{ workload: "dlrm", lag: 2, samples_per_s: 12345 }]).includes("12,345"));
});

Deno.test("durations", () => {
  equal(formatDuration(5.4), "5s");
  equal(formatDuration(3725), "1h02m");
  equal(formatDuration(Infinity), "?");
});
