/**
 * The MPI functions this suite calls, opened with `Deno.dlopen` for one
 * library family.
 *
 * Pointer arguments are `usize` addresses (kept on V8's fast FFI path); handle
 * arguments are `usize` for OpenMPI (addresses of globals) and `i32` for MPICH.
 *
 * @module
 */

import type { MpiAbi } from "./_abi.ts";

// The definitions are written once with `usize` handles for the TypeScript
// types; `symbolsFor` swaps in the family's real handle type at run time.
const H = "isize"; // a marker: no other parameter is isize
const SYMBOLS = {
  MPI_Init_thread: { parameters: ["usize", "usize", "i32", "usize"], result: "i32" },
  MPI_Initialized: { parameters: ["usize"], result: "i32" },
  MPI_Finalized: { parameters: ["usize"], result: "i32" },
  MPI_Finalize: { parameters: [], result: "i32" },
  MPI_Comm_rank: { parameters: [H, "usize"], result: "i32" },
  MPI_Comm_size: { parameters: [H, "usize"], result: "i32" },
  MPI_Comm_get_attr: { parameters: [H, "i32", "usize", "usize"], result: "i32" },
  MPI_Comm_dup: { parameters: [H, "usize"], result: "i32" },
  MPI_Comm_free: { parameters: ["usize"], result: "i32" },
  MPI_Barrier: { parameters: [H], result: "i32" },
  MPI_Wtime: { parameters: [], result: "f64" },
  MPI_Isend: { parameters: ["usize", "i32", H, "i32", "i32", H, "usize"], result: "i32" },
  MPI_Improbe: { parameters: ["i32", "i32", H, "usize", "usize", "usize"], result: "i32" },
  MPI_Get_count: { parameters: ["usize", H, "usize"], result: "i32" },
  MPI_Imrecv: { parameters: ["usize", "i32", H, "usize", "usize"], result: "i32" },
  MPI_Test: { parameters: ["usize", "usize", "usize"], result: "i32" },
  MPI_Wait: { parameters: ["usize", "usize"], result: "i32" },
  MPI_Alltoall: { parameters: ["usize", "i32", H, "usize", "i32", H, H], result: "i32" },
  MPI_Alltoallv: {
    parameters: ["usize", "usize", "usize", H, "usize", "usize", "usize", H, H],
    result: "i32",
  },
  MPI_Ialltoall: {
    parameters: ["usize", "i32", H, "usize", "i32", H, H, "usize"],
    result: "i32",
  },
  MPI_Ialltoallv: {
    parameters: ["usize", "usize", "usize", H, "usize", "usize", "usize", H, H, "usize"],
    result: "i32",
  },
} as const satisfies Deno.ForeignLibraryInterface;

type RawFunctions = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];
// Handles are numbers for MPICH, so every `usize` slot also takes a number.
type Loosen<F> = F extends (...args: infer A) => infer R
  ? (...args: { [K in keyof A]: A[K] extends bigint ? bigint | number : A[K] }) => R
  : never;

/** The MPI functions, callable with addresses (`bigint`) and handles (`bigint` or `number`). */
export type MpiFunctions = { [K in keyof RawFunctions]: Loosen<RawFunctions[K]> };

/** An open MPI library: its functions and the family's predefined handles. */
export interface MpiLibrary {
  /** The functions. */
  readonly fn: MpiFunctions;
  /** `MPI_COMM_WORLD`. */
  readonly commWorld: number | bigint;
  /** `MPI_BYTE`. */
  readonly byte: number | bigint;
  /** `MPI_INT`. */
  readonly int: number | bigint;
  /** Closes the library. */
  close(): void;
}

function symbolsFor(abi: MpiAbi): Deno.ForeignLibraryInterface {
  const out: Record<string, Deno.ForeignFunction> = {};
  for (const [name, def] of Object.entries(SYMBOLS)) {
    out[name] = {
      parameters: def.parameters.map((p) => (p === H ? abi.handleType : p)),
      result: def.result,
    } as Deno.ForeignFunction;
  }
  return out;
}

/**
 * Opens the library of an ABI table and resolves its predefined handles.
 *
 * @throws Error from `Deno.dlopen` when the file is missing.
 */
export function openLibrary(abi: MpiAbi): MpiLibrary {
  const statics: Record<string, Deno.ForeignStatic> = {};
  for (const source of [abi.commWorld, abi.byte, abi.int]) {
    if (source.kind === "symbol") statics[source.symbol] = { type: "pointer" };
  }
  const lib = Deno.dlopen(abi.libraryPath, { ...symbolsFor(abi), ...statics });
  const symbols = lib.symbols as unknown as Record<string, unknown>;
  const handle = (source: MpiAbi["commWorld"]): number | bigint => {
    if (source.kind === "value") return source.value;
    // A "pointer" static is the address of the global itself: OpenMPI's handle.
    return Deno.UnsafePointer.value(symbols[source.symbol] as Deno.PointerValue);
  };
  return {
    fn: lib.symbols as unknown as MpiFunctions,
    commWorld: handle(abi.commWorld),
    byte: handle(abi.byte),
    int: handle(abi.int),
    close: () => lib.close(),
  };
}
