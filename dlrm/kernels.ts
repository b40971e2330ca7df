/**
 * The numeric kernels of DLRM inference: matrix products (OpenBLAS through FFI,
 * or a TypeScript fallback), linear layers, ReLU, sigmoid, embedding-bag sums
 * and the dot interaction.
 *
 * @module
 */

import { RunError, UsageError } from "../util/errors.ts";
import { OPENBLAS_NAMES, openOpenBlas } from "./_openblas.ts";
import type { Sgemm } from "./sgemm.ts";
import { sgemmTs } from "./_ts_gemm.ts";

/** Where matrix products run. */
export type KernelBackend = "openblas" | "typescript";

export type { Sgemm } from "./sgemm.ts";

/** Options for {@link loadKernels}. */
export interface KernelOptions {
  /**
   * `auto` (default) uses OpenBLAS when it loads and the TypeScript GEMM
   * otherwise; `openblas` fails when the library is missing; `typescript`
   * never touches FFI. The environment variable `BLSBENCH_KERNELS` sets the
   * default.
   */
  backend?: "auto" | KernelBackend;
  /** OpenBLAS threads for this process (default 1: one thread per rank). */
  threads?: number;
  /** The BLAS library file to open instead of the usual OpenBLAS names. */
  library?: string;
}

/** Matrix products on one backend. */
export interface Kernels {
  /** The backend in use. */
  readonly backend: KernelBackend;
  /** A one-line description (library file or "TypeScript"). */
  readonly description: string;
  /**
   * Row-major `C = alpha op(A) op(B) + beta C`, same arguments as `cblas_sgemm`
   * without the order and with booleans for the transposes. Pass views
   * (`subarray`) for offsets.
   */
  sgemm: Sgemm;
}

let fallbackAnnounced = false;
const openedBlas = new Map<string, Kernels>();

/**
 * Loads the matrix-product kernels. In `auto` mode a missing OpenBLAS (or no
 * `--allow-ffi`) falls back to TypeScript, said once per process on stderr.
 *
 * @example Force the TypeScript kernels
 * ```ts
 * import { loadKernels } from "@blsbench/core/dlrm";
 * const k = loadKernels({ backend: "typescript" });
 * const c = new Float32Array(1);
 * k.sgemm(false, false, 1, 1, 2, 1, new Float32Array([1, 2]), 2, new Float32Array([3, 4]), 1, 0, c, 1);
 * if (c[0] !== 11) throw new Error("1*3 + 2*4 should be 11");
 * ```
 *
 * @param options Backend, threads and library.
 * @returns The kernels.
 * @throws UsageError for an unknown backend; RunError when `openblas` is forced and cannot load.
 */
export function loadKernels(options: KernelOptions = {}): Kernels {
  const backend = options.backend ?? envBackend() ?? "auto";
  if (backend !== "auto" && backend !== "openblas" && backend !== "typescript") {
    throw new UsageError(
      `Unknown kernel backend '${backend}': expected auto, openblas or typescript`,
    );
  }
  const threads = options.threads ?? 1;
  if (!Number.isInteger(threads) || threads < 1) {
    throw new UsageError(`OpenBLAS threads must be a positive whole number, got ${threads}`);
  }
  if (backend !== "typescript") {
    const names = options.library ? [options.library] : OPENBLAS_NAMES;
    const key = `${names.join(":")}#${threads}`;
    // One library handle per process and setting: models are cheap to make, handles are not freed.
    const cached = openedBlas.get(key);
    if (cached) return cached;
    const opened = openOpenBlas(names, threads);
    if ("sgemm" in opened) {
      const kernels: Kernels = {
        backend: "openblas",
        description: `OpenBLAS (${opened.library})`,
        sgemm: opened.sgemm,
      };
      openedBlas.set(key, kernels);
      return kernels;
    }
    const why = opened.errors[0] ?? "not found";
    if (backend === "openblas") {
      throw new RunError(`Cannot load OpenBLAS (${why}); install libopenblas0 and allow FFI`);
    }
    if (!fallbackAnnounced) {
      fallbackAnnounced = true;
      console.error(`note: OpenBLAS not available (${why}); using the slower TypeScript kernels`);
    }
  }
  return { backend: "typescript", description: "TypeScript", sgemm: sgemmTs };
}

