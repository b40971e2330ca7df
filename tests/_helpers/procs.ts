/**
 * Finding this test run's processes through /proc (Linux), to kill a rank and to
 * check that none is left behind.
 *
 * @module
 */

/** A process whose command line contains a marker. */
export interface ProcInfo {
  /** Process id. */
  pid: number;
  /** Its environment. */
  env: Record<string, string>;
  /** Its command line. */
  cmdline: string;
}

/**
 * Lists live processes whose command line contains `marker`.
 *
 * @param marker A unique string (e.g. the results directory of the run).
 * @returns The processes.
 */
export function findProcesses(marker: string): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${e.name}/cmdline`).replaceAll("\0", " ");
      if (!cmdline.includes(marker)) continue;
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      if (/\) Z /.test(stat)) continue; // a zombie is already dead
      const env: Record<string, string> = {};
      for (const kv of Deno.readTextFileSync(`/proc/${e.name}/environ`).split("\0")) {
        const i = kv.indexOf("=");
        if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
      }
      out.push({ pid: Number(e.name), env, cmdline });
    } catch { /* gone meanwhile */ }
  }
  return out;
}

/**
 * Polls `check` every 50 ms until it returns a value or `ms` pass.
 *
 * @param check What to wait for.
 * @param ms The deadline.
 * @returns The value, or undefined on timeout.
 */
export async function waitFor<T>(check: () => T | undefined, ms: number): Promise<T | undefined> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = check();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  return undefined;
}
