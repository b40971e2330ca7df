/**
 * Progress events of a `bench` run: what rank 0 tells the launcher about the
 * sweep (a configuration starts, an iteration passes, a calibration ends), one
 * line of its stderr each, encoded and decoded here only.
 *
 * @module
 */

/** One progress event. */
export type ProgressEvent =
  /** Configuration `index` (from 1) of `total` starts: `iters` timed iterations. */
  | { kind: "start"; index: number; total: number; iters: number; label: string }
  /** Timed iteration `iteration` (from 0) of the current configuration was posted. */
  | { kind: "tick"; iteration: number }
  /** Configuration `index` of `total` ended; `summary` is what it measured. */
  | { kind: "end"; index: number; total: number; summary: string };

const PREFIX = "@progress ";

/**
 * Encodes an event as one line (without the line break).
 *
 * @example A tick
 * ```ts
 * import { decodeProgress, encodeProgress } from "./progress_events.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 * const line = encodeProgress({ kind: "tick", iteration: 7 });
 * deepStrictEqual(decodeProgress(line), { kind: "tick", iteration: 7 });
 * ```
 *
 * @param event The event.
 * @returns The line.
 */
export function encodeProgress(event: ProgressEvent): string {
  return PREFIX + JSON.stringify(event);
}

/**
 * Decodes a line written by {@link encodeProgress}.
 *
 * @example Other lines are not events
 * ```ts
 * import { decodeProgress } from "./progress_events.ts";
 * import { equal } from "node:assert/strict";
 * equal(decodeProgress("[1/4] lag 0: 900 iters/s"), undefined);
 * ```
 *
 * @param line One line of rank 0's stderr.
 * @returns The event, or `undefined` when the line is not one.
 */
export function decodeProgress(line: string): ProgressEvent | undefined {
  if (!line.startsWith(PREFIX)) return undefined;
  try {
    const event = JSON.parse(line.slice(PREFIX.length)) as ProgressEvent;
    return typeof event === "object" && event !== null && "kind" in event ? event : undefined;
  } catch {
    return undefined;
  }
}
