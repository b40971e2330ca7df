import assert from "node:assert/strict";
import { findProcesses, waitFor } from "./_helpers/procs.ts";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

Deno.test("a rank killed with SIGKILL makes the launcher exit 1 within seconds, naming it, leaving no process", async () => {
  const out = await Deno.makeTempDir({ prefix: "blsbench-kill-" });
  const launcher = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      CLI,
      "bench",
      "--workload",
      "alltoallv",
      "--ranks",
      "3",
      "--sizes",
      "1024:1024",
      "--lag",
      "0",
      "--iters",
      "1000000",
      "--warmup",
      "0",
      "--out",
      out,
      "--progress",
      "inline",
    ],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderrText = new Response(launcher.stderr).text();
  try {
    const ranks = await waitFor(() => {
      const p = findProcesses(out).filter((x) => x.env.RANK !== undefined);
      return p.length === 3 ? p : undefined;
    }, 20_000);
    assert.ok(ranks, "three rank processes started");
    await new Promise((r) => setTimeout(r, 1500)); // let them join and start iterating
    const victim = ranks.find((p) => p.env.RANK === "1")!;
    const killedAt = Date.now();
    Deno.kill(victim.pid, "SIGKILL");
    const status = await launcher.status;
    const elapsed = Date.now() - killedAt;
    const stderr = await stderrText;
    assert.equal(status.code, 1);
    assert.ok(elapsed < 5000, `launcher took ${elapsed} ms`);
    const errorLine = stderr.split("\n").filter((l) => l.startsWith("error:")).at(-1) ?? "";
    assert.match(errorLine, /Rank 1 was killed by SIGKILL/);
    const left = await waitFor(() => (findProcesses(out).length === 0 ? true : undefined), 3000);
    assert.ok(left, `processes left behind: ${findProcesses(out).map((p) => p.pid).join(", ")}`);
  } finally {
    for (const p of findProcesses(out)) {
      try {
        Deno.kill(p.pid, "SIGKILL");
      } catch { /* gone */ }
    }
    await Deno.remove(out, { recursive: true }).catch(() => {});
  }
});
