/**
 * Delay models: how long each rank computes before it posts an iteration.
 *
 * A delay spec is parsed from this grammar (`none`, `const:2ms`,
 * `uniform:0ms:4ms`, `exp:2ms`, `lognormal:1ms:0.5`, `spike:50ms:0.05`,
 * `straggler:2ms@1`; units `us`, `ms`, `s`). Delays are drawn per rank and
 * iteration from the run's seed, so every process (and the simulator) draws the
 * same delay for the same (seed, rank, iteration) without communicating.
 *
 * @module
 */

import { randomStream } from "../../util/random.ts";

/** A delay model; all durations in microseconds. */
export type DelaySpec =
  | { kind: "none" }
  | { kind: "const"; us: number }
  | { kind: "uniform"; minUs: number; maxUs: number }
  | { kind: "exp"; meanUs: number }
  | { kind: "lognormal"; medianUs: number; sigma: number }
  | { kind: "spike"; us: number; probability: number }
  | { kind: "straggler"; us: number; rank: number }
  | { kind: "trace"; path: string; perRank: ReadonlyMap<number, Float64Array> };

/** How a delay is spent: `busy` burns CPU like real compute, `sleep` waits idle. */
export type DelayMode = "busy" | "sleep";

// Names the delay streams apart from other users of the same seed (ASCII "dela").
const DELAY_STREAM = 0x64656c61;

const UNIT_US: Record<string, number> = { us: 1, "µs": 1, ms: 1_000, s: 1_000_000 };

