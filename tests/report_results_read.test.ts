/** Reading result directories: the CSV parser, typed rows, and errors that name the file. */

import { deepStrictEqual, equal, rejects, throws } from "node:assert/strict";
import { parseCsv } from "../bench/results/csv.ts";
import {
  parseRunJson,
  parseSummaryCsv,
  readResultDir,
  readResultDirs,
  SUMMARY_COLUMNS,
} from "../bench/results/read.ts";
import { UsageError } from "../util/errors.ts";
import { plainBenchRows, runJson, summaryCsv, writeResultDir } from "./_helpers/report_fixture.ts";

Deno.test("CSV: quotes, doubled quotes, separators and line breaks inside quotes, CRLF", () => {
  deepStrictEqual(parseCsv('a,b,c\r\n"x, y","say ""hi""","two\nlines"\r\n,,\n'), [
    ["a", "b", "c"],
    ["x, y", 'say "hi"', "two\nlines"],
    ["", "", ""],
  ]);
  deepStrictEqual(parseCsv("a\n\nb"), [["a"], ["b"]]);
  deepStrictEqual(parseCsv('""'), [[""]]);
  deepStrictEqual(parseCsv("\ufeffh1,h2\n1,2"), [["h1", "h2"], ["1", "2"]]);
  throws(() => parseCsv('a,"open\n'), SyntaxError);
  throws(() => parseCsv('"a"b,c'), SyntaxError);
});

Deno.test("summary.csv: typed rows, empty cells null, extra columns kept", () => {
  const text = summaryCsv([
    {
      workload: "dlrm",
      transport: "tcp",
      ranks: 4,
      lag: 2,
      size_bytes: null,
      imbalance: "none",
      delay: "exp:2ms",
      delay_mode: "sleep",
      iters: 50,
      iters_per_s: 80.5,
      samples_per_s: 20608,
      latency_p50_us: 12000,
      speedup_vs_sync: 1.3,
      validated: false,
      dataset: "mini-kaggle",
      figure: "fig-dlrm-unbalanced",
      repeat: 2,
      batch_size: 256,
    },
  ]);
  const [row] = parseSummaryCsv(text, "r/summary.csv");
  equal(row.workload, "dlrm");
  equal(row.lag, 2);
  equal(row.sizeBytes, null);
  equal(row.samplesPerS, 20608);
  equal(row.latencyP99Us, null);
  equal(row.validated, false);
  equal(row.dataset, "mini-kaggle");
  equal(row.figure, "fig-dlrm-unbalanced");
  equal(row.repeat, 2);
  equal(row.cells["batch_size"], "256");
});

Deno.test("summary.csv: malformed input is a UsageError naming the file and line", () => {
  const header = SUMMARY_COLUMNS.join(",");
  const good = "alltoallv,tcp,4,0,64,none,none,busy,100,5000,,190,250,20,1,,true";
  throws(
    () => parseSummaryCsv("workload,lag\nalltoallv,0\n", "x/summary.csv"),
    (e: unknown) =>
      e instanceof UsageError && e.message.includes("x/summary.csv") &&
      e.message.includes("missing column(s) transport"),
  );
  throws(
    () => parseSummaryCsv(`${header}\n${good.replace(",5000,", ",fast,")}\n`, "x/summary.csv"),
    (e: unknown) =>
      e instanceof UsageError && /x\/summary\.csv: line 2, column iters_per_s/.test(e.message),
  );
  throws(
    () => parseSummaryCsv(`${header}\n${good},extra\n`, "x/summary.csv"),
    (e: unknown) => e instanceof UsageError && /line 2 has 18 cells/.test(e.message),
  );
  throws(() => parseSummaryCsv("", "x/summary.csv"), UsageError);
  throws(() => parseSummaryCsv(`${header}\n"unclosed\n`, "x/summary.csv"), UsageError);
  equal(parseSummaryCsv(`${header}\n${good}\n`, "x").length, 1);
});

Deno.test("run.json: parsed with defaults; malformed is a UsageError naming the file", () => {
  const run = parseRunJson(JSON.stringify(runJson({ ranks: 8 }, "fig-delay")), "d/run.json");
  equal(run.config.ranks, 8);
  equal(run.figure, "fig-delay");
  equal(run.machine.cpus, 2);
  equal(run.status, "completed");
  equal(run.socketIo, undefined);
  const tcp = parseRunJson(JSON.stringify({ ...runJson({}), socketIo: "native" }), "d/run.json");
  equal(tcp.socketIo, "native");
  const odd = parseRunJson(JSON.stringify({ ...runJson({}), socketIo: "carrier" }), "d/run.json");
  equal(odd.socketIo, undefined);
  throws(
    () => parseRunJson("{not json", "d/run.json"),
    (e: unknown) => e instanceof UsageError && e.message.startsWith("Malformed d/run.json"),
  );
  throws(() => parseRunJson("[]", "d/run.json"), UsageError);
  throws(() => parseRunJson('{"config": 3}', "d/run.json"), /"config" must be an object/);
});

Deno.test("result directories: read in order; missing directory or file is a UsageError", async () => {
  const dir = await Deno.makeTempDir({ prefix: "blsbench-report-read-" });
  try {
    await writeResultDir(`${dir}/a`, runJson({}), plainBenchRows());
    await writeResultDir(`${dir}/b`, runJson({ ranks: 2 }), plainBenchRows().slice(0, 2));
    const runs = await readResultDirs([`${dir}/a`, `${dir}/b`]);
    deepStrictEqual(runs.map((r) => r.rows.length), [8, 2]);
    equal(runs[1].run.config.ranks, 2);

    await rejects(
      readResultDir(`${dir}/missing`),
      (e: unknown) => e instanceof UsageError && e.message.includes(`${dir}/missing`),
    );
    await Deno.mkdir(`${dir}/no-summary`);
    await Deno.writeTextFile(`${dir}/no-summary/run.json`, JSON.stringify(runJson({})));
    await rejects(
      readResultDir(`${dir}/no-summary`),
      (e: unknown) =>
        e instanceof UsageError && e.message === `File not found: ${dir}/no-summary/summary.csv`,
    );
    await Deno.mkdir(`${dir}/no-run`);
    await Deno.writeTextFile(`${dir}/no-run/summary.csv`, summaryCsv([]));
    await rejects(readResultDir(`${dir}/no-run`), /File not found: .*no-run\/run\.json/);
    await Deno.writeTextFile(`${dir}/file`, "");
    await rejects(readResultDir(`${dir}/file`), /Not a results directory/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
