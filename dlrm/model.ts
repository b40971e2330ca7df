/**
 * The DLRM forward pass on one process, exactly as the reference
 * `dlrm_s_pytorch.py`: bottom MLP with ReLU after every layer, one sum
 * EmbeddingBag per sparse feature, dot interaction without self-interaction,
 * top MLP with ReLU after every layer but the last and a sigmoid after it.
 *
 * The pieces (`lookup`, `bottom`, `top`) are public so that distributed
 * inference runs the same arithmetic on its slices.
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import type { Dataset } from "../datasets/types.ts";
import { checkDatasetFits, type DlrmConfig } from "./config.ts";
import {
  dotInteraction,
  embeddingBagSum,
  type FeatureSource,
  type Kernels,
  linear,
  type LinearLayer,
  loadKernels,
  relu,
  sigmoid,
} from "./kernels.ts";
import type { DlrmWeights } from "./weights.ts";

/** The parts of a dataset the model reads. */
export type ModelInput = Pick<Dataset, "rows" | "dense" | "denseNames" | "sparse">;

function indexError(
  dataset: ModelInput,
  config: DlrmConfig,
  table: number,
  row: number,
  firstRow = 0,
): UsageError {
  const { offsets, indices } = dataset.sparse[table];
  const rows = config.tableSizes[table];
  let bad = -1;
  for (let p = offsets[row]; p < offsets[row + 1]; p++) {
    if (!(indices[p] >= 0 && indices[p] < rows)) {
      bad = indices[p];
      break;
    }
  }
  return new UsageError(
    `Row ${firstRow + row}: index ${bad} of sparse feature '${
      dataset.sparse[table].name
    }' is beyond table ${table} (${rows} rows)`,
  );
}

/**
 * Checks every index of a dataset against the model's table sizes, so that a
 * distributed run fails on every rank before it starts.
 *
 * @example An index beyond its table
 * ```ts
 * import { architecture } from "@blsbench/core/dlrm";
 * import { checkIndices } from "@blsbench/core/dlrm";
 * const config = architecture("tiny");
 * const bag = (i: number) => ({ name: "C", offsets: new Int32Array([0, 1]), indices: new Int32Array([i]) });
 * const data = { rows: 1, dense: new Float32Array(4), denseNames: ["a", "b", "c", "d"], sparse: [bag(0), bag(0), bag(99)] };
 * let message = "";
 * try { checkIndices(data, config); } catch (e) { message = (e as Error).message; }
 * if (!message.startsWith("Row 0:")) throw new Error(message);
 * ```
 *
 * @param dataset The data.
 * @param config The model's configuration.
 * @param firstRow The number of the data's first row in the whole dataset (for a chunk).
 * @throws UsageError naming the first row (0-based) and table with an index out of range.
 */
export function checkIndices(dataset: ModelInput, config: DlrmConfig, firstRow = 0): void {
  checkDatasetFits(config, dataset);
  dataset.sparse.forEach((feature, t) => {
    const rows = config.tableSizes[t];
    const { indices, offsets } = feature;
    for (let p = 0; p < indices.length; p++) {
      if (!(indices[p] >= 0 && indices[p] < rows)) {
        // Find the row holding position p (offsets are non-decreasing).
        let lo = 0, hi = dataset.rows - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if (offsets[mid] <= p) lo = mid;
          else hi = mid - 1;
        }
        throw indexError(dataset, config, t, lo, firstRow);
      }
    }
  });
}

/** A DLRM ready for inference, with reusable work buffers. */
export class DlrmModel {
  /** The architecture. */
  readonly config: DlrmConfig;
  /** The parameters. */
  readonly weights: DlrmWeights;
  /** The matrix-product kernels in use. */
  readonly kernels: Kernels;
  // Slots 0 and 1: the MLPs' ping-pong buffers; slot 2: the interaction output.
  #work: Float32Array[] = [new Float32Array(0), new Float32Array(0), new Float32Array(0)];

  /**
   * Wraps weights for inference.
   *
   * @param weights The parameters (tables this process does not hold may be missing).
   * @param kernels The kernels; by default {@link loadKernels}'s choice.
   */
  constructor(weights: DlrmWeights, kernels: Kernels = loadKernels()) {
    this.config = weights.config;
    this.weights = weights;
    this.kernels = kernels;
  }

  #buffer(i: number, length: number): Float32Array {
    if (this.#work[i].length < length) this.#work[i] = new Float32Array(length);
    return this.#work[i];
  }

