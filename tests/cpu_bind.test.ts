import assert from "node:assert/strict";
import { findProcesses, waitFor } from "./_helpers/procs.ts";
import { benchArgs, leftBehind, startCli, waitEnd } from "./_helpers/reliability_run.ts";

/** The CPUs a process may run on, as /proc lists them (e.g. "0" or "0-1"). */
function allowedCpus(pid: number): string {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return /Cpus_allowed_list:\s*(\S+)/.exec(status)?.[1] ?? "";
}

async function ranksCpus(bind: "core" | "none"): Promise<Map<number, string>> {
  const out = await Deno.makeTempDir({ prefix: "blsbench-bind-" });
  try {
    const run = startCli(
      benchArgs(out, ["--ranks", "2", "--iters", "1000000", "--warmup", "0", "--cpu-bind", bind]),
    );
    const ranks = await waitFor(() => {
      const p = findProcesses(out).filter((x) => x.env.RANK !== undefined);
      return p.length === 2 ? p : undefined;
    }, 20_000);
    assert.ok(ranks, "the ranks did not start");
    // Binding happens as a rank starts its run: wait until both are exchanging.
    await new Promise((r) => setTimeout(r, 1500));
    const cpus = new Map(ranks.map((p) => [Number(p.env.RANK), allowedCpus(p.pid)]));
    run.child.kill("SIGTERM");
    await waitEnd(run);
    return cpus;
  } finally {
    await leftBehind(out);
    await Deno.remove(out, { recursive: true }).catch(() => {});
  }
}

Deno.test({
  name: "--cpu-bind core puts rank r on CPU r mod the CPU count; none leaves them to the OS",
  ignore: navigator.hardwareConcurrency < 2,
  async fn() {
    const bound = await ranksCpus("core");
    assert.equal(bound.get(0), "0");
    assert.equal(bound.get(1), "1");
    const free = await ranksCpus("none");
    const all = allowedCpus(Deno.pid);
    assert.equal(free.get(0), all);
    assert.equal(free.get(1), all);
  },
});
