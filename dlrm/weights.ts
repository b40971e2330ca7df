/**
 * DLRM weights: PyTorch `state_dict` names in an `.npz` file, the architecture
 * read from the array shapes, the reference random initialisation, and saving.
 *
 * Names (PyTorch DLRM `state_dict`): `emb_l.{j}.weight` [rows, d]; `bot_l.{2i}.weight`
 * [out, in] and `bot_l.{2i}.bias` [out]; `top_l.{2i}.weight`, `top_l.{2i}.bias`
 * (the odd module indices are the ReLUs, which have no parameters).
 *
 * @module
 */

import { UsageError } from "../util/errors.ts";
import { randomStream } from "../util/random.ts";
import type { NpyArray } from "../datasets/npy.ts";
import { NpzReader, writeNpz } from "../datasets/npz.ts";
import { type DlrmConfig, interactionWidth, validateConfig } from "./config.ts";
import type { LinearLayer } from "./kernels.ts";

/** The parameters of a DLRM. */
export interface DlrmWeights {
  /** The architecture the parameters have. */
  config: DlrmConfig;
  /**
   * One row-major [rows x d] table per sparse feature; `undefined` for tables
   * this process does not hold (a rank keeps only its own shard).
   */
  embeddings: (Float32Array | undefined)[];
  /** Bottom MLP layers, input first. */
  bottom: LinearLayer[];
  /** Top MLP layers, input first. */
  top: LinearLayer[];
}

/** Options for loading or initialising weights. */
export interface WeightsOptions {
  /** Keep only these tables (the rank's shard); all by default. */
  tables?: readonly number[];
}

const EMB = /^emb_l\.(\d+)\.weight$/;
const MLP = /^(bot|top)_l\.(\d+)\.(weight|bias)$/;

function toFloat32(name: string, array: NpyArray): Float32Array {
  if (array.data instanceof Float32Array) return array.data;
  if (array.data instanceof Float64Array) return Float32Array.from(array.data);
  throw new UsageError(
    `Weights array '${name}' has dtype ${array.dtype}; expected float32 or float64`,
  );
}

