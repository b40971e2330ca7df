/**
 * Getting a rank ready for DLRM inference: the data (a real file, or a
 * generated one cached by kind, rows and seed), the architecture, this rank's
 * share of the weights, and the table sharding. Shared by `bench --workload dlrm`
 * and `predict`.
 *
 * @module
 */

import { ensureGeneratedData, type GeneratedKind } from "../../datasets/generate.ts";
import type { DataFormat } from "../../datasets/load.ts";
import { openStreamedDataset, type StreamedDataset } from "../../datasets/stream.ts";
import type { Dataset } from "../../datasets/types.ts";
import { NpzReader } from "../../datasets/npz.ts";
import { architecture, type ArchitectureName, type DlrmConfig } from "../../dlrm/config.ts";
import { loadKernels } from "../../dlrm/kernels.ts";
import { DlrmModel } from "../../dlrm/model.ts";
import { type ShardingKind, shardTables, tableCosts } from "../../dlrm/sharding.ts";
import { parseSkew, synthesizeDataset } from "../../dlrm/synthetic.ts";
import { initWeights, loadWeights } from "../../dlrm/weights.ts";
import { UsageError } from "../../util/errors.ts";

/** The DLRM settings of a run (plain data, the same on every rank). */
export interface DlrmSettings {
  /** `mini-kaggle`, `ali-ccp` or `synthetic`. */
  dataset: "mini-kaggle" | "ali-ccp" | "synthetic";
  /** A real data file; without it a generated file of the dataset's format is used. */
  data?: string;
  /** Ali-CCP raw: the common-features file. */
  common?: string;
  /** The data file's format, when its extension does not say. */
  dataFormat?: DataFormat;
  /** Built-in architecture (default: the dataset's own). */
  model?: ArchitectureName;
  /** Weights `.npz` (default: the reference initialisation from the seed). */
  weights?: string;
  /** Global batch size. */
  batchSize: number;
  /** Cap every table at N rows. */
  maxIndRange?: number;
  /** How tables are split across ranks. */
  sharding: ShardingKind;
  /** Synthetic data: indices per lookup per table. */
  pooling: number;
  /** Synthetic data: skew spec. */
  skew: string;
  /** Rows of generated or synthetic data. */
  rows: number;
  /** Fail on malformed input lines. */
  strict: boolean;
  /** Where generated data is cached. */
  cacheDir: string;
}

/** A rank ready to run inference. */
export interface PreparedDlrm {
  /**
   * The data (the same on every rank): a file is read in chunks as the batches
   * need them; synthetic data is made in memory.
   */
  dataset: Dataset | StreamedDataset;
  /** The model holding this rank's tables. */
  model: DlrmModel;
  /** The tables of every rank. */
  shards: number[][];
}

const GENERATED: Record<string, GeneratedKind> = {
  "mini-kaggle": "mini-kaggle",
  "ali-ccp": "ali-ccp-csv",
};

/**
 * The data file a run reads: the user's, or a generated one from the cache.
 * Call it on one rank first when several share a cache, so only one generates.
 *
 * @param s The settings.
 * @param seed The run's seed.
 * @returns The path, or undefined for synthetic data (made in memory).
 */
export async function dataPath(s: DlrmSettings, seed: number): Promise<string | undefined> {
  if (s.data) return s.data;
  const kind = GENERATED[s.dataset];
  if (!kind) return undefined;
  return await ensureGeneratedData(kind, s.rows, seed, s.cacheDir);
}

/**
 * The rows of each embedding table of a weights file, from the npz headers only.
 *
 * @param path The weights `.npz`.
 * @returns Rows of `emb_l.0.weight`, `emb_l.1.weight`, ...
 * @throws UsageError when the file cannot be read.
 */
async function weightsTableRows(path: string): Promise<number[]> {
  let npz: NpzReader;
  try {
    npz = await NpzReader.open(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UsageError(`Weights file ${path} does not exist`);
    }
    throw new UsageError(`Weights file ${path} is not a readable .npz: ${(e as Error).message}`);
  }
  npz.close();
  const rows: number[] = [];
  for (let j = 0; npz.members.has(`emb_l.${j}.weight`); j++) {
    rows.push(npz.members.get(`emb_l.${j}.weight`)!.shape[0]);
  }
  return rows;
}

/**
 * Loads the data and builds the model and sharding on this rank.
 *
 * @param s The settings.
 * @param seed The run's seed (weights initialisation and synthetic data).
 * @param rank This rank.
 * @param ranks The number of ranks.
 * @returns The dataset, model and shards.
 * @throws UsageError when a file is missing or data and model do not fit.
 */
export async function prepareDlrm(
  s: DlrmSettings,
  seed: number,
  rank: number,
  ranks: number,
): Promise<PreparedDlrm> {
  const path = await dataPath(s, seed);
  let dataset: Dataset | StreamedDataset;
  let config: DlrmConfig;
  let costs: number[];
  if (path) {
    const streamed = await openStreamedDataset(path, {
      format: s.dataFormat,
      common: s.common,
      maxIndRange: s.maxIndRange,
      strict: s.strict,
      // Ids used as given must fit the weights' tables (checked line by line).
      tableRows: s.weights ? await weightsTableRows(s.weights) : undefined,
    });
    dataset = streamed;
    const shape = {
      denseNames: streamed.denseNames,
      tableSizes: streamed.tableSizes,
      sparse: streamed.sparseNames.map((name) => ({
        name,
        offsets: new Int32Array(1),
        indices: new Int32Array(0),
      })),
    };
    config = architecture(s.model ?? (s.dataset === "ali-ccp" ? "aliccp" : "kaggle"), {
      maxIndRange: s.maxIndRange,
      dataset: shape,
    });
    costs = streamed.meanPerRow.map((m) => m + 1);
  } else {
    config = architecture(s.model ?? "kaggle", { maxIndRange: s.maxIndRange ?? 100_000 });
    dataset = synthesizeDataset({
      config,
      rows: s.rows,
      seed,
      pooling: s.pooling,
      skew: parseSkew(s.skew),
      ranks,
      blockRows: s.batchSize,
    });
    costs = tableCosts(dataset);
  }
  const shards = shardTables(s.sharding, config.tableSizes.length, ranks, costs);
  const tables = shards[rank];
  const weights = s.weights
    ? await loadWeights(s.weights, { tables })
    : initWeights(config, seed, { tables });
  if (s.weights) {
    // The file's architecture must fit the data.
    const want = config.tableSizes.length;
    if (weights.config.tableSizes.length !== want) {
      throw new UsageError(
        `Weights file ${s.weights} has ${weights.config.tableSizes.length} tables but the data has ${want} sparse features`,
      );
    }
  }
  return { dataset, model: new DlrmModel(weights, loadKernels()), shards };
}