function parseDuration(part: string, text: string): number {
  const match = /^(\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?(us|µs|ms|s)?$/i.exec(part.trim());
  if (!match) {
    throw new SyntaxError(`Delay '${text}' has a bad duration '${part}': expected e.g. 2ms`);
  }
  const unit = match[2]?.toLowerCase();
  if (unit === undefined) {
    throw new SyntaxError(`Delay '${text}' has a duration '${part}' without a unit (us, ms or s)`);
  }
  const value = Number(part.trim().slice(0, part.trim().length - unit.length));
  const us = value * UNIT_US[unit];
  if (!Number.isFinite(us)) {
    throw new SyntaxError(`Delay '${text}' has a duration that is too large`);
  }
  return us;
}

/**
 * Parses a duration of the delay grammar (`250us`, `2ms`, `1.5s`).
 *
 * @example Two milliseconds
 * ```ts
 * import { parseDurationUs } from "@blsbench/core/bench";
 * import { equal } from "node:assert/strict";
 * equal(parseDurationUs("2ms"), 2000);
 * ```
 *
 * @param text The duration.
 * @returns Microseconds.
 * @throws SyntaxError when the text is not a duration with a unit.
 */
export function parseDurationUs(text: string): number {
  return parseDuration(text, text);
}

function parseNumber(part: string, what: string, text: string, max = Infinity): number {
  const trimmed = part.trim();
  const value = Number(trimmed);
  if (trimmed === "" || !Number.isFinite(value) || value < 0 || value > max) {
    const range = max === Infinity ? "a non-negative number" : `a number from 0 to ${max}`;
    throw new SyntaxError(`Delay '${text}' has a bad ${what} '${part}': expected ${range}`);
  }
  return value;
}

function expectParts(parts: string[], count: number, form: string, text: string): void {
  if (parts.length !== count) {
    throw new SyntaxError(`Delay '${text}' does not match the form '${form}'`);
  }
}

/**
 * Parses a delay spec such as `exp:2ms` or `straggler:5ms@1`.
 *
 * @example Parse an exponential delay
 * ```ts
 * import { parseDelaySpec } from "@blsbench/core/bench";
 * const spec = parseDelaySpec("exp:2ms");
 * if (spec.kind !== "exp" || spec.meanUs !== 2000) throw new Error("unexpected");
 * ```
 *
 * @param text The spec text.
 * @returns The parsed spec.
 * @throws SyntaxError when the text does not follow the grammar.
 */
export function parseDelaySpec(text: string): DelaySpec {
  const trimmed = text.trim();
  if (trimmed.toLowerCase().startsWith("trace:")) {
    const path = trimmed.slice("trace:".length);
    if (path === "") throw new SyntaxError(`Delay '${text}' does not match the form 'trace:FILE'`);
    return { kind: "trace", path, perRank: readDelayTrace(path) };
  }
  const parts = trimmed.split(":");
  const kind = parts[0].toLowerCase();
  switch (kind) {
    case "none":
      expectParts(parts, 1, "none", text);
      return { kind: "none" };
    case "const":
      expectParts(parts, 2, "const:DURATION", text);
      return { kind: "const", us: parseDuration(parts[1], text) };
    case "uniform": {
      expectParts(parts, 3, "uniform:MIN:MAX", text);
      const minUs = parseDuration(parts[1], text);
      const maxUs = parseDuration(parts[2], text);
      if (minUs > maxUs) throw new SyntaxError(`Delay '${text}' has a minimum above its maximum`);
      return { kind: "uniform", minUs, maxUs };
    }
    case "exp":
      expectParts(parts, 2, "exp:MEAN", text);
      return { kind: "exp", meanUs: parseDuration(parts[1], text) };
    case "lognormal":
      expectParts(parts, 3, "lognormal:MEDIAN:SIGMA", text);
      return {
        kind: "lognormal",
        medianUs: parseDuration(parts[1], text),
        sigma: parseNumber(parts[2], "sigma", text),
      };
    case "spike":
      expectParts(parts, 3, "spike:DURATION:PROBABILITY", text);
      return {
        kind: "spike",
        us: parseDuration(parts[1], text),
        probability: parseNumber(parts[2], "probability", text, 1),
      };
    case "straggler": {
      expectParts(parts, 2, "straggler:DURATION@RANK", text);
      const at = parts[1].split("@");
      if (at.length !== 2) {
        throw new SyntaxError(`Delay '${text}' does not match the form 'straggler:DURATION@RANK'`);
      }
      const rankText = at[1].trim();
      if (!/^\d+$/.test(rankText) || !Number.isSafeInteger(Number(rankText))) {
        throw new SyntaxError(`Delay '${text}' has a bad rank '${at[1]}': expected a whole number`);
      }
      return { kind: "straggler", us: parseDuration(at[0], text), rank: Number(rankText) };
    }
    default:
      throw new SyntaxError(
        `Unknown delay '${text}': expected none, const, uniform, exp, lognormal, spike, straggler or trace`,
      );
  }
}

function formatDuration(us: number): string {
  // Pick the largest unit that represents the value exactly, so parsing gives it back.
  if (us !== 0 && Number.isInteger(us / 1_000_000) && (us / 1_000_000) * 1_000_000 === us) {
    return `${us / 1_000_000}s`;
  }
  if (us !== 0 && Number.isInteger(us / 1_000) && (us / 1_000) * 1_000 === us) {
    return `${us / 1_000}ms`;
  }
  return `${us}us`;
}

/**
 * Formats a delay spec as its canonical text; `parseDelaySpec` gives the same spec back.
 *
 * @example Round trip
 * ```ts
 * import { formatDelaySpec, parseDelaySpec } from "@blsbench/core/bench";
 * const text = formatDelaySpec(parseDelaySpec("spike:50000us:0.05"));
 * if (text !== "spike:50ms:0.05") throw new Error(text);
 * ```
 *
 * @param spec The spec.
 * @returns The canonical text.
 */
export function formatDelaySpec(spec: DelaySpec): string {
  switch (spec.kind) {
    case "none":
      return "none";
    case "const":
      return `const:${formatDuration(spec.us)}`;
    case "uniform":
      return `uniform:${formatDuration(spec.minUs)}:${formatDuration(spec.maxUs)}`;
    case "exp":
      return `exp:${formatDuration(spec.meanUs)}`;
    case "lognormal":
      return `lognormal:${formatDuration(spec.medianUs)}:${spec.sigma}`;
    case "spike":
      return `spike:${formatDuration(spec.us)}:${spec.probability}`;
    case "straggler":
      return `straggler:${formatDuration(spec.us)}@${spec.rank}`;
    case "trace":
      return `trace:${spec.path}`;
  }
}

/**
 * Reads a delay trace: a CSV of `rank,iter,delay_us` (a header line of those
 * names is optional; blank lines and lines starting with `#` are skipped).
 * Each rank's iterations must run 0, 1, ... without gaps or repeats; a rank's
 * trace cycles when the run is longer.
 *
 * @example A two-rank trace
 * ```ts
 * import { readDelayTrace } from "@blsbench/core/bench";
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, "rank,iter,delay_us\n0,0,100\n1,0,0\n0,1,250\n1,1,5\n");
 * const trace = readDelayTrace(path);
 * if (trace.get(0)?.[1] !== 250) throw new Error("wrong delay");
 * ```
 *
 * @param path The file.
 * @returns Per rank, the delays by iteration, in microseconds.
 * @throws SyntaxError naming FILE:LINE for a malformed line, or the rank whose iterations have a gap.
 */
export function readDelayTrace(path: string): Map<number, Float64Array> {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (e) {
    throw new SyntaxError(`Cannot read the delay trace ${path}: ${(e as Error).message}`);
  }
  const rows = new Map<number, Map<number, number>>();
  const lines = text.split("\n");
  // A header is allowed as the first line that is not blank or a comment.
  let started = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === "" || line.startsWith("#")) continue;
    const cells = line.split(",").map((c) => c.trim());
    if (!started && cells.join(",").toLowerCase() === "rank,iter,delay_us") {
      started = true;
      continue;
    }
    started = true;
    const where = `${path}:${i + 1}`;
    if (cells.length !== 3) {
      throw new SyntaxError(`${where}: expected rank,iter,delay_us, got '${line}'`);
    }
    const [rank, iter, us] = cells.map(Number);
    if (!/^\d+$/.test(cells[0]) || !Number.isSafeInteger(rank)) {
      throw new SyntaxError(`${where}: rank '${cells[0]}' is not a whole number`);
    }
    if (!/^\d+$/.test(cells[1]) || !Number.isSafeInteger(iter)) {
      throw new SyntaxError(`${where}: iter '${cells[1]}' is not a whole number`);
    }
    if (cells[2] === "" || !Number.isFinite(us) || us < 0) {
      throw new SyntaxError(`${where}: delay_us '${cells[2]}' is not a number >= 0`);
    }
    let byIter = rows.get(rank);
    if (!byIter) rows.set(rank, byIter = new Map());
    if (byIter.has(iter)) {
      throw new SyntaxError(`${where}: rank ${rank} has iteration ${iter} twice`);
    }
    byIter.set(iter, us);
  }
  if (rows.size === 0) throw new SyntaxError(`The delay trace ${path} has no delays`);
  const perRank = new Map<number, Float64Array>();
  for (const [rank, byIter] of rows) {
    const delays = new Float64Array(byIter.size);
    for (let t = 0; t < delays.length; t++) {
      const us = byIter.get(t);
      if (us === undefined) {
        throw new SyntaxError(`The delay trace ${path} has no iteration ${t} for rank ${rank}`);
      }
      delays[t] = us;
    }
    perRank.set(rank, delays);
  }
  return perRank;
}

