/**
 * `bench --launcher mpirun`: starts the ranks under `mpirun.openmpi` or
 * `mpiexec.mpich` with `-np N`; each rank detects the MPI environment and runs
 * as one rank (rank 0 writes the results).
 *
 * @module
 */

import { mpiAvailable, mpiLaunchCommand, mpiPackages } from "../../transports/mpi/launch.ts";
import { RunError, UsageError } from "../../util/errors.ts";
import type { BenchConfig } from "../config.ts";
import { newToken } from "./launcher.ts";

const CLI_PATH = new URL("../../cli.ts", import.meta.url);

/**
 * Runs the benchmark under the MPI library's own launcher.
 *
 * @param config The run's config (transport mpi).
 * @param command The `bench` arguments to pass to every rank.
 * @throws UsageError when the launcher is not installed; RunError when a rank fails.
 */
export async function launchMpirun(config: BenchConfig, command: string[]): Promise<void> {
  const family = config.mpi ?? "openmpi";
  if (!mpiAvailable(family)) {
    throw new UsageError(`The ${family} launcher is not installed: install ${mpiPackages(family)}`);
  }
  const argv = [
    Deno.execPath(),
    "run",
    "-A",
    CLI_PATH.pathname,
    ...command,
    "--mpi",
    family,
    "--ranks",
    String(config.ranks),
    "--out",
    config.out,
    "--launcher",
    "none",
  ];
  const { cmd, args } = mpiLaunchCommand(family, config.ranks, argv, {
    BLSBENCH_TOKEN: Deno.env.get("BLSBENCH_TOKEN") ?? newToken(),
    NO_COLOR: "1",
  });
  const child = new Deno.Command(cmd, { args, stdin: "null" }).spawn();
  const status = await child.status;
  if (!status.success) {
    throw new RunError(
      `${cmd} exited with ${status.signal ? `signal ${status.signal}` : `code ${status.code}`}`,
    );
  }
}
