/**
 * The HTML report: one self-contained `report.html` (Chart.js inlined, no
 * network) with a chart per figure of the paper, the paper's claim and its
 * measured check under each, tables of the summary rows, and the configuration
 * and machine of every result directory. Plain `bench` runs (no figure) get
 * throughput and latency charts against the lag.
 *
 * @module
 */

import { RunError, UsageError } from "../../util/errors.ts";
import { writeFileAtomic } from "../../util/atomic.ts";
import { readResultDirs, type ResultRun } from "../results/read.ts";
import { enrichedRows, FIGURES, rowsForFigure } from "../paper/figures.ts";
import { checkClaim, type ClaimCheck, verdictLabel } from "../paper/claims.ts";
import {
  adviceChart,
  type AdviceFile,
  buildCharts,
  type ChartModel,
  runCharts,
} from "./_charts.ts";

export type { AdviceFile } from "./_charts.ts";
import { CLIENT_SCRIPT } from "./_client.ts";
import { claimBox, escapeHtml, jsonForScript, REPORT_CSS, rowsTable, runSection } from "./_html.ts";

/** Options of {@link renderReport}. */
export interface RenderOptions {
  /** The page title; defaults to `blsbench report`. */
  title?: string;
  /** The time printed as "generated at"; defaults to now. */
  generatedAt?: Date;
  /** The Chart.js UMD source to inline; defaults to the installed package's. */
  chartJs?: string;
  /** `advice.json` of result directories, by directory (`writeReport` reads them). */
  advice?: ReadonlyMap<string, AdviceFile>;
  /**
   * Show the paper's figures and claims: always for the figure suite's report;
   * by default only when some row or run is tagged with a figure (or there are
   * no runs at all), else the report is about the user's own sweep.
   */
  paper?: boolean;
}

let chartJsCache: string | undefined;

/** Deno's cache folder (`DENO_DIR`, else the platform's default), when it can be told. */
function denoCacheDir(): string | undefined {
  const env = (name: string) => {
    try {
      return Deno.env.get(name) || undefined;
    } catch {
      return undefined;
    }
  };
  const explicit = env("DENO_DIR");
  if (explicit) return explicit.replace(/\/+$/, "");
  const home = env("HOME");
  if (Deno.build.os === "darwin") return home && `${home}/Library/Caches/deno`;
  if (Deno.build.os === "windows") {
    const local = env("LOCALAPPDATA");
    return local && `/${local.replaceAll("\\", "/")}/deno`;
  }
  const xdg = env("XDG_CACHE_HOME") ?? (home && `${home}/.cache`);
  return xdg && `${xdg}/deno`;
}

/**
 * Where the installed Chart.js UMD build (`chart.umd.min.js`) is: beside the file
 * `chart.js` resolves to, in Deno's npm cache when it resolves to an `npm:`
 * specifier, or else in the project's `node_modules`.
 *
 * @example Find it
 * ```ts
 * import { chartJsPath } from "@blsbench/core/bench";
 * import { ok } from "node:assert/strict";
 * ok(chartJsPath().endsWith("chart.umd.min.js"));
 * ```
 *
 * @returns A file path.
 */
export function chartJsPath(): string {
  const candidates: URL[] = [];
  try {
    const resolved = import.meta.resolve("chart.js");
    if (resolved.startsWith("file:")) candidates.push(new URL("chart.umd.min.js", resolved));
    // Without a node_modules folder (a JSR user) the name resolves to `npm:chart.js@V`:
    // the package then sits in Deno's global npm cache.
    const npm = /^npm:\/?chart\.js@([^/]+)/.exec(resolved);
    const cache = npm ? denoCacheDir() : undefined;
    if (npm && cache) {
      candidates.push(
        new URL(`file://${cache}/npm/registry.npmjs.org/chart.js/${npm[1]}/dist/chart.umd.min.js`),
      );
    }
  } catch {
    // Outside the project's configuration the bare name may not resolve: use the paths below.
  }
  // An npm: specifier (no node_modules resolution): look beside the project root.
  if (import.meta.url.startsWith("file:")) {
    candidates.push(new URL("../../node_modules/chart.js/dist/chart.umd.min.js", import.meta.url));
  }
  const cwd = Deno.cwd().replace(/\/?$/, "/");
  candidates.push(new URL(`file://${cwd}node_modules/chart.js/dist/chart.umd.min.js`));
  for (const url of candidates) {
    try {
      if (Deno.statSync(url).isFile) return decodeURIComponent(url.pathname);
    } catch {
      // Try the next place.
    }
  }
  return decodeURIComponent(candidates[0].pathname);
}

