/**
 * Reads result directories: `run.json` and `summary.csv`,
 * into typed rows for reports and claim checks. A missing or malformed file is
 * a `UsageError` naming the file.
 *
 * @module
 */

import { UsageError } from "../../util/errors.ts";
import { parseCsv } from "./csv.ts";

/** The columns every `summary.csv` has (the README, Result files), in order. */
export const SUMMARY_COLUMNS = [
  "workload",
  "transport",
  "ranks",
  "lag",
  "size_bytes",
  "imbalance",
  "delay",
  "delay_mode",
  "iters",
  "iters_per_s",
  "samples_per_s",
  "latency_p50_us",
  "latency_p99_us",
  "blocked_p50_us",
  "speedup_vs_sync",
  "ideal_iters_per_s",
  "validated",
] as const;

/** One configuration's row of `summary.csv`, typed. Empty numeric cells are `null`. */
export interface SummaryRow {
  /** `alltoallv`, `dlrm` or `simulated`. */
  workload: string;
  /** Transport name, e.g. `tcp`. */
  transport: string;
  /** Number of ranks. */
  ranks: number;
  /** BLS lag bound; 0 is synchronous. */
  lag: number;
  /** Bytes per peer (alltoallv); `null` for dlrm. */
  sizeBytes: number | null;
  /** Imbalance spec, e.g. `none`, `hot:0:4`. */
  imbalance: string;
  /** Delay spec, e.g. `none`, `exp:2ms`. */
  delay: string;
  /** `busy` or `sleep`. */
  delayMode: string;
  /** Measured iterations. */
  iters: number | null;
  /** Iterations per second. */
  itersPerS: number | null;
  /** Samples per second (dlrm). */
  samplesPerS: number | null;
  /** Median latency of one iteration, microseconds. */
  latencyP50Us: number | null;
  /** 99th percentile latency, microseconds. */
  latencyP99Us: number | null;
  /** Median time blocked in the collective, microseconds. */
  blockedP50Us: number | null;
  /** iters_per_s over the lag-0 row of the same configuration. */
  speedupVsSync: number | null;
  /** The cost model's iterations per second for this configuration. */
  idealItersPerS: number | null;
  /** Whether every received byte was checked and correct; `null` when not checked. */
  validated: boolean | null;
  /** Optional `figure` column: the figure id this row was measured for. */
  figure: string | null;
  /** Optional `repeat` column. */
  repeat: number | null;
  /** Optional `dataset` column (dlrm). */
  dataset: string | null;
  /** Every cell of the row by column name, as written (extra columns included). */
  cells: Record<string, string>;
}

/** The parsed `run.json` of a result directory. */
export interface RunInfo {
  /** Schema version, e.g. `0.1.0`. */
  version: string;
  /** The command line that produced the directory. */
  command: string[];
  /** The full configuration (workload, transport, ranks, lags, ...). */
  config: Record<string, unknown>;
  /** The machine the run was measured on (hostname, cpus, cpuModel, ...). */
  machine: Record<string, unknown>;
  /** ISO start time, or an empty string when not recorded. */
  startedAt: string;
  /** ISO end time, or an empty string when not recorded. */
  endedAt: string;
  /** `completed`, `failed` or `interrupted`. */
  status: string;
  /** The figure id the run was measured for, when it is part of the figure suite. */
  figure: string | null;
  /** How TCP moved its bytes (`native` or `deno`), when the run was over TCP. */
  socketIo?: "native" | "deno";
}

/** One result directory: where it is, its run description and its summary rows. */
export interface ResultRun {
  /** The directory path as given. */
  dir: string;
  /** The parsed `run.json`. */
  run: RunInfo;
  /** The rows of `summary.csv`. */
  rows: SummaryRow[];
}

function numberCell(
  value: string,
  column: string,
  fileName: string,
  line: number,
): number | null {
  const v = value.trim();
  if (v === "" || /^(nan|na|null|-)$/i.test(v)) return null;
  if (/^[+]?inf(inity)?$/i.test(v)) return Infinity;
  const n = Number(v);
  if (Number.isNaN(n)) {
    throw new UsageError(
      `Malformed ${fileName}: line ${line}, column ${column}: expected a number, got '${value}'`,
    );
  }
  return n;
}

