/**
 * Starting ranks under an MPI launcher, and recognising a process that a
 * launcher started.
 *
 * Both Debian families install side by side and plain `mpirun`/`mpicc` point
 * to OpenMPI, so the suffixed launcher names are always used.
 *
 * @module
 */

import { MPI_ABIS, type MpiFamily, readEnv } from "./_abi.ts";

/** A command line: the program and its arguments. */
export interface LaunchCommand {
  /** The program (a launcher on PATH). */
  cmd: string;
  /** Its arguments. */
  args: string[];
}

/** What a launcher told this process about its place in the job. */
export interface MpiEnvironment {
  /** The launcher's family. */
  family: MpiFamily;
  /** This process's rank. */
  rank: number;
  /** The number of ranks. */
  size: number;
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Builds the command that starts `ranks` copies of `argv` under a family's
 * launcher on this machine, passing `env` to every rank.
 *
 * OpenMPI: `mpirun.openmpi --allow-run-as-root --oversubscribe --mca
 * btl_tcp_if_include lo -x VAR=value ... -np N argv...` (root is allowed
 * because containers run as root; oversubscription because ranks may outnumber
 * cores; TCP kept on loopback). MPICH: `mpiexec.mpich -genv VAR value ... -np N
 * argv...`.
 *
 * @example Four ranks of a Deno script under OpenMPI
 * ```ts
 * import { mpiLaunchCommand } from "@blsbench/core/mpi";
 * const { cmd, args } = mpiLaunchCommand("openmpi", 4, ["deno", "run", "-A", "rank.ts"], {
 *   BLSBENCH_TOKEN: "secret",
 * });
 * if (cmd !== "mpirun.openmpi" || !args.includes("BLSBENCH_TOKEN=secret")) {
 *   throw new Error("unexpected command");
 * }
 * ```
 *
 * @param family The MPI family whose launcher to use.
 * @param ranks The number of ranks (>= 1).
 * @param argv The program and arguments each rank runs.
 * @param env Environment variables to set in every rank.
 * @returns The launcher and its arguments, ready for `Deno.Command`.
 * @throws RangeError for a bad rank count, an empty argv or a bad variable name.
 */
export function mpiLaunchCommand(
  family: MpiFamily,
  ranks: number,
  argv: string[],
  env: Record<string, string> = {},
): LaunchCommand {
  if (!Number.isInteger(ranks) || ranks < 1) {
    throw new RangeError(`Rank count ${ranks} must be a positive integer`);
  }
  if (argv.length === 0) throw new RangeError("The command to launch is empty");
  const abi = MPI_ABIS[family];
  const envArgs: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!ENV_NAME.test(name)) throw new RangeError(`Bad environment variable name '${name}'`);
    if (family === "openmpi") envArgs.push("-x", `${name}=${value}`);
    else envArgs.push("-genv", name, value);
  }
  const args = family === "openmpi"
    ? [
      "--allow-run-as-root",
      "--oversubscribe",
      "--mca",
      "btl_tcp_if_include",
      "lo",
      ...envArgs,
      "-np",
      String(ranks),
      ...argv,
    ]
    : [...envArgs, "-np", String(ranks), ...argv];
  return { cmd: abi.launcher, args };
}

/**
 * Reads the rank and world size an MPI launcher gave this process:
 * `OMPI_COMM_WORLD_RANK`/`OMPI_COMM_WORLD_SIZE` (OpenMPI) or
 * `PMI_RANK`/`PMI_SIZE` (MPICH's Hydra).
 *
 * @example Outside a launcher
 * ```ts
 * import { detectMpiEnvironment } from "@blsbench/core/mpi";
 * const env = detectMpiEnvironment();
 * console.log(env === undefined ? "not started by mpirun" : `rank ${env.rank}/${env.size}`);
 * ```
 *
 * @returns The family, rank and size, or undefined when no launcher started
 *   this process (or the variables are malformed).
 */
export function detectMpiEnvironment(): MpiEnvironment | undefined {
  for (const family of ["openmpi", "mpich"] as const) {
    const abi = MPI_ABIS[family];
    const size = readEnv(abi.sizeEnv);
    const rank = readEnv(abi.rankEnv);
    if (size === undefined || rank === undefined) continue;
    const parsed = { family, rank: Number(rank), size: Number(size) };
    const valid = Number.isInteger(parsed.rank) && Number.isInteger(parsed.size) &&
      parsed.size >= 1 && parsed.rank >= 0 && parsed.rank < parsed.size;
    return valid ? parsed : undefined;
  }
  return undefined;
}

function onPath(program: string): boolean {
  const path = readEnv("PATH") ?? "/usr/bin:/bin";
  for (const dir of path.split(":")) {
    try {
      if (Deno.statSync(`${dir || "."}/${program}`).isFile) return true;
    } catch {
      // not in this directory
    }
  }
  return false;
}

/**
 * Whether a family can run here: its library file exists and its launcher is
 * on PATH. Tests use it to skip (or, in CI, fail) when a package is missing.
 *
 * @example Skip when OpenMPI is absent
 * ```ts
 * import { mpiAvailable } from "@blsbench/core/mpi";
 * console.log(mpiAvailable("openmpi") ? "OpenMPI present" : "install openmpi-bin libopenmpi-dev");
 * ```
 *
 * @param family The family.
 * @returns true when library and launcher are present.
 */
export function mpiAvailable(family: MpiFamily): boolean {
  const abi = MPI_ABIS[family];
  try {
    Deno.statSync(abi.libraryPath);
  } catch {
    return false;
  }
  return onPath(abi.launcher);
}

/**
 * The Debian packages that provide a family's library and launcher.
 *
 * @example For a skip message
 * ```ts
 * import { mpiPackages } from "@blsbench/core/mpi";
 * if (mpiPackages("mpich") !== "mpich libmpich-dev") throw new Error("unexpected");
 * ```
 *
 * @param family The family.
 * @returns The package names, space separated.
 */
export function mpiPackages(family: MpiFamily): string {
  return MPI_ABIS[family].packages;
}
