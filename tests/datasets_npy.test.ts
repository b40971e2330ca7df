import assert from "node:assert/strict";
import fc from "fast-check";
import { encodeNpy, type NpyArray, type NpyDtype, parseNpy } from "../datasets/npy.ts";
import { encodeNpz, NpzReader, parseNpz, readNpz, writeNpz } from "../datasets/npz.ts";
import { ignoreUnless, needs, pythonHas } from "./_helpers/require.ts";

const NUMPY = pythonHas("numpy");

const FIXTURES = new URL("./fixtures/npy/", import.meta.url);
const fixture = (name: string) => Deno.readFileSync(new URL(name, FIXTURES));

Deno.test("npy: NumPy-written <i4 holds its values and shape", () => {
  const a = parseNpy(fixture("i4.npy"));
  assert.equal(a.dtype, "<i4");
  assert.deepEqual(a.shape, [2, 3]);
  assert.deepEqual([...a.data], [1, -2, 3, 2147483647, -2147483648, 0]);
});

Deno.test("npy: NumPy-written <i8 keeps 64-bit values exactly", () => {
  const a = parseNpy(fixture("i8.npy"));
  assert.equal(a.dtype, "<i8");
  assert.deepEqual(a.shape, [4]);
  assert.deepEqual([...a.data], [0n, -1n, 9007199254740993n, -(2n ** 63n)]);
});

Deno.test("npy: NumPy-written <f4 in format versions 1, 2 and 3", () => {
  for (const name of ["f4.npy", "f4_v2.npy", "f4_v3.npy"]) {
    const a = parseNpy(fixture(name));
    assert.equal(a.dtype, "<f4", name);
    assert.deepEqual(a.shape, [4]);
    assert.deepEqual([...a.data], [0.5, -1.25, Infinity, Math.fround(3.0e38)], name);
  }
  assert.equal(fixture("f4_v2.npy")[6], 2);
  assert.equal(fixture("f4_v3.npy")[6], 3);
});

Deno.test("npy: NumPy-written 3-d <f8, |u1, |b1, scalar and empty arrays", () => {
  const f8 = parseNpy(fixture("f8.npy"));
  assert.deepEqual(f8.shape, [2, 3, 4]);
  assert.deepEqual([...f8.data], Array.from({ length: 24 }, (_, i) => i / 8));
  const u1 = parseNpy(fixture("u1.npy"));
  assert.equal(u1.dtype, "|u1");
  assert.deepEqual([...u1.data], [0, 1, 127, 255]);
  const b1 = parseNpy(fixture("b1.npy"));
  assert.equal(b1.dtype, "|b1");
  assert.deepEqual([...b1.data], [1, 0, 1]);
  const scalar = parseNpy(fixture("scalar.npy"));
  assert.deepEqual(scalar.shape, []);
  assert.deepEqual([...scalar.data], [7.5]);
  const empty = parseNpy(fixture("empty.npy"));
  assert.deepEqual(empty.shape, [0, 3]);
  assert.equal(empty.data.length, 0);
});

Deno.test("npy: NumPy-written Fortran-order arrays come back in C order", () => {
  const a = parseNpy(fixture("fortran.npy"));
  assert.deepEqual(a.shape, [2, 3]);
  assert.deepEqual([...a.data], [0, 1, 2, 3, 4, 5]);
  const b = parseNpy(fixture("fortran3d.npy"));
  assert.deepEqual(b.shape, [2, 3, 4]);
  assert.deepEqual([...b.data], Array.from({ length: 24 }, (_, i) => i));
});

Deno.test("npy: big-endian and other dtypes fail with a clear SyntaxError", () => {
  assert.throws(() => parseNpy(fixture("big_endian.npy")), {
    name: "SyntaxError",
    message: /big-endian/,
  });
  assert.throws(() => parseNpy(fixture("u2.npy")), { name: "SyntaxError", message: /<u2/ });
});

Deno.test("npy: bad magic, unknown version and truncated data are SyntaxErrors", () => {
  assert.throws(() => parseNpy(new TextEncoder().encode("hello world")), SyntaxError);
  assert.throws(() => parseNpy(new Uint8Array(0)), SyntaxError);
  const good = fixture("i4.npy");
  const badVersion = good.slice();
  badVersion[6] = 9;
  assert.throws(() => parseNpy(badVersion), { name: "SyntaxError", message: /version 9/ });
  assert.throws(() => parseNpy(good.slice(0, good.length - 1)), {
    name: "SyntaxError",
    message: /Truncated/,
  });
  assert.throws(() => parseNpy(good.slice(0, 20)), SyntaxError);
});

Deno.test("npy: unaligned input is copied, not misread", () => {
  const good = fixture("f8.npy");
  const shifted = new Uint8Array(good.length + 3);
  shifted.set(good, 3);
  const a = parseNpy(shifted.subarray(3));
  assert.equal(a.data[23], 23 / 8);
});

