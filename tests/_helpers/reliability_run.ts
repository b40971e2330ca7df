/**
 * Helpers of the reliability tests: run `cli.ts bench` as a launcher or as one
 * hand-started rank, time it, read its results, and make sure no process of it
 * is left behind.
 *
 * @module
 */

import { findProcesses, waitFor } from "./procs.ts";

/** The command line's path. */
export const CLI = new URL("../../cli.ts", import.meta.url).pathname;

/** A running `cli.ts` process. */
export interface Running {
  /** The child. */
  child: Deno.ChildProcess;
  /** Everything it wrote to stderr, once it ended. */
  stderr: Promise<string>;
  /** When it was started (ms since the epoch). */
  startedAt: number;
}

/** How a process ended. */
export interface Ended {
  /** Exit code. */
  code: number;
  /** Its stderr. */
  stderr: string;
  /** When it ended (ms since the epoch). */
  endedAt: number;
}

/**
 * Starts `cli.ts` with the given arguments.
 *
 * @param args Arguments after `cli.ts`.
 * @param env Extra environment.
 * @param onLine Called with each stderr line as it comes.
 * @returns The running process.
 */
export function startCli(
  args: string[],
  env: Record<string, string> = {},
  onLine?: (line: string) => void,
): Running {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, ...args],
    env,
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = (async () => {
    let text = "";
    let carry = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      const lines = (carry + chunk).split("\n");
      carry = lines.pop()!;
      for (const l of lines) onLine?.(l);
    }
    if (carry) onLine?.(carry);
    return text;
  })();
  return { child, stderr, startedAt: Date.now() };
}

/**
 * Waits for a process to end, killing it after `ms` (a test never hangs).
 *
 * @param run The process.
 * @param ms The deadline.
 * @returns How it ended.
 */
export async function waitEnd(run: Running, ms = 30_000): Promise<Ended> {
  const timer = setTimeout(() => {
    try {
      run.child.kill("SIGKILL");
    } catch { /* gone */ }
  }, ms);
  const status = await run.child.status;
  const endedAt = Date.now();
  clearTimeout(timer);
  return { code: status.code, stderr: await run.stderr, endedAt };
}

/**
 * The last `error:` line of some stderr text.
 *
 * @param stderr The text.
 * @returns The line, or "".
 */
export function lastError(stderr: string): string {
  return stderr.split("\n").filter((l) => l.startsWith("error:")).at(-1) ?? "";
}

/**
 * Waits up to 3 s for every process whose command line holds `marker` to be
 * gone, then kills what is left (so later tests start clean).
 *
 * @param marker A string unique to the run (its results directory).
 * @returns The pids that were still there after 3 s.
 */
export async function leftBehind(marker: string): Promise<number[]> {
  await waitFor(() => (findProcesses(marker).length === 0 ? true : undefined), 3000);
  const left = findProcesses(marker);
  for (const p of left) {
    try {
      Deno.kill(p.pid, "SIGKILL");
    } catch { /* gone */ }
  }
  return left.map((p) => p.pid);
}

/** `run.json` as the tests read it. */
export interface RunJson {
  /** How the run ended. */
  status: string;
  /** The error, if any. */
  error?: string;
  /** Finished configurations. */
  configurations: number;
}

/**
 * Reads a results directory: `run.json` and the rows of `summary.csv`.
 *
 * @param dir The directory.
 * @returns The run record and the summary rows as objects.
 */
export async function readResults(
  dir: string,
): Promise<{ run: RunJson; rows: Record<string, string>[] }> {
  const run = JSON.parse(await Deno.readTextFile(`${dir}/run.json`)) as RunJson;
  const lines = (await Deno.readTextFile(`${dir}/summary.csv`)).trim().split("\n");
  const head = lines[0].split(",");
  const rows = lines.slice(1).map((l) => {
    const cells = l.split(",");
    return Object.fromEntries(head.map((h, i) => [h, cells[i]]));
  });
  return { run, rows };
}

/**
 * A TCP port that was free a moment ago on `hostname`.
 *
 * @param hostname The address.
 * @returns The port.
 */
export function freePort(hostname = "127.0.0.1"): number {
  const l = Deno.listen({ hostname, port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * Arguments of a short alltoallv sweep.
 *
 * @param out The results directory.
 * @param extra More flags.
 * @returns The `bench` arguments.
 */
export function benchArgs(out: string, extra: string[] = []): string[] {
  return [
    "bench",
    "--workload",
    "alltoallv",
    "--sizes",
    "64:64",
    "--lag",
    "0,2",
    "--warmup",
    "2",
    "--out",
    out,
    ...extra,
  ];
}
