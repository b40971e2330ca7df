/**
 * Synthetic result directories in the documented schema (README, Result files), for
 * the report tests: a figure-suite directory with rows for every figure (two
 * repeats, so bands show) and a plain `bench` directory.
 *
 * @module
 */

import { SUMMARY_COLUMNS } from "../../bench/results/read.ts";

/** One summary row as cells; missing columns are written empty. */
export type Cells = Record<string, string | number | boolean | null>;

const EXTRA_COLUMNS = ["repeat", "dataset", "figure", "batch_size", "skew"];

function csvCell(value: string | number | boolean | null | undefined): string {
  const text = value === null || value === undefined ? "" : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * Writes `summary.csv` text for rows.
 *
 * @param rows The rows.
 * @param extraColumns Columns after the required ones.
 * @returns The CSV text.
 */
export function summaryCsv(rows: Cells[], extraColumns = EXTRA_COLUMNS): string {
  const header = [...SUMMARY_COLUMNS, ...extraColumns];
  const lines = [header.join(",")];
  for (const row of rows) lines.push(header.map((c) => csvCell(row[c])).join(","));
  return lines.join("\n") + "\n";
}

/**
 * A `run.json` object in the documented schema.
 *
 * @param config Configuration fields over the defaults.
 * @param figure The figure id, if any.
 * @returns The object.
 */
export function runJson(config: Record<string, unknown>, figure?: string): Record<string, unknown> {
  return {
    version: "0.1.0",
    command: ["bench", "--workload", String(config.workload ?? "alltoallv")],
    config: {
      workload: "alltoallv",
      transport: "tcp",
      ranks: 4,
      lags: [0, 1, 2, 4],
      sizes: [8, 1048576],
      delay: "none",
      delayMode: "busy",
      imbalance: "none",
      iters: 100,
      warmup: 10,
      seed: 1,
      progress: "thread",
      ...config,
    },
    machine: {
      hostname: "test-host",
      cpus: 2,
      cpuModel: "Synthetic CPU",
      memoryGiB: 24,
      os: "linux",
      deno: "2.9.6",
    },
    startedAt: "2026-01-01T00:00:00.000Z",
    endedAt: "2026-01-01T00:05:00.000Z",
    status: "completed",
    ...(figure ? { figure } : {}),
  };
}

/**
 * Writes a results directory.
 *
 * @param dir The directory (created).
 * @param run The run.json object.
 * @param rows The summary rows.
 */
export async function writeResultDir(
  dir: string,
  run: Record<string, unknown>,
  rows: Cells[],
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/run.json`, JSON.stringify(run, null, 2));
  await Deno.writeTextFile(`${dir}/summary.csv`, summaryCsv(rows));
}

/** A summary row of the alltoallv workload, the given cells over the defaults. */
export function alltoallvCells(cells: Cells): Cells {
  return {
    workload: "alltoallv",
    transport: "tcp",
    ranks: 4,
    size_bytes: 1024,
    imbalance: "none",
    delay: "none",
    delay_mode: "busy",
    iters: 100,
    validated: true,
    ...cells,
  };
}

/** Rows for every figure, shaped so that each claim holds, with two repeats each. */
export function figureSuiteRows(): Cells[] {
  const rows: Cells[] = [];
  const lags = [0, 1, 2, 4, 8];
  for (const repeat of [1, 2]) {
    const wiggle = repeat === 1 ? 0.99 : 1.01;
    for (let size = 8; size <= 1048576; size *= 16) {
      for (const lag of lags) {
        const latency = (20 + size / 1000) * wiggle;
        rows.push(alltoallvCells({
          figure: "fig-balanced",
          repeat,
          lag,
          size_bytes: size,
          latency_p50_us: latency,
          latency_p99_us: latency * 1.5,
          iters_per_s: 1e6 / latency,
          blocked_p50_us: 5,
        }));
      }
    }
    for (const factor of [1, 2, 4, 8, 16]) {
      for (const lag of lags) {
        // Lags >= 1 mask 70% of what the hot rank adds to sync's time.
        const syncMs = 0.5 * factor;
        const gain = lag === 0
          ? 1
          : syncMs / (syncMs - 0.7 * (syncMs - 0.5) * Math.min(lag, 2) / 2);
        rows.push(alltoallvCells({
          figure: "fig-hetero",
          repeat,
          lag,
          imbalance: factor === 1 ? "none" : `hot:0:${factor}`,
          iters_per_s: (1000 / syncMs) * gain * wiggle,
        }));
      }
    }
    for (const cv of [0.5, 1, 2]) {
      for (const lag of lags) {
        const syncMs = 0.5 * (1 + cv);
        const gain = lag === 0 ? 1 : syncMs / (syncMs - 0.6 * (syncMs - 0.5));
        rows.push(alltoallvCells({
          figure: "fig-hetero",
          repeat,
          lag,
          imbalance: `random:${cv}`,
          iters_per_s: (1000 / syncMs) * gain * wiggle,
        }));
      }
    }
    for (const meanMs of [0, 1, 2, 4]) {
      for (const lag of lags) {
        const syncMs = 0.2 + meanMs * 2.08;
        const lagMs = 0.2 + meanMs * (0.6 + 1.48 / (1 + lag));
        const ideal = lag === 0 ? syncMs : lagMs;
        rows.push(alltoallvCells({
          figure: "fig-delay",
          repeat,
          lag,
          delay: meanMs === 0 ? "none" : `exp:${meanMs}ms`,
          iters_per_s: (1000 / (ideal * 1.1)) * wiggle,
          ideal_iters_per_s: 1000 / ideal,
        }));
      }
    }
    for (const lag of [0, 1, 2, 4, 8, 16]) {
      const ideal = 400 - 200 / (1 + lag);
      rows.push(alltoallvCells({
        figure: "fig-lag",
        repeat,
        lag,
        delay: "exp:2ms",
        iters_per_s: ideal * 0.92 * wiggle,
        ideal_iters_per_s: ideal,
      }));
    }
    for (const dataset of ["mini-kaggle", "ali-ccp"]) {
      for (const ranks of [2, 4]) {
        for (const lag of [0, 1, 2, 4]) {
          rows.push(alltoallvCells({
            figure: "fig-dlrm-balanced",
            workload: "dlrm",
            dataset,
            repeat,
            lag,
            ranks,
            size_bytes: null,
            batch_size: 256,
            iters_per_s: 40 * ranks * wiggle,
            samples_per_s: 40 * ranks * 256 * wiggle,
            latency_p50_us: 25000 / ranks,
          }));
        }
      }
    }
    for (const delay of ["none", "exp:2ms"]) {
      for (const lag of [0, 1, 2, 4]) {
        const samples = delay === "none" ? 10000 : lag === 0 ? 6000 : 6000 + lag * 1000;
        rows.push(alltoallvCells({
          figure: "fig-dlrm-unbalanced",
          workload: "dlrm",
          dataset: "synthetic",
          repeat,
          lag,
          delay,
          size_bytes: null,
          batch_size: 256,
          iters_per_s: (samples / 256) * wiggle,
          samples_per_s: samples * wiggle,
        }));
      }
    }
  }
  for (let ranks = 2; ranks <= 65536; ranks *= 4) {
    for (const lag of lags) {
      const speedup = lag === 0 ? 1 : 1 + Math.log2(ranks) * 0.05 * Math.min(lag, 4);
      rows.push(alltoallvCells({
        figure: "fig-scale",
        workload: "simulated",
        transport: "model",
        ranks,
        lag,
        delay: "exp:2ms",
        size_bytes: null,
        validated: null,
        iters_per_s: 100 * speedup,
        speedup_vs_sync: speedup,
        ideal_iters_per_s: 100 * speedup,
      }));
    }
  }
  return rows;
}

/** Rows of a plain `bench` run: alltoallv at two sizes, lags 0,1,2,4, no figure. */
export function plainBenchRows(): Cells[] {
  const rows: Cells[] = [];
  for (const size of [64, 65536]) {
    for (const lag of [0, 1, 2, 4]) {
      rows.push(alltoallvCells({
        lag,
        size_bytes: size,
        iters_per_s: 5000 - size / 100,
        latency_p50_us: 1e6 / (5000 - size / 100),
        latency_p99_us: 1.4e6 / (5000 - size / 100),
      }));
    }
  }
  return rows;
}
