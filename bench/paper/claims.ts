/**
 * Measured checks of the paper's claims, one per figure: pure functions over
 * summary rows that say whether the claim holds in these measurements, or that
 * there is not enough data to tell, with a one-line detail.
 *
 * Repeats of a configuration are averaged before comparing; throughput is
 * samples/s for DLRM and iterations/s otherwise.
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

/** Whether a claim holds: `true`, `false`, or `"not enough data"` to tell. */
export type ClaimHolds = boolean | "not enough data";

/** The outcome of one claim check. */
export interface ClaimCheck {
  /** The figure the claim is about. */
  figure: FigureId;
  /** The measurable statement that was checked. */
  claim: string;
  /** Whether it holds in these rows. */
  holds: ClaimHolds;
  /** What was measured, e.g. `3 of 3 sizes hold`. */
  detail: string;
}

const NOT_ENOUGH = "not enough data" as const;
const pct = (fraction: number) => `${Math.round(fraction * 100)}%`;
const times = (ratio: number) => `${ratio.toFixed(2)}×`;

/** Rows grouped by configuration (without lag), then mean throughput by lag. */
interface ConfigGroup {
  /** A row of the configuration, for labels. */
  sample: SummaryRow;
  /** Mean throughput per lag. */
  byLag: Map<number, number>;
  /** Mean ideal iterations/s per lag, where known. */
  idealByLag: Map<number, number>;
}

function groupByConfig(
  rows: readonly SummaryRow[],
  keyOf: (row: SummaryRow) => string = configKey,
): Map<string, ConfigGroup> {
  const raw = new Map<
    string,
    { sample: SummaryRow; t: Map<number, number[]>; i: Map<number, number[]> }
  >();
  for (const row of rows) {
    const key = keyOf(row);
    let entry = raw.get(key);
    if (!entry) raw.set(key, entry = { sample: row, t: new Map(), i: new Map() });
    const throughput = throughputOf(row);
    if (throughput !== null) entry.t.set(row.lag, [...(entry.t.get(row.lag) ?? []), throughput]);
    if (row.idealItersPerS !== null && row.idealItersPerS > 0) {
      entry.i.set(row.lag, [...(entry.i.get(row.lag) ?? []), row.idealItersPerS]);
    }
  }
  const groups = new Map<string, ConfigGroup>();
  for (const [key, { sample, t, i }] of raw) {
    const average = (m: Map<number, number[]>) =>
      new Map([...m].map(([lag, values]) => [lag, mean(values)] as [number, number]));
    groups.set(key, { sample, byLag: average(t), idealByLag: average(i) });
  }
  return groups;
}

/** The best speedup of any lag >= 1 over lag 0 in a group, with that lag; null without both. */
function bestSpeedup(group: ConfigGroup): { lag: number; speedup: number } | null {
  const sync = group.byLag.get(0);
  if (sync === undefined || sync <= 0) return null;
  let best: { lag: number; speedup: number } | null = null;
  for (const [lag, value] of group.byLag) {
    if (lag === 0) continue;
    const speedup = value / sync;
    if (best === null || speedup > best.speedup) best = { lag, speedup };
  }
  return best;
}

function describeConfig(row: SummaryRow): string {
  const parts: string[] = [];
  if (row.dataset) parts.push(row.dataset);
  if (row.sizeBytes !== null) parts.push(formatBytes(row.sizeBytes));
  parts.push(`${row.ranks} ranks`);
  if (row.imbalance !== "none") parts.push(`imbalance ${row.imbalance}`);
  if (row.delay !== "none") parts.push(`delay ${row.delay}`);
  const skew = row.cells["skew"];
  if (skew && skew !== "none") parts.push(`skew ${skew}`);
  return parts.join(", ");
}

