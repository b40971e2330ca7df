/**
 * DLRM architectures: layer widths, embedding dimension and table sizes, the
 * built-in `kaggle`, `aliccp` and `tiny` configurations, and the checks that
 * tie a configuration to a dataset.
 *
 * @module
 */

import { KAGGLE_CARDINALITIES } from "../datasets/generate.ts";
import { UsageError } from "../util/errors.ts";
import type { Dataset } from "../datasets/types.ts";

/** The shape of a DLRM: everything needed to size the weights. */
export interface DlrmConfig {
  /** Bottom MLP widths, input first: `[dense, ..., embeddingDim]`. */
  bottomLayers: number[];
  /** Top MLP widths, input first: `[interactionWidth, ..., 1]`. */
  topLayers: number[];
  /** The embedding dimension d (width of every table row and of the bottom output). */
  embeddingDim: number;
  /** Rows of each embedding table, one entry per sparse feature. */
  tableSizes: number[];
}

/** Names of the built-in architectures. */
export type ArchitectureName = "kaggle" | "aliccp" | "tiny";

/** The built-in architecture names, for command-line validation. */
export const ARCHITECTURE_NAMES: readonly ArchitectureName[] = ["kaggle", "aliccp", "tiny"];

/** Criteo Kaggle table cardinalities (C1..C26), as in the reference DLRM's `counts`. */
export const KAGGLE_TABLE_SIZES: readonly number[] = KAGGLE_CARDINALITIES;

/**
 * Ali-CCP table sizes for the 23 sparse columns of the torch-rechub style CSV
 * (101, 121, 122, 124, 125, 126, 127, 128, 129, 205, 206, 207, 210, 216, 508,
 * 509, 702, 853, 301, 109_14, 110_14, 127_14, 150_14). The columns with
 * published vocabularies use them; the others (210 and the `_14` columns) are
 * round estimates. A real data file replaces all of them with its own counts.
 */
export const ALICCP_TABLE_SIZES: readonly number[] = [
  238635,
  98,
  14,
  3,
  8,
  4,
  4,
  3,
  5,
  467298,
  6929,
  263942,
  80000,
  106399,
  5888,
  104830,
  51878,
  37148,
  4,
  100000,
  100000,
  100000,
  100000,
];

/**
 * The width of the dot interaction's output: the bottom output plus one value
 * per pair of distinct features among bottom output and tables.
 *
 * @example Kaggle's top MLP input
 * ```ts
 * import { interactionWidth } from "@blsbench/core/dlrm";
 * if (interactionWidth(16, 26) !== 367) throw new Error("expected 367");
 * ```
 *
 * @param embeddingDim The embedding dimension d.
 * @param tables The number of embedding tables.
 * @returns `d + F (F - 1) / 2` with `F = tables + 1`.
 */
export function interactionWidth(embeddingDim: number, tables: number): number {
  const features = tables + 1;
  return embeddingDim + (features * (features - 1)) / 2;
}

/** Options for {@link architecture}. */
export interface ArchitectureOptions {
  /** Cap every table at this many rows (categorical values are taken mod N by the readers). */
  maxIndRange?: number;
  /** A loaded dataset: dense width, table count and table sizes then follow the data. */
  dataset?: Pick<Dataset, "denseNames" | "sparse" | "tableSizes">;
}

/**
 * Builds a built-in architecture.
 *
 * - `kaggle`: dense 13, bottom 13-512-256-64-16, d = 16, the 26 Criteo Kaggle
 *   tables, top 367-512-256-1 (the reference DLRM's Kaggle benchmark).
 * - `aliccp`: dense 8, bottom 8-512-256-64-16, d = 16, 23 tables, top
 *   (16 + 276)-512-256-1.
 * - `tiny`: dense 4, bottom 4-8-4, d = 4, 3 tables of 10, 20 and 30 rows, top
 *   10-8-1; small enough to check by hand.
 *
 * With `dataset`, the dense width, the number of tables and their sizes come
 * from the data (a table never has fewer than one row); `maxIndRange` caps
 * every table either way.
 *
 * @example Kaggle capped at 100,000 rows per table
 * ```ts
 * import { architecture } from "@blsbench/core/dlrm";
 * const c = architecture("kaggle", { maxIndRange: 100000 });
 * if (Math.max(...c.tableSizes) !== 100000) throw new Error("not capped");
 * if (c.topLayers[0] !== 367) throw new Error("wrong interaction width");
 * ```
 *
 * @param name The architecture.
 * @param options Table cap and dataset.
 * @returns A validated configuration.
 * @throws UsageError for an unknown name or a bad cap.
 */