/**
 * Writes the delays a spec draws for `ranks` ranks and `iters` iterations as a
 * trace that `trace:FILE` replays (`rank,iter,delay_us`, whole microseconds
 * rounded to 0.001).
 *
 * @example Record and replay
 * ```ts
 * import { delayTraceCsv, drawDelayUs, parseDelaySpec } from "@blsbench/core/bench";
 * const spec = parseDelaySpec("exp:1ms");
 * const path = await Deno.makeTempFile({ suffix: ".csv" });
 * await Deno.writeTextFile(path, delayTraceCsv(spec, 1, 2, 3));
 * const replay = parseDelaySpec(`trace:${path}`);
 * const d = Math.abs(drawDelayUs(replay, 9, 1, 2) - drawDelayUs(spec, 1, 1, 2));
 * if (d > 0.001) throw new Error("not the same delay");
 * ```
 *
 * @param spec The delay model.
 * @param seed The seed of the draws.
 * @param ranks Ranks.
 * @param iters Iterations.
 * @returns The CSV text.
 */
export function delayTraceCsv(spec: DelaySpec, seed: number, ranks: number, iters: number): string {
  const lines = ["rank,iter,delay_us"];
  for (let p = 0; p < ranks; p++) {
    for (let t = 0; t < iters; t++) {
      lines.push(`${p},${t},${Math.round(drawDelayUs(spec, seed, p, t) * 1000) / 1000}`);
    }
  }
  return lines.join("\n") + "\n";
}