/**
 * fig-balanced: for balanced, undelayed exchanges every lag is within `tolerance`
 * of sync's throughput, at every message size.
 *
 * @example Every lag within 5% of sync
 * ```ts
 * import { checkBalanced } from "./claims.ts";
 * import { equal } from "node:assert/strict";
 * const row = (lag: number, itersPerS: number) => ({ workload: "alltoallv", transport: "tcp",
 *   ranks: 4, lag, sizeBytes: 64, imbalance: "none", delay: "none", delayMode: "busy", iters: 100,
 *   itersPerS, samplesPerS: null, latencyP50Us: null, latencyP99Us: null, blockedP50Us: null,
 *   speedupVsSync: null, idealItersPerS: null, validated: true, figure: null, repeat: null,
 *   dataset: null, cells: { size_bytes: "64", lag: String(lag) } });
 * equal(checkBalanced([row(0, 1000), row(2, 1020)]).holds, true);
 * ```
 *
 * @param rows The figure's rows.
 * @param tolerance The allowed relative difference (0.05 is 5%).
 * @returns The check.
 */
export function checkBalanced(rows: readonly SummaryRow[], tolerance = 0.05): ClaimCheck {
  const claim = `every lag within ${pct(tolerance)} of sync's throughput at every size`;
  let held = 0;
  let total = 0;
  let worst: { label: string; lag: number; ratio: number } | null = null;
  for (const group of groupByConfig(rows).values()) {
    const sync = group.byLag.get(0);
    const others = [...group.byLag].filter(([lag]) => lag !== 0);
    if (sync === undefined || sync <= 0 || others.length === 0) continue;
    total++;
    let ok = true;
    for (const [lag, value] of others) {
      const ratio = value / sync;
      if (Math.abs(ratio - 1) > tolerance) ok = false;
      if (worst === null || Math.abs(ratio - 1) > Math.abs(worst.ratio - 1)) {
        worst = { label: describeConfig(group.sample), lag, ratio };
      }
    }
    if (ok) held++;
  }
  if (total === 0) {
    return {
      figure: "fig-balanced",
      claim,
      holds: NOT_ENOUGH,
      detail: "needs lag 0 and at least one other lag at the same size",
    };
  }
  const worstText = worst
    ? `; furthest: ${worst.label}, lag ${worst.lag} at ${times(worst.ratio)} sync`
    : "";
  return {
    figure: "fig-balanced",
    claim,
    holds: held === total,
    detail: `${held} of ${total} sizes hold${worstText}`,
  };
}

/** What a gain-grows check varies: the column, its kind and level, and what to call it. */
interface Varying {
  column: string;
  levelOf: (spec: string) => { kind: string; level: number } | null;
  levelName: (kind: string, level: number) => string;
  /** The level of an unvaried (`none`) row within a kind, e.g. hot factor 1. */
  noneLevel: (kind: string) => number;
}

function checkGainGrows(
  figure: FigureId,
  rows: readonly SummaryRow[],
  varying: Varying,
  what: string,
  minGain: number,
): ClaimCheck {
  // Pipelining alone already gains on latency-bound exchanges, so the claim is
  // about what BLS saves as the heterogeneity grows: the time per iteration saved
  // at the largest level must be at least the time saved at the smallest.
  const claim = `lags >= 1 beat sync by at least ${pct(minGain)} at the largest ${what}, ` +
    `and save more time per iteration there than at the smallest`;
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
  const outcomes: { ok: boolean; text: string }[] = [];
  for (const { kinds, none } of base.values()) {
    for (const [kind, levels] of kinds) {
      const noneLevel = varying.noneLevel(kind);
      const all = new Map(levels);
      if (none.length > 0) all.set(noneLevel, [...(all.get(noneLevel) ?? []), ...none]);
      const points: { level: number; best: { lag: number; speedup: number }; savedUs: number }[] =
        [];
      for (const [level, levelRows] of all) {
        const group = [...groupByConfig(levelRows, () => "one").values()][0];
        const best = bestSpeedup(group);
        if (best === null) continue;
        const sync = group.byLag.get(0)!;
        const savedUs = 1e6 / sync - 1e6 / (sync * best.speedup);
        points.push({ level, best, savedUs });
      }
      if (points.length < 2) continue;
      points.sort((a, b) => a.level - b.level);
      const first = points[0];
      const last = points[points.length - 1];
      const ok = last.best.speedup >= 1 + minGain && last.savedUs >= first.savedUs;
      const saved = (us: number) =>
        us >= 1000 ? `${(us / 1000).toFixed(2)} ms` : `${us.toFixed(0)} us`;
      outcomes.push({
        ok,
        text: `${kind}: best lag ${times(first.best.speedup)} sync (saves ${
          saved(first.savedUs)
        }/iteration) at ${varying.levelName(kind, first.level)} -> ${
          times(last.best.speedup)
        } (lag ${last.best.lag}, saves ${saved(last.savedUs)}) at ${
          varying.levelName(kind, last.level)
        }`,
      });
    }
  }
  if (outcomes.length === 0) {
    return {
      figure,
      claim,
      holds: NOT_ENOUGH,
      detail: `needs lag 0 and a lag >= 1 at two or more ${what} levels`,
    };
  }
  const held = outcomes.filter((o) => o.ok).length;
  return {
    figure,
    claim,
    holds: held === outcomes.length,
    detail: `${held} of ${outcomes.length} hold — ${outcomes.map((o) => o.text).join("; ")}`,
  };
}

