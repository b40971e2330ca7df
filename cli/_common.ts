/**
 * Shared pieces of the command line: option parsers that turn bad values into
 * usage errors, and the top-level error handler.
 *
 * @module
 */

import {
  type Command,
  type CommandUnknownOpts,
  InvalidArgumentError,
  type Option,
  type OptionValues,
} from "@commander-js/extra-typings";
import { parseAddress } from "../transports/environment.ts";
import { RunError, UsageError } from "../util/errors.ts";

/**
 * Parses a whole number option value; throws `InvalidArgumentError` otherwise.
 *
 * @param min The smallest allowed value.
 * @returns A commander argument parser.
 */
export function intOption(min = 0): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
      throw new InvalidArgumentError(`expected a whole number, got '${value}'`);
    }
    if (n < min) throw new InvalidArgumentError(`expected a number >= ${min}, got ${n}`);
    return n;
  };
}

/**
 * Parses a positive number (integer or decimal).
 *
 * @returns A commander argument parser.
 */
export function numberOption(): (value: string) => number {
  return (value: string) => {
    const n = Number(value);
    if (value.trim() === "" || !Number.isFinite(n) || n < 0) {
      throw new InvalidArgumentError(`expected a non-negative number, got '${value}'`);
    }
    return n;
  };
}

/**
 * Parses a comma-separated list of whole numbers, e.g. `0,1,2,4`.
 *
 * @param min The smallest allowed element.
 * @returns A commander argument parser.
 */
export function intListOption(min = 0): (value: string) => number[] {
  const one = intOption(min);
  return (value: string) => {
    const parts = value.split(",").map((s) => s.trim());
    if (parts.some((p) => p === "")) {
      throw new InvalidArgumentError(`expected a comma-separated list of numbers, got '${value}'`);
    }
    return parts.map((p) => one(p));
  };
}

/**
 * Wraps a parser that throws `UsageError`/`SyntaxError`/`RangeError` so commander
 * reports it as an invalid argument.
 *
 * @param parse The parser.
 * @returns A commander argument parser.
 */
export function specOption<T>(parse: (value: string) => T): (value: string) => T {
  return (value: string) => {
    try {
      return parse(value);
    } catch (e) {
      if (e instanceof InvalidArgumentError) throw e;
      throw new InvalidArgumentError((e as Error).message);
    }
  };
}

/**
 * An option's help text: its description, then in one parenthesis whether it is
 * required, its choices and its default (lists comma-separated, as typed).
 * Off-by-default switches show no default.
 *
 * @param option The option.
 * @returns The text.
 */
export function describeOption(option: Option): string {
  const extra: string[] = [];
  if (option.mandatory) extra.push("required");
  if (option.argChoices) extra.push(`choices: ${option.argChoices.join(", ")}`);
  const value = option.defaultValue;
  if (option.defaultValueDescription !== undefined) {
    extra.push(`default: ${option.defaultValueDescription}`);
  } else if (value !== undefined && typeof value !== "boolean") {
    extra.push(`default: ${Array.isArray(value) ? value.join(",") : String(value)}`);
  }
  return extra.length ? `${option.description} (${extra.join(", ")})` : option.description;
}

/**
 * Gives a command and all its sub-commands the suite's help style (see
 * {@link describeOption}).
 *
 * @param cmd The command.
 */
export function styleHelp(cmd: CommandUnknownOpts): void {
  cmd.configureHelp({ optionDescription: describeOption });
  for (const sub of cmd.commands) styleHelp(sub);
}

/**
 * Names the default of an option whose value is worked out later (from other
 * flags or the environment), for its help text.
 *
 * @param option The option.
 * @param text What the default is.
 * @returns The same option.
 */
export function defaultText<O extends Option>(option: O, text: string): O {
  option.defaultValueDescription = text;
  return option;
}

/**
 * The "Examples:" block shown after a command's help.
 *
 * @param lines Command lines, each optionally followed by `  # what it does`.
 * @returns The text for `addHelpText("after", ...)`.
 */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`;
}

/**
 * Adds the flags of a rank started by hand or by another launcher (`bench` and
 * `predict`): `--bind`, `--master`, `--rank`, `--world-size`.
 *
 * @param cmd The command.
 * @returns The command, its option types extended.
 */
export function addRankOptions<Args extends unknown[], Opts extends OptionValues>(
  cmd: Command<Args, Opts>,
) {
  return cmd
    .option("--bind <addr>", "address this rank listens on (default: 127.0.0.1)")
    .option(
      "--master <host:port>",
      "rendezvous address (default: MASTER_ADDR:MASTER_PORT)",
      specOption(parseAddress),
    )
    .option(
      "--rank <n>",
      "this rank, with --launcher none (default: from the environment)",
      intOption(0),
    )
    .option(
      "--world-size <n>",
      "number of ranks, with --launcher none (default: from the environment, else --ranks)",
      intOption(1),
    );
}

/** Whether `--debug` was given anywhere on the command line. */
export function debugEnabled(args: string[] = Deno.args): boolean {
  return args.includes("--debug") || Deno.env.get("BLSBENCH_DEBUG") === "1";
}

/**
 * Turns an error into the exit code of the contract and prints one `error:` line.
 * Usage errors exit 2, everything else exits 1.
 *
 * @param error What was thrown.
 * @param debug Print the stack trace too.
 * @returns The exit code.
 */
export function reportError(error: unknown, debug = debugEnabled()): number {
  const carried = (error as { exitCode?: unknown } | null)?.exitCode;
  const code = typeof carried === "number"
    ? carried
    : error instanceof UsageError
    ? 2
    : error instanceof RunError
    ? 1
    : exitCodeOf(error);
  const message = error instanceof Error ? error.message : String(error);
  console.error(`error: ${message.split("\n")[0]}`);
  if (debug && error instanceof Error && error.stack) console.error(error.stack);
  return code;
}

function exitCodeOf(error: unknown): number {
  if (error instanceof Deno.errors.NotFound) return 2;
  if (error instanceof SyntaxError) return 2;
  return 1;
}
