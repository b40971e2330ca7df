/**
 * Runs one step of the figure suite as a subprocess (`cli.ts bench ...` or
 * `cli.ts simulate ...`), reporting bench's per-configuration lines as progress
 * and keeping the last lines of its output for the failure message.
 *
 * @module
 */

import { forEachLine } from "../../util/lines.ts";
import type { FigureStep } from "./_plan.ts";

/** How a step ended. */
export interface StepResult {
  /** Whether the subprocess exited 0. */
  ok: boolean;
  /** Its exit code (or -1 when it could not start). */
  code: number;
  /** The reason it failed: its last `error:` line, or its last lines; empty on success. */
  error: string;
  /** Wall-clock seconds. */
  seconds: number;
}

/** Options of {@link runStep}. */
export interface RunStepOptions {
  /** Called with the number of configurations done when bench prints `[i/N] ...`. */
  onConfig?: (done: number, total: number) => void;
  /** Called with every output line (stdout and stderr), e.g. for `--verbose`. */
  onLine?: (line: string) => void;
  /** Stop the step after this many seconds (default: no limit). */
  timeoutS?: number;
  /** Seconds a step stopped on timeout has to end after SIGTERM before SIGKILL (default 10). */
  graceS?: number;
  /** The `cli.ts` to run (default: this project's). */
  cli?: string | URL;
}

const CLI_PATH = new URL("../../cli.ts", import.meta.url);
const KEEP_LINES = 20;

/** Matches bench's line per finished configuration, also behind a rank prefix. */
const CONFIG_LINE = /\[(\d+)\/(\d+)\]/;

/**
 * The reason a step failed, from its last output lines: the last `error:` line
 * without the prefix, else the last non-empty line, else the exit code.
 *
 * @example An error line wins
 * ```ts
 * import { failureReason } from "./_step.ts";
 * import { equal } from "node:assert/strict";
 * equal(failureReason(["[rank 1] boom", "error: Rank 1 failed"], 1), "Rank 1 failed");
 * equal(failureReason([], 3), "exited with code 3");
 * ```
 *
 * @param lines The last lines of output.
 * @param code The exit code.
 * @returns One line.
 */
export function failureReason(lines: readonly string[], code: number): string {
  const errors = lines.map((l) => l.trim()).filter((l) => /(^|\s)error:/.test(l));
  if (errors.length > 0) {
    return errors[errors.length - 1].replace(/^.*?error:\s*/, "");
  }
  const last = [...lines].reverse().find((l) => l.trim() !== "");
  return last !== undefined ? last.trim() : `exited with code ${code}`;
}

/**
 * Runs one step and waits for it. Never throws for a failed run: the result says
 * how it ended.
 *
 * @example Run a tiny simulation
 * ```ts ignore
 * import { planFigures } from "./_plan.ts";
 * import { runStep } from "./_step.ts";
 * const [step] = planFigures({ quick: true, only: ["fig-scale"], iters: 10 }).steps;
 * const result = await runStep(step);
 * console.log(result.ok, result.seconds);
 * ```
 *
 * @param step The step.
 * @param options Progress and output callbacks, timeout.
 * @returns How it ended.
 */
export async function runStep(step: FigureStep, options: RunStepOptions = {}): Promise<StepResult> {
  const start = performance.now();
  const seconds = () => (performance.now() - start) / 1000;
  const tail: string[] = [];
  const onLine = (line: string) => {
    options.onLine?.(line);
    tail.push(line);
    if (tail.length > KEEP_LINES) tail.shift();
    const m = CONFIG_LINE.exec(line);
    if (m) options.onConfig?.(Number(m[1]), Number(m[2]));
  };
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", String(options.cli ?? CLI_PATH), ...step.args],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    return { ok: false, code: -1, error: `Could not start: ${(e as Error).message}`, seconds: 0 };
  }
  let timedOut = false;
  let killTimer: ReturnType<typeof setTimeout> | undefined;
  const kill = (signal: Deno.Signal) => {
    try {
      child.kill(signal);
    } catch { /* already gone */ }
  };
  const timer = options.timeoutS === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    // bench's launcher stops its ranks on SIGTERM; a step that ignores it is killed.
    kill("SIGTERM");
    killTimer = setTimeout(() => kill("SIGKILL"), (options.graceS ?? 10) * 1000);
  }, options.timeoutS * 1000);
  try {
    const [status] = await Promise.all([
      child.status,
      forEachLine(child.stdout, onLine),
      forEachLine(child.stderr, onLine),
    ]);
    if (timedOut) {
      return {
        ok: false,
        code: status.code,
        error: `Timed out after ${options.timeoutS} s`,
        seconds: seconds(),
      };
    }
    return {
      ok: status.success,
      code: status.code,
      error: status.success ? "" : failureReason(tail, status.code),
      seconds: seconds(),
    };
  } finally {
    clearTimeout(timer);
    clearTimeout(killTimer);
  }
}
