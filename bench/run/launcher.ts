/**
 * The local launcher: hosts the rendezvous store, spawns one process per rank
 * (`cli.ts bench ... --launcher none` with the rank environment), forwards their
 * output, and when one fails or is killed, stops the others and reports which
 * rank failed and why. It never leaves a process behind.
 *
 * @module
 */

import { forEachLine } from "../../util/lines.ts";
import { startRendezvousStore } from "../../transports/rendezvous.ts";
import { writeFileAtomic } from "../../util/atomic.ts";
import { RunError, UsageError } from "../../util/errors.ts";

/** Options of `launchLocal`. */
export interface LaunchOptions {
  /** Number of ranks. */
  ranks: number;
  /** Arguments for `cli.ts` in every rank (e.g. `["bench", "--workload", ...]`). */
  args: string[];
  /** The run's secret (default: `BLSBENCH_TOKEN`, else a random one). */
  token?: string;
  /** Extra environment for the ranks. */
  env?: Record<string, string>;
  /** Print rank 0's standard output (default true). */
  forwardStdout?: boolean;
  /** Where rank stderr lines go (default: this process's stderr, prefixed). */
  onStderr?: (rank: number, line: string) => void;
  /** Deno permission flags for the ranks (default `-A`). */
  permissions?: string[];
  /**
   * Where to host the rendezvous store (`--master`): the ranks dial this address.
   * Default: loopback, on any free port.
   */
  master?: { hostname: string; port: number };
}

/** A rank's end. */
export interface RankExit {
  /** The rank. */
  rank: number;
  /** Exit code. */
  code: number;
  /** The signal that killed it, if any. */
  signal: Deno.Signal | null;
  /** Its last stderr lines. */
  lastLines: string[];
  /** Whether the launcher stopped it (after another rank failed, or on a signal). */
  stoppedByLauncher?: boolean;
}

const CLI_PATH = new URL("../../cli.ts", import.meta.url);
const KILL_GRACE_MS = 2000;

/**
 * A random per-run secret.
 *
 * @returns 32 hex digits.
 */
export function newToken(): string {
  return Array.from(
    crypto.getRandomValues(new Uint8Array(16)),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

/** Whether a process is stopped (SIGSTOP, a debugger); Linux only, else false. */
function isStopped(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return /\) [Tt] /.test(stat);
  } catch {
    return false;
  }
}

/** The launcher's rendezvous store, at the `--master` address when one is given. */
async function hostStore(
  token: string,
  master: LaunchOptions["master"],
): Promise<Awaited<ReturnType<typeof startRendezvousStore>>> {
  if (!master) return await startRendezvousStore({ token, hostname: "127.0.0.1" });
  try {
    return await startRendezvousStore({ token, hostname: master.hostname, port: master.port });
  } catch (e) {
    throw new UsageError(
      `The local launcher hosts the rendezvous store at --master ${master.hostname}:${master.port}, ` +
        `but cannot listen there (${(e as Error).message.split("\n")[0]}): ` +
        "give a free port of this machine, or start the ranks with '--launcher none'",
    );
  }
}

/**
 * Spawns the ranks and waits for them.
 *
 * @example Launch two ranks of a short validated run
 * ```ts ignore
 * import { launchLocal } from "./launcher.ts";
 * await launchLocal({ ranks: 2, args: ["bench", "--workload", "alltoallv", "--ranks", "2"] });
 * ```
 *
 * @param options Ranks, arguments, token, the rendezvous address.
 * @returns The exits, when every rank succeeded.
 * @throws RunError naming the rank that failed first (and how) when any fails.
 * @throws UsageError when the store cannot listen at `master`.
 */
