import assert from "node:assert/strict";
import fc from "fast-check";
import { ignoreUnless, needs } from "./_helpers/require.ts";
import { openblasOrUndefined } from "./_helpers/dlrm_helpers.ts";
import {
  dotInteraction,
  embeddingBagSum,
  type Kernels,
  linear,
  loadKernels,
  relu,
  sigmoid,
} from "../dlrm/kernels.ts";
import { randomStream } from "../util/random.ts";
import { DlrmModel } from "../dlrm/model.ts";

const ts = loadKernels({ backend: "typescript" });
const blas = openblasOrUndefined();

function randomMatrix(seed: number, n: number): Float32Array {
  const rng = randomStream(seed, n);
  return Float32Array.from({ length: n }, () => rng.float() * 2 - 1);
}

interface Case {
  transA: boolean;
  transB: boolean;
  m: number;
  n: number;
  k: number;
  alpha: number;
  beta: number;
  seed: number;
}

/** C from one backend, plus the bound sum |alpha||a||b| + |beta c| per element for relative errors. */
function run(kernels: Kernels, c: Case): { out: Float32Array; scale: Float64Array } {
  const { transA, transB, m, n, k, alpha, beta, seed } = c;
  const a = randomMatrix(seed, m * k);
  const b = randomMatrix(seed + 1, k * n);
  const c0 = randomMatrix(seed + 2, m * n);
  const lda = transA ? m : k;
  const ldb = transB ? k : n;
  const out = c0.slice();
  kernels.sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, out, n);
  const scale = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = Math.abs(beta * c0[i * n + j]);
      for (let p = 0; p < k; p++) {
        const av = transA ? a[p * lda + i] : a[i * lda + p];
        const bv = transB ? b[j * ldb + p] : b[p * ldb + j];
        s += Math.abs(alpha * av * bv);
      }
      scale[i * n + j] = s;
    }
  }
  return { out, scale };
}

function assertClose(x: Float32Array, y: Float32Array, scale: Float64Array, tol: number) {
  for (let i = 0; i < x.length; i++) {
    const err = Math.abs(x[i] - y[i]);
    assert.ok(
      err <= tol * scale[i] + 1e-30,
      `element ${i}: ${x[i]} vs ${y[i]} (scale ${scale[i]})`,
    );
  }
}

/** The plain triple loop in float64, the reference both backends are checked against. */
function naive(c: Case): Float32Array {
  const { transA, transB, m, n, k, alpha, beta, seed } = c;
  const a = randomMatrix(seed, m * k);
  const b = randomMatrix(seed + 1, k * n);
  const out = randomMatrix(seed + 2, m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) {
        s += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
      }
      out[i * n + j] = alpha * s + (beta === 0 ? 0 : beta * out[i * n + j]);
    }
  }
  return out;
}

const caseArb = fc.record({
  transA: fc.boolean(),
  transB: fc.boolean(),
  m: fc.integer({ min: 1, max: 40 }),
  n: fc.integer({ min: 1, max: 40 }),
  k: fc.integer({ min: 0, max: 40 }),
  alpha: fc.constantFrom(1, 0.5, -2),
  beta: fc.constantFrom(0, 1, 0.25),
  seed: fc.integer({ min: 0, max: 1000 }),
});

Deno.test("TypeScript sgemm matches a float64 triple loop on random shapes", () => {
  fc.assert(
    fc.property(caseArb, (c) => {
      const { out, scale } = run(ts, c);
      assertClose(out, naive(c), scale, 1e-6);
    }),
    { numRuns: 60 },
  );
});

Deno.test({
  name: "TypeScript and OpenBLAS sgemm agree within 1e-5 relative on random inputs",
  ignore: ignoreUnless("libopenblas0", blas !== undefined),
}, () => {
  needs("libopenblas0", blas !== undefined);
  fc.assert(
    fc.property(caseArb, (c) => {
      const x = run(ts, c);
      const y = run(blas!, c);
      assertClose(x.out, y.out, x.scale, 1e-5);
    }),
    { numRuns: 60 },
  );
  // One product large enough to cross every cache block of the TypeScript GEMM (MC 64, KC 256, NC 512).
  const big: Case = {
    transA: false,
    transB: true,
    m: 70,
    n: 520,
    k: 300,
    alpha: 1,
    beta: 1,
    seed: 9,
  };
  const x = run(ts, big);
  const y = run(blas!, big);
  assertClose(x.out, y.out, x.scale, 1e-5);
});