function shapeText(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

function mlpFrom(
  prefix: "bot" | "top",
  found: Map<number, { weight?: NpyArray; bias?: NpyArray }>,
): LinearLayer[] {
  const indices = [...found.keys()].sort((a, b) => a - b);
  if (indices.length === 0) throw new UsageError(`Weights have no '${prefix}_l.0.weight' array`);
  const layers: LinearLayer[] = [];
  indices.forEach((index, i) => {
    const name = `${prefix}_l.${index}`;
    if (index !== 2 * i) {
      throw new UsageError(
        `Weights array '${name}.weight' is unexpected: expected '${prefix}_l.${2 * i}.weight'`,
      );
    }
    const { weight, bias } = found.get(index)!;
    if (!weight) throw new UsageError(`Weights array '${name}.weight' is missing`);
    if (!bias) throw new UsageError(`Weights array '${name}.bias' is missing`);
    if (weight.shape.length !== 2) {
      throw new UsageError(
        `Weights array '${name}.weight' has shape ${shapeText(weight.shape)}; expected [out, in]`,
      );
    }
    const [outFeatures, inFeatures] = weight.shape;
    if (bias.shape.length !== 1 || bias.shape[0] !== outFeatures) {
      throw new UsageError(
        `Weights array '${name}.bias' has shape ${
          shapeText(bias.shape)
        }; expected [${outFeatures}]`,
      );
    }
    const previous = layers[i - 1];
    if (previous && previous.outFeatures !== inFeatures) {
      throw new UsageError(
        `Weights array '${name}.weight' has shape ${
          shapeText(weight.shape)
        }; expected ${previous.outFeatures} inputs`,
      );
    }
    layers.push({
      inFeatures,
      outFeatures,
      weight: toFloat32(`${name}.weight`, weight),
      bias: toFloat32(`${name}.bias`, bias),
    });
  });
  return layers;
}

/**
 * Builds weights from arrays named as a PyTorch DLRM `state_dict`; the
 * architecture comes from the shapes.
 *
 * @example The tiny model round trip
 * ```ts
 * import { architecture } from "@blsbench/core/dlrm";
 * import { initWeights, weightsFromArrays, weightsToArrays } from "@blsbench/core/dlrm";
 * const w = initWeights(architecture("tiny"), 1);
 * const back = weightsFromArrays(weightsToArrays(w));
 * if (back.config.tableSizes.join() !== "10,20,30") throw new Error("wrong tables");
 * ```
 *
 * @param arrays The arrays by name.
 * @param options Which tables to keep.
 * @returns The weights.
 * @throws UsageError naming the array whose name, dtype or shape does not fit.
 */
export function weightsFromArrays(
  arrays: Map<string, NpyArray> | Record<string, NpyArray>,
  options: WeightsOptions = {},
): DlrmWeights {
  const entries = arrays instanceof Map ? [...arrays] : Object.entries(arrays);
  const tables = new Map<number, [string, NpyArray]>();
  const mlps = { bot: new Map(), top: new Map() } as Record<
    "bot" | "top",
    Map<number, { weight?: NpyArray; bias?: NpyArray }>
  >;
  for (const [name, array] of entries) {
    const emb = EMB.exec(name);
    const mlp = MLP.exec(name);
    if (emb) tables.set(Number(emb[1]), [name, array]);
    else if (mlp) {
      const layers = mlps[mlp[1] as "bot" | "top"];
      const index = Number(mlp[2]);
      const layer = layers.get(index) ?? {};
      layer[mlp[3] as "weight" | "bias"] = array;
      layers.set(index, layer);
    } else {
      throw new UsageError(
        `Weights array '${name}' is not a DLRM parameter (expected emb_l.J.weight, bot_l.I.weight/bias, top_l.I.weight/bias)`,
      );
    }
  }
  if (tables.size === 0) throw new UsageError(`Weights have no 'emb_l.0.weight' array`);
  const keep = options.tables ? new Set(options.tables) : undefined;
  const embeddings: (Float32Array | undefined)[] = [];
  const tableSizes: number[] = [];
  let dim = 0;
  for (let t = 0; t < tables.size; t++) {
    const entry = tables.get(t);
    if (!entry) throw new UsageError(`Weights array 'emb_l.${t}.weight' is missing`);
    const [name, array] = entry;
    if (array.shape.length !== 2 || array.shape[0] < 1 || array.shape[1] < 1) {
      throw new UsageError(
        `Weights array '${name}' has shape ${shapeText(array.shape)}; expected [rows, d]`,
      );
    }
    if (t === 0) dim = array.shape[1];
    if (array.shape[1] !== dim) {
      throw new UsageError(
        `Weights array '${name}' has shape ${shapeText(array.shape)}; expected [rows, ${dim}]`,
      );
    }
    tableSizes.push(array.shape[0]);
    embeddings.push(!keep || keep.has(t) ? toFloat32(name, array) : undefined);
  }
  const bottom = mlpFrom("bot", mlps.bot);
  const top = mlpFrom("top", mlps.top);
  const lastBottom = bottom[bottom.length - 1];
  if (lastBottom.outFeatures !== dim) {
    throw new UsageError(
      `Weights array 'bot_l.${
        2 * (bottom.length - 1)
      }.weight' has ${lastBottom.outFeatures} outputs; expected the embedding dimension ${dim}`,
    );
  }
  const width = interactionWidth(dim, tableSizes.length);
  if (top[0].inFeatures !== width) {
    throw new UsageError(
      `Weights array 'top_l.0.weight' has ${
        top[0].inFeatures
      } inputs; expected the interaction width ${width} (${tableSizes.length} tables, d = ${dim})`,
    );
  }
  const lastTop = top[top.length - 1];
  if (lastTop.outFeatures !== 1) {
    throw new UsageError(
      `Weights array 'top_l.${
        2 * (top.length - 1)
      }.weight' has ${lastTop.outFeatures} outputs; expected 1`,
    );
  }
  const config: DlrmConfig = {
    bottomLayers: [bottom[0].inFeatures, ...bottom.map((l) => l.outFeatures)],
    topLayers: [top[0].inFeatures, ...top.map((l) => l.outFeatures)],
    embeddingDim: dim,
    tableSizes,
  };
  validateConfig(config);
  return { config, embeddings, bottom, top };
}

/**
 * Turns weights into arrays with PyTorch DLRM `state_dict` names.
 *
 * @example Names of the tiny model
 * ```ts
 * import { architecture } from "@blsbench/core/dlrm";
 * import { initWeights, weightsToArrays } from "@blsbench/core/dlrm";
 * const names = [...weightsToArrays(initWeights(architecture("tiny"), 1)).keys()];
 * if (!names.includes("top_l.2.bias")) throw new Error("missing top_l.2.bias");
 * ```
 *
 * @param weights The weights (every table must be held).
 * @returns The arrays by name.
 * @throws RangeError when a table is not held by this process.
 */
export function weightsToArrays(weights: DlrmWeights): Map<string, NpyArray> {
  const out = new Map<string, NpyArray>();
  const { embeddingDim: d, tableSizes } = weights.config;
  weights.embeddings.forEach((table, t) => {
    if (!table) throw new RangeError(`Table ${t} is not held by this process`);
    out.set(`emb_l.${t}.weight`, { dtype: "<f4", shape: [tableSizes[t], d], data: table });
  });
  for (const [prefix, layers] of [["bot", weights.bottom], ["top", weights.top]] as const) {
    layers.forEach((layer, i) => {
      const shape = [layer.outFeatures, layer.inFeatures];
      out.set(`${prefix}_l.${2 * i}.weight`, { dtype: "<f4", shape, data: layer.weight });
      out.set(`${prefix}_l.${2 * i}.bias`, {
        dtype: "<f4",
        shape: [layer.outFeatures],
        data: layer.bias,
      });
    });
  }
  return out;
}

/**
 * Loads weights from an `.npz` file (see the module description for names).
 *
 * @example Save and load
 * ```ts
 * import { architecture } from "@blsbench/core/dlrm";
 * import { initWeights, loadWeights, saveWeights } from "@blsbench/core/dlrm";
 * const path = `${await Deno.makeTempDir()}/w.npz`;
 * await saveWeights(path, initWeights(architecture("tiny"), 7));
 * const w = await loadWeights(path);
 * if (w.config.topLayers.join("-") !== "10-8-1") throw new Error("wrong top MLP");
 * ```
 *
 * @param path The file.
 * @param options Which tables to keep.
 * @returns The weights.
 * @throws UsageError naming the file and the array that does not fit.
 */
export async function loadWeights(
  path: string,
  options: WeightsOptions = {},
): Promise<DlrmWeights> {
  const arrays = new Map<string, NpyArray>();
  try {
    // Only the tables this rank keeps are read; the others' shapes come from their headers.
    const npz = await NpzReader.open(path);
    try {
      const keep = options.tables ? new Set(options.tables) : undefined;
      for (const [name, info] of npz.members) {
        const emb = EMB.exec(name);
        if (emb && keep && !keep.has(Number(emb[1]))) {
          arrays.set(name, { dtype: info.dtype, shape: info.shape, data: new Float32Array(0) });
        } else {
          arrays.set(name, await npz.read(name));
        }
      }
    } finally {
      npz.close();
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new UsageError(`Weights file ${path} does not exist`);
    }
    throw new UsageError(`Weights file ${path} is not a readable .npz: ${(e as Error).message}`);
  }
  try {
    return weightsFromArrays(arrays, options);
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`${path}: ${e.message}`);
    throw e;
  }
}