/**
 * Checks that a spec makes sense for a run of `ranks` ranks (a straggler must be one of them).
 *
 * @example A straggler outside the run
 * ```ts
 * import { checkDelaySpec, parseDelaySpec } from "@blsbench/core/bench";
 * let failed = false;
 * try {
 *   checkDelaySpec(parseDelaySpec("straggler:1ms@4"), 4);
 * } catch (e) {
 *   failed = e instanceof RangeError;
 * }
 * if (!failed) throw new Error("expected a RangeError");
 * ```
 *
 * @param spec The spec.
 * @param ranks The number of ranks of the run.
 * @throws RangeError when the straggler rank is not below `ranks`.
 */
export function checkDelaySpec(spec: DelaySpec, ranks: number): void {
  if (spec.kind === "straggler" && spec.rank >= ranks) {
    throw new RangeError(
      `Delay straggler rank ${spec.rank} is outside the run's ranks 0 to ${ranks - 1}`,
    );
  }
  if (spec.kind === "trace") {
    for (let p = 0; p < ranks; p++) {
      if (!spec.perRank.has(p)) {
        throw new RangeError(`The delay trace ${spec.path} has no delays for rank ${p}`);
      }
    }
  }
}

/**
 * Draws the delay of one rank in one iteration. The value depends only on
 * (spec, seed, rank, iter), so every process and the simulator agree on it.
 *
 * Distributions: `uniform` is uniform on [min, max); `exp` exponential with the
 * given mean; `lognormal` is median * exp(sigma * Z) with Z standard normal;
 * `spike` is the duration with the given probability, else 0; `straggler` is the
 * duration on its rank and 0 on every other rank.
 *
 * @example Deterministic draws
 * ```ts
 * import { drawDelayUs, parseDelaySpec } from "@blsbench/core/bench";
 * const spec = parseDelaySpec("exp:2ms");
 * if (drawDelayUs(spec, 7, 1, 3) !== drawDelayUs(spec, 7, 1, 3)) throw new Error("differs");
 * ```
 *
 * @param spec The delay model.
 * @param seed The run's seed.
 * @param rank The rank.
 * @param iter The iteration (0-based, counting warmup iterations too).
 * @returns The delay in microseconds, >= 0.
 */
export function drawDelayUs(spec: DelaySpec, seed: number, rank: number, iter: number): number {
  switch (spec.kind) {
    case "none":
      return 0;
    case "const":
      return spec.us;
    case "straggler":
      return rank === spec.rank ? spec.us : 0;
    case "uniform":
      return spec.minUs +
        (spec.maxUs - spec.minUs) * randomStream(seed, DELAY_STREAM, rank, iter).float();
    case "exp":
      return randomStream(seed, DELAY_STREAM, rank, iter).exponential(spec.meanUs);
    case "lognormal":
      return spec.medianUs *
        Math.exp(spec.sigma * randomStream(seed, DELAY_STREAM, rank, iter).normal());
    case "spike":
      return randomStream(seed, DELAY_STREAM, rank, iter).float() < spec.probability ? spec.us : 0;
    case "trace": {
      // Recorded delays replay as they were; a shorter trace cycles.
      const delays = spec.perRank.get(rank);
      if (!delays) {
        throw new RangeError(`The delay trace ${spec.path} has no delays for rank ${rank}`);
      }
      return delays[iter % delays.length];
    }
  }
}

