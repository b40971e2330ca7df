/**
 * The matrix-product signature both kernels implement (OpenBLAS through FFI and
 * the TypeScript fallback), in a file of its own so neither imports the other.
 *
 * @module
 */

/**
 * Row-major `C = alpha op(A) op(B) + beta C`: `cblas_sgemm`'s arguments without
 * the order, with booleans for the transposes.
 */
export type Sgemm = (
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
) => void;
