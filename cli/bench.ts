/**
 * The `bench` command: one benchmark configuration or a sweep, spawning the
 * ranks (local launcher or mpirun) or acting as one rank (`--launcher none`).
 *
 * @module
 */

import { DEFAULT_SPIN_US } from "../collectives/progress.ts";
import {
  Command,
  type CommandUnknownOpts,
  InvalidArgumentError,
  Option,
} from "@commander-js/extra-typings";
import { type BenchConfig, expandSweep, normalizeLags } from "../bench/config.ts";
import { checkDelaySpec, delayTraceCsv, parseDelaySpec } from "../bench/models/delay.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { checkImbalanceSpec, parseImbalanceSpec } from "../bench/models/imbalance.ts";
import { launchLocal } from "../bench/run/launcher.ts";
import { createProgress } from "../bench/run/progress_bar.ts";
import { decodeProgress } from "../bench/run/progress_events.ts";
import { runRank } from "../bench/run/rank.ts";
import { osuTable, type SummaryCells, summaryTable } from "../bench/results/write.ts";
import { masterFromEnvironment, rankFromEnvironment } from "../transports/environment.ts";
import { UsageError } from "../util/errors.ts";
import {
  addRankOptions,
  defaultText,
  examples,
  intListOption,
  intOption,
  numberOption,
  specOption,
} from "./_common.ts";
import { addDlrmDataOptions, addDlrmOptions, dlrmSettingsFromFlags } from "./_dlrm_options.ts";

function parseSizes(value: string): [number, number] {
  const m = /^(\d+)(?::(\d+))?$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`expected MIN:MAX in bytes, got '${value}'`);
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  if (min > max) throw new InvalidArgumentError(`MIN ${min} is above MAX ${max}`);
  if (max > 1 << 30) throw new InvalidArgumentError(`MAX ${max} is above 1 GiB`);
  return [min, max];
}

const FORMATS = ["csv", "html", "json", "osu"];

function parseFormats(value: string): string[] {
  const list = value.split(",").map((s) => s.trim());
  for (const f of list) {
    if (!FORMATS.includes(f)) {
      throw new InvalidArgumentError(`unknown format '${f}' (expected ${FORMATS.join(", ")})`);
    }
  }
  return list;
}