/**
 * Saves weights to an `.npz` file with PyTorch DLRM `state_dict` names
 * (uncompressed, so NumPy and this suite load it fast).
 *
 * @example Save the tiny model
 * ```ts
 * import { architecture } from "@blsbench/core/dlrm";
 * import { initWeights, saveWeights } from "@blsbench/core/dlrm";
 * await saveWeights(`${await Deno.makeTempDir()}/w.npz`, initWeights(architecture("tiny"), 7));
 * ```
 *
 * @param path The file (written atomically).
 * @param weights The weights (every table must be held).
 */
export async function saveWeights(path: string, weights: DlrmWeights): Promise<void> {
  await writeNpz(path, weightsToArrays(weights));
}

/**
 * The reference DLRM initialisation, drawn from a seed: Linear weights
 * N(0, sqrt(2 / (in + out))), biases N(0, sqrt(1 / out)), embeddings
 * U(-sqrt(1 / rows), sqrt(1 / rows)). Every table and layer has its own
 * stream, so a rank that initialises only its tables gets the same values as
 * a process that initialises all of them.
 *
 * @example Same seed, same weights
 * ```ts
 * import { architecture } from "@blsbench/core/dlrm";
 * import { initWeights } from "@blsbench/core/dlrm";
 * const a = initWeights(architecture("tiny"), 3);
 * const b = initWeights(architecture("tiny"), 3, { tables: [1] });
 * if (a.embeddings[1]![5] !== b.embeddings[1]![5] || b.embeddings[0]) throw new Error("differ");
 * ```
 *
 * @param config The architecture.
 * @param seed The seed.
 * @param options Which tables to build.
 * @returns The weights.
 */
export function initWeights(
  config: DlrmConfig,
  seed: number,
  options: WeightsOptions = {},
): DlrmWeights {
  validateConfig(config);
  const keep = options.tables ? new Set(options.tables) : undefined;
  const d = config.embeddingDim;
  const embeddings = config.tableSizes.map((rows, t) => {
    if (keep && !keep.has(t)) return undefined;
    const rng = randomStream(seed, 1, t);
    const bound = Math.sqrt(1 / rows);
    const table = new Float32Array(rows * d);
    for (let i = 0; i < table.length; i++) table[i] = -bound + 2 * bound * rng.float();
    return table;
  });
  const mlp = (widths: number[], stream: number): LinearLayer[] =>
    widths.slice(1).map((outFeatures, i) => {
      const inFeatures = widths[i];
      const rng = randomStream(seed, stream, i);
      const weight = new Float32Array(outFeatures * inFeatures);
      const wStd = Math.sqrt(2 / (inFeatures + outFeatures));
      for (let j = 0; j < weight.length; j++) weight[j] = wStd * rng.normal();
      const bias = new Float32Array(outFeatures);
      const bStd = Math.sqrt(1 / outFeatures);
      for (let j = 0; j < bias.length; j++) bias[j] = bStd * rng.normal();
      return { inFeatures, outFeatures, weight, bias };
    });
  return {
    config: structuredClone(config),
    embeddings,
    bottom: mlp(config.bottomLayers, 2),
    top: mlp(config.topLayers, 3),
  };
}
