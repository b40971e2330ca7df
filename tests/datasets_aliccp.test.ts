import assert from "node:assert/strict";
import { ALI_CCP_FIELDS, readAliCcpCsv, readAliCcpRaw } from "../datasets/aliccp.ts";
import { loadDataset } from "../datasets/load.ts";
import { inspectFile } from "../datasets/inspect.ts";
import { MalformedLineError } from "../datasets/malformed.ts";
import type { Dataset } from "../datasets/types.ts";
import { UsageError } from "../util/errors.ts";

/** `field\x02id\x03value` features joined by `\x01`. */
const list = (...features: [string, number, string?][]) =>
  features.map(([f, id, v]) => `${f}\x02${id}\x03${v ?? "1.0"}`).join("\x01");

async function inDir<T>(files: Record<string, string>, body: (dir: string) => Promise<T>) {
  const dir = await Deno.makeTempDir();
  try {
    for (const [name, text] of Object.entries(files)) {
      await Deno.writeTextFile(`${dir}/${name}`, text);
    }
    return await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function bag(data: Dataset, name: string, row: number): number[] {
  const f = data.sparse.find((s) => s.name === name)!;
  return [...f.indices.subarray(f.offsets[row], f.offsets[row + 1])];
}

const COMMON = [
  `uA,4,${list(["101", 900], ["109_14", 50], ["109_14", 51, "0.5"], ["121", 3])}`,
  `uB,2,${list(["101", 901], ["109_14", 51])}`,
].join("\n") + "\n";

Deno.test("aliccp raw: skeleton joined with common features; bags; first-appearance ids per field", async () => {
  const skeleton = [
    `1,1,0,uA,3,${list(["205", 7000], ["210", 1], ["210", 2])}`,
    `2,0,0,uB,1,${list(["205", 7001])}`,
    `3,1,1,uA,1,${list(["205", 7000])}`,
  ].join("\n") + "\n";
  await inDir({ "skel.csv": skeleton, "common.csv": COMMON }, async (dir) => {
    const data = await readAliCcpRaw(`${dir}/skel.csv`, { common: `${dir}/common.csv` });
    assert.equal(data.rows, 3);
    assert.deepEqual([...data.labels], [1, 0, 1]);
    assert.deepEqual([...data.purchases], [0, 0, 1]);
    assert.deepEqual(data.sparse.map((s) => s.name), [...ALI_CCP_FIELDS]);
    assert.equal(data.denseNames.length, 0);
    assert.deepEqual(bag(data, "101", 0), [0]);
    assert.deepEqual(bag(data, "101", 1), [1]);
    assert.deepEqual(bag(data, "101", 2), [0]);
    assert.deepEqual(bag(data, "109_14", 0), [0, 1]); // a multi-valued field keeps every id
    assert.deepEqual(bag(data, "109_14", 1), [1]);
    assert.deepEqual(bag(data, "210", 0), [0, 1]);
    assert.deepEqual(bag(data, "210", 1), []); // a missing field is an empty bag
    assert.deepEqual(bag(data, "205", 2), [0]);
    assert.deepEqual(bag(data, "121", 1), []);
    const sizes = Object.fromEntries(data.sparse.map((s, i) => [s.name, data.tableSizes[i]]));
    assert.equal(sizes["101"], 2);
    assert.equal(sizes["109_14"], 2);
    assert.equal(sizes["205"], 2);
    assert.equal(sizes["301"], 0);
    const report = await inspectFile(`${dir}/skel.csv`, { common: `${dir}/common.csv` });
    assert.deepEqual(report.labels, { click: 2, purchase: 1 });
    const s109 = report.sparse.find((s) => s.name === "109_14")!;
    assert.deepEqual(s109, {
      name: "109_14",
      distinct: 2,
      maxId: 51,
      missing: 0,
      meanPerRow: 5 / 3,
      maxPerRow: 2,
    });
    const s210 = report.sparse.find((s) => s.name === "210")!;
    assert.equal(s210.missing, 2);
  });
});

Deno.test("aliccp raw: lines of hundreds of features and common files of many pairs are read whole", async () => {
  // 300 features a line (more than a line's first buffer), 90,000 common pairs
  // (more than the common columns' first capacity): every buffer has to grow.
  const users = 300, perLine = 300;
  const features = (u: number) =>
    Array.from({ length: perLine }, (_, j) => ["109_14", u * 1000 + j] as [string, number]);
  const common = Array.from({ length: users }, (_, u) => `u${u},${perLine},${list(...features(u))}`)
    .join("\n") + "\n";
  const skeleton = Array.from(
    { length: users },
    (_, u) =>
      `${u + 1},${u % 2},0,u${u},${perLine},${
        list(...features(u).map(([, id]) => ["210", id] as [string, number]))
      }`,
  ).join("\n") + "\n";
  await inDir({ "skel.csv": skeleton, "common.csv": common }, async (dir) => {
    const data = await readAliCcpRaw(`${dir}/skel.csv`, { common: `${dir}/common.csv` });
    assert.equal(data.rows, users);
    const firstSeen = (u: number) => Array.from({ length: perLine }, (_, j) => u * perLine + j);
    for (const u of [0, 1, 218, 299]) {
      assert.deepEqual(bag(data, "109_14", u), firstSeen(u));
      assert.deepEqual(bag(data, "210", u), firstSeen(u));
    }
    const sizes = Object.fromEntries(data.sparse.map((s, i) => [s.name, data.tableSizes[i]]));
    assert.equal(sizes["109_14"], users * perLine);
  });
});

Deno.test("aliccp raw: malformed samples and common lines are skipped and counted", async () => {
  const common = COMMON + `uC,3,${list(["101", 1])}\n` + "uD,1\n";
  const skeleton = [
    `1,1,0,uA,0,`, // 1 ok (no own features)
    `2,0,0,uZ,0,`, // 2 common features missing
    `3,2,0,uA,0,`, // 3 click not 0/1
    `4,0,x,uA,0,`, // 4 conversion not 0/1
    `5,0,0,uA,2,${list(["205", 1])}`, // 5 feature_num mismatch
    `6,0,0,uA,1,205\x0299`, // 6 feature without value part
    `7,0,0,uA,1,205\x02abc\x031.0`, // 7 id not an integer
    `8,0,0,uA`, // 8 too few fields
    `9,0,0,uC,0,`, // 9 uC was malformed, so missing
    `10,1,0,uB,0,`, // 10 ok
  ].join("\n");
  await inDir({ "skel.csv": skeleton, "common.csv": common }, async (dir) => {
    const seen: string[] = [];
    const data = await readAliCcpRaw(`${dir}/skel.csv`, {
      common: `${dir}/common.csv`,
      onMalformed: (f, l, r) => seen.push(`${f.slice(dir.length + 1)}:${l}: ${r}`),
    });
    assert.equal(data.rows, 2);
    assert.equal(data.skipped, 10);
    assert.equal(seen.length, 10);
    assert.match(seen[0], /^common\.csv:3: feature_num is 3 but the list has 1 features$/);
    assert.match(seen[1], /^common\.csv:4: expected 3 comma-separated fields, got 2$/);
    assert.match(seen[2], /^skel\.csv:2: common features 'uZ' are missing from /);
    assert.match(seen[3], /^skel\.csv:3: click is not 0 or 1$/);
    assert.match(seen[4], /^skel\.csv:4: conversion is not 0 or 1$/);
    assert.match(seen[5], /^skel\.csv:5: feature_num is 2 but the list has 1 features$/);
    assert.match(seen[6], /^skel\.csv:6: feature '205\\x0299' is not field/);
    assert.match(seen[7], /^skel\.csv:7: feature id 'abc' is not an integer$/);
    assert.match(seen[8], /^skel\.csv:8: expected 6 comma-separated fields, got 4$/);
    assert.match(seen[9], /^skel\.csv:9: common features 'uC' are missing/);
    await assert.rejects(
      () => readAliCcpRaw(`${dir}/skel.csv`, { common: `${dir}/common.csv`, strict: true }),
      (e) => e instanceof MalformedLineError && e.message.startsWith(`${dir}/common.csv:3:`),
    );
  });
});

Deno.test("aliccp raw: unknown fields are kept after the known ones; loadDataset finds the common file", async () => {
  const skeleton = `1,0,0,uA,2,${list(["999", 5], ["998", 6])}\n2,1,0,uB,1,${list(["999", 7])}\n`;
  await inDir({
    "sample_skeleton_t.csv": skeleton,
    "common_features_t.csv": COMMON,
  }, async (dir) => {
    const data = await loadDataset(`${dir}/sample_skeleton_t.csv`);
    assert.deepEqual(data.sparse.slice(-2).map((s) => s.name), ["999", "998"]);
    assert.deepEqual(bag(data, "999", 1), [1]);
    assert.deepEqual(bag(data, "998", 1), []);
  });
});

Deno.test("aliccp raw: missing or empty files are usage errors", async () => {
  await inDir({ "skel.csv": "1,0,0,uA,0,\n", "empty.csv": "" }, async (dir) => {
    await assert.rejects(
      () => readAliCcpRaw(`${dir}/skel.csv`, { common: `${dir}/none.csv` }),
      (e) => e instanceof UsageError && e.message.includes("none.csv"),
    );
    await assert.rejects(
      () => readAliCcpRaw(`${dir}/skel.csv`, { common: `${dir}/empty.csv` }),
      (e) => e instanceof UsageError && /empty/.test(e.message),
    );
  });
});

Deno.test("aliccp csv: torch-rechub form: labels, D columns dense as given, sparse ids as given", async () => {
  const text = [
    "click,purchase,101,205,D508,D509",
    "1,0,42,7,0.5,",
    "0,0,43,7,1.5,2",
    "1,1,42,,2.5,4",
  ].join("\n");
  await inDir({ "a.csv": text }, async (dir) => {
    const data = await readAliCcpCsv(`${dir}/a.csv`);
    assert.equal(data.rows, 3);
    assert.deepEqual(data.denseNames, ["D508", "D509"]);
    assert.deepEqual([...data.dense], [0.5, 0, 1.5, 2, 2.5, 4]);
    assert.deepEqual(data.sparse.map((s) => s.name), ["101", "205"]);
    assert.deepEqual([...data.sparse[0].indices], [42, 43, 42]); // ids used as given
    assert.deepEqual([...data.sparse[1].offsets], [0, 1, 2, 2]); // empty id: empty bag
    assert.deepEqual(data.tableSizes, [44, 8]); // largest id + 1
    assert.deepEqual([...data.labels], [1, 0, 1]);
    assert.deepEqual([...data.purchases], [0, 0, 1]);
    const capped = await loadDataset(`${dir}/a.csv`, { maxIndRange: 1 });
    assert.deepEqual([...capped.sparse[0].indices], [0, 0, 0]);
    assert.deepEqual(capped.tableSizes, [1, 1]);
    // With a cap N the row is the id mod N and a table has at most N rows.
    const mod10 = await loadDataset(`${dir}/a.csv`, { maxIndRange: 10 });
    assert.deepEqual([...mod10.sparse[0].indices], [2, 3, 2]);
    assert.deepEqual(mod10.tableSizes, [10, 8]);
    const report = await inspectFile(`${dir}/a.csv`);
    assert.deepEqual(report.dense, [
      { name: "D508", min: 0.5, max: 2.5, mean: 1.5, missing: 0 },
      { name: "D509", min: 2, max: 4, mean: 3, missing: 1 },
    ]);
    assert.deepEqual(report.sparse[1], {
      name: "205",
      distinct: 1,
      maxId: 7,
      missing: 1,
      meanPerRow: 2 / 3,
      maxPerRow: 1,
    });
  });
});

Deno.test("aliccp csv: the 18-sparse-field AITM form, with or without a header", async () => {
  const ids = (r: number) => Array.from({ length: 18 }, (_, j) => (r * 7 + j) % 5).join(",");
  const header = ["click", "purchase", ...Array.from({ length: 18 }, (_, j) => `f${j}`)].join(",");
  for (const withHeader of [true, false]) {
    const text = [...(withHeader ? [header] : []), `1,0,${ids(0)}`, `0,0,${ids(1)}`].join("\n");
    await inDir({ "aitm.csv": text }, async (dir) => {
      const data = await readAliCcpCsv(`${dir}/aitm.csv`);
      assert.equal(data.rows, 2);
      assert.equal(data.sparse.length, 18);
      assert.equal(data.denseNames.length, 0);
      assert.equal(data.sparse[0].name, withHeader ? "f0" : "s1");
    });
  }
});

Deno.test("aliccp csv: malformed rows are skipped and counted; no click column is a usage error", async () => {
  const text = [
    "click,purchase,101,D508",
    "1,0,42,0.5", // 2 ok
    "2,0,42,0.5", // 3 click
    "1,0,4x2,0.5", // 4 sparse id
    "1,0,42,abc", // 5 dense
    "1,0,42", // 6 field count
    "0,1,43,1", // 7 ok
  ].join("\n");
  await inDir({ "a.csv": text, "nolabel.csv": "a,b\n1,2\n" }, async (dir) => {
    const seen: number[] = [];
    const data = await readAliCcpCsv(`${dir}/a.csv`, { onMalformed: (_f, l) => seen.push(l) });
    assert.equal(data.rows, 2);
    assert.equal(data.skipped, 4);
    assert.deepEqual(seen, [3, 4, 5, 6]);
    await assert.rejects(() => readAliCcpCsv(`${dir}/a.csv`, { strict: true }), MalformedLineError);
    await assert.rejects(
      () => readAliCcpCsv(`${dir}/nolabel.csv`),
      (e) => e instanceof UsageError && /click/.test(e.message),
    );
  });
});

Deno.test("aliccp raw: a field met only on malformed lines never becomes a table", async () => {
  const common = COMMON + `,1,${list(["777", 1])}\n`; // empty common_feature_index
  const skeleton = `1,1,0,uA,2,${list(["778", 5])}\n2,0,0,uB,0,\n`; // feature_num mismatch
  await inDir({ "skel.csv": skeleton, "common.csv": common }, async (dir) => {
    const data = await readAliCcpRaw(`${dir}/skel.csv`, {
      common: `${dir}/common.csv`,
      onMalformed: () => {},
    });
    assert.equal(data.skipped, 2);
    assert.equal(data.rows, 1);
    assert.deepEqual(data.sparse.map((s) => s.name), [...ALI_CCP_FIELDS]);
  });
});