  /**
   * Runs layers over `rows` rows of `x`; ReLU after each layer except the last
   * when `lastRelu` is false. The result goes to `out`.
   */
  #mlp(
    layers: LinearLayer[],
    x: Float32Array,
    rows: number,
    out: Float32Array,
    lastRelu: boolean,
  ): void {
    let input = x;
    layers.forEach((layer, i) => {
      const last = i === layers.length - 1;
      const y = last ? out : this.#buffer(i % 2, rows * layer.outFeatures);
      linear(this.kernels, layer, input, rows, y);
      if (!last || lastRelu) relu(y, rows * layer.outFeatures);
      input = y;
    });
  }

  /**
   * Embedding-bag sums of some tables for dataset rows `start..start+count`.
   *
   * @example Look up all three tables of the tiny model for two rows
   * ```ts
   * import { architecture } from "./config.ts";
   * import { loadKernels } from "./kernels.ts";
   * import { DlrmModel } from "./model.ts";
   * import { synthesizeDataset } from "./synthetic.ts";
   * import { initWeights } from "./weights.ts";
   * const config = architecture("tiny");
   * const model = new DlrmModel(initWeights(config, 1), loadKernels({ backend: "typescript" }));
   * const data = synthesizeDataset({ config, rows: 2, seed: 1 });
   * const pooled = model.lookup(data, [0, 1, 2], 0, 2);
   * if (pooled.length !== 2 * 3 * 4) throw new Error("wrong size");
   * ```
   *
   * @param dataset The data.
   * @param tables Which tables, in the order they go in each output row.
   * @param start First dataset row.
   * @param count Number of rows.
   * @param out Where to write (allocated when omitted).
   * @returns Row-major [count x tables.length x d].
   * @throws UsageError naming the row and table of an index beyond its table.
   * @throws RangeError when a table is not held by this process.
   */
  lookup(
    dataset: ModelInput,
    tables: readonly number[],
    start: number,
    count: number,
    out: Float32Array = new Float32Array(count * tables.length * this.config.embeddingDim),
  ): Float32Array {
    const d = this.config.embeddingDim;
    const stride = tables.length * d;
    tables.forEach((t, position) => {
      const table = this.weights.embeddings[t];
      if (!table) throw new RangeError(`Table ${t} is not held by this process`);
      const rows = this.config.tableSizes[t];
      const bad = embeddingBagSum(
        table,
        rows,
        d,
        dataset.sparse[t],
        start,
        count,
        out,
        position * d,
        stride,
      );
      if (bad >= 0) throw indexError(dataset, this.config, t, bad);
    });
    return out;
  }

  /**
   * The bottom MLP for dataset rows `start..start+count`.
   *
   * @param dataset The data.
   * @param start First dataset row.
   * @param count Number of rows.
   * @returns A new row-major [count x d] array.
   */
  bottom(dataset: ModelInput, start: number, count: number): Float32Array {
    const n = this.config.bottomLayers[0];
    const out = new Float32Array(count * this.config.embeddingDim);
    if (count === 0) return out;
    this.#mlp(
      this.weights.bottom,
      dataset.dense.subarray(start * n, (start + count) * n),
      count,
      out,
      true,
    );
    return out;
  }

  /**
   * Interaction, top MLP and sigmoid for `rows` rows.
   *
   * @param bottomOutput The bottom MLP's output, [rows x d].
   * @param tables One source per table, in table order.
   * @param rows Number of rows.
   * @returns A new array of `rows` click probabilities.
   */
  top(bottomOutput: Float32Array, tables: readonly FeatureSource[], rows: number): Float32Array {
    const d = this.config.embeddingDim;
    const width = this.config.topLayers[0];
    const out = new Float32Array(rows);
    if (rows === 0) return out;
    const z = this.#buffer(2, rows * width);
    dotInteraction([{ data: bottomOutput, offset: 0, stride: d }, ...tables], rows, d, z);
    this.#mlp(this.weights.top, z, rows, out, false);
    sigmoid(out, rows);
    return out;
  }

  /**
   * The whole forward pass for dataset rows `start..start+count`.
   *
   * @example Predict two rows with the tiny model
   * ```ts
   * import { architecture } from "./config.ts";
   * import { loadKernels } from "./kernels.ts";
   * import { DlrmModel } from "./model.ts";
   * import { synthesizeDataset } from "./synthetic.ts";
   * import { initWeights } from "./weights.ts";
   * const config = architecture("tiny");
   * const model = new DlrmModel(initWeights(config, 1), loadKernels({ backend: "typescript" }));
   * const p = model.forward(synthesizeDataset({ config, rows: 2, seed: 1 }), 0, 2);
   * if (!p.every((x) => x > 0 && x < 1)) throw new Error("not probabilities");
   * ```
   *
   * @param dataset The data.
   * @param start First dataset row.
   * @param count Number of rows.
   * @returns A new array of `count` click probabilities.
   * @throws UsageError when the data does not fit the model or an index is beyond its table.
   */
  forward(dataset: ModelInput, start: number, count: number): Float32Array {
    checkDatasetFits(this.config, dataset);
    if (start < 0 || count < 0 || start + count > dataset.rows) {
      throw new RangeError(
        `Rows ${start}..${start + count} are outside the dataset's ${dataset.rows} rows`,
      );
    }
    const tables = this.config.tableSizes.map((_, t) => t);
    const d = this.config.embeddingDim;
    const pooled = this.lookup(dataset, tables, start, count);
    const bottom = this.bottom(dataset, start, count);
    const stride = tables.length * d;
    return this.top(bottom, tables.map((t) => ({ data: pooled, offset: t * d, stride })), count);
  }
}