function envBackend(): string | undefined {
  try {
    return Deno.env.get("BLSBENCH_KERNELS") || undefined;
  } catch {
    return undefined; // no --allow-env: use the default
  }
}

/** A fully connected layer, as PyTorch's `nn.Linear`: y = x W^T + b. */
export interface LinearLayer {
  /** Inputs per row. */
  inFeatures: number;
  /** Outputs per row. */
  outFeatures: number;
  /** Row-major [outFeatures x inFeatures]. */
  weight: Float32Array;
  /** [outFeatures]. */
  bias: Float32Array;
}

/**
 * Applies a linear layer to `rows` rows: `y = x W^T + b`.
 *
 * @example One row through a 2 -> 1 layer
 * ```ts
 * import { linear, loadKernels } from "@blsbench/core/dlrm";
 * const layer = { inFeatures: 2, outFeatures: 1, weight: new Float32Array([2, 3]), bias: new Float32Array([1]) };
 * const y = new Float32Array(1);
 * linear(loadKernels({ backend: "typescript" }), layer, new Float32Array([1, 1]), 1, y);
 * if (y[0] !== 6) throw new Error("2 + 3 + 1 should be 6");
 * ```
 *
 * @param kernels The matrix-product kernels.
 * @param layer The layer.
 * @param x Input, row-major [rows x inFeatures] (extra elements are ignored).
 * @param rows Number of rows.
 * @param y Output, row-major [rows x outFeatures] (overwritten).
 */
export function linear(
  kernels: Kernels,
  layer: LinearLayer,
  x: Float32Array,
  rows: number,
  y: Float32Array,
): void {
  const { inFeatures, outFeatures, weight, bias } = layer;
  // Start from the bias and accumulate the product on top (beta = 1), as addmm does.
  for (let r = 0; r < rows; r++) y.set(bias, r * outFeatures);
  kernels.sgemm(
    false,
    true,
    rows,
    outFeatures,
    inFeatures,
    1,
    x,
    inFeatures,
    weight,
    inFeatures,
    1,
    y,
    outFeatures,
  );
}

/**
 * ReLU in place over the first `n` elements.
 *
 * @example Clamp negatives
 * ```ts
 * import { relu } from "@blsbench/core/dlrm";
 * const v = new Float32Array([-1, 2]);
 * relu(v, 2);
 * if (v[0] !== 0 || v[1] !== 2) throw new Error("wrong relu");
 * ```
 *
 * @param v The values.
 * @param n How many.
 */
export function relu(v: Float32Array, n: number): void {
  // Clear every value whose sign bit is set, on the integer bits: branch-free, where a float
  // comparison mispredicts on half the values and costs ten times as much.
  const bits = new Int32Array(v.buffer, v.byteOffset, n);
  for (let i = 0; i < n; i++) {
    const x = bits[i];
    bits[i] = x & ~(x >> 31);
  }
}

/**
 * The logistic sigmoid in place over the first `n` elements.
 *
 * @example sigmoid(0) = 0.5
 * ```ts
 * import { sigmoid } from "@blsbench/core/dlrm";
 * const v = new Float32Array([0]);
 * sigmoid(v, 1);
 * if (v[0] !== 0.5) throw new Error("wrong sigmoid");
 * ```
 *
 * @param v The values.
 * @param n How many.
 */
export function sigmoid(v: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) v[i] = 1 / (1 + Math.exp(-v[i]));
}

/** The bags of one sparse feature: row i's indices are `indices[offsets[i]..offsets[i+1]]`. */
export interface Bags {
  /** Bag boundaries, one more than rows. */
  offsets: Int32Array;
  /** Table row indices. */
  indices: Int32Array;
}