function booleanCell(value: string, fileName: string, line: number): boolean | null {
  const v = value.trim().toLowerCase();
  if (v === "" || v === "-" || v === "na") return null;
  if (v === "true" || v === "1" || v === "yes") return true;
  if (v === "false" || v === "0" || v === "no") return false;
  throw new UsageError(
    `Malformed ${fileName}: line ${line}, column validated: expected true or false, got '${value}'`,
  );
}

/**
 * Parses the text of a `summary.csv` into typed rows.
 *
 * @example Parse a two-row summary
 * ```ts
 * import { parseSummaryCsv, SUMMARY_COLUMNS } from "@blsbench/core/bench";
 * import { equal } from "node:assert/strict";
 * const text = SUMMARY_COLUMNS.join(",") + "\n" +
 *   "alltoallv,tcp,4,0,64,none,none,busy,100,5000,,190,250,20,1,,true\n";
 * const rows = parseSummaryCsv(text, "summary.csv");
 * equal(rows[0].itersPerS, 5000);
 * equal(rows[0].samplesPerS, null);
 * ```
 *
 * @param text The file's text.
 * @param fileName The path named in error messages.
 * @returns The rows in file order.
 * @throws UsageError when the header lacks a required column, a row has the wrong
 *   number of cells, or a numeric cell is not a number.
 */
export function parseSummaryCsv(text: string, fileName: string): SummaryRow[] {
  let records: string[][];
  try {
    records = parseCsv(text);
  } catch (e) {
    throw new UsageError(`Malformed ${fileName}: ${(e as Error).message}`);
  }
  if (records.length === 0) throw new UsageError(`Malformed ${fileName}: the file is empty`);
  const header = records[0].map((h) => h.trim());
  const missing = SUMMARY_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    throw new UsageError(`Malformed ${fileName}: missing column(s) ${missing.join(", ")}`);
  }
  const rows: SummaryRow[] = [];
  for (let r = 1; r < records.length; r++) {
    const record = records[r];
    const line = r + 1;
    if (record.length !== header.length) {
      throw new UsageError(
        `Malformed ${fileName}: line ${line} has ${record.length} cells, the header has ${header.length}`,
      );
    }
    const cells: Record<string, string> = {};
    header.forEach((name, i) => cells[name] = record[i]);
    const num = (column: string) =>
      cells[column] === undefined ? null : numberCell(cells[column], column, fileName, line);
    const required = (column: string) => {
      const n = num(column);
      if (n === null) {
        throw new UsageError(`Malformed ${fileName}: line ${line}, column ${column} is empty`);
      }
      return n;
    };
    const text = (column: string) => (cells[column] ?? "").trim();
    const optionalText = (column: string) => text(column) === "" ? null : text(column);
    rows.push({
      workload: text("workload"),
      transport: text("transport"),
      ranks: required("ranks"),
      lag: required("lag"),
      sizeBytes: num("size_bytes"),
      imbalance: text("imbalance") || "none",
      delay: text("delay") || "none",
      delayMode: text("delay_mode"),
      iters: num("iters"),
      itersPerS: num("iters_per_s"),
      samplesPerS: num("samples_per_s"),
      latencyP50Us: num("latency_p50_us"),
      latencyP99Us: num("latency_p99_us"),
      blockedP50Us: num("blocked_p50_us"),
      speedupVsSync: num("speedup_vs_sync"),
      idealItersPerS: num("ideal_iters_per_s"),
      validated: booleanCell(cells["validated"], fileName, line),
      figure: optionalText("figure"),
      repeat: num("repeat"),
      dataset: optionalText("dataset"),
      cells,
    });
  }
  return rows;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Parses the text of a `run.json`. Only `config` is required; other fields get
 * empty defaults so that older or partial files still report.
 *
 * @example Parse a minimal run.json
 * ```ts
 * import { parseRunJson } from "@blsbench/core/bench";
 * import { equal } from "node:assert/strict";
 * const run = parseRunJson('{"version":"0.1.0","config":{"ranks":4},"status":"completed"}', "run.json");
 * equal(run.config.ranks, 4);
 * equal(run.figure, null);
 * ```
 *
 * @param text The file's text.
 * @param fileName The path named in error messages.
 * @returns The run description.
 * @throws UsageError when the text is not JSON or `config` is not an object.
 */
