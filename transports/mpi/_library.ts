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
  MPI_Abort: { parameters: [H, "i32"], result: "i32" },
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
  // The same function run on a Deno blocking-pool thread: returns a promise.
  MPI_Wait_async: {
    name: "MPI_Wait",
    parameters: ["usize", "usize"],
    result: "i32",
    nonblocking: true,
  },
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
} as const;

/** An MPI handle: an address (`bigint`) for OpenMPI, a 32-bit integer for MPICH. */
export type MpiHandle = bigint | number;

/**
 * `MPI_Alltoallv`'s arguments: send buffer, counts and displacements (addresses)
 * and type, then the same for receiving, then the communicator.
 */
export type MpiAlltoallvArgs = [
  sendBuf: bigint,
  sendCounts: bigint,
  sendDispls: bigint,
  sendType: MpiHandle,
  recvBuf: bigint,
  recvCounts: bigint,
  recvDispls: bigint,
  recvType: MpiHandle,
  comm: MpiHandle,
];

/**
 * The MPI functions this suite calls. Pointer parameters are addresses
 * (`bigint`, e.g. from `PinnedBlock.at`); every function returns an MPI error
 * code (0 is MPI_SUCCESS) except `MPI_Wtime`.
 */
export interface MpiFunctions {
  /** `MPI_Init_thread(int *argc, char ***argv, int required, int *provided)`. */
  MPI_Init_thread(argc: bigint, argv: bigint, required: number, provided: bigint): number;
  /** `MPI_Initialized(int *flag)`. */
  MPI_Initialized(flag: bigint): number;
  /** `MPI_Finalized(int *flag)`. */
  MPI_Finalized(flag: bigint): number;
  /** `MPI_Finalize()`. */
  MPI_Finalize(): number;
  /** `MPI_Abort(MPI_Comm comm, int errorcode)`. */
  MPI_Abort(comm: MpiHandle, errorCode: number): number;
  /** `MPI_Comm_rank(MPI_Comm comm, int *rank)`. */
  MPI_Comm_rank(comm: MpiHandle, rank: bigint): number;
  /** `MPI_Comm_size(MPI_Comm comm, int *size)`. */
  MPI_Comm_size(comm: MpiHandle, size: bigint): number;
  /** `MPI_Comm_get_attr(MPI_Comm comm, int keyval, void *value, int *flag)`. */
  MPI_Comm_get_attr(comm: MpiHandle, keyval: number, value: bigint, flag: bigint): number;
  /** `MPI_Comm_dup(MPI_Comm comm, MPI_Comm *newcomm)`. */
  MPI_Comm_dup(comm: MpiHandle, newComm: bigint): number;
  /** `MPI_Comm_free(MPI_Comm *comm)`. */
  MPI_Comm_free(comm: bigint): number;
  /** `MPI_Barrier(MPI_Comm comm)`. */
  MPI_Barrier(comm: MpiHandle): number;
  /** `MPI_Wtime()`: seconds. */
  MPI_Wtime(): number;
  /** `MPI_Isend(buf, count, datatype, dest, tag, comm, MPI_Request *request)`. */
  MPI_Isend(
    buf: bigint,
    count: number,
    type: MpiHandle,
    dest: number,
    tag: number,
    comm: MpiHandle,
    request: bigint,
  ): number;
  /** `MPI_Improbe(source, tag, comm, int *flag, MPI_Message *message, MPI_Status *status)`. */
  MPI_Improbe(
    source: number,
    tag: number,
    comm: MpiHandle,
    flag: bigint,
    message: bigint,
    status: bigint,
  ): number;
  /** `MPI_Get_count(const MPI_Status *status, datatype, int *count)`. */
  MPI_Get_count(status: bigint, type: MpiHandle, count: bigint): number;
  /** `MPI_Imrecv(buf, count, datatype, MPI_Message *message, MPI_Request *request)`. */
  MPI_Imrecv(buf: bigint, count: number, type: MpiHandle, message: bigint, request: bigint): number;
  /** `MPI_Test(MPI_Request *request, int *flag, MPI_Status *status)`. */
  MPI_Test(request: bigint, flag: bigint, status: bigint): number;
  /** `MPI_Wait(MPI_Request *request, MPI_Status *status)`. */
  MPI_Wait(request: bigint, status: bigint): number;
  /**
   * `MPI_Wait` on another thread (needs MPI_THREAD_MULTIPLE): the promise
   * settles when the request completes, while JavaScript keeps running.
   */
  MPI_Wait_async(request: bigint, status: bigint): Promise<number>;
  /** `MPI_Alltoall(sendbuf, sendcount, sendtype, recvbuf, recvcount, recvtype, comm)`. */
  MPI_Alltoall(
    sendBuf: bigint,
    sendCount: number,
    sendType: MpiHandle,
    recvBuf: bigint,
    recvCount: number,
    recvType: MpiHandle,
    comm: MpiHandle,
  ): number;
  /** `MPI_Alltoallv(sendbuf, sendcounts, sdispls, sendtype, recvbuf, recvcounts, rdispls, recvtype, comm)`. */
  MPI_Alltoallv(...args: MpiAlltoallvArgs): number;
  /** `MPI_Ialltoall(..., comm, MPI_Request *request)`. */
  MPI_Ialltoall(
    sendBuf: bigint,
    sendCount: number,
    sendType: MpiHandle,
    recvBuf: bigint,
    recvCount: number,
    recvType: MpiHandle,
    comm: MpiHandle,
    request: bigint,
  ): number;
  /** `MPI_Ialltoallv(..., comm, MPI_Request *request)`: `MPI_Alltoallv`'s arguments and a request. */
  MPI_Ialltoallv(...args: [...MpiAlltoallvArgs, request: bigint]): number;
}

/** An open MPI library: its functions and the family's predefined handles. */
export interface MpiLibrary {
  /** The functions. */
  readonly fn: MpiFunctions;
  /** `MPI_COMM_WORLD`. */
  readonly commWorld: MpiHandle;
  /** `MPI_BYTE`. */
  readonly byte: MpiHandle;
  /** `MPI_INT`. */
  readonly int: MpiHandle;
  /** Closes the library. */
  close(): void;
}

function symbolsFor(abi: MpiAbi): Deno.ForeignLibraryInterface {
  const out: Record<string, Deno.ForeignFunction> = {};
  for (const [name, def] of Object.entries(SYMBOLS)) {
    out[name] = {
      ...def,
      parameters: def.parameters.map((p) => (p === H ? abi.handleType : p)),
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
  const handle = (source: MpiAbi["commWorld"]): MpiHandle => {
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
