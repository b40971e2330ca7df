import assert from "node:assert/strict";
import {
  aliCcpCommonPath,
  ensureGeneratedData,
  GENERATED_KINDS,
  generateData,
} from "../datasets/generate.ts";
import { loadDataset } from "../datasets/load.ts";
import { inspectFile } from "../datasets/inspect.ts";
import { readCriteo } from "../datasets/criteo.ts";

async function sha(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

const EXTENSION = { "mini-kaggle": "txt", "ali-ccp-raw": "csv", "ali-ccp-csv": "csv" } as const;

Deno.test("generate: same seed gives the same bytes, another seed other bytes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const kind of GENERATED_KINDS) {
      const ext = EXTENSION[kind];
      const a = await generateData(kind, 300, 5, `${dir}/sample_skeleton_a.${ext}`);
      const b = await generateData(kind, 300, 5, `${dir}/sample_skeleton_b.${ext}`);
      const c = await generateData(kind, 300, 6, `${dir}/sample_skeleton_c.${ext}`);
      assert.equal(a.length, kind === "ali-ccp-raw" ? 2 : 1);
      for (let i = 0; i < a.length; i++) {
        assert.equal(await sha(a[i]), await sha(b[i]), `${kind} ${a[i]}`);
        assert.notEqual(await sha(a[i]), await sha(c[i]), `${kind} ${a[i]}`);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("generate -> read -> inspect round trips for every kind", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const kind of GENERATED_KINDS) {
      const path = `${dir}/sample_skeleton_${kind}.${EXTENSION[kind]}`;
      await generateData(kind, 500, 9, path);
      const data = await loadDataset(path, {
        format: kind === "mini-kaggle"
          ? "criteo"
          : kind === "ali-ccp-raw"
          ? "aliccp-raw"
          : "aliccp-csv",
      });
      assert.equal(data.rows, 500, kind);
      assert.equal(data.skipped, 0, kind);
      assert.equal(data.labels.length, 500);
      assert.equal(data.dense.length, 500 * data.denseNames.length);
      data.sparse.forEach((f, j) => {
        assert.equal(f.offsets.length, 501);
        assert.equal(f.offsets[500], f.indices.length);
        assert.ok(f.indices.every((i) => i >= 0 && i < data.tableSizes[j]), `${kind} ${f.name}`);
      });
      const report = await inspectFile(path, {
        format: kind === "mini-kaggle"
          ? "criteo"
          : kind === "ali-ccp-raw"
          ? "aliccp-raw"
          : "aliccp-csv",
      });
      assert.equal(report.rows, 500);
      assert.equal(report.sparse.length, data.sparse.length);
      assert.ok(report.labels.click > 0 && report.labels.click < 500, kind);
      if (kind !== "mini-kaggle") assert.equal(typeof report.labels.purchase, "number");
      if (kind === "ali-ccp-raw") {
        // Multi-valued user fields really are bags.
        const bagField = report.sparse.find((s) => s.name === "110_14")!;
        assert.ok(bagField.maxPerRow > 1 && bagField.meanPerRow > 1);
        assert.ok(bagField.missing > 0);
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("generate: mini-kaggle has empty fields, negatives and Zipf-skewed categorical values", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await generateData("mini-kaggle", 2000, 1, `${dir}/mk.txt`);
    const text = await Deno.readTextFile(`${dir}/mk.txt`);
    const lines = text.trimEnd().split("\n");
    assert.equal(lines.length, 2000);
    assert.ok(lines.every((l) => l.split("\t").length === 40));
    assert.ok(lines.some((l) => l.split("\t")[2].startsWith("-")));
    assert.ok(lines.some((l) => l.split("\t")[1] === ""));
    assert.ok(lines.every((l) => l.split("\t").slice(14).every((c) => /^([0-9a-f]{8})?$/.test(c))));
    const report = await inspectFile(`${dir}/mk.txt`);
    assert.ok(report.dense[1].min! < 0);
    assert.ok(report.sparse[21].missing > 0);
    // Skewed: in the largest column, the most frequent value covers many rows.
    const data = await readCriteo(`${dir}/mk.txt`);
    const counts = new Map<number, number>();
    for (const i of data.sparse[2].indices) counts.set(i, (counts.get(i) ?? 0) + 1);
    assert.ok(Math.max(...counts.values()) > 20);
    assert.ok(data.tableSizes[2] > 100);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("ensureGeneratedData: generates once per kind, rows and seed, also when called concurrently", async () => {
  const cache = await Deno.makeTempDir();
  try {
    const [a, b] = await Promise.all([
      ensureGeneratedData("ali-ccp-raw", 100, 2, `${cache}/sub`),
      ensureGeneratedData("ali-ccp-raw", 100, 2, `${cache}/sub`),
    ]);
    assert.equal(a, b);
    const stamp = Deno.statSync(a).mtime?.getTime();
    const again = await ensureGeneratedData("ali-ccp-raw", 100, 2, `${cache}/sub`);
    assert.equal(again, a);
    assert.equal(Deno.statSync(a).mtime?.getTime(), stamp);
    assert.ok(Deno.statSync(aliCcpCommonPath(a)).isFile);
    const other = await ensureGeneratedData("ali-ccp-raw", 100, 3, `${cache}/sub`);
    assert.notEqual(other, a);
    const data = await loadDataset(a);
    assert.equal(data.rows, 100);
    // Only finished files remain in the cache.
    const names = [...Deno.readDirSync(`${cache}/sub`)].map((e) => e.name);
    assert.equal(names.length, 4);
    assert.ok(names.every((n) => !n.startsWith(".tmp")));
  } finally {
    await Deno.remove(cache, { recursive: true });
  }
});

Deno.test("generate: bad rows, seed or kind are RangeErrors", async () => {
  await assert.rejects(() => generateData("mini-kaggle", 0, 1, "/tmp/never.txt"), RangeError);
  await assert.rejects(() => generateData("mini-kaggle", 1.5, 1, "/tmp/never.txt"), RangeError);
  await assert.rejects(
    () => generateData("nope" as "mini-kaggle", 1, 1, "/tmp/never.txt"),
    RangeError,
  );
});
