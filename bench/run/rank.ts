/**
 * One rank of a `bench` run: join the run, go through the sweep, gather every
 * configuration's measurements to rank 0, which writes the results after each
 * configuration (so finished ones survive a failure later on).
 *
 * When anything fails, the rank tells its peers (naming itself, the
 * configuration and the iteration), and rank 0 records `status: failed` in
 * `run.json`; on SIGINT or SIGTERM rank 0 records `status: interrupted` and the
 * rank exits 130 or 143. A rank started by the local launcher also ends when
 * the launcher is gone, so no rank outlives its run.
 *
 * @module
 */

import { bindToCpu } from "../../util/affinity.ts";
import { startRendezvousStore } from "../../transports/rendezvous.ts";
import type { Address } from "../../transports/rendezvous.ts";
import { RunError } from "../../util/errors.ts";
import { type Comm, type CommOptions, openComm } from "../../collectives/communicator.ts";
import type { BenchConfig } from "../config.ts";
import type { RunStatus, SummaryCells } from "../results/write.ts";
import { runAlltoallvConfiguration } from "../workloads/alltoallv.ts";
import { runDlrmConfiguration } from "../workloads/dlrm.ts";
import { parseFault, strike } from "./_faults.ts";
import { type ConfigurationRunner, RankSweep } from "./_sweep.ts";

export type { ConfigurationRunner } from "./_sweep.ts";
export { describeConfiguration, describePosition } from "./_describe.ts";

/** Who this rank is and how to reach the others. */
export interface RankSetup {
  /** This rank. */
  rank: number;
  /** The world size. */
  size: number;
  /** The rendezvous store's address. */
  master: Address;
  /** The run's secret. */
  token: string;
  /** Whether this rank hosts the store (rank 0 when no launcher does). */
  hostStore: boolean;
  /** Address to listen on. */
  bind?: string;
  /** The command line, for run.json. */
  command: string[];
}

/** Extra workloads registered by other modules (the DLRM workload). */
export const workloadRunners = new Map<string, ConfigurationRunner>([
  ["dlrm", runDlrmConfiguration],
  [
    "alltoallv",
    (comm, conf, config) =>
      runAlltoallvConfiguration(comm, conf, {
        seed: config.seed,
        delayMode: config.delayMode,
        validate: config.validate,
      }),
  ],
]);

/** What rank 0 hands back after the run. */
export interface RankOutcome {
  /** The summary rows (rank 0 only; empty elsewhere). */
  rows: SummaryCells[];
}

/** How this rank joins the run and moves its data, from the configuration. */
function commOptions(config: BenchConfig, setup: RankSetup): CommOptions {
  const timeoutMs = config.timeoutS * 1000;
  return {
    kind: config.transport,
    progress: config.progress,
    spinUs: config.spinUs,
    socketIo: config.socketIo,
    rank: setup.rank,
    size: setup.size,
    token: setup.token,
    master: setup.master,
    bind: setup.bind,
    mpi: config.mpi,
    timeoutMs,
    exchangeTimeoutMs: timeoutMs,
    collective: config.collective,
  };
}

/**
 * Runs this rank's part of the benchmark.
 *
 * @param config The run's config (the same on every rank).
 * @param setup Rank, world size, rendezvous.
 * @param log Progress lines (rank 0).
 * @returns The summary rows on rank 0.
 * @throws RunError naming the rank and configuration when anything fails.
 */
export async function runRank(
  config: BenchConfig,
  setup: RankSetup,
  log: (line: string) => void = (l) => console.error(l),
): Promise<RankOutcome> {
  const fault = parseFault(Deno.env.get("BLSBENCH_FAULT"));
  const myFault = fault?.rank === setup.rank ? fault : undefined;
  // Ranks the local launcher started are bound to a CPU each, as mpirun binds
  // to cores: a rank and its progress thread then share one CPU's caches and
  // hand over without crossing cores. Other launchers place ranks themselves.
  if ((config.cpuBind ?? "core") === "core" && Deno.env.get("BLSBENCH_LAUNCHER_PID")) {
    bindToCpu(setup.rank % navigator.hardwareConcurrency);
  }
  const store = setup.hostStore
    ? await startRendezvousStore({
      token: setup.token,
      hostname: setup.master.hostname,
      port: setup.master.port,
    })
    : undefined;
  const runner = workloadRunners.get(config.workload);
  if (!runner) throw new RunError(`The ${config.workload} workload is not available`);
  const stopWatch = watchLauncher(setup.rank);
  try {
    if (myFault?.at === "join") strike(myFault);
    let comm: Comm;
    try {
      comm = await openComm(commOptions(config, setup));
    } catch (e) {
      const rejected = store?.rejected
        ? `; the rendezvous store dropped ${store.rejected} connection(s) that failed the handshake (is BLSBENCH_TOKEN the same on every rank?)`
        : "";
      throw new RunError(
        `Rank ${setup.rank} could not join the run: ${(e as Error).message}${rejected}`,
        { cause: e },
      );
    }
    const info: RunStatus = {
      command: setup.command,
      startedAt: new Date().toISOString(),
      status: "running",
    };
    // What `--socket-io auto` chose, so that results say which path they measured.
    if (setup.rank === 0 && comm.transport.socketIo) info.socketIo = comm.transport.socketIo;
    const sweep = new RankSweep(config, comm, info, myFault, log);
    return { rows: await sweep.run(runner) };
  } finally {
    stopWatch();
    await store?.close();
  }
}

/**
 * Ends this rank when the local launcher that started it is gone (its parent
 * process changed), so no rank outlives a launcher killed with SIGKILL.
 *
 * @param rank This rank, for the message.
 * @returns A function that stops watching.
 */
function watchLauncher(rank: number): () => void {
  const launcher = Number(Deno.env.get("BLSBENCH_LAUNCHER_PID"));
  if (!Number.isInteger(launcher) || launcher <= 0) return () => {};
  const check = () => {
    // The launcher spawns ranks directly: another parent means it died (and
    // this process was handed to init or a subreaper).
    if (Deno.ppid !== launcher) {
      console.error(`error: Rank ${rank} stopped: its launcher (pid ${launcher}) is gone`);
      Deno.exit(1);
    }
  };
  check();
  const timer = setInterval(check, 500);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}
