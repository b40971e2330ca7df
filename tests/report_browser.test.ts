/// <reference lib="dom" />
/**
 * Opens a generated report in Debian's Chromium through playwright-core: no
 * console errors, no request leaves the file, every chart with data has drawn
 * pixels, and a screenshot is saved to `test-output/report.png`.
 */

import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { chromium } from "playwright-core";
import { exists, ignoreUnless, needs } from "./_helpers/require.ts";
import { writeReport } from "../bench/report/report.ts";
import { FIGURE_IDS } from "../bench/paper/figures.ts";
import { CHROMIUM_ARGS } from "../bench/figures/_screenshot.ts";
import {
  figureSuiteRows,
  plainBenchRows,
  runJson,
  writeResultDir,
} from "./_helpers/report_fixture.ts";

const CHROMIUM = "/usr/bin/chromium";
const HAS_CHROMIUM = exists(CHROMIUM);

Deno.test({
  name: "report.html works offline in Chromium: no errors, no network, charts drawn",
  ignore: ignoreUnless("chromium", HAS_CHROMIUM),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    needs("chromium", HAS_CHROMIUM);
    const dir = await Deno.makeTempDir({ prefix: "blsbench-report-browser-" });
    try {
      await writeResultDir(`${dir}/suite`, runJson({ command: "figures" }), figureSuiteRows());
      await writeResultDir(`${dir}/plain`, runJson({}), plainBenchRows());
      const reportPath = await writeReport([`${dir}/suite`, `${dir}/plain`], `${dir}/report.html`);
      const reportUrl = new URL(`file://${reportPath}`).href;

      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [...CHROMIUM_ARGS],
      });
      try {
        const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
        const consoleErrors: string[] = [];
        const requested: string[] = [];
        page.on("console", (message) => {
          if (message.type() === "error") consoleErrors.push(message.text());
        });
        page.on("pageerror", (error) => consoleErrors.push(String(error)));
        // Every request is seen here; anything but the report file itself is refused.
        await page.route("**/*", async (route) => {
          const url = route.request().url();
          requested.push(url);
          if (url === reportUrl) await route.continue();
          else await route.abort();
        });
        await page.goto(reportUrl, { waitUntil: "load" });
        await page.waitForFunction(() => document.body.dataset.chartsDrawn !== undefined, null, {
          timeout: 20_000,
        });

        deepStrictEqual(consoleErrors, []);
        deepStrictEqual(requested, [reportUrl]);

        const canvases = await page.evaluate(() =>
          [...document.querySelectorAll("canvas")].map((canvas) => {
            const context = canvas.getContext("2d")!;
            const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
            let painted = 0;
            for (let i = 3; i < data.length; i += 4) if (data[i] !== 0) painted++;
            return { id: canvas.id, figure: canvas.dataset.figure ?? null, painted };
          })
        );
        const drawn = await page.evaluate(() => Number(document.body.dataset.chartsDrawn));
        equal(drawn, canvases.length);
        for (const canvas of canvases) ok(canvas.painted > 1000, `canvas ${canvas.id} is blank`);
        // Every figure has data in the fixture, so each id is a drawn canvas.
        for (const id of FIGURE_IDS) {
          const tag = await page.evaluate(
            (figureId) => document.getElementById(figureId)?.tagName ?? "missing",
            id,
          );
          equal(tag, "CANVAS", `${id} should be a drawn chart`);
        }
        ok(canvases.some((c) => c.id === "run-2-throughput"), "the plain run has its own chart");
        const verdicts = await page.evaluate(() =>
          [...document.querySelectorAll(".claim")].map((el) => (el as HTMLElement).dataset.holds)
        );
        deepStrictEqual(verdicts, FIGURE_IDS.map((id) => (id === "fig-scale" ? "model" : "true")));

        await Deno.mkdir("test-output", { recursive: true });
        await page.screenshot({ path: "test-output/report.png", fullPage: true });
        ok((await Deno.stat("test-output/report.png")).size > 10_000);
        // One figure with its claim box, small enough for the README.
        await page.locator("#section-fig-delay").screenshot({
          path: "test-output/report-fig-delay.png",
        });
      } finally {
        await browser.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "a plain bench run's report is about its sweep: no paper claims, its own charts, short legends",
  ignore: ignoreUnless("chromium", HAS_CHROMIUM),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    needs("chromium", HAS_CHROMIUM);
    const dir = await Deno.makeTempDir({ prefix: "blsbench-report-browser-" });
    try {
      await writeResultDir(`${dir}/plain`, runJson({}), plainBenchRows());
      const reportPath = await writeReport(`${dir}/plain`);
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"],
      });
      try {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on("pageerror", (error) => errors.push(String(error)));
        page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
        await page.goto(new URL(`file://${reportPath}`).href);
        await page.waitForFunction(() => document.body.dataset.chartsDrawn !== undefined);
        deepStrictEqual(errors, []);
        const seen = await page.evaluate(() => ({
          figure: document.getElementById("fig-scale") !== null,
          claims: document.querySelector("table.claims") !== null,
          heading: document.querySelector("#overview h2")?.textContent ?? "",
          canvases: [...document.querySelectorAll("canvas")].map((c) => c.id),
          legends: [...document.querySelectorAll("canvas")].map((c) =>
            // deno-lint-ignore no-explicit-any
            (globalThis as any).Chart.getChart(c)?.legend?.legendItems?.length ?? 0
          ),
        }));
        equal(seen.figure, false, "no paper figure in a plain run's report");
        equal(seen.claims, false, "no claims table");
        equal(seen.heading, "Your sweep");
        ok(seen.canvases.includes("run-1-throughput"), seen.canvases.join());
        ok(seen.canvases.includes("run-1-tradeoff"), seen.canvases.join());
        ok(seen.legends.every((n) => n <= 12), `legend entries ${seen.legends}`);
      } finally {
        await browser.close();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
