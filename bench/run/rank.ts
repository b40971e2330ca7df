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

import { encodeProgress } from "./progress_events.ts";
import { formatDelaySpec } from "../models/delay.ts";
import { formatImbalanceSpec } from "../models/imbalance.ts";
import { bindToCpu } from "../../util/affinity.ts";
import { sleep } from "../../transports/deadline.ts";
import { startRendezvousStore } from "../../transports/rendezvous.ts";
import type { Address } from "../../transports/rendezvous.ts";
import { RunError } from "../../util/errors.ts";
import {
  type Comm,
  type CommOptions,
  type CommPosition,
  openComm,
} from "../../collectives/communicator.ts";
import { type BenchConfig, type Configuration, expandSweep } from "../config.ts";
import { decodeRecord, encodeRecord, type RankRecord } from "../records.ts";
import {
  type ConfigurationResult,
  type RunStatus,
  type SummaryCells,
  writeResults,
} from "../results/write.ts";
import { runAlltoallvConfiguration } from "../workloads/alltoallv.ts";
import { runDlrmConfiguration } from "../workloads/dlrm.ts";

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

/**
 * A fault to inject, from `BLSBENCH_FAULT` (`RANK:WHERE:ACTION`), for testing
 * how a run fails. WHERE is `join` (before the rendezvous), `config=N` (before
 * configuration N starts, counted from 1) or `config=N,iter=I` (before timed
 * iteration I of configuration N); ACTION is `kill` (SIGKILL), `abort`
 * (SIGABRT, as an out-of-memory abort), `exit` (exit 3 at once, as a crash in
 * native code), `throw` (an error in the rank) or `stop` (SIGSTOP, a hang).
 */
export interface Fault {
  /** The rank that fails. */
  rank: number;
  /** Where: `join`, or a configuration (from 1) and optionally a timed iteration. */
  at: "join" | { config: number; iter?: number };
  /** How it fails. */
  action: "kill" | "abort" | "exit" | "throw" | "stop";
}

/**
 * Parses a `BLSBENCH_FAULT` value.
 *
 * @example Kill rank 1 before iteration 5 of configuration 2
 * ```ts
 * import { parseFault } from "./rank.ts";
 * const f = parseFault("1:config=2,iter=5:kill");
 * if (f?.rank !== 1 || f.action !== "kill") throw new Error("bad");
 * ```
 *
 * @param text The value (undefined or empty: no fault).
 * @returns The fault, or undefined.
 * @throws RunError when the value is malformed.
 */
export function parseFault(text: string | undefined): Fault | undefined {
  if (!text) return undefined;
  const m = /^(\d+):(join|config=(\d+)(?:,iter=(\d+))?):(kill|abort|exit|throw|stop)$/.exec(
    text.trim(),
  );
  if (!m) {
    throw new RunError(
      `Bad BLSBENCH_FAULT '${text}': expected RANK:join|config=N[,iter=I]:kill|abort|exit|throw|stop`,
    );
  }
  const at = m[2] === "join"
    ? "join" as const
    : { config: Number(m[3]), iter: m[4] === undefined ? undefined : Number(m[4]) };
  return { rank: Number(m[1]), at, action: m[5] as Fault["action"] };
}

function strike(fault: Fault): void {
  switch (fault.action) {
    case "kill":
      Deno.kill(Deno.pid, "SIGKILL");
      break;
    case "abort":
      Deno.kill(Deno.pid, "SIGABRT");
      break;
    case "stop":
      Deno.kill(Deno.pid, "SIGSTOP");
      return;
    case "exit":
      Deno.exit(3);
      break;
    case "throw":
      throw new Error("Injected fault (BLSBENCH_FAULT)");
  }
}

/**
 * Says where in a configuration a rank is, for error messages.
 *
 * @example An iteration of the timed loop
 * ```ts
 * import { describePosition } from "./rank.ts";
 * const where = describePosition({ warmup: 10 }, {
 *   collective: 2, iterations: 100, started: 58, draining: false,
 * });
 * if (where !== " at iteration 57 of 100") throw new Error(where);
 * ```
 *
 * @param conf The configuration (its warm-up count tells warm-up from timed).
 * @param pos The communication position, if any exchange started.
 * @returns A phrase starting with a space, or "" when there is nothing to say.
 */