Deno.test("npy: encode rejects data that does not match dtype or shape", () => {
  assert.throws(
    () => encodeNpy({ dtype: "<f4", shape: [3], data: new Float32Array(2) }),
    RangeError,
  );
  assert.throws(
    () => encodeNpy({ dtype: "<f4", shape: [2], data: new Float64Array(2) }),
    TypeError,
  );
});

const arrayArbitrary: fc.Arbitrary<NpyArray> = fc
  .tuple(
    fc.constantFrom<NpyDtype>("<i4", "<i8", "<f4", "<f8", "|u1", "|b1"),
    fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
    fc.integer(),
  )
  .map(([dtype, shape, seed]) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = Array.from({ length: n }, (_, i) => ((seed + i * 2654435761) | 0) % 1000);
    const data = dtype === "<i4"
      ? Int32Array.from(values)
      : dtype === "<i8"
      ? BigInt64Array.from(values, (v) => BigInt(v) * 1234567891n)
      : dtype === "<f4"
      ? Float32Array.from(values, (v) => v / 4)
      : dtype === "<f8"
      ? Float64Array.from(values, (v) => v / 3)
      : Uint8Array.from(values, (v) => dtype === "|b1" ? (v & 1) : (v & 255));
    return { dtype, shape, data };
  });

Deno.test("npy/npz: encode then parse gives the same arrays (property)", () => {
  fc.assert(
    fc.property(fc.array(arrayArbitrary, { maxLength: 4 }), fc.boolean(), (arrays, compress) => {
      for (const a of arrays) {
        const b = parseNpy(encodeNpy(a));
        assert.equal(b.dtype, a.dtype);
        assert.deepEqual(b.shape, a.shape);
        assert.deepEqual([...b.data], [...a.data]);
      }
      const named = Object.fromEntries(arrays.map((a, i) => [`arr_${i}`, a]));
      const back = parseNpz(encodeNpz(named, { compress }));
      assert.equal(back.size, arrays.length);
      arrays.forEach((a, i) => assert.deepEqual([...back.get(`arr_${i}`)!.data], [...a.data]));
    }),
    { numRuns: 60 },
  );
});

Deno.test("npz: NumPy-written stored and deflated archives", () => {
  const stored = parseNpz(fixture("stored.npz"));
  assert.deepEqual([...stored.keys()].sort(), ["b1", "f8", "i4"]);
  assert.deepEqual([...stored.get("i4")!.data], [1, -2, 3, 2147483647, -2147483648, 0]);
  assert.deepEqual(stored.get("f8")!.shape, [2, 3, 4]);
  assert.deepEqual([...stored.get("b1")!.data], [1, 0, 1]);
  const deflated = parseNpz(fixture("deflated.npz"));
  assert.deepEqual([...deflated.keys()].sort(), ["empty", "i8", "scalar", "u1"]);
  assert.deepEqual([...deflated.get("i8")!.data], [0n, -1n, 9007199254740993n, -(2n ** 63n)]);
  assert.deepEqual([...deflated.get("u1")!.data], [0, 1, 127, 255]);
  assert.deepEqual([...deflated.get("scalar")!.data], [7.5]);
  assert.deepEqual(deflated.get("empty")!.shape, [0, 3]);
});

Deno.test("npz: not a zip, and a bad member, are SyntaxErrors", () => {
  assert.throws(() => parseNpz(fixture("i4.npy")), { name: "SyntaxError", message: /npz/ });
  assert.throws(() => parseNpz(new Uint8Array(0)), SyntaxError);
});

