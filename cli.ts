/**
 * The blsbench command line: `bench`, `figures`, `report`, `predict`, `data`,
 * `simulate`, `advise`.
 *
 * @example Run a benchmark
 * ```sh
 * deno run -A cli.ts bench --workload alltoallv --ranks 2 --validate
 * ```
 *
 * @module
 */

import { Command, CommanderError, type CommandUnknownOpts } from "@commander-js/extra-typings";
import { debugEnabled, reportError, styleHelp } from "./cli/_common.ts";
import { VERSION } from "./bench/results/write.ts";
import { benchCommand } from "./cli/bench.ts";
import { figuresCommand } from "./cli/figures.ts";
import { reportCommand } from "./cli/report.ts";
import { predictCommand } from "./cli/predict.ts";
import { dataCommand } from "./cli/data.ts";
import { simulateCommand } from "./cli/simulate.ts";
import { adviseCommand } from "./cli/advise.ts";

/**
 * Builds the command tree. Tests call this with `exitOverride()`.
 *
 * @returns The root command.
 */
export function buildCli(): CommandUnknownOpts {
  const program = new Command("blsbench")
    .description("benchmark synchronous and bounded-lag-synchronous alltoallv collectives")
    .version(VERSION)
    .option("--debug", "print stack traces on errors")
    .showHelpAfterError(false);
  program.addCommand(benchCommand());
  program.addCommand(figuresCommand());
  program.addCommand(reportCommand());
  program.addCommand(predictCommand());
  program.addCommand(dataCommand());
  program.addCommand(simulateCommand());
  program.addCommand(adviseCommand());
  styleHelp(program);
  return program;
}

/**
 * Runs the command line with the given arguments and returns the exit code.
 *
 * @param args The arguments after the program name.
 * @returns The process exit code.
 */
export async function main(args: string[]): Promise<number> {
  const program = buildCli();
  const configure = (cmd: CommandUnknownOpts) => {
    cmd.exitOverride();
    cmd.configureOutput({
      writeErr: (s) => {
        // Commander's own usage errors come through here: keep them to one `error:` line.
        const line = s.trim().split("\n")[0].replace(/^error:\s*/, "");
        if (line) console.error(`error: ${line}`);
      },
    });
    for (const sub of cmd.commands) configure(sub);
  };
  configure(program);
  try {
    await program.parseAsync(args, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version") return 0;
      if (e.code === "commander.help") return 0;
      return 2;
    }
    return reportError(e, debugEnabled(args));
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
