/**
 * One rank's way through a joined run: every configuration of the sweep in
 * turn, gathered to rank 0, which writes the results after each one. The
 * sweep also answers SIGINT and SIGTERM (rank 0 records `interrupted`), and a
 * failure (rank 0 records `failed`; every rank tells its peers where it was).
 *
 * @module
 */

import type { Comm } from "../../collectives/communicator.ts";
import { sleep } from "../../transports/deadline.ts";
import { RunError } from "../../util/errors.ts";
import { type BenchConfig, type Configuration, expandSweep } from "../config.ts";
import { decodeRecord, encodeRecord, type RankRecord } from "../records.ts";
import {
  type ConfigurationResult,
  type RunStatus,
  type SummaryCells,
  writeResults,
} from "../results/write.ts";
import { describeConfiguration, describePosition } from "./_describe.ts";
import { type Fault, strike } from "./_faults.ts";
import { encodeProgress } from "./progress_events.ts";

/** Runs one configuration of a workload on this rank. */
export type ConfigurationRunner = (
  comm: Comm,
  conf: Configuration,
  config: BenchConfig,
) => Promise<RankRecord>;

type StopSignal = "SIGINT" | "SIGTERM";

/** The sweep of one rank that has joined its run. */
export class RankSweep {
  #config: BenchConfig;
  #rank: number;
  #comm: Comm;
  #fault: Fault | undefined;
  #log: (line: string) => void;
  #info: RunStatus;
  #results: ConfigurationResult[] = [];
  #rows: SummaryCells[] = [];
  #current: Configuration | undefined;
  #finished = false;
  #failing = false;
  #interrupted: Promise<never> | undefined;
  // Results are written one at a time, so an interruption's write comes last.
  #lastWrite: Promise<unknown> = Promise.resolve();
  // On a terminal the launcher draws a progress bar from these lines of rank 0.
  #progressLines: boolean;
  #signals: [StopSignal, () => void][] = [];

  /**
   * Starts watching the exchanges (for injected faults, memory lines and
   * progress) and listening for SIGINT and SIGTERM.
   *
   * @param config The run's config.
   * @param comm This rank's joined communicator.
   * @param info What `run.json` says of the run so far.
   * @param fault The fault to inject into this rank, if any.
   * @param log Progress lines (rank 0).
   */
  constructor(
    config: BenchConfig,
    comm: Comm,
    info: RunStatus,
    fault: Fault | undefined,
    log: (line: string) => void,
  ) {
    this.#config = config;
    this.#rank = comm.rank;
    this.#comm = comm;
    this.#info = info;
    this.#fault = fault;
    this.#log = log;
    this.#progressLines = comm.rank === 0 && Deno.env.get("BLSBENCH_PROGRESS") === "1";
    this.#watchExchanges();
    this.#listen();
  }