function benchOptions() {
  const cmd = new Command("bench")
    .description(
      "run a benchmark configuration or sweep and write summary.csv, iterations.csv, run.json",
    )
    .addOption(
      new Option("--transport <kind>", "transport").choices(["tcp", "unix", "mpi"] as const)
        .default("tcp" as const),
    )
    .addOption(
      defaultText(new Option("--mpi <library>", "MPI library family"), "openmpi")
        .choices(["openmpi", "mpich"] as const),
    )
    .addOption(
      new Option("--collective <kind>", "p2p: this suite's collectives; native: MPI_Alltoallv")
        .choices(["p2p", "native"] as const).default("p2p" as const),
    )
    .option("--ranks <n>", "number of ranks", intOption(1), 4)
    .addOption(
      new Option("--lag <list>", "BLS lag bounds, e.g. 3 or 0,1,2,4 (0, synchronous, always runs)")
        .argParser(intListOption(0)).default([0, 1, 2, 4]),
    )
    .addOption(
      new Option("--workload <kind>", "workload").choices(["alltoallv", "dlrm"] as const)
        .default("dlrm" as const),
    )
    .option(
      "--sizes <min:max>",
      "alltoallv bytes per peer, powers of two between (default: 8:1048576)",
      parseSizes,
    )
    .option(
      "--imbalance <spec>",
      "alltoallv block sizes: none | hot:R:F | random:CV | zipf:S (default: none)",
      specOption(parseImbalanceSpec),
    )
    .option(
      "--delay <spec>",
      "per-rank delay before each exchange: none | const:2ms | uniform:0ms:4ms | exp:2ms | " +
        "lognormal:1ms:0.5 | spike:50ms:0.05 | straggler:2ms@1 | trace:FILE (rank,iter,delay_us) " +
        "(default: none)",
      specOption(parseDelaySpec),
    )
    .option(
      "--save-delays <file>",
      "write the delays drawn for every rank and timed iteration as a trace that --delay trace:FILE replays",
    )
    .addOption(
      new Option("--delay-mode <mode>", "busy: burn CPU; sleep: wait idle").choices(
        ["busy", "sleep"] as const,
      ).default("sleep" as const),
    )
    .option(
      "--iters <n>",
      "timed iterations (default: 1000 up to 8 KiB, 100 above; dlrm: 100 batches)",
      intOption(1),
    )
    .option(
      "--warmup <n>",
      "warm-up iterations (default: 100 up to 8 KiB, 10 above; dlrm: 10 batches)",
      intOption(0),
    )
    .option("--repeat <n>", "repeats of every configuration", intOption(1), 1)
    .addOption(
      new Option(
        "--order <order>",
        "interleaved: each repeat runs every lag back to back, rotated per repeat; sequential: ascending lags",
      ).choices(["interleaved", "sequential"] as const).default("interleaved" as const),
    )
    .option("--seed <n>", "seed of every random draw", intOption(0), 1)
    .option("--validate", "check every received byte", false)
    .addOption(
      new Option(
        "--progress <mode>",
        "thread: a Worker owns the connections; inline: the main thread",
      ).choices(["thread", "inline"] as const).default("thread" as const),
    )
    .addOption(
      new Option(
        "--cpu-bind <mode>",
        "core: with the local launcher, rank r runs on CPU r mod the CPU count; none: the OS places ranks",
      ).choices(["core", "none"] as const).default("core" as const),
    )
    .addOption(
      new Option(
        "--socket-io <mode>",
        "TCP data path: native (libc through FFI, spinning while a receive waits), deno (Deno's socket ops), auto (native where possible)",
      ).choices(["auto", "native", "deno"] as const).default("auto" as const),
    )
    .option(
      "--spin-us <us>",
      "microseconds a waiting thread spins before it sleeps (progress hand-offs, native sockets)",
      numberOption(),
      DEFAULT_SPIN_US,
    )
    .option("--timeout <seconds>", "per-exchange and rendezvous timeout", numberOption(), 60)
    .option("--out <dir>", "results directory", "results/latest")
    .addOption(
      new Option("--format <list>", "outputs, comma-separated: csv, html, json, osu")
        .argParser(parseFormats).default(["csv"]),
    )
    .option("--strict", "fail on malformed input lines", false)
    .addOption(
      defaultText(
        new Option(
          "--launcher <kind>",
          "local: spawn ranks here; mpirun; none: this process is one rank",
        ),
        "none when a rank environment is set, mpirun for --transport mpi, else local",
      ).choices(["local", "mpirun", "none"] as const),
    )
    .option("--figure <id>", "tag the summary rows with a figure id (used by figures)")
    .option("--debug", "print stack traces on errors");
  return addDlrmDataOptions(addDlrmOptions(addRankOptions(cmd)));
}

/** The parsed `bench` flags, as commander types them. */
export type BenchFlags = ReturnType<ReturnType<typeof benchOptions>["opts"]>;

/**
 * Builds the `bench` command.
 *
 * @returns The command.
 */
export function benchCommand(): CommandUnknownOpts {
  const cmd = benchOptions()
    .addHelpText(
      "after",
      examples(
        "deno task bench                 # DLRM, generated Mini-Kaggle data, 4 ranks",
        "deno task bench --workload alltoallv --ranks 2 --sizes 8:65536 --validate",
        "deno task bench --delay exp:2ms --lag 0,2 --repeat 3 --format csv,html",
      ),
    );
  cmd.action(async (opts) => {
    await runBench(opts);
  });
  return cmd;
}

/**
 * Turns flags into a config, checking everything that depends on several flags.
 *
 * @param flags The parsed flags.
 * @returns The config.
 * @throws UsageError naming the flag.
 */
