/**
 * OpenBLAS's `cblas_sgemm` through Deno's FFI.
 *
 * @module
 */

import type { Sgemm } from "./sgemm.ts";

const CBLAS_ROW_MAJOR = 101;
const CBLAS_NO_TRANS = 111;
const CBLAS_TRANS = 112;

const SYMBOLS = {
  cblas_sgemm: {
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "buffer",
      "i32",
      "buffer",
      "i32",
      "f32",
      "buffer",
      "i32",
    ],
    result: "void",
  },
  openblas_set_num_threads: { parameters: ["i32"], result: "void", optional: true },
} as const;

/** The library names tried in order when none is given. */
export const OPENBLAS_NAMES: readonly string[] = [
  "libopenblas.so.0",
  "libopenblas.so",
  "libopenblas.dylib",
  "libopenblas.dll",
];

/** A loaded OpenBLAS. */
export interface OpenBlas {
  /** The library file that was opened. */
  library: string;
  /** Row-major `cblas_sgemm`. */
  sgemm: Sgemm;
}

/**
 * Opens OpenBLAS and sets its thread count.
 *
 * @param libraries Library names or paths to try, in order.
 * @param threads OpenBLAS threads (one per rank by default).
 * @returns The library, or the reasons each name failed.
 */
export function openOpenBlas(
  libraries: readonly string[],
  threads: number,
): OpenBlas | { errors: string[] } {
  const errors: string[] = [];
  for (const library of libraries) {
    let lib: Deno.DynamicLibrary<typeof SYMBOLS>;
    try {
      lib = Deno.dlopen(library, SYMBOLS);
    } catch (e) {
      errors.push(`${library}: ${(e as Error).message.split("\n")[0]}`);
      continue;
    }
    lib.symbols.openblas_set_num_threads?.(threads);
    const gemm = lib.symbols.cblas_sgemm;
    return {
      library,
      sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) {
        // cblas rejects empty shapes with leading dimensions of 0, so empty products return early.
        if (m === 0 || n === 0) return;
        gemm(
          CBLAS_ROW_MAJOR,
          transA ? CBLAS_TRANS : CBLAS_NO_TRANS,
          transB ? CBLAS_TRANS : CBLAS_NO_TRANS,
          m,
          n,
          k,
          alpha,
          a,
          Math.max(1, lda),
          b,
          Math.max(1, ldb),
          beta,
          c,
          Math.max(1, ldc),
        );
      },
    };
  }
  return { errors };
}