/**
 * fig-hetero: lags >= 1 beat sync as the imbalance grows (per imbalance kind).
 *
 * @example Not enough data without a second imbalance level
 * ```ts
 * import { checkHetero } from "./claims.ts";
 * import { equal } from "node:assert/strict";
 * equal(checkHetero([]).holds, "not enough data");
 * ```
 *
 * @param rows The figure's rows.
 * @param minGain The gain at the largest imbalance that counts as beating sync (0.05 is 5%).
 * @returns The check.
 */
export function checkHetero(rows: readonly SummaryRow[], minGain = 0.05): ClaimCheck {
  return checkGainGrows(
    "fig-hetero",
    rows,
    {
      column: "imbalance",
      levelOf: (spec) => {
        const { kind, level } = imbalanceLevel(spec);
        return level === null ? null : { kind, level };
      },
      levelName: (kind, level) =>
        kind === "hot" ? `F=${level}` : kind === "random" ? `CV ${level}` : `${level}`,
      noneLevel: (kind) => kind === "hot" ? 1 : 0,
    },
    "imbalance",
    minGain,
  );
}

/**
 * fig-delay: lags >= 1 beat sync as the mean random delay grows (per delay distribution).
 *
 * @example Sync loses more as the delay grows
 * ```ts
 * import { checkDelay } from "./claims.ts";
 * import { equal } from "node:assert/strict";
 * const row = (lag: number, delay: string, itersPerS: number) => ({ workload: "alltoallv",
 *   transport: "tcp", ranks: 4, lag, sizeBytes: 64, imbalance: "none", delay, delayMode: "busy",
 *   iters: 100, itersPerS, samplesPerS: null, latencyP50Us: null, latencyP99Us: null,
 *   blockedP50Us: null, speedupVsSync: null, idealItersPerS: null, validated: true, figure: null,
 *   repeat: null, dataset: null, cells: { delay, lag: String(lag) } });
 * const rows = [row(0, "none", 1000), row(4, "none", 1000), row(0, "exp:2ms", 200), row(4, "exp:2ms", 400)];
 * equal(checkDelay(rows).holds, true);
 * ```
 *
 * @param rows The figure's rows.
 * @param minGain The gain at the largest delay that counts as beating sync (0.05 is 5%).
 * @returns The check.
 */
export function checkDelay(rows: readonly SummaryRow[], minGain = 0.05): ClaimCheck {
  return checkGainGrows(
    "fig-delay",
    rows,
    {
      column: "delay",
      levelOf: (spec) => {
        const kind = spec.split(":")[0];
        const level = delayMeanMs(spec);
        return level === null ? null : { kind, level };
      },
      levelName: (_kind, level) => `${Number(level.toPrecision(3))} ms`,
      noneLevel: () => 0,
    },
    "mean delay",
    minGain,
  );
}

