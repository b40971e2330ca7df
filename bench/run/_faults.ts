/**
 * Faults injected into a rank on purpose (`BLSBENCH_FAULT`), so that tests can
 * make a run fail at an exact place and check how it reports the failure.
 *
 * @module
 */

import { RunError } from "../../util/errors.ts";

/**
 * A fault to inject, from `BLSBENCH_FAULT` (`RANK:WHERE:ACTION`), for testing
 * how a run fails. WHERE is `join` (before the rendezvous), `config=N` (before
 * configuration N starts, counted from 1) or `config=N,iter=I` (before timed
 * iteration I of configuration N); ACTION is `kill` (SIGKILL), `abort`
 * (SIGABRT, as an out-of-memory abort), `exit` (exit 3 at once, as a crash in
 * native code), `throw` (an error in the rank) or `stop` (SIGSTOP, a hang).
 */
export interface Fault {
  /** The rank that fails. */
  rank: number;
  /** Where: `join`, or a configuration (from 1) and optionally a timed iteration. */
  at: "join" | { config: number; iter?: number };
  /** How it fails. */
  action: "kill" | "abort" | "exit" | "throw" | "stop";
}

/**
 * Parses a `BLSBENCH_FAULT` value.
 *
 * @example Kill rank 1 before iteration 5 of configuration 2
 * ```ts
 * import { parseFault } from "./_faults.ts";
 * const f = parseFault("1:config=2,iter=5:kill");
 * if (f?.rank !== 1 || f.action !== "kill") throw new Error("bad");
 * ```
 *
 * @param text The value (undefined or empty: no fault).
 * @returns The fault, or undefined.
 * @throws RunError when the value is malformed.
 */
export function parseFault(text: string | undefined): Fault | undefined {
  if (!text) return undefined;
  const m = /^(\d+):(join|config=(\d+)(?:,iter=(\d+))?):(kill|abort|exit|throw|stop)$/.exec(
    text.trim(),
  );
  if (!m) {
    throw new RunError(
      `Bad BLSBENCH_FAULT '${text}': expected RANK:join|config=N[,iter=I]:kill|abort|exit|throw|stop`,
    );
  }
  const at = m[2] === "join"
    ? "join" as const
    : { config: Number(m[3]), iter: m[4] === undefined ? undefined : Number(m[4]) };
  return { rank: Number(m[1]), at, action: m[5] as Fault["action"] };
}

/**
 * Makes this rank fail as the fault says.
 *
 * @param fault The fault.
 */
export function strike(fault: Fault): void {
  switch (fault.action) {
    case "kill":
      Deno.kill(Deno.pid, "SIGKILL");
      break;
    case "abort":
      Deno.kill(Deno.pid, "SIGABRT");
      break;
    case "stop":
      Deno.kill(Deno.pid, "SIGSTOP");
      return;
    case "exit":
      Deno.exit(3);
      break;
    case "throw":
      throw new Error("Injected fault (BLSBENCH_FAULT)");
  }
}