export function architecture(name: string, options: ArchitectureOptions = {}): DlrmConfig {
  const { maxIndRange, dataset } = options;
  if (maxIndRange !== undefined && !(Number.isInteger(maxIndRange) && maxIndRange > 0)) {
    throw new UsageError(`--max-ind-range must be a positive whole number, got ${maxIndRange}`);
  }
  let dense: number;
  let dim: number;
  let bottomHidden: number[];
  let topHidden: number[];
  let sizes: readonly number[];
  switch (name) {
    case "kaggle":
      [dense, dim, bottomHidden, topHidden, sizes] = [
        13,
        16,
        [512, 256, 64],
        [512, 256],
        KAGGLE_TABLE_SIZES,
      ];
      break;
    case "aliccp":
      [dense, dim, bottomHidden, topHidden, sizes] = [
        8,
        16,
        [512, 256, 64],
        [512, 256],
        ALICCP_TABLE_SIZES,
      ];
      break;
    case "tiny":
      [dense, dim, bottomHidden, topHidden, sizes] = [4, 4, [8], [8], [10, 20, 30]];
      break;
    default:
      throw new UsageError(
        `Unknown model '${name}': expected one of ${ARCHITECTURE_NAMES.join(", ")}`,
      );
  }
  if (dataset) {
    dense = dataset.denseNames.length;
    sizes = dataset.sparse.map((_, t) => Math.max(1, dataset.tableSizes[t] ?? 1));
  }
  const tableSizes = sizes.map((s) => (maxIndRange === undefined ? s : Math.min(s, maxIndRange)));
  const config: DlrmConfig = {
    bottomLayers: [dense, ...bottomHidden, dim],
    topLayers: [interactionWidth(dim, tableSizes.length), ...topHidden, 1],
    embeddingDim: dim,
    tableSizes,
  };
  validateConfig(config);
  return config;
}

/**
 * Checks that a configuration is a DLRM: the bottom MLP ends at the embedding
 * dimension, the top MLP starts at the interaction width and ends at one output.
 *
 * @example A valid configuration
 * ```ts
 * import { architecture, validateConfig } from "@blsbench/core/dlrm";
 * validateConfig(architecture("tiny"));
 * ```
 *
 * @param config The configuration.
 * @throws UsageError naming what does not fit.
 */
export function validateConfig(config: DlrmConfig): void {
  const { bottomLayers, topLayers, embeddingDim, tableSizes } = config;
  const positive = (n: number) => Number.isInteger(n) && n > 0;
  if (!positive(embeddingDim)) {
    throw new UsageError(`Embedding dimension ${embeddingDim} is invalid`);
  }
  if (bottomLayers.length < 2 || !bottomLayers.every(positive)) {
    throw new UsageError(`Bottom MLP widths ${bottomLayers.join("-")} are invalid`);
  }
  if (bottomLayers[bottomLayers.length - 1] !== embeddingDim) {
    throw new UsageError(
      `Bottom MLP ends at ${
        bottomLayers[bottomLayers.length - 1]
      } but the embedding dimension is ${embeddingDim}`,
    );
  }
  if (tableSizes.length === 0 || !tableSizes.every(positive)) {
    throw new UsageError(`Table sizes must be positive whole numbers`);
  }
  const width = interactionWidth(embeddingDim, tableSizes.length);
  if (topLayers.length < 2 || !topLayers.every(positive) || topLayers[0] !== width) {
    throw new UsageError(
      `Top MLP widths ${topLayers.join("-")} do not start at the interaction width ${width}`,
    );
  }
  if (topLayers[topLayers.length - 1] !== 1) {
    throw new UsageError(
      `Top MLP must end with one output, not ${topLayers[topLayers.length - 1]}`,
    );
  }
}

/**
 * Checks that a dataset fits a model: same dense width, same number of tables.
 * Indices are checked as they are looked up (see `checkIndices` in `model.ts`).
 *
 * @example A dataset of the right shape
 * ```ts
 * import { architecture, checkDatasetFits } from "@blsbench/core/dlrm";
 * const config = architecture("tiny");
 * checkDatasetFits(config, {
 *   denseNames: ["a", "b", "c", "d"],
 *   sparse: [0, 1, 2].map((t) => ({ name: `C${t}`, offsets: new Int32Array(1), indices: new Int32Array(0) })),
 * });
 * ```
 *
 * @param config The model's configuration.
 * @param dataset The dataset.
 * @throws UsageError naming the mismatch.
 */
export function checkDatasetFits(
  config: DlrmConfig,
  dataset: Pick<Dataset, "denseNames" | "sparse">,
): void {
  if (dataset.denseNames.length !== config.bottomLayers[0]) {
    throw new UsageError(
      `The data has ${dataset.denseNames.length} dense features but the model expects ${
        config.bottomLayers[0]
      }`,
    );
  }
  if (dataset.sparse.length !== config.tableSizes.length) {
    throw new UsageError(
      `The data has ${dataset.sparse.length} sparse features but the model has ${config.tableSizes.length} tables`,
    );
  }
}
