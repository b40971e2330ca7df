/**
 * One rank of a `bench` run: join the run, go through the sweep, gather every
 * configuration's measurements to rank 0, which writes the results after each
 * configuration (so finished ones survive a failure later on).
 *
 * @module
 */

import { startRendezvousStore } from "../transports/rendezvous.ts";
import type { Address } from "../transports/rendezvous.ts";
import { RunError } from "../util/errors.ts";
import { type Comm, openComm } from "./comm.ts";
import { type BenchConfig, type Configuration, expandSweep } from "./config.ts";
import { decodeRecord, encodeRecord, type RankRecord } from "./records.ts";
import {
  type ConfigurationResult,
  type RunInfo,
  type SummaryRow,
  writeResults,
} from "./results.ts";
import { runAlltoallvConfiguration } from "./workload_alltoallv.ts";
import { runDlrmConfiguration } from "./workload_dlrm.ts";

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

/** Runs one configuration of a workload on this rank. */
export type ConfigurationRunner = (
  comm: Comm,
  conf: Configuration,
  config: BenchConfig,
) => Promise<RankRecord>;

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

/** Describes a configuration for messages and progress lines. */
export function describeConfiguration(conf: Configuration): string {
  const parts = [`lag ${conf.lag}`];
  if (conf.sizeBytes !== null) parts.push(`${conf.sizeBytes} B`);
  if (conf.imbalance !== "none") parts.push(`imbalance ${conf.imbalance}`);
  if (conf.delay !== "none") parts.push(`delay ${conf.delay}`);
  if (conf.calibration) parts.push("calibration");
  return parts.join(", ");
}

/** What rank 0 hands back after the run. */
export interface RankOutcome {
  /** The summary rows (rank 0 only; empty elsewhere). */
  rows: SummaryRow[];
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
  const store = setup.hostStore
    ? await startRendezvousStore({
      token: setup.token,
      hostname: setup.master.hostname,
      port: setup.master.port,
    })
    : undefined;
  const runner = workloadRunners.get(config.workload);
  if (!runner) throw new RunError(`The ${config.workload} workload is not available`);
  const timeoutMs = config.timeoutS * 1000;
  let comm: Comm;
  try {
    comm = await openComm({
      kind: config.transport,
      progress: config.progress,
      rank: setup.rank,
      size: setup.size,
      token: setup.token,
      master: setup.master,
      bind: setup.bind,
      mpi: config.mpi,
      timeoutMs,
      exchangeTimeoutMs: timeoutMs,
      collective: config.collective,
    });
  } catch (e) {
    await store?.close();
    throw new RunError(`Rank ${setup.rank} could not join the run: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const info: RunInfo = {
    command: setup.command,
    startedAt: new Date().toISOString(),
    status: "running",
  };
  const results: ConfigurationResult[] = [];
  let rows: SummaryRow[] = [];
  const sweep = expandSweep(config);
  let current: Configuration | undefined;
  const onSignal = () => {
    if (setup.rank === 0 && results.length) {
      info.status = "interrupted";
      info.endedAt = new Date().toISOString();
      writeResults(config.out, config, info, results).finally(() => Deno.exit(143));
    } else Deno.exit(143);
  };
  try {
    Deno.addSignalListener("SIGTERM", onSignal);
  } catch { /* not supported here */ }
  try {
    for (const conf of sweep) {
      current = conf;
      const record = await runner(comm, conf, config);
      const gathered = await comm.gather(encodeRecord(record));
      if (setup.rank === 0) {
        results.push({ conf, records: gathered.map(decodeRecord) });
        rows = await writeResults(config.out, config, info, results);
        const last = rows.at(-1);
        if (!conf.calibration && last) {
          log(
            `[${conf.index + 1}/${sweep.length}] ${
              describeConfiguration(conf)
            }: ${last.iters_per_s} iters/s, p50 ${last.latency_p50_us} us`,
          );
        }
      }
    }
    await comm.barrier();
    if (setup.rank === 0) {
      info.status = "completed";
      info.endedAt = new Date().toISOString();
      rows = await writeResults(config.out, config, info, results);
    }
    await comm.close();
    return { rows };
  } catch (e) {
    const where = current
      ? ` in configuration ${current.index + 1} (${describeConfiguration(current)})`
      : "";
    const message = `Rank ${setup.rank} failed${where}: ${(e as Error).message}`;
    await comm.abort(message).catch(() => {});
    if (setup.rank === 0 && results.length) {
      info.status = "failed";
      info.error = message;
      info.endedAt = new Date().toISOString();
      await writeResults(config.out, config, info, results).catch(() => {});
    }
    throw new RunError(message, { cause: e });
  } finally {
    try {
      Deno.removeSignalListener("SIGTERM", onSignal);
    } catch { /* not supported */ }
    await store?.close();
  }
}