/**
 * Reads the installed Chart.js UMD build, ready to inline in a `<script>`.
 *
 * @example Read it
 * ```ts
 * import { chartJsSource } from "@blsbench/core/bench";
 * import { ok } from "node:assert/strict";
 * ok(chartJsSource().includes("Chart.js v4"));
 * ```
 *
 * @returns The script text, without its source-map comment.
 * @throws RunError when the package is not installed.
 */
export function chartJsSource(): string {
  if (chartJsCache !== undefined) return chartJsCache;
  const path = chartJsPath();
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    throw new RunError(
      `Chart.js UMD build not found at ${path} (${(e as Error).message}): run 'deno install'`,
    );
  }
  // The map file is not shipped with the report: drop the comment that points at it.
  chartJsCache = text.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, "\n");
  return chartJsCache;
}

function inlineScript(source: string): string {
  return source.replace(/<\/script/gi, "<\\/script").replace(/<!--/g, "<\\!--");
}

/** The figure's section: charts (or the not-measured box), the claim, the rows. */
function figureSection(
  spec: typeof FIGURES[number],
  runs: readonly ResultRun[],
  charts: ChartModel[],
): { html: string; check: ClaimCheck } {
  const rows = rowsForFigure(spec, runs);
  const check = checkClaim(spec.id, rows);
  const models = spec.charts.flatMap((chart, i) =>
    buildCharts(chart, rows, i === 0 ? spec.id : `${spec.id}-${chart.key}`)
  );
  // The figure id belongs to the first drawn canvas, whichever chart it is.
  if (models.length > 0 && !models.some((m) => m.canvasId === spec.id)) {
    models[0].canvasId = spec.id;
  }
  charts.push(...models);
  const body = models.length > 0
    ? models.map((m) =>
      `<p class="chart-title">${escapeHtml(m.title)}</p>
<div class="chart"><canvas id="${
        escapeHtml(m.canvasId)
      }" data-figure="${spec.id}" role="img" aria-label="${escapeHtml(m.title)}"></canvas></div>`
    ).join("\n")
    : `<div class="not-measured" id="${spec.id}" data-figure="${spec.id}">
<p><b>Not measured in this run:</b> no result rows for <code>${spec.id}</code>${
      rows.length > 0 ? ` (${rows.length} rows, none with plottable values)` : ""
    }.</p>
<p>To measure it, run: <code>${escapeHtml(spec.howToMeasure)}</code>, then
<code>deno task report DIR...</code> with its results directory.</p>
</div>`;
  const table = rows.length > 0
    ? `<details><summary>${rows.length} summary rows of this figure</summary>${
      rowsTable(rows)
    }</details>`
    : "";
  const html = `<section class="figure" id="section-${spec.id}">
<h2>${escapeHtml(spec.title)} <code>${spec.id}</code></h2>
<p class="subtitle">${escapeHtml(spec.description)}</p>
${body}
${claimBox(spec.paperClaim, check)}
${table}
</section>`;
  return { html, check };
}

function verdictText(check: ClaimCheck): string {
  const { cls, text } = verdictLabel(check.holds);
  return `<span class="badge ${cls}">${text}</span>`;
}

/**
 * Renders the report of one or more result directories as one self-contained
 * HTML page.
 *
 * @example Render an empty report
 * ```ts
 * import { renderReport } from "@blsbench/core/bench";
 * import { ok } from "node:assert/strict";
 * const html = renderReport([]);
 * ok(html.includes('id="fig-scale"'));
 * ok(!html.includes("<script src="));
 * ```
 *
 * @param runs The result directories (see `readResultDirs`).
 * @param options Title, time stamp, Chart.js source.
 * @returns The HTML text.
 */
