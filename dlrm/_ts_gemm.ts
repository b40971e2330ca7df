/**
 * A cache-blocked single-precision GEMM in TypeScript, the fallback when no
 * BLAS library can be loaded. Row-major, same argument order as `cblas_sgemm`.
 *
 * Blocks of A (MC x KC) and B (KC x NC) are packed into 4-wide panels so the
 * 4x4 micro-kernel reads both contiguously; sums are kept in float64 inside a
 * KC block and added to C once per block.
 *
 * @module
 */

import type { Sgemm } from "./sgemm.ts";

const MC = 64;
const KC = 256;
const NC = 512;

let packA = new Float32Array(MC * KC);
let packB = new Float32Array(NC * KC);

/**
 * C = alpha op(A) op(B) + beta C for row-major matrices; op(X) is X or X^T.
 *
 * @param transA Use A^T (A is stored k x m).
 * @param transB Use B^T (B is stored n x k).
 * @param m Rows of op(A) and C.
 * @param n Columns of op(B) and C.
 * @param k Columns of op(A), rows of op(B).
 * @param alpha Scale of the product.
 * @param a A's elements.
 * @param lda A's row stride.
 * @param b B's elements.
 * @param ldb B's row stride.
 * @param beta Scale of C before the product is added (0 ignores C's contents).
 * @param c C's elements.
 * @param ldc C's row stride.
 */
export const sgemmTs: Sgemm = function sgemmTs(
  transA,
  transB,
  m,
  n,
  k,
  alpha,
  a,
  lda,
  b,
  ldb,
  beta,
  c,
  ldc,
) {
  if (m === 0 || n === 0) return;
  if (beta !== 1) {
    for (let i = 0; i < m; i++) {
      const row = i * ldc;
      // beta = 0 overwrites, so NaNs already in C do not leak through (as BLAS does).
      if (beta === 0) c.fill(0, row, row + n);
      else for (let j = 0; j < n; j++) c[row + j] *= beta;
    }
  }
  if (k === 0 || alpha === 0) return;
  if (packA.length < MC * KC) packA = new Float32Array(MC * KC);
  if (packB.length < NC * KC) packB = new Float32Array(NC * KC);
  for (let jc = 0; jc < n; jc += NC) {
    const nc = Math.min(NC, n - jc);
    for (let pc = 0; pc < k; pc += KC) {
      const kc = Math.min(KC, k - pc);
      packPanelsB(transB, b, ldb, pc, kc, jc, nc);
      for (let ic = 0; ic < m; ic += MC) {
        const mc = Math.min(MC, m - ic);
        packPanelsA(transA, a, lda, ic, mc, pc, kc);
        for (let jr = 0; jr < nc; jr += 4) {
          for (let ir = 0; ir < mc; ir += 4) {
            microKernel(
              kc,
              ir * kc,
              jr * kc,
              alpha,
              c,
              (ic + ir) * ldc + jc + jr,
              ldc,
              Math.min(4, mc - ir),
              Math.min(4, nc - jr),
            );
          }
        }
      }
    }
  }
};

/** Packs rows ic..ic+mc, columns pc..pc+kc of op(A) into 4-row panels [p][4], zero-padded. */
function packPanelsA(
  trans: boolean,
  a: Float32Array,
  lda: number,
  ic: number,
  mc: number,
  pc: number,
  kc: number,
): void {
  const pa = packA;
  for (let ir = 0; ir < mc; ir += 4) {
    const base = ir * kc;
    for (let ii = 0; ii < 4; ii++) {
      const i = ir + ii;
      if (i >= mc) {
        for (let p = 0; p < kc; p++) pa[base + p * 4 + ii] = 0;
      } else if (trans) {
        for (let p = 0; p < kc; p++) pa[base + p * 4 + ii] = a[(pc + p) * lda + ic + i];
      } else {
        const row = (ic + i) * lda + pc;
        for (let p = 0; p < kc; p++) pa[base + p * 4 + ii] = a[row + p];
      }
    }
  }
}

/** Packs rows pc..pc+kc, columns jc..jc+nc of op(B) into 4-column panels [p][4], zero-padded. */
function packPanelsB(
  trans: boolean,
  b: Float32Array,
  ldb: number,
  pc: number,
  kc: number,
  jc: number,
  nc: number,
): void {
  const pb = packB;
  for (let jr = 0; jr < nc; jr += 4) {
    const base = jr * kc;
    for (let jj = 0; jj < 4; jj++) {
      const j = jr + jj;
      if (j >= nc) {
        for (let p = 0; p < kc; p++) pb[base + p * 4 + jj] = 0;
      } else if (trans) {
        const row = (jc + j) * ldb + pc;
        for (let p = 0; p < kc; p++) pb[base + p * 4 + jj] = b[row + p];
      } else {
        for (let p = 0; p < kc; p++) pb[base + p * 4 + jj] = b[(pc + p) * ldb + jc + j];
      }
    }
  }
}

/** A 4x4 block of C += alpha * (A panel x B panel); only the first rows x cols are stored. */
function microKernel(
  kc: number,
  aOff: number,
  bOff: number,
  alpha: number,
  c: Float32Array,
  cOff: number,
  ldc: number,
  rows: number,
  cols: number,
): void {
  const pa = packA;
  const pb = packB;
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0;
  let c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0;
  let c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let p = 0; p < kc; p++) {
    const ai = aOff + 4 * p;
    const bi = bOff + 4 * p;
    const a0 = pa[ai], a1 = pa[ai + 1], a2 = pa[ai + 2], a3 = pa[ai + 3];
    const b0 = pb[bi], b1 = pb[bi + 1], b2 = pb[bi + 2], b3 = pb[bi + 3];
    c00 += a0 * b0;
    c01 += a0 * b1;
    c02 += a0 * b2;
    c03 += a0 * b3;
    c10 += a1 * b0;
    c11 += a1 * b1;
    c12 += a1 * b2;
    c13 += a1 * b3;
    c20 += a2 * b0;
    c21 += a2 * b1;
    c22 += a2 * b2;
    c23 += a2 * b3;
    c30 += a3 * b0;
    c31 += a3 * b1;
    c32 += a3 * b2;
    c33 += a3 * b3;
  }
  if (rows === 4 && cols === 4) {
    let o = cOff;
    c[o] += alpha * c00;
    c[o + 1] += alpha * c01;
    c[o + 2] += alpha * c02;
    c[o + 3] += alpha * c03;
    o += ldc;
    c[o] += alpha * c10;
    c[o + 1] += alpha * c11;
    c[o + 2] += alpha * c12;
    c[o + 3] += alpha * c13;
    o += ldc;
    c[o] += alpha * c20;
    c[o + 1] += alpha * c21;
    c[o + 2] += alpha * c22;
    c[o + 3] += alpha * c23;
    o += ldc;
    c[o] += alpha * c30;
    c[o + 1] += alpha * c31;
    c[o + 2] += alpha * c32;
    c[o + 3] += alpha * c33;
    return;
  }
  const acc = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) c[cOff + i * ldc + j] += alpha * acc[4 * i + j];
  }
}
