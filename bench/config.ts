/**
 * The benchmark configuration: what the `bench` flags describe, and the sweep of
 * single configurations it expands to.
 *
 * @module
 */

import type { TransportKind } from "../transports/transport.ts";
import type { ImbalanceSpec } from "./models/imbalance.ts";
import type { DelaySpec } from "./models/delay.ts";

/** The workloads `bench` runs. */
export type WorkloadKind = "alltoallv" | "dlrm";

/** Everything a `bench` run needs; plain data, passed to every rank. */
export interface BenchConfig {
  /** Which workload. */
  workload: WorkloadKind;
  /** Which transport. */
  transport: TransportKind;
  /** The MPI library family, for the mpi transport. */
  mpi?: "openmpi" | "mpich";
  /** `p2p` (this suite's collectives) or `native` (the MPI library's own). */
  collective: "p2p" | "native";
  /** Number of ranks. */
  ranks: number;
  /** Lag bounds to run; 0 (synchronous) is always included. */
  lags: number[];
  /** Bytes per peer, min and max (powers of two between), for alltoallv. */
  sizes: [number, number] | null;
  /** The imbalance model (`run.json` holds its text). */
  imbalance: ImbalanceSpec;
  /** The delay model (`run.json` holds its text). */
  delay: DelaySpec;
  /** How delays are spent. */
  delayMode: "busy" | "sleep";
  /** Timed iterations (null: the OSU defaults by size). */
  iters: number | null;
  /** Warm-up iterations (null: the OSU defaults by size). */
  warmup: number | null;
  /** Repeats of every configuration. */
  repeat: number;
  /**
   * `interleaved` (the default): each repeat runs lag 0 and every lag back to
   * back, the order rotated by one lag per repeat, so drift on a shared machine
   * favours no lag; `sequential`: every repeat in ascending lag order.
   */
  order?: "interleaved" | "sequential";
  /** Seed of every random draw. */
  seed: number;
  /** Check every received byte. */
  validate: boolean;
  /** `thread`: a Worker owns the connections; `inline`: the main thread does. */
  progress: "thread" | "inline";
  /**
   * Microseconds a waiting thread spins before it sleeps: the main thread on
   * the progress thread's results, and a receive on native sockets.
   */
  spinUs?: number;
  /** How TCP connections move their bytes: libc through FFI (`native`), Deno's ops, or `auto`. */
  socketIo?: "auto" | "native" | "deno";
  /** `core`: the local launcher's rank r runs on CPU r mod the CPU count; `none`: the OS places it. */
  cpuBind?: "core" | "none";
  /** Per-exchange and rendezvous timeout in seconds. */
  timeoutS: number;
  /** Results directory. */
  out: string;
  /** Output formats. */
  formats: string[];
  /** Fail on malformed input lines instead of skipping them. */
  strict: boolean;
  /** Workload-specific settings (dlrm: dataset, model, batch size, ...). */
  extra: Record<string, unknown>;
}

/** One point of the sweep. */
export interface Configuration {
  /** Position in the sweep. */
  index: number;
  /** Lag bound. */
  lag: number;
  /** Bytes per peer (alltoallv), or null. */
  sizeBytes: number | null;
  /** Repeat number, from 0. */
  repeat: number;
  /** Warm-up iterations. */
  warmup: number;
  /** Timed iterations. */
  iters: number;
  /** The imbalance model. */
  imbalance: ImbalanceSpec;
  /** The delay model. */
  delay: DelaySpec;
  /** Calibration runs (lag 0, no delay) only feed the ideal model. */
  calibration?: boolean;
}

/**
 * The size of every block of a configuration when every rank knows it in
 * advance (the alltoallv workload without imbalance), else undefined: the
 * native collective then exchanges no counts.
 *
 * @example A balanced 1 KiB configuration
 * ```ts
 * import { knownBlockBytes } from "./config.ts";
 * const conf = { index: 0, lag: 0, sizeBytes: 1024, repeat: 0, warmup: 0, iters: 10, imbalance: { kind: "none" as const }, delay: { kind: "none" as const } };
 * if (knownBlockBytes("alltoallv", conf) !== 1024) throw new Error("balanced sizes are known");
 * const hot = { kind: "hot" as const, rank: 0, factor: 4 };
 * if (knownBlockBytes("alltoallv", { ...conf, imbalance: hot }) !== undefined) throw new Error("not known");
 * ```
 *
 * @param workload The workload.
 * @param conf The configuration.
 * @returns Bytes per block, or undefined.
 */
export function knownBlockBytes(workload: WorkloadKind, conf: Configuration): number | undefined {
  if (workload !== "alltoallv" || conf.sizeBytes === null) return undefined;
  return conf.imbalance.kind === "none" ? conf.sizeBytes : undefined;
}

/**
 * What the summary's `collective` column says ran: `p2p`, `native` (block
 * sizes exchanged each iteration, then the data) or `native-known-counts` (the
 * data alone; sizes known in advance).
 *
 * @example The native path of a balanced sweep
 * ```ts
 * import { collectivePath } from "./config.ts";
 * const conf = { index: 0, lag: 1, sizeBytes: 8, repeat: 0, warmup: 0, iters: 10, imbalance: { kind: "none" as const }, delay: { kind: "none" as const } };
 * if (collectivePath("native", "alltoallv", conf) !== "native-known-counts") throw new Error("wrong");
 * ```
 *
 * @param collective The `--collective` choice.
 * @param workload The workload.
 * @param conf The configuration.
 * @returns The path's name.
 */
