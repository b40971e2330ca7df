/**
 * Running the figure suite: a failed run is recorded and the others go on
 * (against a stand-in `cli.ts`), DLRM runs are skipped when bench lacks them,
 * the command's flags and exit codes, and one real end-to-end run of a tiny plan.
 */

import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { planFigures, runFigures } from "../bench/figures/figures.ts";
import { SUMMARY_COLUMNS } from "../bench/results/read.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

/** Collects what is written to it. */
function sink() {
  let text = "";
  return { write: (t: string) => (text += t, true), isTTY: false, text: () => text };
}

async function run(args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

/**
 * A stand-in for `cli.ts`: records its arguments, fails the fig-lag run, writes
 * two tagged rows for a bench run and simulated rows at two rank counts.
 */
const FAKE_CLI = `
const args = Deno.args;
const value = (name) => args[args.indexOf(name) + 1];
const out = value("--out");
await Deno.mkdir(out, { recursive: true });
await Deno.writeTextFile(out + "/args.json", JSON.stringify(args));
if (value("--figure") === "fig-lag") {
  console.error("[rank 1] something went wrong");
  console.error("error: Rank 1 failed in configuration 2 (lag 1): connection reset");
  Deno.exit(1);
}
const columns = ${JSON.stringify([...SUMMARY_COLUMNS, "figure"])};
const row = (cells) => columns.map((c) => cells[c] ?? "").join(",");
let rows;
if (args[0] === "simulate") {
  rows = [2, 64].flatMap((ranks) => [0, 2].map((lag) => row({ workload: "simulated",
    transport: "model", ranks, lag, delay: "exp:2ms", iters: 10, iters_per_s: 100 + lag * ranks,
    speedup_vs_sync: (100 + lag * ranks) / 100 })));
} else {
  rows = [0, 2].map((lag) => row({ workload: "alltoallv", transport: "tcp", ranks: 2, lag,
    size_bytes: 64, imbalance: "none", delay: "none", iters: 10, iters_per_s: 1000,
    latency_p50_us: 100, figure: value("--figure") }));
  console.error("[1/2] lag 0, 64 B: 1000 iters/s");
  console.error("[2/2] lag 2, 64 B: 1000 iters/s");
}
await Deno.writeTextFile(out + "/summary.csv", columns.join(",") + "\\n" + rows.join("\\n") + "\\n");
await Deno.writeTextFile(out + "/run.json", JSON.stringify({ version: "0.1.0", command: args,
  config: {}, status: "completed" }));
`;

Deno.test("figures: a failed run is recorded, the others go on, the report shows the rest", async () => {
  const dir = await Deno.makeTempDir({ prefix: "blsbench-figures-" });
  try {
    const fake = `${dir}/fake_cli.ts`;
    await Deno.writeTextFile(fake, FAKE_CLI);
    // A leftover from an earlier suite must not pass for this run's results.
    await Deno.mkdir(`${dir}/out/fig-lag/r2`, { recursive: true });
    await Deno.writeTextFile(`${dir}/out/fig-lag/r2/summary.csv`, "stale");
    const plan = planFigures({
      quick: true,
      only: ["fig-balanced", "fig-lag", "fig-scale"],
      out: `${dir}/out`,
      iters: 5,
    });
    const progress = sink();
    const output = sink();
    const outcome = await runFigures(plan, {
      progress,
      output,
      cli: fake,
      command: ["figures", "--test"],
    });

    deepStrictEqual(outcome.failedFigures, ["fig-lag"]);
    deepStrictEqual(outcome.steps.map((s) => s.status), [
      "completed",
      "completed",
      "failed",
      "completed",
    ]);
    equal(outcome.steps[2].reason, "Rank 1 failed in configuration 2 (lag 1): connection reset");

    // Progress: one line per finished run on a non-terminal, the failure named.
    const lines = progress.text().trim().split("\n");
    equal(lines.length, 4, progress.text());
    match(lines[0], /^\[1\/4\] fig-balanced .*: 2 rows/);
    match(lines[1], /^\[2\/4\] fig-balanced .*: 2 rows/);
    match(lines[2], /^\[3\/4\] fig-lag .*: FAILED: Rank 1 failed/);
    match(lines[3], /^\[4\/4\] fig-scale /);

    // The failed run left a directory the report lists as failed, without rows.
    const stub = JSON.parse(await Deno.readTextFile(`${dir}/out/fig-lag/r2/run.json`));
    equal(stub.status, "failed");
    equal(stub.figure, "fig-lag");
    match(stub.config.error, /connection reset/);
    // fig-scale ran without the calibration on the failed fig-lag run.
    const simArgs: string[] = JSON.parse(
      await Deno.readTextFile(`${dir}/out/fig-scale/simulated/args.json`),
    );
    ok(!simArgs.includes("--calibrate"), simArgs.join(" "));
    // The simulator's run is tagged with its figure.
    equal(
      JSON.parse(await Deno.readTextFile(`${dir}/out/fig-scale/simulated/run.json`)).figure,
      "fig-scale",
    );

    const suite = JSON.parse(await Deno.readTextFile(`${dir}/out/suite/run.json`));
    equal(suite.status, "failed");
    deepStrictEqual(suite.command, ["figures", "--test"]);
    equal(suite.config.suite, "quick");
    match(suite.config.failed[0], /^fig-lag\/r2: Rank 1 failed/);

    const html = await Deno.readTextFile(outcome.reportPath);
    equal(outcome.reportPath, `${dir}/out/report.html`);
    ok(html.includes('<canvas id="fig-balanced"'), "fig-balanced drawn");
    ok(html.includes('<canvas id="fig-scale"'), "fig-scale drawn");
    ok(html.includes('<div class="not-measured" id="fig-lag"'), "fig-lag not measured");
    ok(html.includes(`${dir}/out/fig-lag/r2`), "the failed run is listed");

    // Summary tables, claims and where the report is, on the output stream.
    const text = output.text();
    match(text, /fig-balanced \(4 rows\)/);
    match(text, /fig-scale\s+model, no measured verdict/);
    match(text, /fig-lag\s+\? not enough data/);
    match(text, /Failed: fig-lag\/r2: Rank 1 failed/);
    ok(text.includes(`Report: ${dir}/out/report.html`));
    equal(outcome.claims.length, 7);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("figures: DLRM runs are skipped, not failed, when bench has no DLRM workload", async () => {
  const dir = await Deno.makeTempDir({ prefix: "blsbench-figures-" });
  try {
    const plan = planFigures({ quick: true, only: ["fig-dlrm-unbalanced"], out: dir });
    const output = sink();
    const outcome = await runFigures(plan, {
      progress: sink(),
      output,
      dlrmAvailable: false,
      command: ["figures"],
    });
    deepStrictEqual(outcome.failedFigures, []);
    deepStrictEqual(outcome.skippedFigures, ["fig-dlrm-unbalanced"]);
    ok(outcome.steps.every((s) => s.status === "skipped"));
    match(output.text(), /Note: Not measured: fig-dlrm-unbalanced/);
    const html = await Deno.readTextFile(outcome.reportPath);
    ok(html.includes('<div class="not-measured" id="fig-dlrm-unbalanced"'));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("figures command: --dry-run lists the runs; bad flags exit 2", async () => {
  const dry = await run(["figures", "--quick", "--dry-run", "--only", "fig-lag,fig-scale"]);
  equal(dry.code, 0, dry.stderr);
  const lines = dry.stdout.trim().split("\n");
  equal(lines.length, 2, dry.stdout);
  match(
    lines[0],
    /^deno run -A cli\.ts bench .*--figure fig-lag --out results\/figures\/fig-lag\/r2$/,
  );
  match(lines[1], /^deno run -A cli\.ts simulate --calibrate results\/figures\/fig-lag\/r2 /);

  const unknown = await run(["figures", "--only", "fig-nope"]);
  equal(unknown.code, 2);
  match(unknown.stderr, /error: .*unknown figure 'fig-nope'/);
  const badRanks = await run(["figures", "--ranks", "0", "--dry-run"]);
  equal(badRanks.code, 2);
});

Deno.test({
  name: "figures: a real tiny suite (fig-balanced, fig-scale) writes one report with both",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "blsbench-figures-e2e-" });
    try {
      const result = await run([
        "figures",
        "--quick",
        "--only",
        "fig-balanced,fig-scale",
        "--iters",
        "4",
        "--out",
        dir,
      ]);
      equal(result.code, 0, result.stderr);
      // Progress on a non-terminal: one line per finished run.
      match(result.stderr, /\[1\/3\] fig-balanced alltoallv 8 B\.\.8 KiB.*: 55 rows/);
      match(result.stderr, /\[2\/3\] fig-balanced alltoallv 16 KiB\.\.1 MiB.*: 35 rows/);
      match(result.stderr, /\[3\/3\] fig-scale cost model/);
      match(result.stdout, /fig-balanced \(90 rows\)/);
      match(result.stdout, /The paper's claims, checked:/);
      ok(result.stdout.includes(`Report: ${dir}/report.html`), result.stdout);

      const html = await Deno.readTextFile(`${dir}/report.html`);
      ok(html.includes('<canvas id="fig-balanced"'));
      ok(html.includes('<canvas id="fig-scale"'));
      ok(html.includes('<div class="not-measured" id="fig-delay"'));
      const rows = (await Deno.readTextFile(`${dir}/fig-balanced/8-8192-r2/summary.csv`)).trim()
        .split("\n");
      ok(rows.slice(1).every((line) => line.includes(",fig-balanced,")));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