/**
 * Sums embedding rows per bag (`nn.EmbeddingBag(mode="sum")`) for dataset rows
 * `start..start+count`, writing bag r at `out[outOffset + r * outStride ..+ d]`.
 * Sums are accumulated in float32 in index order; an empty bag gives zeros.
 * Nothing is allocated per row.
 *
 * @example Two bags over a 3-row table of dimension 2
 * ```ts
 * import { embeddingBagSum } from "@blsbench/core/dlrm";
 * const table = new Float32Array([1, 2, 10, 20, 100, 200]);
 * const bags = { offsets: new Int32Array([0, 2, 3]), indices: new Int32Array([0, 2, 1]) };
 * const out = new Float32Array(4);
 * const bad = embeddingBagSum(table, 3, 2, bags, 0, 2, out, 0, 2);
 * if (bad !== -1 || out.join() !== "101,202,10,20") throw new Error("wrong sums");
 * ```
 *
 * @param table The table, row-major [tableRows x d].
 * @param tableRows Rows of the table.
 * @param d The embedding dimension.
 * @param bags The feature's offsets and indices.
 * @param start First dataset row.
 * @param count Number of rows.
 * @param out Output array.
 * @param outOffset Where row `start`'s sum goes.
 * @param outStride Distance between consecutive rows' sums.
 * @returns -1, or the dataset row of the first index outside 0..tableRows-1
 *   (that row's output is then incomplete).
 */
export function embeddingBagSum(
  table: Float32Array,
  tableRows: number,
  d: number,
  bags: Bags,
  start: number,
  count: number,
  out: Float32Array,
  outOffset: number,
  outStride: number,
): number {
  const { offsets, indices } = bags;
  if (d === 16) return bagSum16(table, tableRows, bags, start, count, out, outOffset, outStride);
  for (let r = 0; r < count; r++) {
    const o = outOffset + r * outStride;
    const first = offsets[start + r];
    const end = offsets[start + r + 1];
    if (first >= end) {
      for (let k = 0; k < d; k++) out[o + k] = 0;
      continue;
    }
    // The first row is copied rather than added to zeros: the same sum, one pass less.
    let idx = indices[first];
    if (!(idx >= 0 && idx < tableRows)) return start + r;
    let w = idx * d;
    for (let k = 0; k < d; k++) out[o + k] = table[w + k];
    for (let p = first + 1; p < end; p++) {
      idx = indices[p];
      if (!(idx >= 0 && idx < tableRows)) return start + r;
      w = idx * d;
      for (let k = 0; k < d; k++) out[o + k] += table[w + k];
    }
  }
  return -1;
}

/** {@link embeddingBagSum} for d = 16 (the common DLRM case), unrolled: same sums, fewer instructions. */
function bagSum16(
  table: Float32Array,
  tableRows: number,
  bags: Bags,
  start: number,
  count: number,
  out: Float32Array,
  outOffset: number,
  outStride: number,
): number {
  const { offsets, indices } = bags;
  for (let r = 0; r < count; r++) {
    const o = outOffset + r * outStride;
    const first = offsets[start + r];
    const end = offsets[start + r + 1];
    if (first >= end) {
      for (let k = 0; k < 16; k++) out[o + k] = 0;
      continue;
    }
    let idx = indices[first];
    if (!(idx >= 0 && idx < tableRows)) return start + r;
    let w = idx * 16;
    out[o] = table[w];
    out[o + 1] = table[w + 1];
    out[o + 2] = table[w + 2];
    out[o + 3] = table[w + 3];
    out[o + 4] = table[w + 4];
    out[o + 5] = table[w + 5];
    out[o + 6] = table[w + 6];
    out[o + 7] = table[w + 7];
    out[o + 8] = table[w + 8];
    out[o + 9] = table[w + 9];
    out[o + 10] = table[w + 10];
    out[o + 11] = table[w + 11];
    out[o + 12] = table[w + 12];
    out[o + 13] = table[w + 13];
    out[o + 14] = table[w + 14];
    out[o + 15] = table[w + 15];
    for (let p = first + 1; p < end; p++) {
      idx = indices[p];
      if (!(idx >= 0 && idx < tableRows)) return start + r;
      w = idx * 16;
      out[o] += table[w];
      out[o + 1] += table[w + 1];
      out[o + 2] += table[w + 2];
      out[o + 3] += table[w + 3];
      out[o + 4] += table[w + 4];
      out[o + 5] += table[w + 5];
      out[o + 6] += table[w + 6];
      out[o + 7] += table[w + 7];
      out[o + 8] += table[w + 8];
      out[o + 9] += table[w + 9];
      out[o + 10] += table[w + 10];
      out[o + 11] += table[w + 11];
      out[o + 12] += table[w + 12];
      out[o + 13] += table[w + 13];
      out[o + 14] += table[w + 14];
      out[o + 15] += table[w + 15];
    }
  }
  return -1;
}

