/**
 * The DLRM options of `bench` and `predict` (data, model, weights, batches,
 * sharding, synthetic data) and their check into the workload's settings.
 *
 * @module
 */

import {
  Command,
  InvalidArgumentError,
  Option,
  type OptionValues,
} from "@commander-js/extra-typings";
import { DATA_FORMATS, detectFormat } from "../datasets/load.ts";
import { ARCHITECTURE_NAMES } from "../dlrm/config.ts";
import { SHARDING_KINDS } from "../dlrm/sharding.ts";
import { parseSkew } from "../dlrm/synthetic.ts";
import { UsageError } from "../util/errors.ts";
import { defaultText } from "./_common.ts";
import type { DlrmSettings } from "../bench/workloads/dlrm_setup.ts";

/** The global batch size without `--batch-size`. */
export const DEFAULT_BATCH_SIZE = 2048;
/** Rows of generated or synthetic data without `--rows`. */
export const DEFAULT_ROWS = 32_768;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1) {
    throw new InvalidArgumentError(`expected a whole number >= 1, got '${value}'`);
  }
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError(`expected a number > 0, got '${value}'`);
  }
  return n;
}

/**
 * Adds the model flags shared by `bench` and `predict` (the data and weights
 * flags differ: `predict` requires them).
 *
 * @param cmd The command.
 * @returns The command, its option types extended.
 */
export function addDlrmOptions<Args extends unknown[], Opts extends OptionValues>(
  cmd: Command<Args, Opts>,
) {
  return cmd
    .option("--common <path>", "Ali-CCP raw: the common-features file")
    .addOption(
      defaultText(new Option("--data-format <format>", "the data file's format"), "from its name")
        .choices(DATA_FORMATS),
    )
    .addOption(
      defaultText(new Option("--model <name>", "built-in architecture"), "the dataset's own")
        .choices(ARCHITECTURE_NAMES),
    )
    .addOption(
      new Option("--batch-size <n>", `global batch size (default: ${DEFAULT_BATCH_SIZE})`)
        .argParser(positiveInt),
    )
    .option(
      "--max-ind-range <n>",
      "cap every table at N rows, values taken mod N (default: no cap)",
      positiveInt,
    )
    .addOption(
      new Option("--sharding <kind>", "how tables are split across ranks")
        .choices(SHARDING_KINDS).default("contiguous" as const),
    );
}

/**
 * Adds the data flags of `bench`: an optional data file or generated data of a
 * dataset's format, and the synthetic-data flags.
 *
 * @param cmd The command.
 * @returns The command, its option types extended.
 */
export function addDlrmDataOptions<Args extends unknown[], Opts extends OptionValues>(
  cmd: Command<Args, Opts>,
) {
  return cmd
    .option(
      "--data <path>",
      "a data file: Criteo TSV, DLRM .npz, Ali-CCP CSV or raw skeleton (default: generated)",
    )
    .option(
      "--weights <file.npz>",
      "weights with PyTorch DLRM state_dict names (default: initialised from the seed)",
    )
    .addOption(
      defaultText(
        new Option("--dataset <name>", "dataset; without --data a generated file of its format"),
        "mini-kaggle",
      ).choices(["mini-kaggle", "ali-ccp", "synthetic"] as const),
    )
    .option(
      "--pooling <f>",
      "synthetic data: indices per lookup per table (default: 1)",
      positiveNumber,
    )
    .option(
      "--skew <spec>",
      "synthetic data: none | tables:R:X | zipf:S | burst:P:X, see docs (default: none)",
    )
    .option(
      "--rows <n>",
      `rows of generated or synthetic data (default: ${DEFAULT_ROWS})`,
      positiveInt,
    );
}

function probe() {
  return addDlrmDataOptions(addDlrmOptions(new Command()));
}

/** The DLRM flags as commander parsed them (`predict` has no synthetic-data flags). */
export type DlrmFlags =
  & Omit<ReturnType<ReturnType<typeof probe>["opts"]>, "dataset" | "pooling" | "skew" | "rows">
  & Partial<
    Pick<ReturnType<ReturnType<typeof probe>["opts"]>, "dataset" | "pooling" | "skew" | "rows">
  >;

function exists(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/**
 * Checks the DLRM flags and turns them into settings.
 *
 * @param flags The parsed flags.
 * @param out The results directory (generated data is cached beside it).
 * @param strict Fail on malformed input lines.
 * @returns The settings.
 * @throws UsageError naming the flag or file.
 */
export function dlrmSettingsFromFlags(
  flags: DlrmFlags,
  out: string,
  strict: boolean,
): DlrmSettings {
  for (
    const [flag, path] of [["--data", flags.data], ["--weights", flags.weights], [
      "--common",
      flags.common,
    ]] as const
  ) {
    if (path !== undefined && !exists(path)) {
      throw new UsageError(`Option '${flag}': file ${path} does not exist`);
    }
  }
  const skew = flags.skew ?? "none";
  try {
    parseSkew(skew);
  } catch (e) {
    throw new UsageError(`Option '--skew': ${(e as Error).message}`);
  }
  const dataset = flags.dataset ?? "mini-kaggle";
  if (dataset !== "synthetic" && (flags.skew !== undefined || flags.pooling !== undefined)) {
    throw new UsageError("Options '--pooling' and '--skew' apply to '--dataset synthetic'");
  }
  if (
    flags.data !== undefined &&
    (flags.dataFormat ?? detectFormat(flags.data, flags.common)) === "aliccp-raw"
  ) {
    // Refused before any file is read: the raw form carries no dense feature.
    throw new UsageError(
      `${flags.data} is Ali-CCP raw data, which has no dense features for DLRM's bottom MLP: ` +
        "use the Ali-CCP CSV form (data generate --kind ali-ccp-csv), or read it with 'data inspect'",
    );
  }
  const parent = out.replace(/\/+$/, "").split("/").slice(0, -1).join("/") || ".";
  return {
    dataset,
    data: flags.data,
    common: flags.common,
    dataFormat: flags.dataFormat,
    model: flags.model,
    weights: flags.weights,
    batchSize: flags.batchSize ?? DEFAULT_BATCH_SIZE,
    maxIndRange: flags.maxIndRange,
    sharding: flags.sharding,
    pooling: flags.pooling ?? 1,
    skew,
    rows: flags.rows ?? DEFAULT_ROWS,
    strict,
    cacheDir: `${parent}/cache`,
  };
}