export function configFromFlags(flags: BenchFlags): Promise<BenchConfig> {
  const workload = flags.workload;
  const identity = rankFromEnvironment();
  const ranks = flags.worldSize ?? identity?.size ?? flags.ranks;
  const delay = flags.delay ?? { kind: "none" as const };
  const imbalance = flags.imbalance ?? { kind: "none" as const };
  try {
    checkDelaySpec(delay, ranks);
  } catch (e) {
    throw new UsageError(`Option '--delay': ${(e as Error).message}`);
  }
  try {
    checkImbalanceSpec(imbalance, ranks);
  } catch (e) {
    throw new UsageError(`Option '--imbalance': ${(e as Error).message}`);
  }
  if (flags.collective === "native" && flags.transport !== "mpi") {
    throw new UsageError("Option '--collective native' needs '--transport mpi'");
  }
  if (flags.socketIo === "native" && flags.transport !== "tcp") {
    throw new UsageError("Option '--socket-io native' needs '--transport tcp'");
  }
  // The MPI transport's tags wrap at MPI_TAG_SPACE (32768), and BLS keeps the
  // tags of lag + 2 iterations in flight.
  const maxMpiLag = 32768 - 2;
  if (
    flags.transport === "mpi" && flags.collective === "p2p" && flags.lag.some((k) => k > maxMpiLag)
  ) {
    throw new UsageError(`Option '--lag': at most ${maxMpiLag} with '--transport mpi'`);
  }
  if (flags.sizes && workload !== "alltoallv") {
    throw new UsageError("Option '--sizes' applies to '--workload alltoallv' only");
  }
  const config: BenchConfig = {
    workload,
    transport: flags.transport,
    mpi: flags.mpi,
    collective: flags.collective,
    ranks,
    lags: normalizeLags(flags.lag),
    sizes: workload === "alltoallv" ? flags.sizes ?? [8, 1 << 20] : null,
    imbalance,
    delay,
    delayMode: flags.delayMode,
    iters: flags.iters ?? null,
    warmup: flags.warmup ?? null,
    repeat: flags.repeat,
    order: flags.order,
    seed: flags.seed,
    validate: flags.validate,
    progress: flags.progress,
    spinUs: flags.spinUs,
    cpuBind: flags.cpuBind,
    socketIo: flags.socketIo,
    timeoutS: flags.timeout,
    out: flags.out,
    formats: [...flags.format],
    strict: flags.strict,
    extra: {},
  };
  if (config.repeat < 1) throw new UsageError("Option '--repeat' must be at least 1");
  if (typeof flags.figure === "string") config.extra.figure = flags.figure;
  if (workload === "dlrm") {
    const dlrm = dlrmSettingsFromFlags(flags, config.out, config.strict);
    config.extra = { ...config.extra, dlrm, dataset: dlrm.dataset, batchSize: dlrm.batchSize };
  } else {
    const dlrmOnly = {
      data: flags.data,
      weights: flags.weights,
      "batch-size": flags.batchSize,
      dataset: flags.dataset,
      pooling: flags.pooling,
      skew: flags.skew,
      rows: flags.rows,
      model: flags.model,
    };
    const given = Object.entries(dlrmOnly).find(([, value]) => value !== undefined);
    if (given) throw new UsageError(`Option '--${given[0]}' applies to '--workload dlrm' only`);
  }
  return Promise.resolve(config);
}

function printResults(config: BenchConfig, rows: SummaryCells[]): void {
  if (config.formats.includes("osu") && config.workload === "alltoallv") {
    console.log(osuTable(rows));
  } else {
    // "valid" only means something when --validate was asked for.
    const shown = config.validate ? rows : rows.map((r) => ({ ...r, validated: null }));
    console.log(summaryTable(shown));
  }
  if (config.formats.includes("json")) console.log(JSON.stringify(rows));
  console.log(blsGainLine(config, rows));
}

