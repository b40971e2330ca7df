import assert from "node:assert/strict";
import { convertCriteoToNpz, readDlrmNpz } from "../datasets/dlrm_npz.ts";
import { readCriteo } from "../datasets/criteo.ts";
import { readNpz } from "../datasets/npz.ts";
import { generateMiniKaggle } from "../datasets/generate.ts";
import { loadDataset } from "../datasets/load.ts";
import { MalformedLineError } from "../datasets/malformed.ts";
import { UsageError } from "../util/errors.ts";
import { ignoreUnless, needs, pythonHas } from "./_helpers/require.ts";

const PANDAS = pythonHas("pandas");
const NUMPY = pythonHas("numpy, zipfile");

const FIXTURES = new URL("./fixtures/npy/", import.meta.url);

Deno.test("dlrm npz: NumPy-written processed file reads as a Dataset", async () => {
  const data = await readDlrmNpz(new URL("dlrm_processed.npz", FIXTURES).pathname);
  assert.equal(data.rows, 2);
  // X_int row 0 is [1, 0, -3, 0...]: dense is log(max(x,0)+1).
  assert.equal(data.dense[0], Math.fround(Math.log(2)));
  assert.equal(data.dense[1], 0);
  assert.equal(data.dense[2], 0);
  assert.equal(data.dense[13], Math.fround(Math.log(6)));
  assert.deepEqual([...data.labels], [0, 1]);
  assert.deepEqual(data.tableSizes, [...Array(13).fill(2), ...Array(13).fill(1)]);
  assert.deepEqual([...data.sparse[0].indices], [0, 1]);
  assert.deepEqual([...data.sparse[20].indices], [0, 0]);
  assert.equal(data.sparse.length, 26);
  const capped = await readDlrmNpz(new URL("dlrm_processed.npz", FIXTURES).pathname, {
    maxIndRange: 1,
  });
  assert.deepEqual([...capped.sparse[0].indices], [0, 0]);
  assert.deepEqual(capped.tableSizes, Array(26).fill(1));
});