export function parseRunJson(text: string, fileName: string): RunInfo {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`Malformed ${fileName}: ${(e as Error).message}`);
  }
  if (!isObject(value)) throw new UsageError(`Malformed ${fileName}: expected a JSON object`);
  if (!isObject(value.config)) {
    throw new UsageError(`Malformed ${fileName}: "config" must be an object`);
  }
  const str = (v: unknown) => typeof v === "string" ? v : "";
  return {
    version: str(value.version),
    command: Array.isArray(value.command) ? value.command.map(String) : [],
    config: value.config,
    machine: isObject(value.machine) ? value.machine : {},
    startedAt: str(value.startedAt),
    endedAt: str(value.endedAt),
    status: str(value.status) || "unknown",
    figure: typeof value.figure === "string" && value.figure !== "" ? value.figure : null,
    ...(value.socketIo === "native" || value.socketIo === "deno"
      ? { socketIo: value.socketIo }
      : {}),
  };
}

/**
 * Reads a result file, turning a missing or unreadable file into a usage error
 * naming it.
 *
 * @example A missing file
 * ```ts
 * import { readResultFile } from "./read.ts";
 * import { rejects } from "node:assert/strict";
 * await rejects(readResultFile("/nonexistent/run.json"), /File not found: \/nonexistent\/run.json/);
 * ```
 *
 * @param path The file.
 * @returns Its text.
 * @throws UsageError naming the file.
 */
export async function readResultFile(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new UsageError(`File not found: ${path}`);
    throw new UsageError(`Cannot read ${path}: ${(e as Error).message}`);
  }
}

/**
 * Reads one result directory: its `run.json` and `summary.csv`.
 *
 * @example Read a directory written by hand
 * ```ts
 * import { readResultDir, SUMMARY_COLUMNS } from "@blsbench/core/bench";
 * import { equal } from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/run.json`, '{"config":{"workload":"alltoallv"}}');
 * await Deno.writeTextFile(`${dir}/summary.csv`, SUMMARY_COLUMNS.join(",") + "\n");
 * const result = await readResultDir(dir);
 * equal(result.rows.length, 0);
 * ```
 *
 * @param dir The directory.
 * @returns The run and its rows.
 * @throws UsageError when the directory or one of its files is missing or malformed.
 */
export async function readResultDir(dir: string): Promise<ResultRun> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(dir);
  } catch {
    throw new UsageError(`Results directory not found: ${dir}`);
  }
  if (!info.isDirectory) throw new UsageError(`Not a results directory: ${dir}`);
  const runPath = `${dir}/run.json`;
  const summaryPath = `${dir}/summary.csv`;
  const run = parseRunJson(await readResultFile(runPath), runPath);
  const rows = parseSummaryCsv(await readResultFile(summaryPath), summaryPath);
  return { dir, run, rows };
}

/**
 * Reads several result directories, in the order given.
 *
 * @example Read no directories
 * ```ts
 * import { readResultDirs } from "@blsbench/core/bench";
 * import { deepStrictEqual } from "node:assert/strict";
 * deepStrictEqual(await readResultDirs([]), []);
 * ```
 *
 * @param dirs The directories.
 * @returns One entry per directory.
 * @throws UsageError naming the first missing or malformed file.
 */
export async function readResultDirs(dirs: readonly string[]): Promise<ResultRun[]> {
  const runs: ResultRun[] = [];
  for (const dir of dirs) runs.push(await readResultDir(dir));
  return runs;
}