/**
 * The closing line of a `bench` run: what BLS gained over the synchronous
 * baseline, naming what it compares: the requested lag when one lag >= 1 was
 * asked for, else the best of the lags (and sizes) measured, picked after
 * measuring. Speedups are medians over repeats, with their range.
 *
 * @example The requested lag, over two repeats
 * ```ts
 * import { blsGainLine } from "./bench.ts";
 * import { match } from "node:assert/strict";
 * const row = (lag: number, repeat: number, ips: number, speedup: number) => ({ lag, repeat,
 *   size_bytes: null, imbalance: "none", delay: "exp:2ms", iters_per_s: ips, samples_per_s: null,
 *   speedup_vs_sync: speedup });
 * const config = { workload: "alltoallv", lags: [0, 2], delay: { kind: "exp", meanUs: 2000 },
 *   imbalance: { kind: "none" }, out: "r" };
 * const rows = [row(0, 0, 100, 1), row(2, 0, 120, 1.2), row(0, 1, 100, 1), row(2, 1, 140, 1.4)];
 * match(blsGainLine(config as never, rows as never), /^BLS gain, the requested lag 2: 1\.30x/);
 * ```
 *
 * @param config The run's config.
 * @param rows The summary rows.
 * @returns One or two lines of text.
 */
export function blsGainLine(config: BenchConfig, rows: SummaryCells[]): string {
  const gains = rows.filter((r) => r.lag !== 0 && typeof r.speedup_vs_sync === "number");
  if (!gains.length) return `Results in ${config.out}`;
  const median = (values: number[]) => {
    const v = [...values].sort((a, b) => a - b);
    return v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  // One entry per lag and configuration: the median speedup over its repeats.
  const keyOf = (r: SummaryCells) => `${r.size_bytes}|${r.imbalance}|${r.delay}`;
  const groups = new Map<string, SummaryCells[]>();
  for (const r of gains) {
    const key = `${keyOf(r)}|${r.lag}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const entries = [...groups.values()].map((rs) => {
    const speedups = rs.map((r) => Number(r.speedup_vs_sync));
    return {
      rows: rs,
      speedup: median(speedups),
      lo: Math.min(...speedups),
      hi: Math.max(...speedups),
    };
  });
  const requested = config.lags.filter((k) => k !== 0);
  const lagCount = new Set(gains.map((r) => r.lag)).size;
  const configCount = new Set(gains.map(keyOf)).size;
  const pool = requested.length === 1
    ? entries.filter((e) => e.rows[0].lag === requested[0])
    : entries;
  const best = pool.reduce((a, b) => (b.speedup > a.speedup ? b : a));
  const lag = best.rows[0].lag;
  const what = requested.length === 1 && configCount === 1
    ? `the requested lag ${lag}`
    : requested.length === 1
    ? `the requested lag ${lag}, best of ${configCount} sizes`
    : `best of ${lagCount} lags${configCount > 1 ? ` x ${configCount} sizes` : ""}: lag ${lag}`;
  const unit = config.workload === "dlrm" ? "samples/s" : "iterations/s";
  const rateOf = (r: SummaryCells) =>
    Number(config.workload === "dlrm" ? r.samples_per_s : r.iters_per_s);
  const sync = rows.filter((r) => r.lag === 0 && keyOf(r) === keyOf(best.rows[0]));
  const rate = (rs: SummaryCells[]) => rs.length ? median(rs.map(rateOf)).toFixed(1) : "?";
  const where = best.rows[0].size_bytes !== null ? ` at ${best.rows[0].size_bytes} B per peer` : "";
  const spread = best.rows.length > 1
    ? `median of ${best.rows.length} repeats, range ${best.lo.toFixed(2)}-${best.hi.toFixed(2)}; `
    : "";
  let line = `BLS gain, ${what}: ${best.speedup.toFixed(2)}x the synchronous ${unit}${where}` +
    ` (${spread}${rate(best.rows)} vs ${rate(sync)}).`;
  if (config.delay.kind === "none" && config.imbalance.kind === "none" && best.speedup < 1.2) {
    line += " Balanced, undelayed runs gain little, as the paper finds; try --delay exp:2ms.";
  }
  return `${line}\nResults in ${config.out}`;
}

async function runBench(flags: BenchFlags): Promise<void> {
  const config = await configFromFlags(flags);
  const identity = rankFromEnvironment();
  const launcher = flags.launcher ??
    (identity || flags.rank !== undefined
      ? "none"
      : config.transport === "mpi"
      ? "mpirun"
      : "local");
  if (launcher === "mpirun" && config.transport !== "mpi") {
    throw new UsageError("Option '--launcher mpirun' needs '--transport mpi'");
  }
  if (
    flags.saveDelays !== undefined &&
    (launcher !== "none" || (flags.rank ?? identity?.rank ?? 0) === 0)
  ) {
    // Every rank draws its delays from the seed alone: they can be written here, up front.
    const iters = Math.max(...expandSweep(config).map((c) => c.iters));
    await writeFileAtomic(
      flags.saveDelays,
      delayTraceCsv(config.delay, config.seed, config.ranks, iters),
    );
  }
  if (config.collective === "native") config.progress = "inline";
  const command = ["bench", ...Deno.args.slice(Deno.args.indexOf("bench") + 1)];
  if (launcher === "none") {
    const rank = flags.rank ?? identity?.rank ?? 0;
    if (rank >= config.ranks) {
      throw new UsageError(`Rank ${rank} is out of range 0..${config.ranks - 1}`);
    }
    const master = flags.master ?? masterFromEnvironment();
    if (!master && config.ranks > 1 && config.transport !== "mpi") {
      throw new UsageError(
        "No rendezvous address: give '--master HOST:PORT' or set MASTER_ADDR and MASTER_PORT",
      );
    }
    const token = Deno.env.get("BLSBENCH_TOKEN");
    if (!token && config.ranks > 1 && config.transport !== "mpi") {
      throw new UsageError("No run secret: set BLSBENCH_TOKEN to the same value on every rank");
    }
    const { rows } = await runRank(config, {
      rank,
      size: config.ranks,
      master: master ?? { hostname: "127.0.0.1", port: 0 },
      token: token ?? "single-rank",
      hostStore: rank === 0 && config.transport !== "mpi" &&
        Deno.env.get("BLSBENCH_STORE_EXTERNAL") !== "1",
      bind: flags.bind,
      command,
    });
    if (rank === 0) {
      if (config.formats.includes("html")) {
        const { writeReport } = await import("../bench/report/report.ts");
        await writeReport(config.out);
      }
      printResults(config, rows);
    }
    return;
  }
  if (launcher === "mpirun") {
    const { launchMpirun } = await import("../bench/run/mpirun.ts");
    await launchMpirun(config, command);
    return;
  }
  // Every rank gets the same flags; pin the values the launcher resolved.
  const args = [
    ...command,
    "--out",
    config.out,
    "--ranks",
    String(config.ranks),
  ];
  await launchLocal({
    ranks: config.ranks,
    args,
    master: flags.master,
    ...progressDisplay(config),
  });
}

/**
 * On a terminal, a progress bar drawn from rank 0's progress events (the
 * configuration, its iteration and the ETA); elsewhere rank 0's one line per
 * finished configuration is printed as it is.
 */
function progressDisplay(
  config: BenchConfig,
): { env?: Record<string, string>; onStderr?: (rank: number, line: string) => void } {
  if (!Deno.stderr.isTerminal()) return {};
  const progress = createProgress(expandSweep(config).length, { tty: true });
  let open = true;
  return {
    env: { BLSBENCH_PROGRESS: "1" },
    onStderr(rank, line) {
      const event = rank === 0 ? decodeProgress(line) : undefined;
      if (!event) {
        console.error(rank === 0 ? line : `[rank ${rank}] ${line}`);
        return;
      }
      if (!open) return;
      if (event.kind === "start") progress.startConfig(event.label, event.iters);
      else if (event.kind === "tick") progress.tick(event.iteration + 1);
      else {
        progress.endConfig(event.summary);
        if (event.index === event.total) {
          progress.finish();
          open = false;
        }
      }
    },
  };
}
