/**
 * Output of the simulate command: `summary.csv` and `run.json` in a results
 * directory, and a readable table for the terminal.
 *
 * @module
 */

import { stringify } from "csv-stringify/sync";
import { writeFileAtomic } from "../../util/atomic.ts";
import { SIMULATED_COLUMNS, type SimulatedRow } from "./_sweep.ts";

/**
 * Renders rows as `summary.csv` text, columns in `SIMULATED_COLUMNS` order.
 *
 * @example One row
 * ```ts
 * import { summaryCsv } from "./_output.ts";
 * const text = summaryCsv([{ workload: "simulated", ranks: 4, lag: 0 }]);
 * if (!text.startsWith("workload,transport,ranks,lag,")) throw new Error(text);
 * ```
 *
 * @param rows The rows.
 * @returns The CSV text, header first.
 */
export function summaryCsv(rows: readonly SimulatedRow[]): string {
  return stringify(
    rows.map((row) => Object.fromEntries(SIMULATED_COLUMNS.map((c) => [c, row[c] ?? ""]))),
    { header: true, columns: [...SIMULATED_COLUMNS] },
  );
}

/**
 * Writes `summary.csv` and `run.json` into `dir` (created if needed), each atomically.
 *
 * @example Write a directory
 * ```ts
 * import { writeSimulationDir } from "./_output.ts";
 * const dir = await Deno.makeTempDir();
 * await writeSimulationDir(dir, [{ workload: "simulated" }], { config: { workload: "simulated" } });
 * await Deno.stat(`${dir}/summary.csv`);
 * ```
 *
 * @param dir The results directory.
 * @param rows The rows.
 * @param run The content of `run.json`.
 */
export async function writeSimulationDir(
  dir: string,
  rows: readonly SimulatedRow[],
  run: Record<string, unknown>,
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await writeFileAtomic(`${dir}/summary.csv`, summaryCsv(rows));
  await writeFileAtomic(`${dir}/run.json`, JSON.stringify(run, null, 2) + "\n");
}

function formatNumber(value: string | number | undefined, digits: number): string {
  if (value === undefined || value === "") return "";
  const n = Number(value);
  if (!Number.isFinite(n)) return String(value);
  return n.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

/**
 * Renders rows as an aligned text table: configuration, throughput, speedup,
 * latency and, when calibrated, the measured throughput and the prediction's error.
 *
 * @example
 * ```ts
 * import { formatTable } from "./_output.ts";
 * const table = formatTable([{ ranks: 4, lag: 0, delay: "none", iters_per_s: 10, speedup_vs_sync: 1 }]);
 * if (!table.includes("iters/s")) throw new Error(table);
 * ```
 *
 * @param rows The rows.
 * @returns The table, one line per row after a header.
 */
export function formatTable(rows: readonly SimulatedRow[]): string {
  const measured = rows.some((row) =>
    row.measured_iters_per_s !== undefined && row.measured_iters_per_s !== ""
  );
  const header = [
    "ranks",
    "lag",
    "delay",
    "size",
    "c (us)",
    "o (us)",
    "iters/s",
    "speedup",
    "lat p50 (us)",
    "blocked p50 (us)",
  ];
  if (measured) header.push("measured", "error");
  const lines = rows.map((row) => {
    const cells = [
      String(row.ranks ?? ""),
      String(row.lag ?? ""),
      String(row.delay ?? ""),
      String(row.size_bytes ?? ""),
      formatNumber(row.comm_us, 1),
      formatNumber(row.overhead_us, 1),
      formatNumber(row.iters_per_s, 1),
      formatNumber(row.speedup_vs_sync, 2) + (row.speedup_vs_sync === undefined ? "" : "x"),
      formatNumber(row.latency_p50_us, 0),
      formatNumber(row.blocked_p50_us, 0),
    ];
    if (measured) {
      const observed = Number(row.measured_iters_per_s);
      const ok = row.measured_iters_per_s !== "" && Number.isFinite(observed) && observed > 0;
      cells.push(ok ? formatNumber(observed, 1) : "");
      const error = ok ? (Number(row.iters_per_s) - observed) / observed : NaN;
      cells.push(ok ? `${error >= 0 ? "+" : ""}${(error * 100).toFixed(1)}%` : "");
    }
    return cells;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((cells) => cells[i].length)));
  const render = (cells: string[]) =>
    cells.map((cell, i) => (i < 4 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))).join("  ")
      .trimEnd();
  return [render(header), ...lines.map(render)].join("\n");
}