/**
 * Where one interaction feature's vectors live: row r's vector is
 * `data[offset + r * stride ..+ d]`.
 */
export interface FeatureSource {
  /** The array holding the vectors. */
  data: Float32Array;
  /** Position of row 0's vector. */
  offset: number;
  /** Distance between consecutive rows' vectors. */
  stride: number;
}

/**
 * DLRM's dot interaction without self-interaction. For each row, with features
 * z_0 (bottom output), z_1.. (tables): the output row is
 * `[z_0, z_1.z_0, z_2.z_0, z_2.z_1, z_3.z_0, ...]`, pairs ordered
 * `for i in range(F) for j in range(i)`. Dot products are summed in float64.
 *
 * @example Two features of dimension 2
 * ```ts
 * import { dotInteraction } from "@blsbench/core/dlrm";
 * const z0 = { data: new Float32Array([1, 2]), offset: 0, stride: 2 };
 * const z1 = { data: new Float32Array([3, 4]), offset: 0, stride: 2 };
 * const out = new Float32Array(3);
 * dotInteraction([z0, z1], 1, 2, out);
 * if (out.join() !== "1,2,11") throw new Error("wrong interaction");
 * ```
 *
 * @param features Bottom output first, then one source per table in table order.
 * @param rows Number of rows.
 * @param d The embedding dimension.
 * @param out Output, row-major [rows x (d + F (F - 1) / 2)].
 */
export function dotInteraction(
  features: readonly FeatureSource[],
  rows: number,
  d: number,
  out: Float32Array,
): void {
  const f = features.length;
  const width = d + (f * (f - 1)) / 2;
  if (rowScratch.length < f * d) rowScratch = new Float64Array(f * d);
  const z = rowScratch;
  for (let r = 0; r < rows; r++) {
    // Widen the row's features to float64 once, rather than at every one of the F (F - 1) / 2 * d reads.
    for (let i = 0; i < f; i++) {
      const { data, offset, stride } = features[i];
      const from = offset + r * stride;
      const to = i * d;
      if (d === 16) { for (let k = 0; k < 16; k++) z[to + k] = data[from + k]; }
      else for (let k = 0; k < d; k++) z[to + k] = data[from + k];
    }
    let o = r * width;
    for (let k = 0; k < d; k++) out[o + k] = z[k];
    o += d;
    if (d === 16) {
      // d = 16 (the common DLRM case): feature i held in locals, unrolled dot products.
      for (let i = 1; i < f; i++) {
        const bi = i * 16;
        const x0 = z[bi], x1 = z[bi + 1], x2 = z[bi + 2], x3 = z[bi + 3];
        const x4 = z[bi + 4], x5 = z[bi + 5], x6 = z[bi + 6], x7 = z[bi + 7];
        const x8 = z[bi + 8], x9 = z[bi + 9], x10 = z[bi + 10], x11 = z[bi + 11];
        const x12 = z[bi + 12], x13 = z[bi + 13], x14 = z[bi + 14], x15 = z[bi + 15];
        for (let j = 0; j < i; j++) {
          const b = j * 16;
          out[o++] = x0 * z[b] + x1 * z[b + 1] + x2 * z[b + 2] + x3 * z[b + 3] +
            x4 * z[b + 4] + x5 * z[b + 5] + x6 * z[b + 6] + x7 * z[b + 7] +
            x8 * z[b + 8] + x9 * z[b + 9] + x10 * z[b + 10] + x11 * z[b + 11] +
            x12 * z[b + 12] + x13 * z[b + 13] + x14 * z[b + 14] + x15 * z[b + 15];
        }
      }
    } else {
      for (let i = 1; i < f; i++) {
        for (let j = 0; j < i; j++) {
          let s = 0;
          for (let k = 0; k < d; k++) s += z[i * d + k] * z[j * d + k];
          out[o++] = s;
        }
      }
    }
  }
}

/** One row's features in float64, reused across calls. */
let rowScratch = new Float64Array(0);
