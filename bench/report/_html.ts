/**
 * HTML pieces of the report: escaping, tables of summary rows, the configuration
 * and machine of a run, the claim box, and the page's style sheet.
 *
 * @module
 */

import type { ResultRun, SummaryRow } from "../results/read.ts";
import { type ClaimCheck, verdictLabel } from "../paper/claims.ts";

/**
 * Escapes text for HTML element content and attribute values.
 *
 * @example Escape markup
 * ```ts
 * import { escapeHtml } from "./_html.ts";
 * import { equal } from "node:assert/strict";
 * equal(escapeHtml('<a href="x">&</a>'), "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
 * ```
 *
 * @param text The text.
 * @returns The escaped text.
 */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) =>
      c === "&"
        ? "&amp;"
        : c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === '"'
        ? "&quot;"
        : "&#39;",
  );
}

/**
 * Serialises a value as JSON that is safe inside a `<script>` element.
 *
 * @example No closing tag survives
 * ```ts
 * import { jsonForScript } from "./_html.ts";
 * import { equal } from "node:assert/strict";
 * equal(jsonForScript({ a: "</script>" }).includes("</"), false);
 * ```
 *
 * @param value The value.
 * @returns JSON text with `<`, `>` and `&` as unicode escapes.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

/**
 * A table of summary rows with every column they have, in file order.
 *
 * @example Two rows
 * ```ts
 * import { rowsTable } from "./_html.ts";
 * import { ok } from "node:assert/strict";
 * const html = rowsTable([{ cells: { lag: "0", iters_per_s: "100" } }, { cells: { lag: "1", iters_per_s: "120" } }]);
 * ok(html.includes("<th>iters_per_s</th>"));
 * ```
 *
 * @param rows The rows.
 * @returns An HTML table.
 */
export function rowsTable(rows: readonly Pick<SummaryRow, "cells">[]): string {
  const columns: string[] = [];
  for (const row of rows) {
    for (const name of Object.keys(row.cells)) if (!columns.includes(name)) columns.push(name);
  }
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const body = rows.map((row) =>
    `<tr>${columns.map((c) => `<td>${escapeHtml(row.cells[c] ?? "")}</td>`).join("")}</tr>`
  ).join("\n");
  return `<div class="table-wrap"><table class="rows"><thead><tr>${head}</tr></thead>` +
    `<tbody>\n${body}\n</tbody></table></div>`;
}