export function collectivePath(
  collective: "p2p" | "native",
  workload: WorkloadKind,
  conf: Configuration,
): "p2p" | "native" | "native-known-counts" {
  if (collective === "p2p") return "p2p";
  return knownBlockBytes(workload, conf) === undefined ? "native" : "native-known-counts";
}

/**
 * The lags a sweep runs: the given ones and 0 (the synchronous baseline every
 * BLS row is compared with), each once, in increasing order.
 *
 * @example Lag 0 joins
 * ```ts
 * import { normalizeLags } from "./config.ts";
 * if (normalizeLags([4, 1, 4]).join(",") !== "0,1,4") throw new Error("bad");
 * ```
 *
 * @param lags The lag bounds asked for.
 * @returns The lags to run.
 */
export function normalizeLags(lags: readonly number[]): number[] {
  return [...new Set([0, ...lags])].sort((a, b) => a - b);
}

/** OSU's defaults: 1000 timed after 100 warm-up up to 8 KiB, 100 after 10 above. */
export function osuIterations(sizeBytes: number): { iters: number; warmup: number } {
  return sizeBytes <= 8192 ? { iters: 1000, warmup: 100 } : { iters: 100, warmup: 10 };
}

/**
 * The message sizes of a `--sizes MIN:MAX` sweep: MIN, then powers of two up to MAX.
 *
 * @example 8 B to 64 B
 * ```ts
 * import { sweepSizes } from "./config.ts";
 * if (sweepSizes([8, 64]).join(",") !== "8,16,32,64") throw new Error("bad");
 * ```
 *
 * @param range Min and max.
 * @returns The sizes.
 */
export function sweepSizes(range: [number, number]): number[] {
  const [min, max] = range;
  const out = [min];
  let s = min <= 0 ? 1 : 2 ** Math.ceil(Math.log2(min + 1));
  if (min > 0 && 2 ** Math.log2(min) === min) s = min * 2;
  for (; s <= max; s *= 2) out.push(s);
  if (out[out.length - 1] !== max && max > min) out.push(max);
  return out;
}

/**
 * Expands a config into its sweep: sizes x repeats x lags (lag 0 is always run, so
 * every BLS row has its synchronous baseline in its own repeat), plus an
 * undelayed lag-0 calibration per size when a delay is set (the exchange cost of
 * the ideal model). Interleaved (the default), repeat r starts at the r-th lag
 * and wraps around: lags 0,1,2 run as 0,1,2 then 1,2,0 then 2,0,1.
 *
 * @example Two lags, one size
 * ```ts
 * import { expandSweep } from "./config.ts";
 * const c = expandSweep({ workload: "alltoallv", transport: "tcp", collective: "p2p", ranks: 2,
 *   lags: [3], sizes: [8, 8], imbalance: { kind: "none" }, delay: { kind: "none" }, delayMode: "sleep", iters: 10,
 *   warmup: 1, repeat: 1, seed: 1, validate: false, progress: "thread", timeoutS: 60, out: "r",
 *   formats: ["csv"], strict: false, extra: {} });
 * if (c.map((x) => x.lag).join(",") !== "0,3") throw new Error("bad");
 * const r = expandSweep({ workload: "alltoallv", transport: "tcp", collective: "p2p", ranks: 2,
 *   lags: [1, 2], sizes: [8, 8], imbalance: { kind: "none" }, delay: { kind: "none" },
 *   delayMode: "sleep", iters: 10,
 *   warmup: 1, repeat: 3, seed: 1, validate: false, progress: "thread", timeoutS: 60, out: "r",
 *   formats: ["csv"], strict: false, extra: {} });
 * if (r.map((x) => x.lag).join(",") !== "0,1,2,1,2,0,2,0,1") throw new Error("not rotated");
 * ```
 *
 * @param config The config.
 * @returns The configurations in run order.
 */
export function expandSweep(config: BenchConfig): Configuration[] {
  const lags = normalizeLags(config.lags);
  const sizes: (number | null)[] = config.sizes ? sweepSizes(config.sizes) : [null];
  const out: Configuration[] = [];
  const delayed = config.delay.kind !== "none";
  for (const sizeBytes of sizes) {
    const osu = osuIterations(sizeBytes ?? 0);
    const iters = config.iters ?? (sizeBytes === null ? 100 : osu.iters);
    const warmup = config.warmup ?? (sizeBytes === null ? 10 : osu.warmup);
    if (delayed) {
      out.push({
        index: out.length,
        lag: 0,
        sizeBytes,
        repeat: 0,
        warmup,
        iters: Math.min(iters, 200),
        imbalance: config.imbalance,
        delay: { kind: "none" },
        calibration: true,
      });
    }
    for (let repeat = 0; repeat < config.repeat; repeat++) {
      const turn = config.order === "sequential" ? 0 : repeat % lags.length;
      for (const lag of [...lags.slice(turn), ...lags.slice(0, turn)]) {
        out.push({
          index: out.length,
          lag,
          sizeBytes,
          repeat,
          warmup,
          iters,
          imbalance: config.imbalance,
          delay: config.delay,
        });
      }
    }
  }
  return out;
}
