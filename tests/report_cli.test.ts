/** The `report DIR... [--out FILE]` command: exit codes and output. */

import { equal, ok } from "node:assert/strict";
import { plainBenchRows, runJson, writeResultDir } from "./_helpers/report_fixture.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

async function run(args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

Deno.test("report: rebuilds report.html in the first directory, or --out", async () => {
  const dir = await Deno.makeTempDir({ prefix: "blsbench-report-cli-" });
  try {
    await writeResultDir(`${dir}/a`, runJson({}), plainBenchRows());
    await writeResultDir(`${dir}/b`, runJson({}), plainBenchRows());
    const first = await run(["report", `${dir}/a`, `${dir}/b`]);
    equal(first.code, 0, first.stderr);
    equal(first.stdout.trim(), `wrote ${dir}/a/report.html`);
    ok((await Deno.stat(`${dir}/a/report.html`)).size > 200_000);

    const second = await run(["report", `${dir}/b`, "--out", `${dir}/out.html`]);
    equal(second.code, 0, second.stderr);
    ok((await Deno.readTextFile(`${dir}/out.html`)).startsWith("<!DOCTYPE html>"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("report: a missing directory or malformed file exits 2 with one error line", async () => {
  const dir = await Deno.makeTempDir({ prefix: "blsbench-report-cli-" });
  try {
    const missing = await run(["report", `${dir}/nope`]);
    equal(missing.code, 2);
    ok(
      missing.stderr.includes(`error: Results directory not found: ${dir}/nope\n`),
      missing.stderr,
    );

    await writeResultDir(`${dir}/bad`, runJson({}), []);
    await Deno.writeTextFile(`${dir}/bad/summary.csv`, "lag\n0\n");
    const bad = await run(["report", `${dir}/bad`]);
    equal(bad.code, 2);
    // Deno itself may print notices (downloads, lock file) before the command's own line.
    const errorLines = bad.stderr.split("\n").filter((line) => line.startsWith("error:"));
    equal(errorLines.length, 1, bad.stderr);
    ok(
      errorLines[0].startsWith(`error: Malformed ${dir}/bad/summary.csv: missing column(s)`),
      bad.stderr,
    );

    // A row that lost its last cell (a hand-edited or cut file).
    await writeResultDir(`${dir}/cut`, runJson({}), plainBenchRows());
    const text = await Deno.readTextFile(`${dir}/cut/summary.csv`);
    const [header, first, ...rest] = text.split("\n");
    const cutRow = first.slice(0, first.lastIndexOf(","));
    await Deno.writeTextFile(`${dir}/cut/summary.csv`, [header, cutRow, ...rest].join("\n"));
    const cut = await run(["report", `${dir}/cut`]);
    equal(cut.code, 2);
    const cells = header.split(",").length;
    ok(
      cut.stderr.includes(
        `error: Malformed ${dir}/cut/summary.csv: line 2 has ${
          cells - 1
        } cells, the header has ${cells}\n`,
      ),
      cut.stderr,
    );

    const none = await run(["report"]);
    equal(none.code, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
