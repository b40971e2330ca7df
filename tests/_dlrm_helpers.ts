/**
 * Helpers shared by the DLRM tests: which kernels to use, and whether OpenBLAS loads.
 *
 * @module
 */

import { type Kernels, loadKernels } from "../dlrm/kernels.ts";

/** OpenBLAS kernels, or undefined when the library does not load. */
export function openblasOrUndefined(): Kernels | undefined {
  try {
    return loadKernels({ backend: "openblas" });
  } catch {
    return undefined;
  }
}

/** The kernels the tests run the model with: OpenBLAS when present, else TypeScript. */
export function testKernels(): Kernels {
  return openblasOrUndefined() ?? loadKernels({ backend: "typescript" });
}
