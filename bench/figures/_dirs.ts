/**
 * Result directories the figure suite writes itself: a stub for a run that
 * failed before writing anything (so the report lists it as failed), the
 * suite's own directory (its configuration, failures and notes), and the
 * `figure` tag on a simulator run.
 *
 * @module
 */

import { writeFileAtomic } from "../../util/atomic.ts";
import { SUMMARY_COLUMNS } from "../results/read.ts";
import { machineInfo, VERSION } from "../results/write.ts";

/** What a result directory's `run.json` says, as the suite writes it. */
export interface SuiteRunJson {
  /** The command line, as arguments. */
  command: string[];
  /** The configuration shown in the report. */
  config: Record<string, unknown>;
  /** `completed` or `failed`. */
  status: "completed" | "failed";
  /** The figure the directory belongs to, or `null`. */
  figure: string | null;
  /** ISO start time. */
  startedAt: string;
  /** ISO end time. */
  endedAt: string;
}

/**
 * Writes a result directory without rows: `run.json` and a `summary.csv` with
 * only the header.
 *
 * @example A directory the report can read
 * ```ts
 * import { writeRowlessDir } from "./_dirs.ts";
 * import { readResultDir } from "../results/read.ts";
 * import { equal } from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await writeRowlessDir(dir, { command: ["figures"], config: { note: "x" }, status: "failed",
 *   figure: "fig-lag", startedAt: "", endedAt: "" });
 * const run = await readResultDir(dir);
 * equal(run.run.status, "failed");
 * equal(run.rows.length, 0);
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param dir The directory (created if needed).
 * @param run What `run.json` says.
 */
export async function writeRowlessDir(dir: string, run: SuiteRunJson): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const json = { version: VERSION, ...run, machine: machineInfo() };
  await writeFileAtomic(`${dir}/run.json`, JSON.stringify(json, null, 2) + "\n");
  await writeFileAtomic(`${dir}/summary.csv`, SUMMARY_COLUMNS.join(",") + "\n");
}

/**
 * Whether a directory holds both `run.json` and `summary.csv`.
 *
 * @example An empty directory has no results
 * ```ts
 * import { hasResults } from "./_dirs.ts";
 * import { equal } from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * equal(await hasResults(dir), false);
 * await Deno.remove(dir);
 * ```
 *
 * @param dir The directory.
 * @returns True when both files exist.
 */
export async function hasResults(dir: string): Promise<boolean> {
  for (const name of ["run.json", "summary.csv"]) {
    try {
      if (!(await Deno.stat(`${dir}/${name}`)).isFile) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/**
 * Tags a result directory's `run.json` for the report: the top-level `figure`
 * (the simulator has no `--figure` flag; the report gives every row of the
 * directory this figure), and for DLRM runs `config.skew` copied from
 * `config.extra.dlrm.skew` (the report tells skewed DLRM runs apart by
 * `config.skew` or a `skew` column, which bench does not write).
 *
 * @example Tag a simulator run
 * ```ts
 * import { tagRun } from "./_dirs.ts";
 * import { equal } from "node:assert/strict";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/run.json`, '{"config":{"extra":{"dlrm":{"skew":"zipf:1"}}}}');
 * await tagRun(dir, "fig-scale");
 * const run = JSON.parse(await Deno.readTextFile(`${dir}/run.json`));
 * equal(run.figure, "fig-scale");
 * equal(run.config.skew, "zipf:1");
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @param dir The directory.
 * @param figure The figure id.
 */
export async function tagRun(dir: string, figure: string): Promise<void> {
  const path = `${dir}/run.json`;
  const run = JSON.parse(await Deno.readTextFile(path));
  if (!isRecord(run)) return;
  run.figure = figure;
  const config = run.config;
  if (isRecord(config) && config.skew === undefined && isRecord(config.extra)) {
    const dlrm = config.extra.dlrm;
    if (isRecord(dlrm) && typeof dlrm.skew === "string") config.skew = dlrm.skew;
  }
  await writeFileAtomic(path, JSON.stringify(run, null, 2) + "\n");
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Removes a directory and everything in it; a missing one is fine.
 *
 * @example Remove twice
 * ```ts
 * import { removeDir } from "./_dirs.ts";
 * const dir = await Deno.makeTempDir();
 * await removeDir(dir);
 * await removeDir(dir);
 * ```
 *
 * @param dir The directory.
 */
export async function removeDir(dir: string): Promise<void> {
  try {
    await Deno.remove(dir, { recursive: true });
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
}
