/**
 * The `report` command: rebuilds `report.html` from one or more result
 * directories.
 *
 * @example Rebuild the report of two runs into one file
 * ```sh
 * deno task report results/fig-suite results/simulate --out results/report.html
 * ```
 *
 * @module
 */

import { Command, type CommandUnknownOpts } from "@commander-js/extra-typings";
import { examples } from "./_common.ts";
import { writeReport } from "../bench/report/report.ts";

/**
 * Builds the `report` command.
 *
 * @example Build the command
 * ```ts
 * import { reportCommand } from "./report.ts";
 * import { equal } from "node:assert/strict";
 * equal(reportCommand().name(), "report");
 * ```
 *
 * @returns The command.
 */
export function reportCommand(): CommandUnknownOpts {
  return new Command("report")
    .description(
      "rebuild the self-contained HTML report (report.html) from result directories",
    )
    .addHelpText(
      "after",
      examples(
        "deno task report results/latest",
        "deno task report results/fig-suite results/simulate --out results/report.html",
      ),
    )
    .argument("<dir...>", "result directories (each with run.json and summary.csv)")
    .option("--out <file>", "where to write the report (default: report.html in the first dir)")
    // Usage errors must reach cli.ts's handler (exit 2) rather than exit here with 1.
    .exitOverride()
    .action(async (dirs, options) => {
      const path = await writeReport(dirs, options.out);
      console.log(`wrote ${path}`);
    });
}
