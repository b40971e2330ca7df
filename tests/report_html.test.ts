/** The HTML report without a browser: structure, self-containment, figures, claims, tables. */

import { equal, match, ok } from "node:assert/strict";
import { renderReport, writeReport } from "../bench/report/report.ts";
import { readResultDirs } from "../bench/results/read.ts";
import { FIGURE_IDS } from "../bench/paper/figures.ts";
import {
  figureSuiteRows,
  plainBenchRows,
  runJson,
  writeResultDir,
} from "./_helpers/report_fixture.ts";

async function withDirs<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "blsbench-report-html-" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function chartModels(html: string): { canvasId: string; series: unknown[] }[] {
  const m = /<script type="application\/json" id="report-data">(.*?)<\/script>/s.exec(html);
  ok(m, "the chart data is embedded");
  return JSON.parse(m[1]).charts;
}

Deno.test("self-contained: Chart.js inlined, no external scripts, styles or links", async () => {
  await withDirs(async (dir) => {
    await writeResultDir(`${dir}/suite`, runJson({}), figureSuiteRows());
    const html = renderReport(await readResultDirs([`${dir}/suite`]));
    ok(html.includes("Chart.js v4.6.1"), "the Chart.js UMD build is inlined");
    ok(!/<script[^>]+src=/i.test(html), "no script src");
    ok(!/<link[^>]+href=/i.test(html), "no stylesheet links");
    ok(!/sourceMappingURL/.test(html), "no source map reference");
    ok(!/url\(\s*['"]?https?:/i.test(html), "no remote CSS resources");
    equal((html.match(/<\/script>/g) ?? []).length, 3, "data, Chart.js, client script");
  });
});

Deno.test("every figure has a drawn chart with the figure id, a claim box and its rows", async () => {
  await withDirs(async (dir) => {
    await writeResultDir(`${dir}/suite`, runJson({}), figureSuiteRows());
    const html = renderReport(await readResultDirs([`${dir}/suite`]));
    const models = chartModels(html);
    for (const id of FIGURE_IDS) {
      match(html, new RegExp(`<canvas id="${id}" data-figure="${id}"`));
      ok(models.some((m) => m.canvasId === id && m.series.length > 0), `${id} has series`);
      const verdict = id === "fig-scale"
        ? `model" data-figure="${id}" data-holds="model`
        : `holds" data-figure="${id}" data-holds="true`;
      match(html, new RegExp(`class="claim ${verdict}"`));
      match(html, new RegExp(`id="section-${id}"`));
    }
    ok(!html.includes("Not measured in this run"));
    // Bands and ideal lines are in the data: two repeats, and the delay figure's ideal.
    const delay = models.find((m) => m.canvasId === "fig-delay") as unknown as {
      series: {
        label: string;
        dashed: boolean;
        points: { n: number; min: number; max: number }[];
      }[];
    };
    ok(delay.series.some((s) => s.dashed && s.label.endsWith("— ideal")));
    ok(delay.series.some((s) => !s.dashed && s.points.some((p) => p.n === 2 && p.max > p.min)));
    // Each point carries its speedup over sync and the range over repeats, for the tooltip.
    const lag = models.find((m) => m.canvasId === "fig-lag") as unknown as {
      series: {
        dashed: boolean;
        points: { x: number; speedup?: { median: number; lo: number; hi: number } }[];
      }[];
    };
    const points = lag.series.find((s) => !s.dashed)!.points;
    const lag4 = points.find((p) => p.x === 4)!.speedup!;
    ok(Math.abs(lag4.median - 1.8) < 1e-3, `lag 4 at ${lag4.median}x sync`);
    ok(lag4.lo <= lag4.median && lag4.median <= lag4.hi);
    equal(points.find((p) => p.x === 0)!.speedup, undefined);
    const balanced = models.find((m) => m.canvasId === "fig-balanced") as unknown as {
      x: { scale: string; format: string };
      y: { scale: string };
    };
    equal(balanced.x.scale, "log");
    equal(balanced.x.format, "bytes");
    equal(balanced.y.scale, "log");
  });
});

Deno.test("a plain bench run: a report of its own sweep, without the paper's figures and claims", async () => {
  await withDirs(async (dir) => {
    await writeResultDir(`${dir}/plain`, runJson({}), plainBenchRows());
    const html = renderReport(await readResultDirs([`${dir}/plain`]));
    match(html, /<h2>Your sweep<\/h2>/);
    match(html, /<canvas id="run-1-throughput"/);
    match(html, /<canvas id="run-1-latency"/);
    match(html, /<canvas id="run-1-tradeoff"/);
    ok(!html.includes('id="fig-balanced"'), "no paper figure for untagged rows");
    ok(!html.includes('id="fig-scale"'));
    ok(!html.includes('class="claims"'), "no claims table");
    const models = chartModels(html) as unknown as { canvasId: string }[];
    ok(models.every((m) => m.canvasId.startsWith("run-1-")), "only the run's own charts are drawn");
    // Configuration and machine tables.
    match(html, /<th>cpuModel<\/th><td>Synthetic CPU<\/td>/);
    match(html, /<th>lags<\/th><td>\[0,1,2,4\]<\/td>/);
  });
});

Deno.test("text from result files is escaped", async () => {
  await withDirs(async (dir) => {
    const rows = plainBenchRows().map((r) => ({ ...r, transport: "<img src=x onerror=alert(1)>" }));
    await writeResultDir(`${dir}/evil</script>`, runJson({ note: "</script><b>" }), rows);
    const html = renderReport(await readResultDirs([`${dir}/evil</script>`]));
    ok(!html.includes("<img src=x"));
    ok(!html.includes("</script><b>"));
    ok(html.includes("&lt;/script&gt;&lt;b&gt;"));
    ok(html.includes("&lt;img src=x onerror=alert(1)&gt;"));
  });
});

Deno.test("writeReport: default path in the first directory, several directories in one report", async () => {
  await withDirs(async (dir) => {
    await writeResultDir(`${dir}/a`, runJson({}), plainBenchRows());
    await writeResultDir(`${dir}/b`, runJson({ ranks: 2 }), plainBenchRows());
    const path = await writeReport([`${dir}/a`, `${dir}/b`]);
    equal(path, `${dir}/a/report.html`);
    const html = await Deno.readTextFile(path);
    match(html, /id="run-1"/);
    match(html, /id="run-2"/);
    const out = await writeReport(`${dir}/b`, `${dir}/elsewhere.html`, {
      title: "My runs",
      generatedAt: new Date(0),
    });
    const titled = await Deno.readTextFile(out);
    match(titled, /<title>My runs<\/title>/);
    match(titled, /1970-01-01T00:00:00\.000Z/);
  });
});

Deno.test("different configurations on one chart are separate series, not a repeat band", async () => {
  await withDirs(async (dir) => {
    // Tagged with the figure, so that its chart is drawn.
    const rows = [2, 8].flatMap((ranks) =>
      plainBenchRows().map((r) => ({
        ...r,
        ranks,
        iters_per_s: Number(r.iters_per_s) / ranks,
        figure: "fig-balanced",
      }))
    );
    await writeResultDir(`${dir}/two-rank-counts`, runJson({}), rows);
    const models = chartModels(renderReport(await readResultDirs([`${dir}/two-rank-counts`])));
    const balanced = models.find((m) => m.canvasId === "fig-balanced") as unknown as {
      series: { label: string; points: { n: number }[] }[];
    };
    ok(balanced.series.some((s) => s.label === "lag 0 (sync), 2 ranks"));
    ok(balanced.series.some((s) => s.label === "lag 0 (sync), 8 ranks"));
    ok(
      balanced.series.every((s) => s.points.every((p) => p.n === 1)),
      "no band across configurations",
    );
  });
});

Deno.test("a plain DLRM run plots samples per second", async () => {
  await withDirs(async (dir) => {
    const rows = [0, 1, 2, 4].map((lag) => ({
      workload: "dlrm",
      transport: "tcp",
      ranks: 4,
      lag,
      imbalance: "none",
      delay: "none",
      delay_mode: "sleep",
      iters: 20,
      iters_per_s: 40,
      samples_per_s: 10240,
      latency_p50_us: 25000,
      latency_p99_us: 40000 + 10000 * lag,
      dataset: "mini-kaggle",
    }));
    await writeResultDir(`${dir}/dlrm`, runJson({ workload: "dlrm" }), rows);
    const html = renderReport(await readResultDirs([`${dir}/dlrm`]));
    const models = chartModels(html) as unknown as { canvasId: string; y: { title: string } }[];
    equal(models.find((m) => m.canvasId === "run-1-throughput")?.y.title, "throughput (samples/s)");
    equal(models.find((m) => m.canvasId === "run-1-tradeoff")?.y.title, "throughput (samples/s)");
    ok(!html.includes('id="fig-dlrm-balanced"'), "untagged rows make no paper figure");
  });
});

Deno.test("a run with advice.json gets the advice chart (one line per rank count, the budget dashed); a malformed one is an error", async () => {
  await withDirs(async (dir) => {
    await writeResultDir(`${dir}/plain`, runJson({}), plainBenchRows());
    const predictions = [0, 2, 4].map((lag) => ({
      lag,
      itersPerS: 200 + 50 * lag,
      speedup: 1 + lag / 4,
      latencyP50Ms: 2 + 4 * lag,
      latencyP99Ms: 10 + 6 * lag,
      fits: lag < 4,
    }));
    await Deno.writeTextFile(
      `${dir}/plain/advice.json`,
      JSON.stringify({
        latencyBudgetMs: 25,
        advice: [2, 8].map((ranks) => ({ ranks, lag: 2, reason: "r", predictions })),
      }),
    );
    await writeReport(`${dir}/plain`);
    const html = await Deno.readTextFile(`${dir}/plain/report.html`);
    const models = chartModels(html) as unknown as {
      canvasId: string;
      series: { label: string; dashed: boolean; points: { x: number; y: number }[] }[];
    }[];
    const advice = models.find((m) => m.canvasId === "run-1-advice");
    ok(advice, "the advice chart");
    equal(advice.series.length, 3);
    equal(advice.series[0].label, "2 ranks (advised: lag 2)");
    const budget = advice.series[2];
    ok(budget.dashed && budget.points.every((p) => p.x === 25), "the budget line at 25 ms");
    await Deno.writeTextFile(`${dir}/plain/advice.json`, "{not json");
    let failed = "";
    try {
      await writeReport(`${dir}/plain`);
    } catch (e) {
      failed = (e as Error).message;
    }
    match(failed, /Malformed .*advice\.json/);
  });
});