/**
 * fig-lag: throughput does not fall as the lag grows (within `tolerance`), lags
 * help at all, and the best throughput is near the cost model's ideal where known.
 *
 * @example Growing then saturating throughput holds
 * ```ts
 * import { checkLag } from "./claims.ts";
 * import { equal } from "node:assert/strict";
 * const row = (lag: number, itersPerS: number) => ({ workload: "alltoallv", transport: "tcp",
 *   ranks: 4, lag, sizeBytes: 64, imbalance: "none", delay: "exp:2ms", delayMode: "busy",
 *   iters: 100, itersPerS, samplesPerS: null, latencyP50Us: null, latencyP99Us: null,
 *   blockedP50Us: null, speedupVsSync: null, idealItersPerS: 500, validated: true, figure: null,
 *   repeat: null, dataset: null, cells: { lag: String(lag) } });
 * equal(checkLag([row(0, 200), row(1, 350), row(4, 470), row(16, 480)]).holds, true);
 * ```
 *
 * @param rows The figure's rows.
 * @param tolerance The allowed drop between consecutive lags (0.05 is 5%).
 * @param nearIdeal The fraction of the ideal the best lag must reach (0.8 is 80%).
 * @returns The check.
 */
export function checkLag(
  rows: readonly SummaryRow[],
  tolerance = 0.05,
  nearIdeal = 0.8,
): ClaimCheck {
  const claim = `throughput non-decreasing in the lag (within ${pct(tolerance)}) until it ` +
    `saturates, the best lag at least ${pct(nearIdeal)} of the ideal`;
  const outcomes: { ok: boolean; text: string }[] = [];
  for (const group of groupByConfig(rows).values()) {
    const lags = [...group.byLag.keys()].sort((a, b) => a - b);
    if (lags.length < 3 || lags[0] !== 0) continue;
    const values = lags.map((lag) => group.byLag.get(lag)!);
    let runningMax = values[0];
    let monotone = true;
    let dropAt: number | null = null;
    values.forEach((v, i) => {
      if (v < runningMax * (1 - tolerance) && monotone) {
        monotone = false;
        dropAt = lags[i];
      }
      runningMax = Math.max(runningMax, v);
    });
    const bestIndex = values.indexOf(Math.max(...values));
    const bestLag = lags[bestIndex];
    const gain = values[bestIndex] / values[0];
    // Saturation: the first lag that reaches within `tolerance` of the best.
    const saturatesAt = lags[values.findIndex((v) => v >= values[bestIndex] * (1 - tolerance))];
    const ideal = group.idealByLag.get(bestLag);
    const idealRatio = ideal !== undefined ? values[bestIndex] / ideal : null;
    const ok = monotone && gain >= 1 + tolerance &&
      (idealRatio === null || idealRatio >= nearIdeal);
    const parts = [
      `${describeConfig(group.sample)}: lag 0 -> ${lags[lags.length - 1]} gives ${
        times(values[values.length - 1] / values[0])
      } sync`,
      monotone ? `saturates at lag ${saturatesAt}` : `drops at lag ${dropAt}`,
      idealRatio === null ? "no ideal column" : `best at ${pct(idealRatio)} of ideal`,
    ];
    outcomes.push({ ok, text: parts.join(", ") });
  }
  if (outcomes.length === 0) {
    return {
      figure: "fig-lag",
      claim,
      holds: NOT_ENOUGH,
      detail: "needs lag 0 and at least two more lags of one configuration",
    };
  }
  const held = outcomes.filter((o) => o.ok).length;
  return {
    figure: "fig-lag",
    claim,
    holds: held === outcomes.length,
    detail: `${held} of ${outcomes.length} hold — ${outcomes.map((o) => o.text).join("; ")}`,
  };
}

/**
 * fig-dlrm-balanced: no lag gains more than `tolerance` over sync on balanced DLRM runs.
 *
 * @example A 30% gain contradicts "no notable advantage"
 * ```ts
 * import { checkDlrmBalanced } from "./claims.ts";
 * import { equal } from "node:assert/strict";
 * const row = (lag: number, samplesPerS: number) => ({ workload: "dlrm", transport: "tcp",
 *   ranks: 4, lag, sizeBytes: null, imbalance: "none", delay: "none", delayMode: "busy",
 *   iters: 100, itersPerS: null, samplesPerS, latencyP50Us: null, latencyP99Us: null,
 *   blockedP50Us: null, speedupVsSync: null, idealItersPerS: null, validated: true, figure: null,
 *   repeat: null, dataset: "mini-kaggle", cells: { lag: String(lag) } });
 * equal(checkDlrmBalanced([row(0, 1000), row(2, 1300)]).holds, false);
 * ```
 *
 * @param rows The figure's rows.
 * @param tolerance The largest gain that is not notable (0.1 is 10%).
 * @returns The check.
 */