Deno.test("dlrm npz: convert streams, and reading the npz gives the same Dataset as the TSV", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await generateMiniKaggle(`${dir}/mk.txt`, 3000, 11);
    for (const compress of [false, true]) {
      const result = await convertCriteoToNpz(`${dir}/mk.txt`, `${dir}/mk.npz`, {
        compress,
        batchRows: 700, // several chunks
      });
      assert.equal(result.rows, 3000);
      assert.equal(result.skipped, 0);
      const fromTsv = await readCriteo(`${dir}/mk.txt`);
      const fromNpz = await loadDataset(`${dir}/mk.npz`);
      assert.equal(fromNpz.rows, fromTsv.rows);
      assert.deepEqual(fromNpz.tableSizes, fromTsv.tableSizes);
      assert.deepEqual(result.counts, fromTsv.tableSizes);
      assert.deepEqual(fromNpz.dense, fromTsv.dense);
      assert.deepEqual(fromNpz.labels, fromTsv.labels);
      fromTsv.sparse.forEach((f, j) => assert.deepEqual(fromNpz.sparse[j].indices, f.indices));
      const arrays = await readNpz(`${dir}/mk.npz`);
      assert.deepEqual([...arrays.keys()], ["X_int", "X_cat", "y", "counts"]);
      assert.deepEqual(arrays.get("X_int")!.shape, [3000, 13]);
      assert.equal(arrays.get("X_int")!.dtype, "<i4");
      assert.ok([...arrays.get("X_int")!.data].every((x) => Number(x) >= 0));
    }
    // No temporary files are left beside the output.
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["mk.npz", "mk.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dlrm npz: convert with maxIndRange writes N as every count", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await generateMiniKaggle(`${dir}/mk.txt`, 200, 3);
    const result = await convertCriteoToNpz(`${dir}/mk.txt`, `${dir}/mk.npz`, {
      maxIndRange: 50,
    });
    assert.deepEqual(result.counts, Array(26).fill(50));
    const data = await readDlrmNpz(`${dir}/mk.npz`);
    assert.ok(data.sparse.every((f) => f.indices.every((i) => i < 50)));
    const direct = await readCriteo(`${dir}/mk.txt`, { maxIndRange: 50 });
    direct.sparse.forEach((f, j) => assert.deepEqual(data.sparse[j].indices, f.indices));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dlrm npz: convert counts malformed lines, fails in strict mode, leaves nothing behind", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = ["1", ...Array(13).fill("2"), ...Array(26).fill("ab")].join("\t");
    await Deno.writeTextFile(`${dir}/in.txt`, `${good}\n1\t5\n${good}\n`);
    const reasons: string[] = [];
    const result = await convertCriteoToNpz(`${dir}/in.txt`, `${dir}/out.npz`, {
      onMalformed: (f, l, r) => reasons.push(`${f}:${l}: ${r}`),
    });
    assert.equal(result.rows, 2);
    assert.equal(result.skipped, 1);
    assert.deepEqual(reasons, [`${dir}/in.txt:2: expected 40 tab-separated fields, got 2`]);
    await Deno.remove(`${dir}/out.npz`);
    await assert.rejects(
      () => convertCriteoToNpz(`${dir}/in.txt`, `${dir}/out.npz`, { strict: true }),
      MalformedLineError,
    );
    await Deno.writeTextFile(`${dir}/empty.txt`, "");
    await assert.rejects(
      () => convertCriteoToNpz(`${dir}/empty.txt`, `${dir}/out.npz`),
      UsageError,
    );
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(names, ["empty.txt", "in.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dlrm npz: not DLRM's form, or not a zip, is a SyntaxError naming the file", async () => {
  const fixture = new URL("stored.npz", FIXTURES).pathname;
  await assert.rejects(
    () => readDlrmNpz(fixture),
    (e) => e instanceof SyntaxError && /X_int/.test(e.message),
  );
  const notZip = new URL("i4.npy", FIXTURES).pathname;
  await assert.rejects(
    () => readDlrmNpz(notZip),
    (e) => e instanceof SyntaxError && e.message.includes("i4.npy"),
  );
  await assert.rejects(() => readDlrmNpz("/nonexistent.npz"), UsageError);
});

Deno.test({
  name: "dlrm npz: convert matches pandas read_csv + factorize + savez on the same file",
  ignore: ignoreUnless("python3-pandas", PANDAS),
}, async () => {
  needs("python3-pandas", PANDAS);
  const python = "/usr/bin/python3";
  const dir = await Deno.makeTempDir();
  try {
    await generateMiniKaggle(`${dir}/mk.txt`, 2000, 21);
    await convertCriteoToNpz(`${dir}/mk.txt`, `${dir}/ours.npz`);
    const script = new URL("../datasets/_bench/pandas_convert.py", import.meta.url).pathname;
    const run = await new Deno.Command(python, {
      args: [script, `${dir}/mk.txt`, `${dir}/pandas.npz`],
    }).output();
    assert.ok(run.success, new TextDecoder().decode(run.stderr));
    const ours = await readNpz(`${dir}/ours.npz`);
    const theirs = await readNpz(`${dir}/pandas.npz`);
    for (const name of ["X_int", "X_cat", "y", "counts"]) {
      assert.deepEqual(ours.get(name)!.shape, theirs.get(name)!.shape, name);
      assert.deepEqual(
        [...ours.get(name)!.data].map(Number),
        [...theirs.get(name)!.data].map(Number),
        name,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "dlrm npz: converted archives pass zipfile's CRC check and load in NumPy",
  ignore: ignoreUnless("python3-numpy", NUMPY),
}, async () => {
  needs("python3-numpy", NUMPY);
  const dir = await Deno.makeTempDir();
  try {
    await generateMiniKaggle(`${dir}/mk.txt`, 1500, 8);
    for (const compress of [false, true]) {
      await convertCriteoToNpz(`${dir}/mk.txt`, `${dir}/mk.npz`, { compress, batchRows: 400 });
      const script = `import sys, zipfile, numpy as np
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None, "bad CRC"
a = np.load(sys.argv[1])
print(a["X_int"].shape, a["X_cat"].shape, int(a["y"].sum()), int(a["counts"].sum()))`;
      const out = await new Deno.Command("/usr/bin/python3", {
        args: ["-c", script, `${dir}/mk.npz`],
      })
        .output();
      assert.ok(out.success, new TextDecoder().decode(out.stderr));
      const data = await readCriteo(`${dir}/mk.txt`);
      const clicks = data.labels.reduce((a, b) => a + b, 0);
      const total = data.tableSizes.reduce((a, b) => a + b, 0);
      assert.equal(
        new TextDecoder().decode(out.stdout).trim(),
        `(1500, 13) (1500, 26) ${clicks} ${total}`,
      );
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
