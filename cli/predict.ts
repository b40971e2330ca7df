/**
 * The `predict` command: distributed inference over real data, writing one row
 * per input row, in input order, as `row,probability`.
 *
 * @module
 */

import { Command, type CommandUnknownOpts, Option } from "@commander-js/extra-typings";
import { openComm } from "../collectives/communicator.ts";
import { prepareDlrm } from "../bench/workloads/dlrm_setup.ts";
import { launchLocal } from "../bench/run/launcher.ts";
import { mergePredictions, runInference } from "../dlrm/distributed.ts";
import { masterFromEnvironment, rankFromEnvironment } from "../transports/environment.ts";
import { startRendezvousStore } from "../transports/rendezvous.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { UsageError } from "../util/errors.ts";
import { addRankOptions, defaultText, examples, intOption, numberOption } from "./_common.ts";
import { addDlrmOptions, dlrmSettingsFromFlags } from "./_dlrm_options.ts";

function predictOptions() {
  const cmd = new Command("predict")
    .description(
      "distributed DLRM inference over a data file; writes row,probability in input order",
    )
    .requiredOption("--weights <file.npz>", "weights with PyTorch DLRM state_dict names")
    .requiredOption(
      "--data <path>",
      "a data file: Criteo TSV, DLRM .npz, Ali-CCP CSV or raw skeleton",
    )
    .requiredOption("--out <preds.csv>", "where to write the predictions")
    .option("--ranks <n>", "number of ranks", intOption(1), 1)
    .option("--lag <k>", "BLS lag bound", intOption(0), 0)
    .addOption(
      new Option("--transport <kind>", "transport").choices(["tcp", "unix", "mpi"] as const)
        .default("tcp" as const),
    )
    .addOption(
      new Option("--progress <mode>", "progress engine").choices(["thread", "inline"] as const)
        .default("inline" as const),
    )
    .option("--timeout <seconds>", "per-exchange and rendezvous timeout", numberOption(), 120)
    .option("--strict", "fail on malformed input lines", false)
    .addOption(
      defaultText(
        new Option("--launcher <kind>", "local: spawn ranks here; none: this process is one rank"),
        "none for one rank or when a rank environment is set, else local",
      ).choices(["local", "none"] as const),
    )
    .option("--debug", "print stack traces on errors");
  return addDlrmOptions(addRankOptions(cmd));
}

type PredictFlags = ReturnType<ReturnType<typeof predictOptions>["opts"]>;

/**
 * Builds the `predict` command.
 *
 * @returns The command.
 */
export function predictCommand(): CommandUnknownOpts {
  const cmd = predictOptions().addHelpText(
    "after",
    examples(
      "deno task predict --weights w.npz --data mk.txt --out preds.csv",
      "deno task predict --weights w.npz --data mk.npz --ranks 2 --lag 2 --out preds.csv",
      "deno task predict --weights w.npz --data ali.csv --model aliccp --batch-size 512 --out p.csv",
    ),
  );
  cmd.action(async (opts) => {
    await runPredict(opts);
  });
  return cmd;
}

function encodeParts(rows: Int32Array, probabilities: Float32Array): Uint8Array {
  const out = new Uint8Array(4 + rows.byteLength + probabilities.byteLength);
  new DataView(out.buffer).setUint32(0, rows.length, true);
  out.set(new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength), 4);
  out.set(
    new Uint8Array(probabilities.buffer, probabilities.byteOffset, probabilities.byteLength),
    4 + rows.byteLength,
  );
  return out;
}

function decodeParts(bytes: Uint8Array): { rows: Int32Array; probabilities: Float32Array } {
  const copy = bytes.slice();
  const n = new DataView(copy.buffer).getUint32(0, true);
  return {
    rows: new Int32Array(copy.buffer, 4, n),
    probabilities: new Float32Array(copy.buffer, 4 + 4 * n, n),
  };
}

/** The output file's lines, encoded block by block (no single string of every row). */
function predictionLines(probabilities: Float32Array): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let at = 0;
  return new ReadableStream({
    start(controller) {
      controller.enqueue(encoder.encode("row,probability\n"));
    },
    pull(controller) {
      if (at >= probabilities.length) return controller.close();
      const end = Math.min(probabilities.length, at + 65536);
      let text = "";
      for (let i = at; i < end; i++) text += `${i},${probabilities[i]}\n`;
      at = end;
      controller.enqueue(encoder.encode(text));
    },
  });
}

async function runPredict(flags: PredictFlags): Promise<void> {
  const settings = dlrmSettingsFromFlags({ ...flags, dataset: undefined }, flags.out, flags.strict);
  const identity = rankFromEnvironment();
  const size = flags.worldSize ?? identity?.size ?? flags.ranks;
  const launcher = flags.launcher ??
    (identity || flags.rank !== undefined || size === 1 ? "none" : "local");
  const command = ["predict", ...Deno.args.slice(Deno.args.indexOf("predict") + 1)];
  if (launcher === "local") {
    await launchLocal({
      ranks: size,
      args: [...command, "--ranks", String(size)],
      master: flags.master,
    });
    return;
  }
  const rank = flags.rank ?? identity?.rank ?? 0;
  if (rank >= size) throw new UsageError(`Rank ${rank} is out of range 0..${size - 1}`);
  const master = flags.master ?? masterFromEnvironment() ?? { hostname: "127.0.0.1", port: 0 };
  const token = Deno.env.get("BLSBENCH_TOKEN") ?? "single-rank";
  const hostStore = size > 1 && rank === 0 && flags.transport !== "mpi" &&
    Deno.env.get("BLSBENCH_STORE_EXTERNAL") !== "1";
  const store = hostStore ? await startRendezvousStore({ token, ...master }) : undefined;
  try {
    const { dataset, model, shards } = await prepareDlrm(settings, 1, rank, size);
    const comm = await openComm({
      kind: flags.transport,
      progress: flags.progress,
      rank,
      size,
      token,
      master,
      bind: flags.bind,
      timeoutMs: flags.timeout * 1000,
      exchangeTimeoutMs: flags.timeout * 1000,
    });
    try {
      const batches = Math.ceil(dataset.rows / settings.batchSize);
      const result = await runInference(comm.alltoallv(flags.lag, batches), model, dataset, {
        batchSize: settings.batchSize,
        shards,
      });
      // One rank keeps its own predictions: no encoded copy to gather.
      const parts = size === 1
        ? [result]
        : (await comm.gather(encodeParts(result.rows, result.probabilities))).map(decodeParts);
      if (rank === 0) {
        const probabilities = mergePredictions(parts, dataset.rows);
        await writeFileAtomic(flags.out, predictionLines(probabilities));
        const skipped = dataset.skipped ? `; ${dataset.skipped} malformed lines skipped` : "";
        console.error(`wrote ${probabilities.length} predictions to ${flags.out}${skipped}`);
      }
      await comm.barrier();
      await comm.close();
    } catch (e) {
      await comm.abort(`Rank ${rank} failed: ${(e as Error).message}`).catch(() => {});
      throw e;
    }
  } finally {
    await store?.close();
  }
}