export async function launchLocal(options: LaunchOptions): Promise<RankExit[]> {
  const token = options.token ?? Deno.env.get("BLSBENCH_TOKEN") ?? newToken();
  const store = await hostStore(token, options.master);
  const children: Deno.ChildProcess[] = [];
  const lastLines: string[][] = [];
  const exits: (RankExit | undefined)[] = new Array(options.ranks).fill(undefined);
  const stopped = new Set<number>();
  let stopping = false;

  const killAll = async () => {
    stopping = true;
    for (const [i, c] of children.entries()) {
      if (!exits[i]) {
        stopped.add(i);
        try {
          // A stopped process cannot act on SIGTERM: do not wait for it.
          c.kill(isStopped(c.pid) ? "SIGKILL" : "SIGTERM");
        } catch { /* gone */ }
      }
    }
    const timer = setTimeout(() => {
      for (const [i, c] of children.entries()) {
        if (!exits[i]) {
          try {
            c.kill("SIGKILL");
          } catch { /* gone */ }
        }
      }
    }, KILL_GRACE_MS);
    await Promise.allSettled(children.map((c) => c.status));
    clearTimeout(timer);
  };

  let interrupted: Deno.Signal | undefined;
  const onSignal = (sig: Deno.Signal) => () => {
    interrupted = sig;
    killAll();
  };
  const sigint = onSignal("SIGINT");
  const sigterm = onSignal("SIGTERM");
  Deno.addSignalListener("SIGINT", sigint);
  Deno.addSignalListener("SIGTERM", sigterm);

  try {
    const pumps: Promise<void>[] = [];
    for (let rank = 0; rank < options.ranks; rank++) {
      const cmd = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          ...(options.permissions ?? ["-A"]),
          CLI_PATH.href,
          ...options.args,
          "--launcher",
          "none",
        ],
        env: {
          ...options.env,
          RANK: String(rank),
          WORLD_SIZE: String(options.ranks),
          MASTER_ADDR: store.address.hostname,
          MASTER_PORT: String(store.address.port),
          BLSBENCH_TOKEN: token,
          BLSBENCH_STORE_EXTERNAL: "1",
          // Lets a rank notice that its launcher died and end too.
          BLSBENCH_LAUNCHER_PID: String(Deno.pid),
        },
        stdin: "null",
        stdout: rank === 0 && options.forwardStdout !== false ? "inherit" : "null",
        stderr: "piped",
      });
      const child = cmd.spawn();
      children.push(child);
      lastLines.push([]);
      pumps.push(forEachLine(child.stderr, (line) => {
        const keep = lastLines[rank];
        keep.push(line);
        if (keep.length > 20) keep.shift();
        if (options.onStderr) options.onStderr(rank, line);
        else console.error(rank === 0 ? line : `[rank ${rank}] ${line}`);
      }));
    }

    let firstFailure: Promise<void> | undefined;
    await Promise.all(children.map(async (child, rank) => {
      const status = await child.status;
      exits[rank] = {
        rank,
        code: status.code,
        signal: status.signal,
        lastLines: lastLines[rank],
        stoppedByLauncher: stopped.has(rank),
      };
      if (!status.success && !stopping) {
        // Give the other ranks a moment to report what they saw, then stop them.
        firstFailure ??= new Promise<void>((r) => setTimeout(r, 300)).then(killAll);
      }
    }));
    await firstFailure;
    await Promise.all(pumps);
  } finally {
    Deno.removeSignalListener("SIGINT", sigint);
    Deno.removeSignalListener("SIGTERM", sigterm);
    await store.close();
  }

  if (interrupted) {
    const code = interrupted === "SIGINT" ? 130 : 143;
    throw Object.assign(new RunError(`Interrupted by ${interrupted}; the ranks were stopped`), {
      exitCode: code,
    });
  }
  const done = exits as RankExit[];
  const failed = done.filter((e) => e.code !== 0);
  if (failed.length === 0) return done;
  const message = describeFailure(failed);
  await markFailed(options.args, message);
  throw new RunError(message);
}

/**
 * When rank 0 itself died, its last `run.json` still says `running`: record
 * how the run ended (the finished configurations in it are kept).
 *
 * @param args The ranks' arguments (for `--out`).
 * @param message The failure.
 */
async function markFailed(args: string[], message: string): Promise<void> {
  const i = args.lastIndexOf("--out");
  if (i < 0 || i + 1 >= args.length) return;
  const path = `${args[i + 1]}/run.json`;
  try {
    const run = JSON.parse(await Deno.readTextFile(path));
    if (run.status !== "running") return;
    run.status = "failed";
    run.error = message;
    run.endedAt = new Date().toISOString();
    await writeFileAtomic(path, JSON.stringify(run, null, 2) + "\n");
  } catch { /* no results yet, or not readable: nothing to mark */ }
}

