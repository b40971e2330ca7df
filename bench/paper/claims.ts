/**
 * The claim rules, one per figure (stated in docs/report.md): pure functions over
 * summary rows that give a verdict (holds, does not hold, inconclusive when the
 * spread of the repeats straddles the threshold, or not enough data) and the
 * numbers it used.
 *
 * Throughput is samples/s for DLRM and iterations/s otherwise; a value is the
 * median over repeats, its spread the range of the same quantity computed
 * within each repeat (a sweep runs all lags of a repeat back to back).
 *
 * @module
 */

import type { ResultRun, SummaryRow } from "../results/read.ts";
import { type FigureId, FIGURES, rowsForFigure } from "./figures.ts";
import {
  configKey,
  delayMeanMs,
  formatBytes,
  imbalanceLevel,
  throughputOf,
} from "../results/values.ts";
import { mean } from "../results/stats.ts";

/**
 * A verdict: `true` holds, `false` does not hold, `"inconclusive"` when the
 * spread of the repeats straddles the threshold, `"not enough data"` when the
 * rows the rule needs are missing, and `"model"` for a figure that is the cost
 * model's output, which carries no measured verdict.
 */
export type ClaimHolds = boolean | "inconclusive" | "not enough data" | "model";

/** The outcome of one claim check. */
export interface ClaimCheck {
  /** The figure the claim is about. */
  figure: FigureId;
  /** The claim rule that was applied, as stated before any result is seen. */
  claim: string;
  /** The verdict. */
  holds: ClaimHolds;
  /** The numbers the verdict used: which rows, the value, its spread over repeats. */
  detail: string;
}

/** The masked share a delay or imbalance rule needs (0.5) and "masked altogether" (0.9). */
export const MASKED_SHARE = { holds: 0.5, altogether: 0.9 } as const;
/** How far (relative) a lag >= 2 may fall from the fitted model's prediction on a balanced run. */
export const BALANCED_TOLERANCE = 0.2;
/** The share of the ideal the best lag must reach in fig-lag. */
export const NEAR_IDEAL = 0.8;

/**
 * The label and CSS class of a verdict, as the report and the terminal show it.
 *
 * @example Labels
 * ```ts
 * import { verdictLabel } from "@blsbench/core/bench";
 * import { equal } from "node:assert/strict";
 * equal(verdictLabel(true).text, "✓ holds");
 * equal(verdictLabel("inconclusive").text, "~ inconclusive");
 * ```
 *
 * @param holds The verdict.
 * @returns `{ cls, text }`.
 */
export function verdictLabel(holds: ClaimHolds): { cls: string; text: string } {
  if (holds === true) return { cls: "holds", text: "✓ holds" };
  if (holds === false) return { cls: "fails", text: "✗ does not hold" };
  if (holds === "inconclusive") return { cls: "unknown", text: "~ inconclusive" };
  if (holds === "model") return { cls: "model", text: "model, no measured verdict" };
  return { cls: "unknown", text: "? not enough data" };
}

const NOT_ENOUGH = "not enough data" as const;
const pct = (fraction: number) => `${Math.round(fraction * 100)}%`;
const times = (ratio: number) => `${ratio.toFixed(2)}×`;
const fixed2 = (v: number) => v.toFixed(2);