export function checkDlrmBalanced(rows: readonly SummaryRow[], tolerance = 0.1): ClaimCheck {
  const claim = `no lag gains more than ${pct(tolerance)} over sync (samples/s)`;
  const outcomes: { ok: boolean; text: string }[] = [];
  for (const group of groupByConfig(rows).values()) {
    const best = bestSpeedup(group);
    if (best === null) continue;
    outcomes.push({
      ok: best.speedup <= 1 + tolerance,
      text: `${describeConfig(group.sample)}: best lag ${best.lag} at ${times(best.speedup)} sync`,
    });
  }
  if (outcomes.length === 0) {
    return {
      figure: "fig-dlrm-balanced",
      claim,
      holds: NOT_ENOUGH,
      detail: "needs lag 0 and a lag >= 1 of one DLRM configuration",
    };
  }
  const held = outcomes.filter((o) => o.ok).length;
  return {
    figure: "fig-dlrm-balanced",
    claim,
    holds: held === outcomes.length,
    detail: `${held} of ${outcomes.length} configurations hold — ${
      outcomes.map((o) => o.text).join("; ")
    }`,
  };
}

/**
 * fig-dlrm-unbalanced: with delays, the best lag comes within `tolerance` of the
 * undelayed synchronous throughput for at least one delay (the best case: delays
 * masked), and on every unbalanced configuration the best lag is no slower than sync.
 *
 * @example Delays masked
 * ```ts
 * import { checkDlrmUnbalanced } from "./claims.ts";
 * import { equal } from "node:assert/strict";
 * const row = (lag: number, delay: string, samplesPerS: number) => ({ workload: "dlrm",
 *   transport: "tcp", ranks: 4, lag, sizeBytes: null, imbalance: "none", delay,
 *   delayMode: "busy", iters: 100, itersPerS: null, samplesPerS, latencyP50Us: null,
 *   latencyP99Us: null, blockedP50Us: null, speedupVsSync: null, idealItersPerS: null,
 *   validated: true, figure: null, repeat: null, dataset: "synthetic",
 *   cells: { delay, lag: String(lag) } });
 * const rows = [row(0, "none", 1000), row(0, "exp:2ms", 600), row(4, "exp:2ms", 950)];
 * equal(checkDlrmUnbalanced(rows).holds, true);
 * ```
 *
 * @param rows The figure's rows.
 * @param tolerance How close to the undelayed throughput counts as masked (0.1 is 10%).
 * @returns The check.
 */
export function checkDlrmUnbalanced(rows: readonly SummaryRow[], tolerance = 0.1): ClaimCheck {
  const claim = `BLS masks delays: the best lag reaches within ${pct(tolerance)} of the ` +
    `undelayed sync throughput (best case), and never loses to sync on unbalanced runs`;
  const withoutDelay = (row: SummaryRow) => configKey({ cells: { ...row.cells, delay: "" } });
  const undelayed = new Map<string, number>();
  for (const [key, group] of groupByConfig(rows.filter((r) => r.delay === "none"), withoutDelay)) {
    const sync = group.byLag.get(0);
    if (sync !== undefined) undelayed.set(key, sync);
  }
  let masked = 0;
  let delayedCompared = 0;
  let losesToSync = 0;
  const texts: string[] = [];
  for (const group of groupByConfig(rows).values()) {
    const row = group.sample;
    const unbalanced = row.delay !== "none" || row.imbalance !== "none" ||
      (row.cells["skew"] ?? "none") !== "none";
    const best = bestSpeedup(group);
    if (!unbalanced || best === null) continue;
    if (best.speedup < 1) losesToSync++;
    const reference = row.delay !== "none" ? undelayed.get(withoutDelay(row)) : undefined;
    if (reference === undefined) {
      texts.push(`${describeConfig(row)}: best lag ${best.lag} at ${times(best.speedup)} sync`);
      continue;
    }
    delayedCompared++;
    const bestValue = group.byLag.get(best.lag)!;
    const syncValue = group.byLag.get(0)!;
    const ratio = bestValue / reference;
    if (ratio >= 1 - tolerance) masked++;
    texts.push(
      `${describeConfig(row)}: sync at ${pct(syncValue / reference)}, lag ${best.lag} at ${
        pct(ratio)
      } of undelayed`,
    );
  }
  if (delayedCompared === 0) {
    return {
      figure: "fig-dlrm-unbalanced",
      claim,
      holds: NOT_ENOUGH,
      detail: "needs an undelayed lag-0 run and a delayed run with lag 0 and a lag >= 1" +
        (texts.length ? ` (measured: ${texts.join("; ")})` : ""),
    };
  }
  return {
    figure: "fig-dlrm-unbalanced",
    claim,
    holds: masked >= 1 && losesToSync === 0,
    detail: `delays masked in ${masked} of ${delayedCompared}; ` +
      `${losesToSync} unbalanced configuration(s) where BLS loses to sync — ${texts.join("; ")}`,
  };
}