  /**
   * Runs every configuration, then the final barrier, and closes the communicator.
   *
   * @param runner The workload's runner.
   * @returns The summary rows (rank 0; empty elsewhere).
   * @throws RunError naming the rank and where it was when anything fails.
   */
  async run(runner: ConfigurationRunner): Promise<SummaryCells[]> {
    try {
      const sweep = expandSweep(this.#config);
      for (const conf of sweep) await this.#runConfiguration(conf, sweep.length, runner);
      this.#finished = true;
      await this.#comm.barrier();
      if (this.#rank === 0 && !this.#interrupted) {
        this.#info.status = "completed";
        this.#info.endedAt = new Date().toISOString();
        this.#rows = await this.#write();
      }
      await this.#comm.close();
      return this.#rows;
    } catch (e) {
      throw await this.#fail(e as Error);
    } finally {
      this.#unlisten();
    }
  }

  async #runConfiguration(
    conf: Configuration,
    total: number,
    runner: ConfigurationRunner,
  ): Promise<void> {
    this.#current = conf;
    this.#comm.resetPosition();
    const fault = this.#fault;
    if (fault && fault.at !== "join" && fault.at.iter === undefined) {
      if (fault.at.config === conf.index + 1) strike(fault);
    }
    if (this.#progressLines) {
      console.error(encodeProgress({
        kind: "start",
        index: conf.index + 1,
        total,
        iters: conf.iters,
        label: describeConfiguration(conf),
      }));
    }
    const record = await runner(this.#comm, conf, this.#config);
    const gathered = await this.#comm.gather(encodeRecord(record));
    if (this.#rank !== 0 || this.#interrupted) return;
    this.#results.push({ conf, records: gathered.map(decodeRecord) });
    this.#rows = await this.#write();
    const last = this.#rows.at(-1);
    const ended = { kind: "end", index: conf.index + 1, total } as const;
    if (this.#progressLines && conf.calibration) {
      console.error(encodeProgress({ ...ended, summary: "calibration" }));
    }
    if (!conf.calibration && last) {
      const measured = `${last.iters_per_s} iters/s, p50 ${last.latency_p50_us} us`;
      if (this.#progressLines) console.error(encodeProgress({ ...ended, summary: measured }));
      else this.#log(`[${conf.index + 1}/${total}] ${describeConfiguration(conf)}: ${measured}`);
    }
  }

  /** Where this rank is, for messages: a phrase starting with a space, or "". */
  #where(): string {
    if (this.#finished) return " in the final barrier after the last configuration";
    const conf = this.#current;
    if (!conf) return "";
    return ` in configuration ${conf.index + 1} (${describeConfiguration(conf)})${
      describePosition(conf, this.#comm.position())
    }`;
  }

  #write(): Promise<SummaryCells[]> {
    const { out } = this.#config;
    this.#lastWrite = this.#lastWrite.then(() =>
      writeResults(out, this.#config, this.#info, this.#results)
    );
    return this.#lastWrite as Promise<SummaryCells[]>;
  }

  /** Hooks the timed iterations: progress ticks, an injected fault, memory lines. */
  #watchExchanges(): void {
    const fault = this.#fault;
    const faultAt = fault && fault.at !== "join" ? fault.at : undefined;
    const memoryEvery = Number(Deno.env.get("BLSBENCH_MEMORY_LOG") ?? 0);
    const progressLines = this.#progressLines;
    if (faultAt?.iter === undefined && !(memoryEvery > 0) && !progressLines) return;
    this.#comm.onExchange = (collective, iteration) => {
      const current = this.#current;
      const timed = current && (current.warmup > 0 ? collective === 2 : collective === 1);
      if (!timed) return;
      if (progressLines && iteration % Math.max(1, Math.floor(current.iters / 50)) === 0) {
        console.error(encodeProgress({ kind: "tick", iteration }));
      }
      if (faultAt && current.index === faultAt.config - 1 && iteration === faultAt.iter) {
        strike(fault!);
      }
      if (memoryEvery > 0 && iteration % memoryEvery === 0) logMemory(this.#rank, iteration);
    };
  }

  #listen(): void {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const handler = () => this.#stop(signal);
      try {
        Deno.addSignalListener(signal, handler);
        this.#signals.push([signal, handler]);
      } catch { /* not supported here */ }
    }
  }

  #unlisten(): void {
    for (const [signal, handler] of this.#signals) {
      try {
        Deno.removeSignalListener(signal, handler);
      } catch { /* not supported */ }
    }
    this.#signals = [];
  }

  /** Records the interruption (rank 0), tells the peers, and exits 130 or 143. */
  #stop(signal: StopSignal): void {
    // A rank already failing is reporting why; the launcher's SIGTERM after a
    // failure must not turn `failed` into `interrupted`.
    if (this.#interrupted || this.#failing) return;
    const code = signal === "SIGINT" ? 130 : 143;
    console.error(`error: Rank ${this.#rank} was stopped by ${signal}${this.#where()}`);
    this.#interrupted = (async () => {
      if (this.#rank === 0) {
        this.#info.status = "interrupted";
        this.#info.error = `Stopped by ${signal}${this.#where()}`;
        this.#info.endedAt = new Date().toISOString();
        await this.#write().catch(() => {});
      }
      await this.#comm.abort(`Rank ${this.#rank} was stopped by ${signal}`).catch(() => {});
      Deno.exit(code);
    })();
  }

  /** Tells the peers, records the failure (rank 0), and returns the error to throw. */
  async #fail(e: Error): Promise<RunError> {
    // A signal's handler writes the results and ends the process.
    // A peer stopped by the launcher's SIGTERM (after SIGINT) may be heard of
    // a moment before this rank's own signal arrives: give it that moment.
    const peerStopped = /was stopped by SIG(INT|TERM)/.test(e.message);
    if (peerStopped && !this.#interrupted) await sleep(300);
    if (this.#interrupted) await this.#interrupted;
    this.#failing = true;
    const message = `Rank ${this.#rank} failed${this.#where()}: ${e.message}`;
    await this.#comm.abort(message).catch(() => {});
    if (this.#rank === 0) {
      this.#info.status = peerStopped ? "interrupted" : "failed";
      this.#info.error = message;
      this.#info.endedAt = new Date().toISOString();
      await this.#write().catch(() => {});
    }
    return new RunError(message, { cause: e });
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