/** A value with its spread over repeats (`lo`..`hi`, equal to `value` with one repeat). */
interface Spread {
  value: number;
  lo: number;
  hi: number;
  /** How many repeats gave a value. */
  n: number;
  /** Repeats that had every input but where the quantity is undefined (left out). */
  undefinedIn: number;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Throughput by lag, then by repeat (rows without a repeat count as repeat 1). */
type ByLag = Map<number, Map<number, number>>;

interface ConfigGroup {
  /** A row of the configuration, for labels. */
  sample: SummaryRow;
  /** Throughput per lag and repeat (samples/s for DLRM, iterations/s otherwise). */
  byLag: ByLag;
  /** Ideal iterations/s per lag and repeat, where known. */
  idealByLag: ByLag;
}

function put(map: ByLag, lag: number, repeat: number, value: number) {
  let perRepeat = map.get(lag);
  if (!perRepeat) map.set(lag, perRepeat = new Map());
  // Two rows of one lag and repeat (merged directories) are averaged.
  const before = perRepeat.get(repeat);
  perRepeat.set(repeat, before === undefined ? value : (before + value) / 2);
}

function groupByConfig(
  rows: readonly SummaryRow[],
  keyOf: (row: SummaryRow) => string = configKey,
): Map<string, ConfigGroup> {
  const groups = new Map<string, ConfigGroup>();
  for (const row of rows) {
    const key = keyOf(row);
    let group = groups.get(key);
    if (!group) groups.set(key, group = { sample: row, byLag: new Map(), idealByLag: new Map() });
    const repeat = row.repeat ?? 1;
    const throughput = throughputOf(row);
    if (throughput !== null && throughput > 0) put(group.byLag, row.lag, repeat, throughput);
    if (row.idealItersPerS !== null && row.idealItersPerS > 0) {
      // The ideal is in iterations/s; DLRM throughput is samples/s: scale by the row's ratio.
      const scale = row.workload === "dlrm" && row.samplesPerS !== null && row.itersPerS
        ? row.samplesPerS / row.itersPerS
        : 1;
      put(group.idealByLag, row.lag, repeat, row.idealItersPerS * scale);
    }
  }
  return groups;
}

/** The median over repeats of a lag's throughput. */
function at(byLag: ByLag, lag: number): number | undefined {
  const perRepeat = byLag.get(lag);
  return perRepeat && perRepeat.size > 0 ? median([...perRepeat.values()]) : undefined;
}

/**
 * A derived quantity with its spread: `f` on the medians, and `f` on each
 * repeat that every input lag has (repeats of a sweep run back to back, so they
 * are compared within a repeat).
 */
function spreadOf(
  inputs: readonly { map: ByLag; lag: number }[],
  f: (values: number[]) => number | null,
): Spread | null {
  const medians = inputs.map(({ map, lag }) => at(map, lag));
  if (medians.some((m) => m === undefined)) return null;
  const value = f(medians as number[]);
  if (value === null || !Number.isFinite(value)) return null;
  const repeats = [...inputs[0].map.get(inputs[0].lag)!.keys()].filter((r) =>
    inputs.every(({ map, lag }) => map.get(lag)!.has(r))
  );
  const perRepeat = repeats
    .map((r) => f(inputs.map(({ map, lag }) => map.get(lag)!.get(r)!)))
    .filter((v): v is number => v !== null && Number.isFinite(v));
  const all = [value, ...perRepeat];
  return {
    value,
    lo: Math.min(...all),
    hi: Math.max(...all),
    n: Math.max(1, perRepeat.length),
    undefinedIn: repeats.length - perRepeat.length,
  };
}

/** At least `threshold`: holds when the whole spread is, fails when none of it is. */
function atLeast(spread: Spread, threshold: number): ClaimHolds {
  return spread.lo >= threshold ? true : spread.hi < threshold ? false : "inconclusive";
}

function showSpread(spread: Spread, format: (v: number) => string = fixed2): string {
  const range = `[${format(spread.lo)}, ${format(spread.hi)}]`;
  const text = spread.n > 1
    ? `${format(spread.value)} ${range} over ${spread.n} repeats`
    : `${format(spread.value)} (1 repeat, no spread)`;
  return spread.undefinedIn > 0 ? `${text}, undefined in ${spread.undefinedIn} more` : text;
}

/** Several verdicts as one: any that fails fails, all holding hold, otherwise inconclusive. */
function combine(verdicts: readonly ClaimHolds[]): ClaimHolds {
  const measured = verdicts.filter((v) => v !== NOT_ENOUGH && v !== "model");
  if (measured.length === 0) return NOT_ENOUGH;
  if (measured.includes(false)) return false;
  if (measured.every((v) => v === true)) return true;
  return "inconclusive";
}

function describeConfig(row: SummaryRow): string {
  const parts: string[] = [];
  if (row.dataset) parts.push(row.dataset);
  if (row.sizeBytes !== null) parts.push(formatBytes(row.sizeBytes));
  parts.push(`${row.ranks} rank${row.ranks === 1 ? "" : "s"}`);
  if (row.imbalance !== "none") parts.push(`imbalance ${row.imbalance}`);
  if (row.delay !== "none") parts.push(`delay ${row.delay}`);
  const skew = row.cells["skew"];
  if (skew && skew !== "none") parts.push(`skew ${skew}`);
  return parts.join(", ");
}

/** The lag >= 1 with the highest median throughput. */
function bestLag(byLag: ByLag): number | null {
  let best: { lag: number; value: number } | null = null;
  for (const lag of byLag.keys()) {
    if (lag === 0) continue;
    const value = at(byLag, lag)!;
    if (best === null || value > best.value) best = { lag, value };
  }
  return best?.lag ?? null;
}

/** Time per iteration, or per 1000 samples for DLRM (whose throughput is samples/s). */
const timeOf = (dlrm: boolean) => (throughput: number) =>
  dlrm
    ? `${(1e6 / throughput).toPrecision(3)} ms/1000 samples`
    : `${(1000 / throughput).toPrecision(3)} ms`;

/** What a masked-share rule varies: the column, its kind and level, and what to call it. */
interface Varying {
  column: string;
  levelOf: (spec: string) => { kind: string; level: number } | null;
  levelName: (kind: string, level: number) => string;
  /** The level of an unvaried (`none`) row within a kind, e.g. hot factor 1. */
  noneLevel: (kind: string) => number;
  /** What the level is, e.g. `delay`. */
  what: string;
}

/**
 * The masked share M = (T_sync(L) - T_best(L)) / (T_sync(L) - T_sync(0)) at the
 * largest level L of each series, with T the time per iteration (1 / throughput)
 * and level 0 the unvaried rows. Holds when M >= 0.5 over the whole spread.
 */
function checkMaskedShare(
  figure: FigureId,
  rows: readonly SummaryRow[],
  varying: Varying,
): ClaimCheck {
  const claim = `masked share M = (T_sync(L) - T_best(L)) / (T_sync(L) - T_sync(0)) at the ` +
    `largest ${varying.what} L, T the time per iteration, T_best the fastest lag >= 1: holds ` +
    `when M >= ${MASKED_SHARE.holds} ("masked altogether" when M >= ${MASKED_SHARE.altogether}); ` +
    `inconclusive when the spread over repeats straddles ${MASKED_SHARE.holds}`;
  // Group by everything but the lag and the varying column; an unvaried row (`none`)
  // is the base level of every kind measured beside it.
  const base = new Map<
    string,
    { kinds: Map<string, Map<number, SummaryRow[]>>; none: SummaryRow[] }
  >();
  for (const row of rows) {
    const key = configKey({ cells: { ...row.cells, [varying.column]: "" } });
    let entry = base.get(key);
    if (!entry) base.set(key, entry = { kinds: new Map(), none: [] });
    const spec = row.cells[varying.column] ?? "none";
    if (spec === "" || spec === "none") {
      entry.none.push(row);
      continue;
    }
    const level = varying.levelOf(spec);
    if (level === null) continue;
    let kind = entry.kinds.get(level.kind);
    if (!kind) entry.kinds.set(level.kind, kind = new Map());
    kind.set(level.level, [...(kind.get(level.level) ?? []), row]);
  }
  const verdicts: ClaimHolds[] = [];
  const texts: string[] = [];
  for (const { kinds, none } of base.values()) {
    for (const [kind, levels] of kinds) {
      const noneLevel = varying.noneLevel(kind);
      const all = new Map(levels);
      if (none.length > 0) all.set(noneLevel, [...(all.get(noneLevel) ?? []), ...none]);
      const sorted = [...all.keys()].sort((a, b) => a - b);
      if (sorted.length < 2 || sorted[0] !== noneLevel) continue;
      const group0 = [...groupByConfig(all.get(sorted[0])!, () => "one").values()][0];
      const top = sorted[sorted.length - 1];
      const groupL = [...groupByConfig(all.get(top)!, () => "one").values()][0];
      const best = bestLag(groupL.byLag);
      const sync0 = at(group0.byLag, 0);
      const syncL = at(groupL.byLag, 0);
      if (best === null || sync0 === undefined || syncL === undefined) continue;
      const label = `${kind} (${describeConfig(groupL.sample)})`;
      const msOf = timeOf(groupL.sample.workload === "dlrm");
      const share = spreadOf(
        [
          { map: group0.byLag, lag: 0 },
          { map: groupL.byLag, lag: 0 },
          { map: groupL.byLag, lag: best },
        ],
        ([s0, sL, bL]) => {
          const slowdown = 1 / sL - 1 / s0;
          return slowdown > 0 ? (1 / sL - 1 / bL) / slowdown : null;
        },
      );
      const numbers = `T_sync ${msOf(sync0)} at ${varying.levelName(kind, sorted[0])}, ${
        msOf(syncL)
      } at ${varying.levelName(kind, top)}, T_best ${msOf(at(groupL.byLag, best)!)} (lag ${best})`;
      if (share === null) {
        verdicts.push(NOT_ENOUGH);
        texts.push(`${label}: ${numbers}; sync is not slower at the largest level, M undefined`);
        continue;
      }
      const verdict = atLeast(share, MASKED_SHARE.holds);
      verdicts.push(verdict);
      const altogether = share.lo >= MASKED_SHARE.altogether ? "; masked altogether" : "";
      texts.push(`${label}: ${numbers}; M = ${showSpread(share)}${altogether}`);
    }
  }
  const holds = combine(verdicts);
  if (texts.length === 0) {
    return {
      figure,
      claim,
      holds: NOT_ENOUGH,
      detail: `needs lag 0 unvaried, and lag 0 and a lag >= 1 at a ${varying.what} level`,
    };
  }
  return { figure, claim, holds, detail: texts.join("; ") };
}

/**
 * fig-hetero: the masked share at the largest imbalance level of each imbalance
 * kind (hot factor, random CV), against the balanced exchange as level 0.
 *
 * @example A lag that removes most of the imbalance's cost holds
 * ```ts
 * import { checkHetero } from "@blsbench/core/bench";
 * import { equal } from "node:assert/strict";
 * const row = (lag: number, imbalance: string, itersPerS: number) => ({ workload: "alltoallv",
 *   transport: "tcp", ranks: 4, lag, sizeBytes: 64, imbalance, delay: "none", delayMode: "busy",
 *   iters: 100, itersPerS, samplesPerS: null, latencyP50Us: null, latencyP99Us: null,
 *   blockedP50Us: null, speedupVsSync: null, idealItersPerS: null, validated: true, figure: null,
 *   repeat: null, dataset: null, cells: { imbalance, lag: String(lag) } });
 * const rows = [row(0, "none", 1000), row(0, "hot:0:8", 250), row(2, "hot:0:8", 500)];
 * equal(checkHetero(rows).holds, true); // M = (4 - 2) / (4 - 1) = 0.67
 * equal(checkHetero([]).holds, "not enough data");
 * ```
 *
 * @param rows The figure's rows.
 * @returns The check.
 */
export function checkHetero(rows: readonly SummaryRow[]): ClaimCheck {
  return checkMaskedShare("fig-hetero", rows, {
    column: "imbalance",
    levelOf: (spec) => {
      const { kind, level } = imbalanceLevel(spec);
      return level === null ? null : { kind, level };
    },
    levelName: (kind, level) =>
      kind === "hot" ? `F=${level}` : kind === "random" ? `CV ${level}` : `${level}`,
    noneLevel: (kind) => kind === "hot" ? 1 : 0,
    what: "imbalance",
  });
}

const delayVarying: Varying = {
  column: "delay",
  levelOf: (spec) => {
    const level = delayMeanMs(spec);
    return level === null ? null : { kind: spec.split(":")[0], level };
  },
  levelName: (_kind, level) => level === 0 ? "no delay" : `${Number(level.toPrecision(3))} ms`,
  noneLevel: () => 0,
  what: "mean delay",
};

/**
 * fig-delay: the masked share of the delays at the largest mean delay, per delay
 * distribution.
 *
 * @example Half the delays' cost masked holds; a tenth does not
 * ```ts
 * import { checkDelay } from "@blsbench/core/bench";
 * import { equal } from "node:assert/strict";
 * const row = (lag: number, delay: string, itersPerS: number) => ({ workload: "alltoallv",
 *   transport: "tcp", ranks: 4, lag, sizeBytes: 64, imbalance: "none", delay, delayMode: "busy",
 *   iters: 100, itersPerS, samplesPerS: null, latencyP50Us: null, latencyP99Us: null,
 *   blockedP50Us: null, speedupVsSync: null, idealItersPerS: null, validated: true, figure: null,
 *   repeat: null, dataset: null, cells: { delay, lag: String(lag) } });
 * // T: 1 ms undelayed, 5 ms sync at 4 ms; lag 4 at 2 ms masks (5 - 2) / (5 - 1) = 75%.
 * equal(checkDelay([row(0, "none", 1000), row(0, "exp:4ms", 200), row(4, "exp:4ms", 500)]).holds, true);
 * // Lag 4 at 4.5 ms masks 12.5%: 5% faster at the largest delay is not masking it.
 * equal(checkDelay([row(0, "none", 1000), row(0, "exp:4ms", 200), row(4, "exp:4ms", 222)]).holds, false);
 * ```
 *
 * @param rows The figure's rows.
 * @returns The check.
 */
export function checkDelay(rows: readonly SummaryRow[]): ClaimCheck {
  return checkMaskedShare("fig-delay", rows, delayVarying);
}

/**
 * fig-dlrm-unbalanced: the masked share of the delays in time per batch at the
 * largest delay, against the undelayed run of the same configuration. Skewed
 * runs without a delay are shown, they have no delay to mask.
 *
 * @example Delays masked altogether
 * ```ts
 * import { checkDlrmUnbalanced } from "@blsbench/core/bench";
 * import { equal, match } from "node:assert/strict";
 * const row = (lag: number, delay: string, samplesPerS: number) => ({ workload: "dlrm",
 *   transport: "tcp", ranks: 4, lag, sizeBytes: null, imbalance: "none", delay,
 *   delayMode: "busy", iters: 100, itersPerS: null, samplesPerS, latencyP50Us: null,
 *   latencyP99Us: null, blockedP50Us: null, speedupVsSync: null, idealItersPerS: null,
 *   validated: true, figure: null, repeat: null, dataset: "synthetic",
 *   cells: { delay, lag: String(lag) } });
 * const check = checkDlrmUnbalanced([row(0, "none", 1000), row(0, "exp:2ms", 500), row(4, "exp:2ms", 980)]);
 * equal(check.holds, true);
 * match(check.detail, /masked altogether/);
 * ```
 *
 * @param rows The figure's rows.
 * @returns The check.
 */
export function checkDlrmUnbalanced(rows: readonly SummaryRow[]): ClaimCheck {
  return checkMaskedShare("fig-dlrm-unbalanced", rows, delayVarying);
}

/**
 * The balanced-run rule: per configuration, fit the exchange cost c and the
 * per-call overhead o on lags 0 and 1 (T_0 = o + c, T_1 = max(o, (o + c) / 2),
 * so o = min(T_1, T_0) and c = T_0 - o), then predict every lag k >= 2 as
 * T_k = max(o, (o + c) / (k + 1)); holds when each measured throughput is
 * within 20% of the prediction. One-rank configurations are shown, never judged.
 */
function checkFitted(
  figure: FigureId,
  rows: readonly SummaryRow[],
  reportGain: boolean,
): ClaimCheck {
  const claim = `fit the exchange cost c and per-call overhead o on lags 0 and 1 ` +
    `(T_0 = o + c, T_1 = max(o, (o + c) / 2)); every lag k >= 2 within ` +
    `${pct(BALANCED_TOLERANCE)} of the predicted throughput 1 / max(o, (o + c) / (k + 1)); ` +
    `1-rank configurations are a noise floor, never judged` +
    (reportGain ? `; the best lag's gain over sync is shown beside "no notable advantage"` : "");
  const verdicts: ClaimHolds[] = [];
  const texts: string[] = [];
  const noise: string[] = [];
  for (const group of groupByConfig(rows).values()) {
    const label = describeConfig(group.sample);
    const best = bestLag(group.byLag);
    const gain = best === null ? null : spreadOf(
      [{ map: group.byLag, lag: 0 }, { map: group.byLag, lag: best }],
      ([s, b]) => b / s,
    );
    const gainText = gain && best !== null
      ? `best lag ${best} at ${showSpread(gain, times)} sync`
      : "";
    if (group.sample.ranks <= 1) {
      if (gainText) noise.push(`${label}: ${gainText}`);
      continue;
    }
    const later = [...group.byLag.keys()].filter((lag) => lag >= 2).sort((a, b) => a - b);
    if (!group.byLag.has(0) || !group.byLag.has(1) || later.length === 0) continue;
    const parts: string[] = [];
    const lagVerdicts: ClaimHolds[] = [];
    for (const lag of later) {
      const ratio = spreadOf(
        [{ map: group.byLag, lag: 0 }, { map: group.byLag, lag: 1 }, {
          map: group.byLag,
          lag,
        }],
        ([t0, t1, tk]) => {
          const T0 = 1 / t0;
          const o = Math.min(1 / t1, T0);
          return tk * Math.max(o, T0 / (lag + 1));
        },
      )!;
      const low = 1 - BALANCED_TOLERANCE;
      const high = 1 + BALANCED_TOLERANCE;
      const verdict: ClaimHolds = ratio.lo >= low && ratio.hi <= high
        ? true
        : ratio.hi < low || ratio.lo > high
        ? false
        : "inconclusive";
      lagVerdicts.push(verdict);
      parts.push(`lag ${lag} at ${showSpread(ratio, times)} the prediction`);
    }
    const T0 = 1 / at(group.byLag, 0)!;
    const o = Math.min(1 / at(group.byLag, 1)!, T0);
    const fit = `fit c = ${fmtTime(T0 - o)}, o = ${fmtTime(o)}`;
    const verdict = combine(lagVerdicts);
    verdicts.push(verdict);
    texts.push(`${label}: ${fit}; ${parts.join(", ")}${gainText ? `; ${gainText}` : ""}`);
  }
  if (texts.length === 0) {
    return {
      figure,
      claim,
      holds: NOT_ENOUGH,
      detail: "needs lags 0, 1 and a lag >= 2 of one configuration with 2 or more ranks" +
        (noise.length ? ` (noise floor, 1 rank: ${noise.join("; ")})` : ""),
    };
  }
  const noiseText = noise.length ? `; noise floor, 1 rank, not judged: ${noise.join("; ")}` : "";
  return { figure, claim, holds: combine(verdicts), detail: texts.join("; ") + noiseText };
}

/** A time per iteration given in seconds per unit of throughput, in µs or ms. */
function fmtTime(seconds: number): string {
  const us = seconds * 1e6;
  return us >= 1000 ? `${(us / 1000).toPrecision(3)} ms` : `${us.toPrecision(3)} us`;
}

/**
 * fig-balanced: the suite explains its own gains on balanced, undelayed
 * exchanges. Per size, c and o are fitted on lags 0 and 1, and every lag >= 2
 * must run within 20% of the fitted model's throughput (out of sample in the lag).
 *
 * @example A pipelining gain the model explains holds; a lag 2 twice as fast does not
 * ```ts
 * import { checkBalanced } from "@blsbench/core/bench";
 * import { equal } from "node:assert/strict";
 * const row = (lag: number, itersPerS: number) => ({ workload: "alltoallv", transport: "tcp",
 *   ranks: 4, lag, sizeBytes: 64, imbalance: "none", delay: "none", delayMode: "busy", iters: 100,
 *   itersPerS, samplesPerS: null, latencyP50Us: null, latencyP99Us: null, blockedP50Us: null,
 *   speedupVsSync: null, idealItersPerS: null, validated: true, figure: null, repeat: null,
 *   dataset: null, cells: { size_bytes: "64", lag: String(lag) } });
 * // T_0 = 1 ms, T_1 = 0.8 ms: o = 0.8 ms, so lags >= 2 are predicted at 1250 it/s.
 * equal(checkBalanced([row(0, 1000), row(1, 1250), row(2, 1200), row(4, 1300)]).holds, true);
 * equal(checkBalanced([row(0, 1000), row(1, 1250), row(2, 2500)]).holds, false);
 * ```
 *
 * @param rows The figure's rows.
 * @returns The check.
 */
export function checkBalanced(rows: readonly SummaryRow[]): ClaimCheck {
  return checkFitted("fig-balanced", rows, false);
}

/**
 * fig-dlrm-balanced: the balanced-run rule on DLRM time per batch, with the best
 * lag's gain over sync shown beside the paper's "no notable advantage".
 *
 * @example A lag 2 the fit predicts holds
 * ```ts
 * import { checkDlrmBalanced } from "@blsbench/core/bench";
 * import { equal } from "node:assert/strict";
 * const row = (lag: number, samplesPerS: number) => ({ workload: "dlrm", transport: "tcp",
 *   ranks: 4, lag, sizeBytes: null, imbalance: "none", delay: "none", delayMode: "busy",
 *   iters: 100, itersPerS: null, samplesPerS, latencyP50Us: null, latencyP99Us: null,
 *   blockedP50Us: null, speedupVsSync: null, idealItersPerS: null, validated: true, figure: null,
 *   repeat: null, dataset: "mini-kaggle", cells: { lag: String(lag) } });
 * equal(checkDlrmBalanced([row(0, 1000), row(1, 1100), row(2, 1120)]).holds, true);
 * ```
 *
 * @param rows The figure's rows.
 * @returns The check.
 */
export function checkDlrmBalanced(rows: readonly SummaryRow[]): ClaimCheck {
  return checkFitted("fig-dlrm-balanced", rows, true);
}

/**
 * fig-lag: throughput non-decreasing in the lag within the spread of the repeats
 * (a lag fails only when its whole range lies below the range of a smaller lag),
 * and the best lag at least 80% of its ideal.
 *
 * @example Growing then saturating throughput near the ideal holds
 * ```ts
 * import { checkLag } from "@blsbench/core/bench";
 * import { equal } from "node:assert/strict";
 * const row = (lag: number, itersPerS: number) => ({ workload: "alltoallv", transport: "tcp",
 *   ranks: 4, lag, sizeBytes: 64, imbalance: "none", delay: "exp:2ms", delayMode: "busy",
 *   iters: 100, itersPerS, samplesPerS: null, latencyP50Us: null, latencyP99Us: null,
 *   blockedP50Us: null, speedupVsSync: null, idealItersPerS: 500, validated: true, figure: null,
 *   repeat: null, dataset: null, cells: { lag: String(lag) } });
 * equal(checkLag([row(0, 200), row(1, 350), row(4, 470), row(16, 480)]).holds, true);
 * equal(checkLag([row(0, 200), row(1, 350), row(4, 300), row(16, 480)]).holds, false);
 * ```
 *
 * @param rows The figure's rows.
 * @returns The check.
 */
export function checkLag(rows: readonly SummaryRow[]): ClaimCheck {
  const claim = `throughput non-decreasing in the lag within the spread of the repeats (a lag ` +
    `fails when its whole range lies below a smaller lag's), and the best lag at least ` +
    `${pct(NEAR_IDEAL)} of its ideal (inconclusive when the spread straddles ${pct(NEAR_IDEAL)})`;
  const verdicts: ClaimHolds[] = [];
  const texts: string[] = [];
  for (const group of groupByConfig(rows).values()) {
    const lags = [...group.byLag.keys()].sort((a, b) => a - b);
    if (lags.length < 3 || lags[0] !== 0) continue;
    const range = (lag: number) => {
      const values = [...group.byLag.get(lag)!.values()];
      return { lo: Math.min(...values), hi: Math.max(...values), median: median(values) };
    };
    const drops: string[] = [];
    lags.forEach((lag, j) => {
      for (let i = 0; i < j; i++) {
        if (range(lag).hi < range(lags[i]).lo) {
          drops.push(
            `lag ${lag} (max ${range(lag).hi.toFixed(1)}) below lag ${lags[i]} (min ${
              range(lags[i]).lo.toFixed(1)
            })`,
          );
          break;
        }
      }
    });
    const monotone: ClaimHolds = drops.length === 0;
    const best = bestLag(group.byLag)!;
    const ideal = group.idealByLag.has(best)
      ? spreadOf(
        [{ map: group.byLag, lag: best }, { map: group.idealByLag, lag: best }],
        ([m, i]) => m / i,
      )
      : null;
    const nearIdeal: ClaimHolds = ideal === null ? NOT_ENOUGH : atLeast(ideal, NEAR_IDEAL);
    verdicts.push(
      nearIdeal === NOT_ENOUGH ? (monotone ? NOT_ENOUGH : false) : combine([
        monotone,
        nearIdeal,
      ]),
    );
    const medians = lags.map((lag) => `${lag}: ${range(lag).median.toFixed(1)}`).join(", ");
    texts.push(
      `${describeConfig(group.sample)}: median throughput by lag ${medians}; ${
        monotone ? "no lag below a smaller lag's range" : drops.join("; ")
      }; best lag ${best} at ${
        ideal === null ? "no ideal column" : `${showSpread(ideal, pct)} of its ideal`
      }`,
    );
  }
  if (texts.length === 0) {
    return {
      figure: "fig-lag",
      claim,
      holds: NOT_ENOUGH,
      detail: "needs lag 0 and at least two more lags of one configuration",
    };
  }
  return { figure: "fig-lag", claim, holds: combine(verdicts), detail: texts.join("; ") };
}

/**
 * fig-scale: the cost model's output, not a measurement. It carries no measured
 * verdict; the detail lists each lag's simulated speedup at the fewest and the
 * most ranks. The model's own check is out of sample (docs/simulate.md).
 *
 * @example The model, never a verdict
 * ```ts
 * import { checkScale } from "@blsbench/core/bench";
 * import { equal, match } from "node:assert/strict";
 * const row = (ranks: number, speedupVsSync: number) => ({ workload: "simulated",
 *   transport: "model", ranks, lag: 4, sizeBytes: null, imbalance: "none", delay: "exp:2ms",
 *   delayMode: "sleep", iters: 1000, itersPerS: null, samplesPerS: null, latencyP50Us: null,
 *   latencyP99Us: null, blockedP50Us: null, speedupVsSync, idealItersPerS: null,
 *   validated: null, figure: null, repeat: null, dataset: null, cells: {} });
 * const check = checkScale([row(2, 1.1), row(4096, 2.1)]);
 * equal(check.holds, "model");
 * match(check.detail, /1\.10× at 2 ranks -> 2\.10× at 4096/);
 * ```
 *
 * @param rows The figure's rows.
 * @returns The check.
 */
export function checkScale(rows: readonly SummaryRow[]): ClaimCheck {
  const claim = "the cost model's prediction, not a measurement: no measured verdict " +
    "(the model is checked out of sample, calibrated on one measured run, predicting another)";
  const series = new Map<string, { lag: number; delay: string; byRanks: Map<number, number[]> }>();
  for (const row of rows) {
    if (row.lag === 0 || row.speedupVsSync === null) continue;
    const key = `${configKey({ cells: { ...row.cells, ranks: "" } })}|lag=${row.lag}|${row.delay}`;
    let entry = series.get(key);
    if (!entry) series.set(key, entry = { lag: row.lag, delay: row.delay, byRanks: new Map() });
    entry.byRanks.set(row.ranks, [...(entry.byRanks.get(row.ranks) ?? []), row.speedupVsSync]);
  }
  const texts: string[] = [];
  for (const { lag, delay, byRanks } of series.values()) {
    const ranks = [...byRanks.keys()].sort((a, b) => a - b);
    const values = ranks.map((r) => mean(byRanks.get(r)!));
    texts.push(
      `lag ${lag}, delay ${delay}: ${times(values[0])} at ${ranks[0]} ranks -> ${
        times(values[values.length - 1])
      } at ${ranks[ranks.length - 1]}`,
    );
  }
  if (texts.length === 0) {
    return { figure: "fig-scale", claim, holds: NOT_ENOUGH, detail: "no simulated rows" };
  }
  return { figure: "fig-scale", claim, holds: "model", detail: `simulated: ${texts.join("; ")}` };
}

/**
 * Runs the check of one figure over that figure's rows, with default tolerances.
 *
 * @example No rows, not enough data
 * ```ts
 * import { checkClaim } from "@blsbench/core/bench";
 * import { equal } from "node:assert/strict";
 * equal(checkClaim("fig-scale", []).holds, "not enough data");
 * ```
 *
 * @param figure The figure id.
 * @param rows The figure's rows (see `rowsForFigure`).
 * @returns The check.
 */
export function checkClaim(figure: FigureId, rows: readonly SummaryRow[]): ClaimCheck {
  const check = checkFigure(figure, rows);
  if (rows.length === 0) return { ...check, detail: "no result rows for this figure" };
  return check;
}

function checkFigure(figure: FigureId, rows: readonly SummaryRow[]): ClaimCheck {
  switch (figure) {
    case "fig-balanced":
      return checkBalanced(rows);
    case "fig-hetero":
      return checkHetero(rows);
    case "fig-delay":
      return checkDelay(rows);
    case "fig-lag":
      return checkLag(rows);
    case "fig-dlrm-balanced":
      return checkDlrmBalanced(rows);
    case "fig-dlrm-unbalanced":
      return checkDlrmUnbalanced(rows);
    case "fig-scale":
      return checkScale(rows);
  }
}

/**
 * Checks every figure's claim over a set of result directories.
 *
 * @example Seven checks, whatever the data
 * ```ts
 * import { checkClaims } from "@blsbench/core/bench";
 * import { equal } from "node:assert/strict";
 * equal(checkClaims([]).length, 7);
 * ```
 *
 * @param runs The result directories.
 * @returns One check per figure, in figure order.
 */
export function checkClaims(runs: readonly ResultRun[]): ClaimCheck[] {
  return FIGURES.map((spec) => checkClaim(spec.id, rowsForFigure(spec, runs)));
}