export function describePosition(
  conf: Pick<Configuration, "warmup">,
  pos: CommPosition | undefined,
): string {
  if (!pos) return "";
  if (pos.control) return ` in the ${pos.control}`;
  const warm = conf.warmup > 0 && pos.collective === 1;
  const label = warm ? "warm-up iteration" : "iteration";
  if (pos.done) return ` after its last ${label} (${pos.iterations - 1})`;
  if (pos.draining) return ` while draining after ${label} ${pos.iterations - 1}`;
  if (pos.started === 0) return ` before ${label} 0`;
  return ` at ${label} ${pos.started - 1} of ${pos.iterations}`;
}

/** Describes a configuration for messages and progress lines. */
export function describeConfiguration(conf: Configuration): string {
  const parts = [`lag ${conf.lag}`];
  if (conf.sizeBytes !== null) parts.push(`${conf.sizeBytes} B`);
  if (conf.imbalance.kind !== "none") {
    parts.push(`imbalance ${formatImbalanceSpec(conf.imbalance)}`);
  }
  if (conf.delay.kind !== "none") parts.push(`delay ${formatDelaySpec(conf.delay)}`);
  if (conf.calibration) parts.push("calibration");
  return parts.join(", ");
}

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
  if (myFault?.at === "join") strike(myFault);
  let comm: Comm;
  try {
    comm = await openComm(commOptions(config, setup));
  } catch (e) {
    stopWatch();
    const rejected = store?.rejected
      ? `; the rendezvous store dropped ${store.rejected} connection(s) that failed the handshake (is BLSBENCH_TOKEN the same on every rank?)`
      : "";
    await store?.close();
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
  const results: ConfigurationResult[] = [];
  let rows: SummaryCells[] = [];
  const sweep = expandSweep(config);
  let current: Configuration | undefined;
  let finished = false;
  let failing = false;
  const where = () => {
    if (finished) return " in the final barrier after the last configuration";
    if (!current) return "";
    return ` in configuration ${current.index + 1} (${describeConfiguration(current)})${
      describePosition(current, comm.position())
    }`;
  };
  const faultAt = myFault && myFault.at !== "join" ? myFault.at : undefined;
  const memoryEvery = Number(Deno.env.get("BLSBENCH_MEMORY_LOG") ?? 0);
  // On a terminal the launcher draws a progress bar from these lines of rank 0.
  const progressLines = setup.rank === 0 && Deno.env.get("BLSBENCH_PROGRESS") === "1";
  if (faultAt?.iter !== undefined || memoryEvery > 0 || progressLines) {
    comm.onExchange = (collective, iteration) => {
      const timed = current && (current.warmup > 0 ? collective === 2 : collective === 1);
      if (!timed) return;
      if (progressLines && iteration % Math.max(1, Math.floor(current!.iters / 50)) === 0) {
        console.error(encodeProgress({ kind: "tick", iteration }));
      }
      if (faultAt && current?.index === faultAt.config - 1 && iteration === faultAt.iter) {
        strike(myFault!);
      }
      if (memoryEvery > 0 && iteration % memoryEvery === 0) logMemory(setup.rank, iteration);
    };
  }

  // Results are written one at a time, so an interruption's write comes last.
  let lastWrite: Promise<unknown> = Promise.resolve();
  const write = () => {
    lastWrite = lastWrite.then(() => writeResults(config.out, config, info, results));
    return lastWrite as Promise<SummaryCells[]>;
  };
  let interrupted: Promise<never> | undefined;
  const onSignal = (signal: "SIGINT" | "SIGTERM") => () => {
    // A rank already failing is reporting why; the launcher's SIGTERM after a
    // failure must not turn `failed` into `interrupted`.
    if (interrupted || failing) return;
    const code = signal === "SIGINT" ? 130 : 143;
    console.error(`error: Rank ${setup.rank} was stopped by ${signal}${where()}`);
    interrupted = (async () => {
      if (setup.rank === 0) {
        info.status = "interrupted";
        info.error = `Stopped by ${signal}${where()}`;
        info.endedAt = new Date().toISOString();
        await write().catch(() => {});
      }
      await comm.abort(`Rank ${setup.rank} was stopped by ${signal}`).catch(() => {});
      Deno.exit(code);
    })();
  };
  const signals = [["SIGINT", onSignal("SIGINT")], ["SIGTERM", onSignal("SIGTERM")]] as const;
  for (const [sig, handler] of signals) {
    try {
      Deno.addSignalListener(sig, handler);
    } catch { /* not supported here */ }
  }
  try {
    for (const conf of sweep) {
      current = conf;
      comm.resetPosition();
      if (myFault && myFault.at !== "join" && myFault.at.iter === undefined) {
        if (myFault.at.config === conf.index + 1) strike(myFault);
      }
      if (progressLines) {
        console.error(encodeProgress({
          kind: "start",
          index: conf.index + 1,
          total: sweep.length,
          iters: conf.iters,
          label: describeConfiguration(conf),
        }));
      }
      const record = await runner(comm, conf, config);
      const gathered = await comm.gather(encodeRecord(record));
      if (setup.rank === 0 && !interrupted) {
        results.push({ conf, records: gathered.map(decodeRecord) });
        rows = await write();
        const last = rows.at(-1);
        const ended = { kind: "end", index: conf.index + 1, total: sweep.length } as const;
        if (progressLines && conf.calibration) {
          console.error(encodeProgress({ ...ended, summary: "calibration" }));
        }
        if (!conf.calibration && last) {
          const measured = `${last.iters_per_s} iters/s, p50 ${last.latency_p50_us} us`;
          const step = `[${conf.index + 1}/${sweep.length}] ${describeConfiguration(conf)}`;
          if (progressLines) console.error(encodeProgress({ ...ended, summary: measured }));
          else log(`${step}: ${measured}`);
        }
      }
    }
    finished = true;
    await comm.barrier();
    if (setup.rank === 0 && !interrupted) {
      info.status = "completed";
      info.endedAt = new Date().toISOString();
      rows = await write();
    }
    await comm.close();
    return { rows };
  } catch (e) {
    // A signal's handler writes the results and ends the process.
    // A peer stopped by the launcher's SIGTERM (after SIGINT) may be heard of
    // a moment before this rank's own signal arrives: give it that moment.
    const peerStopped = /was stopped by SIG(INT|TERM)/.test((e as Error).message);
    if (peerStopped && !interrupted) await sleep(300);
    if (interrupted) await interrupted;
    failing = true;
    const message = `Rank ${setup.rank} failed${where()}: ${(e as Error).message}`;
    await comm.abort(message).catch(() => {});
    if (setup.rank === 0) {
      info.status = peerStopped ? "interrupted" : "failed";
      info.error = message;
      info.endedAt = new Date().toISOString();
      await write().catch(() => {});
    }
    throw new RunError(message, { cause: e });
  } finally {
    stopWatch();
    for (const [sig, handler] of signals) {
      try {
        Deno.removeSignalListener(sig, handler);
      } catch { /* not supported */ }
    }
    await store?.close();
  }
}

/**
 * Writes one line of this rank's memory use to stderr (soak tests set
 * `BLSBENCH_MEMORY_LOG=N` to get one every N timed iterations). With
 * `DENO_V8_FLAGS=--expose-gc` it collects garbage first, so the heap figure is
 * what is really kept.
 *
 * @param rank This rank.
 * @param iteration The timed iteration about to start.
 */
function logMemory(rank: number, iteration: number): void {
  (globalThis as { gc?: () => void }).gc?.();
  const m = Deno.memoryUsage();
  console.error(
    `memory: rank ${rank} iteration ${iteration} heapUsed ${m.heapUsed} external ${m.external} rss ${m.rss}`,
  );
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
