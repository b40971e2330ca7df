/**
 * One MPI initialisation per process, shared by the MPI transport and the
 * native collective.
 *
 * MPI can be initialised once per process and never again after
 * `MPI_Finalize`, so users acquire a reference-counted session: the first
 * acquire loads the library and calls `MPI_Init_thread`, the last release calls
 * `MPI_Finalize`.
 *
 * @module
 */

import { RunError } from "../../util/errors.ts";
import { launcherFamily, type MpiAbi, type MpiFamily, readEnv, resolveAbi } from "./_abi.ts";
import { type MpiHandle, type MpiLibrary, openLibrary } from "./_library.ts";
import { PinnedBlock } from "./memory.ts";

export type { HandleSource, MpiAbi, MpiFamily } from "./_abi.ts";
export type { MpiAlltoallvArgs, MpiFunctions, MpiHandle, MpiLibrary } from "./_library.ts";

/** Options that pick and start the MPI library. */
export interface MpiOptions {
  /**
   * The library family. Without it: `BLSBENCH_MPI_LIB` (openmpi, mpich or a
   * library path), else the family of the launcher that started this process,
   * else OpenMPI.
   */
  family?: MpiFamily;
}

/** An initialised MPI library, shared by every user in this process. */
export interface MpiSession {
  /** The ABI table in use. */
  readonly abi: MpiAbi;
  /** The open library and its predefined handles. */
  readonly lib: MpiLibrary;
  /** This process's rank in `MPI_COMM_WORLD`. */
  readonly rank: number;
  /** The size of `MPI_COMM_WORLD`. */
  readonly size: number;
  /** The largest tag (`MPI_TAG_UB` attribute of `MPI_COMM_WORLD`). */
  readonly tagUpperBound: number;
  /** The thread level `MPI_Init_thread` granted. */
  readonly threadLevel: number;
  /** Duplicates `MPI_COMM_WORLD` so that a user's traffic cannot match anyone else's. */
  dupWorld(): MpiHandle;
  /** Frees a communicator made by `dupWorld`. */
  freeComm(comm: MpiHandle): void;
  /** Throws a `RunError` naming the function when an MPI call did not return MPI_SUCCESS. */
  check(code: number, what: string): void;
  /** Drops this reference; the last one finalises MPI. */
  release(): void;
}

interface SharedState {
  session: MpiSession;
  references: number;
}

let shared: SharedState | undefined;
let finalized = false;

/** The world size the launcher announced, if this process was started by one. */
function launcherWorldSize(): { variable: string; size: number } | undefined {
  for (const variable of ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"]) {
    const value = readEnv(variable);
    if (value !== undefined && value !== "") return { variable, size: Number(value) };
  }
  return undefined;
}

function wrongLauncher(abi: MpiAbi, found: string): RunError {
  return new RunError(
    `MPI library ${abi.family} (${abi.libraryPath}) was started by ${found}: ` +
      `every process would run as rank 0 of 1; start it with ${abi.launcher} ` +
      `or pick the matching library (--mpi / BLSBENCH_MPI_LIB)`,
  );
}