export function renderReport(runs: readonly ResultRun[], options: RenderOptions = {}): string {
  const title = options.title ?? "blsbench report";
  const generatedAt = (options.generatedAt ?? new Date()).toISOString();
  const figureCharts: ChartModel[] = [];
  const charts: ChartModel[] = [];
  const figures = FIGURES.map((spec) => ({ spec, ...figureSection(spec, runs, figureCharts) }));
  const allRows = enrichedRows(runs);
  const runSections = runs.map((result, i) => {
    // Plain runs (no figure anywhere) also get charts of their own against the lag.
    const plain = allRows.length > 0 && result.run.figure === null &&
      result.rows.every((r) => r.figure === null);
    let chartsHtml = "";
    if (plain) {
      const own = enrichedRows([result]);
      const dlrm = own.some((row) => row.workload === "dlrm");
      const sizes = new Set(own.map((row) => row.sizeBytes)).size;
      const models = runCharts(dlrm, sizes).flatMap((spec) =>
        buildCharts(spec, own, `run-${i + 1}-${spec.key}`)
      );
      const advice = options.advice?.get(result.dir);
      if (advice && advice.advice.length > 0) {
        models.push(adviceChart(advice, `run-${i + 1}-advice`));
      }
      charts.push(...models);
      chartsHtml = models.map((m) =>
        `<p class="chart-title">${escapeHtml(m.title)}</p>
<div class="chart"><canvas id="${escapeHtml(m.canvasId)}" data-run="${
          i + 1
        }" role="img" aria-label="${escapeHtml(m.title)}"></canvas></div>`
      ).join("\n");
    }
    return runSection(result, i + 1, chartsHtml);
  });
  // The paper's claims belong to figure runs: a report of the user's own sweep
  // (no row tagged with a figure) is about that sweep alone.
  const paper = options.paper ?? (runs.length === 0 || runs.some((r) => r.run.figure !== null) ||
    allRows.some((row) => row.figure !== null));
  const overview = figures.map(({ spec, check }) =>
    `<tr><td><a href="#section-${spec.id}">${spec.id}</a></td><td>${
      escapeHtml(check.claim)
    }</td><td>${verdictText(check)}</td></tr>`
  ).join("\n");
  const dirs = runs.map((r) =>
    `<li><a href="#run-${runs.indexOf(r) + 1}"><code>${escapeHtml(r.dir)}</code></a> — ${
      escapeHtml(r.run.status)
    }, ${r.rows.length} rows</li>`
  ).join("\n");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
<header>
<h1>${escapeHtml(title)}</h1>
<p class="subtitle">Synchronous vs bounded-lag-synchronous (BLS) alltoallv — reproducing Yzelman,
Pawlowski and Dichev, <i>Faster Distributed Inference-Only Recommender Systems via Bounded Lag
Synchronous Collectives</i> (arXiv:2512.19342). Generated ${escapeHtml(generatedAt)}.</p>
<p id="report-error" hidden></p>
</header>
<section id="overview">
${
    paper
      ? `<h2>The paper's claims, checked</h2>
<table class="claims"><thead><tr><th>figure</th><th>claim rule (docs/report.md)</th><th>result</th></tr></thead>
<tbody>
${overview}
</tbody></table>`
      : `<h2>Your sweep</h2>
<p>Throughput and latency against the lag, the trade-off between them, and every row; the paper's
figures and their claims are in the report of <code>deno task figures</code>.</p>`
  }
<h3>Result directories</h3>
<ul>${dirs || "<li>none</li>"}</ul>
</section>
${paper ? figures.map((f) => f.html).join("\n") : ""}
${runSections.join("\n")}
<script type="application/json" id="report-data">${
    jsonForScript({ charts: paper ? [...figureCharts, ...charts] : charts })
  }</script>
<script>${inlineScript(options.chartJs ?? chartJsSource())}</script>
<script>${inlineScript(CLIENT_SCRIPT)}</script>
</body>
</html>
`;
}

/**
 * Reads result directories and writes their report atomically.
 *
 * @example Write the report of a directory
 * ```ts
 * import { writeReport } from "@blsbench/core/bench";
 * import { SUMMARY_COLUMNS } from "@blsbench/core/bench";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/run.json`, '{"config":{"workload":"alltoallv"}}');
 * await Deno.writeTextFile(`${dir}/summary.csv`, SUMMARY_COLUMNS.join(",") + "\n");
 * await writeReport(dir, `${dir}/report.html`);
 * ```
 *
 * @param dirs One result directory or several.
 * @param outPath Where to write; defaults to `report.html` in the first directory.
 * @param options Render options.
 * @returns The path written.
 * @throws UsageError when a directory or its files are missing or malformed.
 */
export async function writeReport(
  dirs: string | readonly string[],
  outPath?: string,
  options: RenderOptions = {},
): Promise<string> {
  const list = typeof dirs === "string" ? [dirs] : dirs;
  const runs = await readResultDirs(list);
  const path = outPath ?? `${list[0] ?? "."}/report.html`;
  const advice = new Map<string, AdviceFile>();
  for (const run of runs) {
    const file = `${run.dir}/advice.json`;
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) continue; // advice.json is optional
      throw new UsageError(`Cannot read ${file}: ${(e as Error).message}`);
    }
    let parsed: AdviceFile;
    try {
      parsed = JSON.parse(text) as AdviceFile;
    } catch (e) {
      throw new UsageError(`Malformed ${file}: ${(e as Error).message}`);
    }
    if (!Array.isArray(parsed?.advice)) throw new UsageError(`Malformed ${file}: no "advice" list`);
    advice.set(run.dir, parsed);
  }
  await writeFileAtomic(path, renderReport(runs, { advice, ...options }));
  return path;
}
