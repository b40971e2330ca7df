/**
 * ABI tables of the two MPI library families this suite binds through FFI,
 * and the rules that pick one.
 *
 * The two families differ in everything a C header hides: OpenMPI's handles are
 * addresses of exported globals, MPICH's are 32-bit integers; `MPI_Status` has
 * a different size and field order; `MPI_ANY_SOURCE` and `MPI_PROC_NULL` are
 * swapped; `MPI_STATUS_IGNORE` is 0 in one and 1 in the other.
 *
 * @module
 */

import { UsageError } from "../../util/errors.ts";

/** The MPI library families this suite can load. */
export type MpiFamily = "openmpi" | "mpich";

/** The families, in the order they are listed in messages. */
export const MPI_FAMILIES: readonly MpiFamily[] = ["openmpi", "mpich"];

/** How a family's predefined handle is found once the library is open. */
export type HandleSource =
  | { readonly kind: "symbol"; readonly symbol: string }
  | { readonly kind: "value"; readonly value: number };

/** What the FFI layer must know about one MPI library family. */
export interface MpiAbi {
  /** The family. */
  readonly family: MpiFamily;
  /** The shared library loaded by default. */
  readonly libraryPath: string;
  /** The launcher that starts ranks for this library. */
  readonly launcher: string;
  /** The Debian packages that provide library and launcher. */
  readonly packages: string;
  /** The FFI type of a handle (`MPI_Comm`, `MPI_Datatype`, `MPI_Request`, `MPI_Message`). */
  readonly handleType: "usize" | "i32";
  /** Bytes one handle takes in memory (requests and messages are written there). */
  readonly handleBytes: 8 | 4;
  /** Where `MPI_COMM_WORLD` comes from. */
  readonly commWorld: HandleSource;
  /** Where `MPI_BYTE` comes from. */
  readonly byte: HandleSource;
  /** Where `MPI_INT` comes from. */
  readonly int: HandleSource;
  /** The keyval of the `MPI_TAG_UB` attribute. */
  readonly tagUbKeyval: number;
  /** `MPI_THREAD_MULTIPLE`. */
  readonly threadMultiple: number;
  /** `MPI_ANY_SOURCE`. */
  readonly anySource: number;
  /** `MPI_PROC_NULL`. */
  readonly procNull: number;
  /** The address passed as `MPI_STATUS_IGNORE`. */
  readonly statusIgnore: bigint;
  /** The size of `MPI_Status` in bytes. */
  readonly statusBytes: number;
  /** Byte offsets of the public `MPI_Status` fields. */
  readonly statusOffsets: { readonly source: number; readonly tag: number; readonly error: number };
  /** The launcher's environment variables that give the world size and this rank. */
  readonly sizeEnv: string;
  /** The launcher's environment variable that gives this rank. */
  readonly rankEnv: string;
}

/** OpenMPI 4.1 as packaged by Debian (`openmpi-bin libopenmpi-dev`). */
export const OPENMPI_ABI: MpiAbi = {
  family: "openmpi",
  libraryPath: "/usr/lib/x86_64-linux-gnu/libmpi.so.40",
  launcher: "mpirun.openmpi",
  packages: "openmpi-bin libopenmpi-dev",
  handleType: "usize",
  handleBytes: 8,
  commWorld: { kind: "symbol", symbol: "ompi_mpi_comm_world" },
  byte: { kind: "symbol", symbol: "ompi_mpi_byte" },
  int: { kind: "symbol", symbol: "ompi_mpi_int" },
  tagUbKeyval: 0, // first entry of the predefined keyval enum in mpi.h
  threadMultiple: 3,
  anySource: -1,
  procNull: -2,
  statusIgnore: 0n,
  statusBytes: 24,
  statusOffsets: { source: 0, tag: 4, error: 8 },
  sizeEnv: "OMPI_COMM_WORLD_SIZE",
  rankEnv: "OMPI_COMM_WORLD_RANK",
};

/** MPICH 4.0 as packaged by Debian (`mpich libmpich-dev`). */
export const MPICH_ABI: MpiAbi = {
  family: "mpich",
  libraryPath: "/usr/lib/x86_64-linux-gnu/libmpich.so.12",
  launcher: "mpiexec.mpich",
  packages: "mpich libmpich-dev",
  handleType: "i32",
  handleBytes: 4,
  commWorld: { kind: "value", value: 0x44000000 },
  byte: { kind: "value", value: 0x4c00010d },
  int: { kind: "value", value: 0x4c000405 },
  tagUbKeyval: 0x64400001,
  threadMultiple: 3,
  anySource: -2,
  procNull: -1,
  statusIgnore: 1n,
  statusBytes: 20,
  statusOffsets: { source: 8, tag: 12, error: 16 },
  sizeEnv: "PMI_SIZE",
  rankEnv: "PMI_RANK",
};

/** The ABI table of each family. */
export const MPI_ABIS: Readonly<Record<MpiFamily, MpiAbi>> = {
  openmpi: OPENMPI_ABI,
  mpich: MPICH_ABI,
};

/** Reads an environment variable, treating a denied permission as unset. */
export function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/**
 * The family whose launcher started this process, from its environment:
 * `OMPI_COMM_WORLD_SIZE` means OpenMPI's mpirun, `PMI_SIZE`/`PMI_RANK` MPICH's
 * Hydra (mpiexec.mpich).
 */
export function launcherFamily(): MpiFamily | undefined {
  if (readEnv("OMPI_COMM_WORLD_SIZE") !== undefined) return "openmpi";
  if (readEnv("PMI_SIZE") !== undefined || readEnv("PMI_RANK") !== undefined) return "mpich";
  return undefined;
}

/** Whether a string names a family. */
export function isMpiFamily(value: string): value is MpiFamily {
  return (MPI_FAMILIES as readonly string[]).includes(value);
}

/**
 * Picks the ABI: an explicit family, else `BLSBENCH_MPI_LIB` (a family name or
 * a library path), else the launcher's environment, else OpenMPI.
 */
export function resolveAbi(family?: MpiFamily | string): MpiAbi {
  if (family !== undefined) {
    if (!isMpiFamily(family)) {
      throw new UsageError(`Unknown MPI library '${family}': use ${MPI_FAMILIES.join(" or ")}`);
    }
    return MPI_ABIS[family];
  }
  const fromEnv = readEnv("BLSBENCH_MPI_LIB");
  if (fromEnv !== undefined && fromEnv !== "") {
    if (isMpiFamily(fromEnv)) return MPI_ABIS[fromEnv];
    // A path: the family comes from the file name, else from the launcher.
    const name = fromEnv.slice(fromEnv.lastIndexOf("/") + 1);
    const byName: MpiFamily | undefined = name.includes("mpich")
      ? "mpich"
      : name.startsWith("libmpi.")
      ? "openmpi"
      : undefined;
    const chosen = byName ?? launcherFamily();
    if (chosen === undefined) {
      throw new UsageError(
        `BLSBENCH_MPI_LIB=${fromEnv}: cannot tell the MPI family from the file name; ` +
          `set it to openmpi or mpich, or run under that library's launcher`,
      );
    }
    return { ...MPI_ABIS[chosen], libraryPath: fromEnv };
  }
  return MPI_ABIS[launcherFamily() ?? "openmpi"];
}