Deno.test({
  name: "OpenBLAS sgemm reads subarray views at their offset",
  ignore: ignoreUnless("libopenblas0", blas !== undefined),
}, () => {
  needs("libopenblas0", blas !== undefined);
  const data = Float32Array.from({ length: 10 }, (_, i) => i);
  const c = new Float32Array(1);
  blas!.sgemm(false, false, 1, 1, 2, 1, data.subarray(3), 2, data.subarray(5), 1, 0, c, 1);
  assert.equal(c[0], 3 * 5 + 4 * 6);
});

Deno.test("a forced backend is used; BLSBENCH_KERNELS picks the default", () => {
  assert.equal(loadKernels({ backend: "typescript" }).backend, "typescript");
  Deno.env.set("BLSBENCH_KERNELS", "typescript");
  try {
    assert.equal(loadKernels().backend, "typescript");
  } finally {
    Deno.env.delete("BLSBENCH_KERNELS");
  }
  assert.throws(() => loadKernels({ backend: "cuda" as "typescript" }), /Unknown kernel backend/);
  assert.throws(
    () => loadKernels({ backend: "openblas", library: "libdoes-not-exist.so" }),
    /Cannot load OpenBLAS/,
  );
});

Deno.test("linear computes x W^T + b; relu and sigmoid", () => {
  for (const kernels of [ts, blas].filter((k): k is Kernels => k !== undefined)) {
    const layer = {
      inFeatures: 3,
      outFeatures: 2,
      weight: new Float32Array([1, 2, 3, -1, 0, 1]),
      bias: new Float32Array([0.5, -0.5]),
    };
    const x = new Float32Array([1, 1, 1, 2, 0, -1]);
    const y = new Float32Array(4);
    linear(kernels, layer, x, 2, y);
    assert.deepEqual([...y], [6.5, -0.5, -0.5, -3.5]);
    relu(y, 4);
    assert.deepEqual([...y], [6.5, 0, 0, 0]);
  }
  const s = new Float32Array([0, 100, -100]);
  sigmoid(s, 3);
  assert.equal(s[0], 0.5);
  assert.equal(s[1], 1);
  assert.ok(s[2] > 0 && s[2] < 1e-40);
});

Deno.test("embedding-bag sums: multi-hot, empty bags, strided output, bad index reported", () => {
  const table = new Float32Array([1, 2, 10, 20, 100, 200]);
  const bags = { offsets: new Int32Array([0, 0, 3, 4]), indices: new Int32Array([0, 1, 2, 1]) };
  const out = new Float32Array(3 * 3).fill(7);
  assert.equal(embeddingBagSum(table, 3, 2, bags, 0, 3, out, 1, 3), -1);
  assert.deepEqual([...out], [7, 0, 0, 7, 111, 222, 7, 10, 20]);
  const bad = { offsets: new Int32Array([0, 1, 2]), indices: new Int32Array([0, 3]) };
  assert.equal(embeddingBagSum(table, 3, 2, bad, 0, 2, new Float32Array(4), 0, 2), 1);
  const negative = { offsets: new Int32Array([0, 1]), indices: new Int32Array([-1]) };
  assert.equal(embeddingBagSum(table, 3, 2, negative, 0, 1, new Float32Array(2), 0, 2), 0);
});