/**
 * The expected delay per rank and iteration, averaged over the ranks (exact, analytical).
 *
 * @example Mean of a lognormal delay
 * ```ts
 * import { meanDelayUs, parseDelaySpec } from "@blsbench/core/bench";
 * const mean = meanDelayUs(parseDelaySpec("lognormal:1ms:0.5"), 4);
 * if (Math.abs(mean - 1000 * Math.exp(0.125)) > 1e-9) throw new Error(String(mean));
 * ```
 *
 * @param spec The delay model.
 * @param ranks The number of ranks (matters for `straggler` only).
 * @returns The mean delay in microseconds.
 */
export function meanDelayUs(spec: DelaySpec, ranks: number): number {
  switch (spec.kind) {
    case "none":
      return 0;
    case "const":
      return spec.us;
    case "uniform":
      return (spec.minUs + spec.maxUs) / 2;
    case "exp":
      return spec.meanUs;
    case "lognormal":
      return spec.medianUs * Math.exp(spec.sigma * spec.sigma / 2);
    case "spike":
      return spec.us * spec.probability;
    case "straggler":
      return spec.rank < ranks ? spec.us / ranks : 0;
    case "trace": {
      let sum = 0;
      for (let p = 0; p < ranks; p++) {
        const delays = spec.perRank.get(p);
        if (delays && delays.length > 0) sum += delays.reduce((a, b) => a + b, 0) / delays.length;
      }
      return sum / ranks;
    }
  }
}

// setTimeout fires about 1.1 ms late on Linux (measured with Deno 2.9), so a sleep
// hands the timer all but this margin and waits out the rest precisely.
const TIMER_MARGIN_US = 2_000;
let waitCell: Int32Array | undefined;

function waitIdleUntil(deadlineMs: number): void {
  // Atomics.wait on a cell nobody notifies: the thread sleeps in the kernel and
  // wakes within ~0.1 ms of the deadline, without burning CPU.
  waitCell ??= new Int32Array(new SharedArrayBuffer(4));
  for (let left = deadlineMs - performance.now(); left > 0; left = deadlineMs - performance.now()) {
    Atomics.wait(waitCell, 0, 0, left);
  }
}

/**
 * Spends a delay, before a rank posts its iteration.
 *
 * - `busy` spins on `performance.now()` without yielding, like compute: the
 *   event loop does not run meanwhile.
 * - `sleep` waits idle: the whole milliseconds that lie at least 2 ms before the
 *   deadline are slept with `setTimeout` (the event loop runs), and the rest
 *   (at most about 3 ms) with `Atomics.wait`, which is idle and precise to about
 *   0.1 ms but blocks this thread's event loop. Plain `setTimeout` alone would
 *   overshoot every delay by about 1 ms.
 *
 * @example Sleep 1 ms
 * ```ts
 * import { applyDelay } from "@blsbench/core/bench";
 * const spent = await applyDelay(1000, "sleep");
 * if (spent < 1000) throw new Error(`woke early: ${spent} us`);
 * ```
 *
 * @param us The delay in microseconds (<= 0 returns at once).
 * @param mode How to spend it.
 * @returns The microseconds actually spent.
 */
export async function applyDelay(us: number, mode: DelayMode): Promise<number> {
  const start = performance.now();
  if (!(us > 0)) return 0;
  const deadline = start + us / 1000;
  if (mode === "busy") {
    while (performance.now() < deadline) {
      // Spin: the point is to occupy the CPU.
    }
  } else {
    const timerMs = Math.floor((us - TIMER_MARGIN_US) / 1000);
    if (timerMs > 0) await new Promise((resolve) => setTimeout(resolve, timerMs));
    waitIdleUntil(deadline);
  }
  return (performance.now() - start) * 1000;
}