Deno.test("npz: readNpz names the file on a bad archive", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/bad.npz`, "not a zip");
    await assert.rejects(() => readNpz(`${dir}/bad.npz`), {
      name: "SyntaxError",
      message: /bad\.npz/,
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "npz: archives written here are read by NumPy",
  ignore: ignoreUnless("python3-numpy", NUMPY),
}, async (t) => {
  needs("python3-numpy", NUMPY);
  const dir = await Deno.makeTempDir();
  try {
    for (const compress of [false, true]) {
      await t.step(compress ? "deflated" : "stored", async () => {
        const path = `${dir}/out-${compress}.npz`;
        await writeNpz(path, {
          a: { dtype: "<i8", shape: [2, 2], data: BigInt64Array.from([1n, -2n, 3n, 2n ** 40n]) },
          b: { dtype: "<f4", shape: [3], data: Float32Array.from([0.5, 1.5, -2]) },
          c: { dtype: "|b1", shape: [2], data: Uint8Array.from([1, 0]) },
        }, { compress });
        const script = `import numpy as np, json, sys
z = np.load(sys.argv[1])
print(json.dumps({k: [str(z[k].dtype), list(z[k].shape), z[k].ravel().tolist()] for k in sorted(z.files)}))`;
        const out = await new Deno.Command("/usr/bin/python3", { args: ["-c", script, path] })
          .output();
        assert.ok(out.success, new TextDecoder().decode(out.stderr));
        assert.deepEqual(JSON.parse(new TextDecoder().decode(out.stdout)), {
          a: ["int64", [2, 2], [1, -2, 3, 2 ** 40]],
          b: ["float32", [3], [0.5, 1.5, -2]],
          c: ["bool", [2], [true, false]],
        });
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("npz: zip64 archives (forced on a small file) read back in chunks, and by NumPy", async (t) => {
  const dir = await Deno.makeTempDir();
  const rows = 1000;
  const x = Int32Array.from({ length: rows * 3 }, (_, i) => (i * 7919) % 100003 - 50000);
  const y = Float64Array.from({ length: rows }, (_, i) => i / 8);
  try {
    for (const compress of [false, true]) {
      await t.step(compress ? "deflated" : "stored", async (s) => {
        const path = `${dir}/z64-${compress}.npz`;
        await writeNpz(path, {
          x: { dtype: "<i4", shape: [rows, 3], data: x },
          y: { dtype: "<f8", shape: [rows], data: y },
        }, { compress, forceZip64: true });
        const bytes = await Deno.readFile(path);
        const view = new DataView(bytes.buffer);
        // The zip64 end record and its locator are there.
        const locator = bytes.length - 22 - 20;
        assert.equal(view.getUint32(locator, true), 0x07064b50);
        const record = view.getUint32(locator + 8, true);
        assert.equal(view.getUint32(record, true), 0x06064b50);
        const back = await readNpz(path);
        assert.deepEqual([...back.get("x")!.data], [...x]);
        assert.deepEqual([...back.get("y")!.data], [...y]);
        const npz = await NpzReader.open(path);
        try {
          assert.equal(npz.members.get("x")!.compressed, compress);
          const seen: number[] = [];
          const starts: number[] = [];
          for await (const piece of npz.rows("x", 300)) {
            starts.push(piece.start);
            seen.push(...piece.data as Int32Array);
          }
          assert.deepEqual(starts, [0, 300, 600, 900]);
          assert.deepEqual(seen, [...x]);
        } finally {
          npz.close();
        }
        await s.step({
          name: "read by NumPy",
          ignore: ignoreUnless("python3-numpy", NUMPY),
          fn: async () => {
            needs("python3-numpy", NUMPY);
            const python = await new Deno.Command("/usr/bin/python3", {
              args: [
                "-c",
                "import numpy as np, sys; z = np.load(sys.argv[1]); print(int(z['x'].sum()), float(z['y'].sum()))",
                path,
              ],
              stderr: "piped",
            }).output();
            assert.ok(python.success, new TextDecoder().decode(python.stderr));
            const [sx, sy] = new TextDecoder().decode(python.stdout).trim().split(" ").map(Number);
            assert.equal(sx, x.reduce((a, b) => a + b, 0));
            assert.equal(sy, y.reduce((a, b) => a + b, 0));
          },
        });
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("npz: NumPy-written files (zip64-marked members) read from disk", async () => {
  const stored = await readNpz(new URL("stored.npz", FIXTURES).pathname);
  assert.deepEqual([...stored.get("i4")!.data], [1, -2, 3, 2147483647, -2147483648, 0]);
  const deflated = await readNpz(new URL("deflated.npz", FIXTURES).pathname);
  assert.deepEqual([...deflated.get("u1")!.data], [0, 1, 127, 255]);
  assert.deepEqual(deflated.get("empty")!.shape, [0, 3]);
});

Deno.test({
  name: "npz: Fortran-order arrays NumPy writes now read from disk in chunks",
  ignore: ignoreUnless("python3-numpy", NUMPY),
}, async () => {
  needs("python3-numpy", NUMPY);
  const dir = await Deno.makeTempDir();
  try {
    const script = `import numpy as np, sys
a = np.asfortranarray(np.arange(40, dtype=np.int32).reshape(10, 4) * 3)
np.savez(sys.argv[1] + "/s.npz", a=a)
np.savez_compressed(sys.argv[1] + "/d.npz", a=a)`;
    const python = await new Deno.Command("/usr/bin/python3", { args: ["-c", script, dir] })
      .output();
    assert.ok(python.success, new TextDecoder().decode(python.stderr));
    for (const name of ["s", "d"]) {
      const npz = await NpzReader.open(`${dir}/${name}.npz`);
      try {
        assert.equal(npz.members.get("a")!.fortranOrder, true);
        const seen: number[] = [];
        for await (const piece of npz.rows("a", 3)) seen.push(...piece.data as Int32Array);
        assert.deepEqual(seen, Array.from({ length: 40 }, (_, i) => i * 3));
      } finally {
        npz.close();
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