/**
 * fig-scale: each lag's speedup over sync grows with the number of ranks (no step
 * down by more than `tolerance`, and larger at the most ranks than at the fewest).
 *
 * @example Growing speedup holds
 * ```ts
 * import { checkScale } from "./claims.ts";
 * import { equal } from "node:assert/strict";
 * const row = (ranks: number, speedupVsSync: number) => ({ workload: "simulated",
 *   transport: "model", ranks, lag: 4, sizeBytes: null, imbalance: "none", delay: "exp:2ms",
 *   delayMode: "sleep", iters: 1000, itersPerS: null, samplesPerS: null, latencyP50Us: null,
 *   latencyP99Us: null, blockedP50Us: null, speedupVsSync, idealItersPerS: null,
 *   validated: null, figure: null, repeat: null, dataset: null, cells: {} });
 * equal(checkScale([row(2, 1.1), row(64, 1.6), row(4096, 2.1)]).holds, true);
 * ```
 *
 * @param rows The figure's rows.
 * @param tolerance The allowed step down between consecutive rank counts (0.05 is 5%).
 * @returns The check.
 */
export function checkScale(rows: readonly SummaryRow[], tolerance = 0.05): ClaimCheck {
  const claim = "each lag's speedup over sync grows with the number of ranks";
  const series = new Map<string, { lag: number; delay: string; byRanks: Map<number, number[]> }>();
  for (const row of rows) {
    if (row.lag === 0 || row.speedupVsSync === null) continue;
    const key = `${configKey({ cells: { ...row.cells, ranks: "" } })}|lag=${row.lag}|${row.delay}`;
    let entry = series.get(key);
    if (!entry) series.set(key, entry = { lag: row.lag, delay: row.delay, byRanks: new Map() });
    entry.byRanks.set(row.ranks, [...(entry.byRanks.get(row.ranks) ?? []), row.speedupVsSync]);
  }
  const outcomes: { ok: boolean; text: string }[] = [];
  for (const { lag, delay, byRanks } of series.values()) {
    const ranks = [...byRanks.keys()].sort((a, b) => a - b);
    if (ranks.length < 2) continue;
    const values = ranks.map((r) => mean(byRanks.get(r)!));
    const noDrop = values.every((v, i) => i === 0 || v >= values[i - 1] * (1 - tolerance));
    const ok = noDrop && values[values.length - 1] > values[0];
    outcomes.push({
      ok,
      text: `lag ${lag}, delay ${delay}: ${times(values[0])} at ${ranks[0]} ranks -> ${
        times(values[values.length - 1])
      } at ${ranks[ranks.length - 1]}`,
    });
  }
  if (outcomes.length === 0) {
    return {
      figure: "fig-scale",
      claim,
      holds: NOT_ENOUGH,
      detail: "needs a lag >= 1 with a speedup at two or more rank counts",
    };
  }
  const held = outcomes.filter((o) => o.ok).length;
  return {
    figure: "fig-scale",
    claim,
    holds: held === outcomes.length,
    detail: `${held} of ${outcomes.length} lags hold — ${outcomes.map((o) => o.text).join("; ")}`,
  };
}

/**
 * Runs the check of one figure over that figure's rows, with default tolerances.
 *
 * @example No rows, not enough data
 * ```ts
 * import { checkClaim } from "./claims.ts";
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
 * import { checkClaims } from "./claims.ts";
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
