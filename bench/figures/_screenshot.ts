/**
 * Screenshots of a figure-suite report for the documentation: the top of the
 * page (the claims table and the first figure, the list of result directories
 * hidden) and one image per figure section, taken with playwright-core driving
 * Debian's Chromium.
 *
 * ```sh
 * deno run -A bench/_figures_screenshot.ts results/figures/report.html docs
 * ```
 *
 * writes `docs/report-screenshot.png` and `docs/figures-<id>.png`.
 *
 * @module
 */

import { chromium } from "playwright-core";
import { FIGURE_IDS } from "../paper/figures.ts";

/** Chromium's flags: headless, no sandbox (root in containers), nothing fetched. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Options of {@link screenshotReport}. */
export interface ScreenshotOptions {
  /** The Chromium binary; default `/usr/bin/chromium`. */
  executablePath?: string;
  /** Page width in CSS pixels; default 1100. */
  width?: number;
  /** Height of the top-of-page image; default 1500. */
  topHeight?: number;
}

/**
 * Opens a report from its file URL (every other request refused) and writes the
 * screenshots into a directory.
 *
 * @example Screenshots of the quick suite's report
 * ```ts ignore
 * import { screenshotReport } from "./_screenshot.ts";
 * const files = await screenshotReport("results/figures/report.html", "docs");
 * console.log(files);
 * ```
 *
 * @param reportPath The `report.html`.
 * @param outDir Where the PNG files go.
 * @param options Browser and size.
 * @returns The files written.
 * @throws Error when the page reports errors or a chart is not drawn in time.
 */
export async function screenshotReport(
  reportPath: string,
  outDir: string,
  options: ScreenshotOptions = {},
): Promise<string[]> {
  const url = new URL(`file://${await Deno.realPath(reportPath)}`).href;
  const browser = await chromium.launch({
    executablePath: options.executablePath ?? "/usr/bin/chromium",
    args: [...CHROMIUM_ARGS],
  });
  const written: string[] = [];
  try {
    const width = options.width ?? 1100;
    const page = await browser.newPage({
      viewport: { width, height: options.topHeight ?? 1500 },
      deviceScaleFactor: 1,
    });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    await page.route(
      "**/*",
      (route) => route.request().url() === url ? route.continue() : route.abort(),
    );
    await page.goto(url, { waitUntil: "load" });
    // Page-side code as strings: this module is type-checked without the DOM library.
    await page.waitForFunction("document.body.dataset.chartsDrawn !== undefined", null, {
      timeout: 30_000,
    });
    // Let Chart.js finish its animations.
    await page.waitForTimeout(1500);
    if (errors.length > 0) throw new Error(`The report has errors: ${errors.join("; ")}`);
    await Deno.mkdir(outDir, { recursive: true });
    // The top of the page: the claims table and the first figure; the long list of
    // result directories between them is hidden for this image only.
    await page.evaluate(
      `for (const e of document.querySelectorAll("#overview h3, #overview ul")) e.style.display = "none"`,
    );
    const top = `${outDir}/report-screenshot.png`;
    await page.screenshot({ path: top, fullPage: false });
    written.push(top);
    await page.evaluate(
      `for (const e of document.querySelectorAll("#overview h3, #overview ul")) e.style.display = ""`,
    );
    for (const id of FIGURE_IDS) {
      const section = page.locator(`#section-${id}`);
      if ((await section.count()) === 0) continue;
      // The figure's chart(s) and claim box, without the table of rows below.
      await page.evaluate(
        `for (const d of document.querySelectorAll("#section-${id} details")) d.style.display = "none"`,
      );
      const path = `${outDir}/figures-${id}.png`;
      await section.screenshot({ path });
      written.push(path);
    }
  } finally {
    await browser.close();
  }
  return written;
}

if (import.meta.main) {
  const [report, out] = Deno.args;
  if (!report || !out) {
    console.error("error: Usage: deno run -A bench/_figures_screenshot.ts REPORT.html OUT_DIR");
    Deno.exit(2);
  }
  for (const file of await screenshotReport(report, out)) console.log(`wrote ${file}`);
}
