/**
 * The `data` command: `generate`, `convert` and `inspect` data files.
 *
 * @example Generate, convert and inspect
 * ```sh
 * deno run -A cli.ts data generate --kind mini-kaggle --rows 1000 --out mk.txt
 * deno run -A cli.ts data convert --input mk.txt --output mk.npz
 * deno run -A cli.ts data inspect mk.txt --json
 * ```
 *
 * @module
 */

import {
  Command,
  type CommandUnknownOpts,
  InvalidArgumentError,
} from "@commander-js/extra-typings";
import { UsageError } from "../util/errors.ts";
import { examples, intOption } from "./_common.ts";
import { GENERATED_KINDS, generateData, type GeneratedKind } from "../datasets/generate.ts";
import { convertCriteoToNpz } from "../datasets/dlrm_npz.ts";
import { DATA_FORMATS, type DataFormat, detectFormat } from "../datasets/load.ts";
import { formatInspectReport, inspectFile } from "../datasets/inspect.ts";
import { stderrReporter } from "../datasets/malformed.ts";

function choice<T extends string>(allowed: readonly T[]): (value: string) => T {
  return (value: string) => {
    if (!(allowed as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`expected one of ${allowed.join(", ")}, got '${value}'`);
    }
    return value as T;
  };
}

function maxIndRangeOption(value: string): number {
  const n = intOption(1)(value);
  if (n > 2 ** 31) throw new InvalidArgumentError(`expected at most 2147483648, got ${n}`);
  return n;
}

function reportSkipped(count: number): void {
  if (count > 0) console.error(`${count} malformed line${count === 1 ? "" : "s"} skipped`);
}

async function checkOutputFolder(path: string, flag: string): Promise<void> {
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
  try {
    if (!(await Deno.stat(dir)).isDirectory) throw new Error();
  } catch {
    throw new UsageError(`${flag} ${path}: folder ${dir} does not exist`);
  }
}

function generateCommand() {
  return new Command("generate")
    .description("write a seeded synthetic data file in a real dataset's format")
    .requiredOption(
      "--kind <kind>",
      `what to generate: ${GENERATED_KINDS.join("|")}`,
      choice(GENERATED_KINDS),
    )
    .requiredOption("--rows <n>", "number of rows", intOption(1))
    .option("--seed <s>", "random seed", intOption(0), 1)
    .requiredOption(
      "--out <path>",
      "output file (ali-ccp-raw: the skeleton; common features beside it)",
    )
    .option("--strict", "accepted for symmetry; generated files are always well formed")
    .addHelpText(
      "after",
      examples(
        "deno task data generate --kind mini-kaggle --rows 100000 --out mk.txt",
        "deno task data generate --kind ali-ccp-raw --rows 5000 --seed 7 --out skeleton.csv",
        "deno task data generate --kind ali-ccp-csv --rows 5000 --out ali.csv",
      ),
    )
    .action(async (options) => {
      await checkOutputFolder(options.out, "--out");
      const files = await generateData(
        options.kind as GeneratedKind,
        options.rows,
        options.seed,
        options.out,
      );
      for (const file of files) console.log(file);
    });
}

function convertCommand() {
  return new Command("convert")
    .description("convert a Criteo / Mini-Kaggle TSV file into DLRM's processed .npz")
    .requiredOption("--input <file>", "raw Criteo TSV file (label, I1..I13, C1..C26)")
    .requiredOption("--output <file>", "processed .npz (X_int, X_cat, y, counts)")
    .option("--format <format>", "input format (only criteo converts)", choice(DATA_FORMATS))
    .option(
      "--max-ind-range <n>",
      "take categorical values mod N instead of dictionaries",
      maxIndRangeOption,
    )
    .option("--compress", "deflate the arrays (numpy.savez_compressed, as DLRM writes)")
    .option("--strict", "fail on the first malformed line instead of skipping it")
    .addHelpText(
      "after",
      examples(
        "deno task data convert --input mk.txt --output mk.npz",
        "deno task data convert --input train.txt --output train.npz --max-ind-range 10000000 --compress",
      ),
    )
    .action(async (options) => {
      const format = (options.format as DataFormat | undefined) ?? detectFormat(options.input);
      if (format !== "criteo") {
        throw new UsageError(
          `--input ${options.input}: only Criteo TSV files convert (got ${format})`,
        );
      }
      await checkOutputFolder(options.output, "--output");
      const started = performance.now();
      const result = await convertCriteoToNpz(options.input, options.output, {
        maxIndRange: options.maxIndRange,
        compress: options.compress ?? false,
        strict: options.strict ?? false,
        onMalformed: stderrReporter(5),
      });
      const seconds = (performance.now() - started) / 1000;
      reportSkipped(result.skipped);
      console.log(
        `${options.output}: ${result.rows} rows, ${result.skipped} skipped, ` +
          `${(result.bytes / 1e6).toFixed(1)} MB in ${seconds.toFixed(2)} s ` +
          `(${(result.bytes / 1e6 / seconds).toFixed(1)} MB/s)`,
      );
    });
}

function inspectCommand() {
  return new Command("inspect")
    .description("rows, labels and per-feature statistics of a data file")
    .argument("<file>", "data file (.txt/.tsv Criteo, .npz DLRM processed, .csv Ali-CCP)")
    .option("--common <file>", "Ali-CCP raw: the common-features file")
    .option("--format <format>", `file format: ${DATA_FORMATS.join("|")}`, choice(DATA_FORMATS))
    .option("--json", "print JSON (schema in docs/datasets.md) instead of tables")
    .option("--strict", "fail on the first malformed line instead of skipping it")
    .addHelpText(
      "after",
      examples(
        "deno task data inspect mk.txt",
        "deno task data inspect skeleton.csv --common skeleton.common.csv --json",
        "deno task data inspect mk.npz --strict",
      ),
    )
    .action(async (file, options) => {
      const report = await inspectFile(file, {
        format: options.format as DataFormat | undefined,
        common: options.common,
        strict: options.strict ?? false,
        onMalformed: stderrReporter(5),
      });
      reportSkipped(report.skipped);
      console.log(options.json ? JSON.stringify(report) : formatInspectReport(report));
    });
}

/**
 * Builds the `data` command.
 *
 * @returns The command.
 */
export function dataCommand(): CommandUnknownOpts {
  // Commands added with addCommand do not inherit exitOverride: set it on each, so that usage
  // errors reach the top-level handler (exit 2) instead of exiting the process with 1.
  const data = new Command("data")
    .description("generate, convert and inspect data files (Mini-Kaggle, Ali-CCP)")
    .addHelpText(
      "after",
      examples(
        "deno task data generate --kind mini-kaggle --rows 1000 --out mk.txt",
        "deno task data convert --input mk.txt --output mk.npz",
        "deno task data inspect mk.txt --json",
      ),
    )
    .exitOverride();
  for (const sub of [generateCommand(), convertCommand(), inspectCommand()]) {
    data.addCommand(sub.exitOverride());
  }
  return data;
}