Deno.test("dot interaction: pairs ordered for i in range(F) for j in range(i), d = 16 and generic agree", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 0, max: 1000 }),
      (f, rows, seed) => {
        for (const d of [16, 3]) {
          const z = randomMatrix(seed, rows * f * d);
          const sources = Array.from(
            { length: f },
            (_, i) => ({ data: z, offset: i * d, stride: f * d }),
          );
          const width = d + (f * (f - 1)) / 2;
          const out = new Float32Array(rows * width);
          dotInteraction(sources, rows, d, out);
          for (let r = 0; r < rows; r++) {
            const v = (i: number, k: number) => z[r * f * d + i * d + k];
            const expected: number[] = [];
            for (let k = 0; k < d; k++) expected.push(v(0, k));
            for (let i = 0; i < f; i++) {
              for (let j = 0; j < i; j++) {
                let s = 0;
                for (let k = 0; k < d; k++) s += v(i, k) * v(j, k);
                expected.push(Math.fround(s));
              }
            }
            assert.deepEqual([...out.subarray(r * width, (r + 1) * width)], expected);
          }
        }
      },
    ),
    { numRuns: 40 },
  );
});

Deno.test("without FFI permission the TypeScript kernels take over, said once on stderr", async () => {
  const kernels = new URL("../dlrm/kernels.ts", import.meta.url).href;
  const script =
    `import { loadKernels } from "${kernels}"; console.log(loadKernels().backend, loadKernels().backend);`;
  const dir = await Deno.makeTempDir();
  const file = `${dir}/fallback.ts`;
  await Deno.writeTextFile(file, script);
  // Only read permission: no FFI, so dlopen is refused.
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-config", "--allow-read", file],
    env: { NO_COLOR: "1" },
  }).output().finally(() => Deno.remove(dir, { recursive: true }));
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(out.success, stderr);
  assert.equal(new TextDecoder().decode(out.stdout).trim(), "typescript typescript");
  assert.equal(stderr.match(/^note: OpenBLAS not available/gm)?.length, 1, stderr);
});

Deno.test("a model asked for a table it does not hold says so", () => {
  const weights = {
    config: { bottomLayers: [1, 1], topLayers: [2, 1], embeddingDim: 1, tableSizes: [1] },
    embeddings: [undefined],
    bottom: [{
      inFeatures: 1,
      outFeatures: 1,
      weight: new Float32Array(1),
      bias: new Float32Array(1),
    }],
    top: [{
      inFeatures: 2,
      outFeatures: 1,
      weight: new Float32Array(2),
      bias: new Float32Array(1),
    }],
  };
  const data = {
    rows: 1,
    dense: new Float32Array(1),
    denseNames: ["I1"],
    sparse: [{ name: "C1", offsets: new Int32Array([0, 1]), indices: new Int32Array(1) }],
  };
  assert.throws(
    () => new DlrmModel(weights, ts).forward(data, 0, 1),
    /Table 0 is not held by this process/,
  );
});

Deno.test("embedding-bag sums equal float32 sums in index order, for d = 16 and other d", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(16, 3, 8),
      fc.array(fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 5 }), {
        minLength: 1,
        maxLength: 8,
      }),
      fc.integer({ min: 0, max: 1000 }),
      (d, bagList, seed) => {
        const table = randomMatrix(seed, 10 * d);
        const offsets = new Int32Array(bagList.length + 1);
        bagList.forEach((b, i) => (offsets[i + 1] = offsets[i] + b.length));
        const bags = { offsets, indices: Int32Array.from(bagList.flat()) };
        const out = new Float32Array(bagList.length * d);
        assert.equal(embeddingBagSum(table, 10, d, bags, 0, bagList.length, out, 0, d), -1);
        bagList.forEach((b, r) => {
          for (let k = 0; k < d; k++) {
            let s = 0;
            for (const i of b) s = Math.fround(s + table[i * d + k]);
            assert.equal(out[r * d + k], s);
          }
        });
        if (bagList.some((b) => b.length > 0)) {
          const bad = bagList.findIndex((b) => b.length > 0);
          bags.indices[offsets[bad] + bagList[bad].length - 1] = 10;
          assert.equal(embeddingBagSum(table, 10, d, bags, 0, bagList.length, out, 0, d), bad);
        }
      },
    ),
    { numRuns: 80 },
  );
});