/** The last `error:` line of a rank, without the prefix. */
function errorLine(e: RankExit): string | undefined {
  const line = [...e.lastLines].reverse().find((l) => l.startsWith("error:"));
  return line?.replace(/^error:\s*/, "");
}

/** The rank an error line blames: the last other rank it names (the root of the chain). */
function blamed(e: RankExit): number | undefined {
  const line = errorLine(e);
  if (!line) return undefined;
  let found: number | undefined;
  for (const m of line.matchAll(/\brank(?:\(s\))? (\d+(?:, \d+)*)/gi)) {
    for (const r of m[1].split(", ").map(Number)) if (r !== e.rank) found = r;
  }
  return found;
}

/** "in configuration N (...) at iteration I of T" from an error line, if there. */
function positionIn(line: string | undefined): string | undefined {
  return line ? /\b(in configuration \d+ \([^)]*\)[^:]*)/.exec(line)?.[1] : undefined;
}

/**
 * Picks the rank that failed first for the error message: one killed by a
 * signal the launcher did not send, else one that failed on its own (its error
 * names no other rank, or it left no error line), else the rank the others
 * blame (a rank that hung and did not answer), and says where the run was.
 *
 * @example A rank killed mid-run, as its peer saw it
 * ```ts
 * import { describeFailure } from "./launcher.ts";
 * const line = describeFailure([
 *   { rank: 0, code: 1, signal: null, lastLines: [
 *     "error: Rank 0 failed in configuration 2 (lag 2, 64 B) at iteration 7 of 50: Rank 1 closed the connection unexpectedly (it may have died)",
 *   ] },
 *   { rank: 1, code: 137, signal: "SIGKILL", lastLines: [] },
 * ]);
 * if (!line.startsWith("Rank 1 was killed by SIGKILL in configuration 2")) throw new Error(line);
 * ```
 *
 * @param failed The failed ranks.
 * @returns One line naming the rank, how it ended, and where the run was.
 */
export function describeFailure(failed: RankExit[]): string {
  const own = (e: RankExit) => !e.stoppedByLauncher;
  const votes = new Map<number, number>();
  for (const e of failed) {
    const b = blamed(e);
    if (b !== undefined) votes.set(b, (votes.get(b) ?? 0) + 1);
  }
  const mostBlamed = [...votes.entries()].sort((a, b) => b[1] - a[1])[0]?.[0];
  // A time-out that names no rank (the synchronous collective's) blames whoever
  // stayed silent: the rank that never reported anything and had to be stopped.
  const timedOut = (e: RankExit) => /timed out/.test(errorLine(e) ?? "");
  const silent = failed.some(timedOut)
    ? failed.find((e) => e.stoppedByLauncher && !errorLine(e))
    : undefined;
  const culprit = failed.find((e) => own(e) && e.signal) ??
    failed.find((e) => own(e) && blamed(e) === undefined && !timedOut(e)) ??
    failed.find((e) => e.rank === mostBlamed) ?? silent ?? failed[0];
  const line = errorLine(culprit);
  // Where: from the culprit itself, else from a rank that blames it.
  const witness = failed.find((e) =>
    e !== culprit && (blamed(e) === culprit.rank || (culprit === silent && timedOut(e))) &&
    positionIn(errorLine(e))
  );
  const where = positionIn(line) ?? positionIn(witness && errorLine(witness)) ??
    (failed.some((e) => positionIn(errorLine(e)))
      ? undefined
      : "while the ranks were joining the run");
  let how: string;
  if (culprit.signal && own(culprit)) how = `was killed by ${culprit.signal}`;
  else if (culprit.stoppedByLauncher) how = "did not answer (it was stopped by the launcher)";
  else how = `exited with code ${culprit.code}`;
  const said = line
    ? ` (${line})`
    : witness
    ? ` (as rank ${witness.rank} saw it: ${errorLine(witness)!.replace(/^.*?: /, "")})`
    : "";
  const others = failed.filter((e) => e !== culprit).map((e) => e.rank);
  return `Rank ${culprit.rank} ${how}${where && !positionIn(line) ? ` ${where}` : ""}${said}${
    others.length ? `; rank(s) ${others.join(", ")} stopped after it` : ""
  }`;
}
