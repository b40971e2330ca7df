import assert from "node:assert/strict";
import { readDlrmNpz } from "../datasets/dlrm_npz.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

async function data(...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "data", ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  // Deno itself may note that another process holds the node_modules lock: not ours.
  const stderr = new TextDecoder().decode(out.stderr).split("\n")
    .filter((l) => !/waiting for file lock/i.test(l)).join("\n");
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout), stderr };
}

Deno.test("cli data: generate, convert and inspect a Mini-Kaggle file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const gen = await data(
      "generate",
      "--kind",
      "mini-kaggle",
      "--rows",
      "400",
      "--seed",
      "3",
      "--out",
      `${dir}/mk.txt`,
    );
    assert.equal(gen.code, 0, gen.stderr);
    assert.equal(gen.stdout.trim(), `${dir}/mk.txt`);
    const conv = await data("convert", "--input", `${dir}/mk.txt`, "--output", `${dir}/mk.npz`);
    assert.equal(conv.code, 0, conv.stderr);
    assert.match(conv.stdout, /400 rows, 0 skipped/);
    assert.equal((await readDlrmNpz(`${dir}/mk.npz`)).rows, 400);
    const json = await data("inspect", `${dir}/mk.txt`, "--json");
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout);
    assert.equal(report.rows, 400);
    assert.equal(report.skipped, 0);
    assert.equal(typeof report.labels.click, "number");
    assert.equal(report.sparse.length, 26);
    assert.deepEqual(Object.keys(report.sparse[0]), [
      "name",
      "distinct",
      "maxId",
      "missing",
      "meanPerRow",
      "maxPerRow",
    ]);
    assert.deepEqual(Object.keys(report.dense[0]), ["name", "min", "max", "mean", "missing"]);
    // The npz inspects too, with the same rows and table sizes.
    const npz = JSON.parse((await data("inspect", `${dir}/mk.npz`, "--json")).stdout);
    assert.equal(npz.rows, 400);
    const table = await data("inspect", `${dir}/mk.txt`);
    assert.equal(table.code, 0);
    assert.match(table.stdout, /400 rows/);
    assert.match(table.stdout, /C26/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli data: Ali-CCP raw and CSV generate and inspect", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const raw = await data(
      "generate",
      "--kind",
      "ali-ccp-raw",
      "--rows",
      "200",
      "--out",
      `${dir}/skel.csv`,
    );
    assert.equal(raw.code, 0, raw.stderr);
    assert.deepEqual(raw.stdout.trim().split("\n"), [`${dir}/skel.csv`, `${dir}/skel.common.csv`]);
    const r = await data(
      "inspect",
      `${dir}/skel.csv`,
      "--common",
      `${dir}/skel.common.csv`,
      "--json",
    );
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.equal(report.rows, 200);
    assert.equal(typeof report.labels.purchase, "number");
    const csv = await data(
      "generate",
      "--kind",
      "ali-ccp-csv",
      "--rows",
      "50",
      "--out",
      `${dir}/a.csv`,
    );
    assert.equal(csv.code, 0, csv.stderr);
    const c = JSON.parse((await data("inspect", `${dir}/a.csv`, "--json")).stdout);
    assert.equal(c.rows, 50);
    assert.ok(c.dense.length > 0);
    const notCriteo = await data("convert", "--input", `${dir}/a.csv`, "--output", `${dir}/a.npz`);
    assert.equal(notCriteo.code, 2);
    assert.match(notCriteo.stderr, /^error: --input .*only Criteo/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli data: malformed lines are reported as FILE:LINE and counted; --strict exits 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = ["0", ...Array(13).fill("1"), ...Array(26).fill("ab")].join("\t");
    const lines = [good, "bad", good, ...Array(7).fill("2\t1"), good];
    await Deno.writeTextFile(`${dir}/in.txt`, lines.join("\n") + "\n");
    const r = await data("inspect", `${dir}/in.txt`, "--json");
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).skipped, 8);
    const reported = r.stderr.trim().split("\n");
    // The first five, then the count.
    assert.deepEqual(reported.slice(0, 2), [
      `${dir}/in.txt:2: label is not 0 or 1`,
      `${dir}/in.txt:4: label is not 0 or 1`,
    ]);
    assert.equal(reported.length, 6);
    assert.equal(reported[5], "8 malformed lines skipped");
    const conv = await data("convert", "--input", `${dir}/in.txt`, "--output", `${dir}/o.npz`);
    assert.equal(conv.code, 0);
    assert.match(conv.stdout, /3 rows, 8 skipped/);
    for (
      const cmd of [["inspect", `${dir}/in.txt`], [
        "convert",
        "--input",
        `${dir}/in.txt`,
        "--output",
        `${dir}/s.npz`,
      ]]
    ) {
      const strict = await data(...cmd, "--strict");
      assert.equal(strict.code, 2);
      assert.equal(strict.stderr.trim(), `error: ${dir}/in.txt:2: label is not 0 or 1`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cli data: empty, missing and unknown inputs, and bad flags exit 2", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/empty.txt`, "");
    const cases: string[][] = [
      ["inspect", `${dir}/empty.txt`],
      ["inspect", `${dir}/missing.txt`],
      ["inspect", `${dir}/file.unknown`],
      ["convert", "--input", `${dir}/empty.txt`, "--output", `${dir}/o.npz`],
      ["convert", "--input", `${dir}/missing.txt`, "--output", `${dir}/o.npz`],
      ["convert", "--input", `${dir}/empty.txt`, "--output", `${dir}/no/such/dir.npz`],
      ["generate", "--kind", "nope", "--rows", "5", "--out", `${dir}/x.txt`],
      ["generate", "--kind", "mini-kaggle", "--rows", "0", "--out", `${dir}/x.txt`],
      ["generate", "--kind", "mini-kaggle", "--out", `${dir}/x.txt`],
      [
        "convert",
        "--input",
        `${dir}/empty.txt`,
        "--output",
        `${dir}/o.npz`,
        "--max-ind-range",
        "x",
      ],
      [
        "convert",
        "--input",
        `${dir}/empty.txt`,
        "--output",
        `${dir}/o.npz`,
        "--max-ind-range",
        "3000000000",
      ],
      ["inspect", `${dir}/empty.txt`, "--format", "parquet"],
      ["frobnicate"],
    ];
    for (const args of cases) {
      const r = await data(...args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
      assert.match(r.stderr, /^error: /, args.join(" "));
      assert.equal(r.stderr.trim().split("\n").length, 1, args.join(" "));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