function valueText(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/**
 * A two-column table of an object's fields (configuration, machine).
 *
 * @example A small object
 * ```ts
 * import { keyValueTable } from "./_html.ts";
 * import { ok } from "node:assert/strict";
 * ok(keyValueTable({ ranks: 4, lags: [0, 1] }).includes("[0,1]"));
 * ```
 *
 * @param record The fields.
 * @returns An HTML table.
 */
export function keyValueTable(record: Record<string, unknown>): string {
  const rows = Object.entries(record).map(([key, value]) =>
    `<tr><th>${escapeHtml(key)}</th><td>${escapeHtml(valueText(value))}</td></tr>`
  );
  if (rows.length === 0) return `<p class="muted">(not recorded)</p>`;
  return `<table class="kv"><tbody>${rows.join("")}</tbody></table>`;
}

/**
 * The section describing one result directory: status, command, times,
 * configuration, machine and all its summary rows.
 *
 * @example A run section
 * ```ts
 * import { runSection } from "./_html.ts";
 * import { ok } from "node:assert/strict";
 * const run = { version: "0.1.0", command: ["bench"], config: { ranks: 4 }, machine: { cpus: 2 },
 *   startedAt: "", endedAt: "", status: "completed", figure: null };
 * ok(runSection({ dir: "results/x", run, rows: [] }, 1, "").includes("results/x"));
 * ```
 *
 * @param result The result directory.
 * @param index Its position, from 1, used in element ids.
 * @param chartsHtml Chart containers to show in the section (plain runs), or "".
 * @returns An HTML section.
 */
export function runSection(result: ResultRun, index: number, chartsHtml: string): string {
  const { run, rows } = result;
  const statusClass = run.status === "completed" ? "holds" : "fails";
  const facts = [
    ["status", `<span class="badge ${statusClass}">${escapeHtml(run.status)}</span>`],
    ["figure", escapeHtml(run.figure ?? "—")],
    ["command", `<code>${escapeHtml(run.command.join(" ") || "—")}</code>`],
    ["started", escapeHtml(run.startedAt || "—")],
    ["ended", escapeHtml(run.endedAt || "—")],
    ["schema version", escapeHtml(run.version || "—")],
    ...(run.socketIo ? [["TCP socket I/O", escapeHtml(run.socketIo)]] : []),
  ].map(([k, v]) => `<tr><th>${k}</th><td>${v}</td></tr>`).join("");
  return `<section class="run" id="run-${index}">
<h2>Run ${index}: <code>${escapeHtml(result.dir)}</code></h2>
<table class="kv"><tbody>${facts}</tbody></table>
${chartsHtml}
<div class="two-col">
<div><h3>Configuration</h3>${keyValueTable(run.config)}</div>
<div><h3>Machine</h3>${keyValueTable(run.machine)}</div>
</div>
<details${rows.length <= 40 ? " open" : ""}><summary>All ${rows.length} summary rows</summary>
${rowsTable(rows)}
</details>
</section>`;
}

/**
 * The box under a figure: the paper's claim, the claim rule, its verdict and the numbers it used.
 *
 * @example A holding claim
 * ```ts
 * import { claimBox } from "./_html.ts";
 * import { ok } from "node:assert/strict";
 * const html = claimBox("BLS gains nothing here.", { figure: "fig-balanced",
 *   claim: "every lag within 5% of sync", holds: true, detail: "3 of 3 sizes hold" });
 * ok(html.includes("holds"));
 * ```
 *
 * @param paperClaim What the paper claims.
 * @param check The measured check.
 * @returns An HTML block.
 */
export function claimBox(paperClaim: string, check: ClaimCheck): string {
  const { cls, text: verdict } = verdictLabel(check.holds);
  return `<div class="claim ${cls}" data-figure="${escapeHtml(check.figure)}" data-holds="${
    escapeHtml(String(check.holds))
  }">
<p><b>Paper:</b> ${escapeHtml(paperClaim)}</p>
<p><b>Claim rule:</b> ${escapeHtml(check.claim)} — <span class="badge ${cls}">${verdict}</span></p>
<p class="detail">${escapeHtml(check.detail)}</p>
</div>`;
}

/** The report's style sheet. */
export const REPORT_CSS = `
:root { --fg: #1d1d1f; --muted: #5f6368; --line: #d9dce1; --holds: #1a7f37; --fails: #c62828;
  --unknown: #8a6d00; --bg-soft: #f6f8fa; }
* { box-sizing: border-box; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
  margin: 0 auto; max-width: 1200px; padding: 24px; }
h1 { margin: 0 0 4px; font-size: 26px; }
h2 { margin: 0 0 8px; font-size: 20px; }
h3 { font-size: 16px; margin: 16px 0 6px; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; background: var(--bg-soft);
  padding: 1px 4px; border-radius: 4px; }
.muted, .subtitle { color: var(--muted); }
section { border-top: 1px solid var(--line); padding: 20px 0; }
nav ul { columns: 2; margin: 8px 0; }
.chart { position: relative; height: 380px; margin: 12px 0 4px; }
.chart-title { font-weight: 600; margin: 12px 0 0; }
.not-measured { border: 2px dashed var(--line); background: var(--bg-soft); padding: 20px;
  border-radius: 8px; margin: 12px 0; }
.claim { border-left: 5px solid var(--unknown); background: var(--bg-soft); padding: 8px 14px;
  margin: 12px 0; border-radius: 0 6px 6px 0; }
.claim p { margin: 4px 0; }
.claim.holds { border-color: var(--holds); }
.claim.fails { border-color: var(--fails); }
.claim .detail { color: var(--muted); font-size: 14px; }
.badge { display: inline-block; padding: 0 8px; border-radius: 10px; color: #fff;
  background: var(--unknown); font-weight: 600; font-size: 13px; }
.badge.holds { background: var(--holds); }
.badge.fails { background: var(--fails); }
.badge.model { background: var(--muted); }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
table.rows td { font-variant-numeric: tabular-nums; white-space: nowrap; }
table.kv th { background: var(--bg-soft); font-weight: 600; }
.two-col { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
@media (max-width: 800px) { .two-col { grid-template-columns: 1fr; } nav ul { columns: 1; } }
#report-error { color: var(--fails); font-weight: 600; }
`;
