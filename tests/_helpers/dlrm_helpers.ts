/**
 * Helpers shared by the DLRM tests: which kernels to use, and whether OpenBLAS loads.
 *
 * @module
 */

import { type Kernels, loadKernels } from "../../dlrm/kernels.ts";

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

const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/**
 * Runs `predict` in a child process on a data and a weights file, stdout and
 * stderr piped.
 *
 * @param data The data file.
 * @param weights The weights file.
 * @param out Where the predictions go.
 * @param args More flags.
 * @returns The child's output.
 */
export function runPredictCli(
  data: string,
  weights: string,
  out: string,
  ...args: string[]
): Promise<Deno.CommandOutput> {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      CLI,
      "predict",
      "--data",
      data,
      "--weights",
      weights,
      "--out",
      out,
      ...args,
    ],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
}