function initialise(abi: MpiAbi): MpiSession {
  // Catch the other family's launcher before MPI_Init: its singleton start
  // would otherwise give N independent worlds of one rank.
  const launcher = launcherFamily();
  if (launcher !== undefined && launcher !== abi.family) {
    throw wrongLauncher(abi, `the ${launcher} launcher`);
  }
  let lib: MpiLibrary;
  try {
    lib = openLibrary(abi);
  } catch (error) {
    throw new RunError(
      `Cannot load the ${abi.family} MPI library ${abi.libraryPath} ` +
        `(install ${abi.packages}): ${(error as Error).message}`,
      { cause: error },
    );
  }
  const { fn } = lib;
  const scratch = new PinnedBlock(64);
  const check = (code: number, what: string) => {
    if (code !== 0) throw new RunError(`${what} failed with MPI error code ${code}`);
  };
  check(fn.MPI_Initialized(scratch.at(0)), "MPI_Initialized");
  if (scratch.view.getInt32(0, true) !== 0) {
    throw new RunError("MPI is already initialised in this process by someone else");
  }
  check(
    fn.MPI_Init_thread(0n, 0n, abi.threadMultiple, scratch.at(0)),
    "MPI_Init_thread",
  );
  const threadLevel = scratch.view.getInt32(0, true);
  const finalize = () => {
    fn.MPI_Finalize();
    finalized = true;
  };
  if (threadLevel < abi.threadMultiple) {
    finalize();
    throw new RunError(
      `MPI_Init_thread granted thread level ${threadLevel}, ` +
        `MPI_THREAD_MULTIPLE (${abi.threadMultiple}) is needed`,
    );
  }
  check(fn.MPI_Comm_rank(lib.commWorld, scratch.at(0)), "MPI_Comm_rank");
  const rank = scratch.view.getInt32(0, true);
  check(fn.MPI_Comm_size(lib.commWorld, scratch.at(0)), "MPI_Comm_size");
  const size = scratch.view.getInt32(0, true);
  const announced = launcherWorldSize();
  if (announced !== undefined && announced.size !== size) {
    finalize();
    throw wrongLauncher(
      abi,
      `a launcher announcing ${announced.variable}=${announced.size} ` +
        `while MPI_COMM_WORLD has ${size} rank(s)`,
    );
  }
  // MPI_TAG_UB: the attribute value is a pointer to an int.
  check(
    fn.MPI_Comm_get_attr(lib.commWorld, abi.tagUbKeyval, scratch.at(8), scratch.at(16)),
    "MPI_Comm_get_attr(MPI_TAG_UB)",
  );
  if (scratch.view.getInt32(16, true) === 0) {
    finalize();
    throw new RunError("MPI_TAG_UB attribute is not set on MPI_COMM_WORLD");
  }
  const tagPointer = Deno.UnsafePointer.create(scratch.view.getBigUint64(8, true));
  const tagUpperBound = new Deno.UnsafePointerView(tagPointer!).getInt32(0);

  const readHandle = (offset: number): MpiHandle =>
    abi.handleBytes === 8
      ? scratch.view.getBigUint64(offset, true)
      : scratch.view.getInt32(offset, true);
  const session: MpiSession = {
    abi,
    lib,
    rank,
    size,
    tagUpperBound,
    threadLevel,
    check,
    dupWorld() {
      check(fn.MPI_Comm_dup(lib.commWorld, scratch.at(24)), "MPI_Comm_dup");
      return readHandle(24);
    },
    freeComm(comm) {
      if (abi.handleBytes === 8) scratch.view.setBigUint64(32, BigInt(comm), true);
      else scratch.view.setInt32(32, Number(comm), true);
      check(fn.MPI_Comm_free(scratch.at(32)), "MPI_Comm_free");
    },
    release() {
      if (shared === undefined || shared.session !== session) return;
      shared.references -= 1;
      if (shared.references > 0) return;
      shared = undefined;
      finalize();
    },
  };
  return session;
}

/**
 * Acquires this process's MPI session, initialising MPI on first use.
 *
 * The library family is `options.family`, else `BLSBENCH_MPI_LIB`, else the
 * launcher's (OpenMPI's mpirun sets `OMPI_COMM_WORLD_SIZE`, MPICH's Hydra
 * `PMI_SIZE`). After `MPI_Init_thread` it checks that MPI_THREAD_MULTIPLE was
 * granted and that the world size equals the launcher's, so that a library
 * started by the other family's launcher fails instead of running N worlds of
 * one rank. Needs `--allow-ffi` (unscoped) and `--allow-env`.
 *
 * @example Start and stop MPI in a rank started by mpirun
 * ```ts ignore
 * import { acquireMpi } from "@blsbench/core/mpi";
 * const mpi = acquireMpi({ family: "openmpi" });
 * console.log(`rank ${mpi.rank} of ${mpi.size}`);
 * mpi.release();
 * ```
 *
 * @param options The family to load.
 * @returns The session; call `release()` when done.
 * @throws RunError when the library is missing, the launcher does not match, or
 *   MPI was finalised already in this process.
 * @throws UsageError for an unknown family name.
 */
export function acquireMpi(options: MpiOptions = {}): MpiSession {
  const abi = resolveAbi(options.family);
  if (shared !== undefined) {
    if (shared.session.abi.family !== abi.family) {
      throw new RunError(
        `MPI is already running here as ${shared.session.abi.family}, not ${abi.family}`,
      );
    }
    shared.references += 1;
    return shared.session;
  }
  if (finalized) {
    throw new RunError("MPI was finalised in this process and cannot be started again");
  }
  const session = initialise(abi);
  shared = { session, references: 1 };
  return session;
}
