/**
 * A rank that dies (SIGKILL, an abort, a crash) or hangs at any point of a run,
 * and a launcher interrupted by SIGINT or SIGTERM: every process ends within the
 * bound, the launcher exits with the right code and names the rank and where
 * the run was, finished configurations are kept, and nothing is left behind.
 * Faults are injected with `BLSBENCH_FAULT` so they strike at an exact place.
 */

import assert from "node:assert/strict";
import { findProcesses, waitFor } from "./_helpers/procs.ts";
import {
  benchArgs,
  lastError,
  leftBehind,
  readResults,
  startCli,
  waitEnd,
} from "./_helpers/reliability_run.ts";

/** Deadline from a rank's death to the launcher's exit (the bound). */
const DEATH_BOUND_MS = 5_000;

interface FaultCase {
  name: string;
  fault: string;
  /** What the launcher's error line must say. */
  message: RegExp;
  /** Configurations finished before the fault (rows kept in summary.csv). */
  kept: number;
  /** More flags. */
  extra?: string[];
}

const cases: FaultCase[] = [
  {
    name: "SIGKILL before the rendezvous completes",
    fault: "1:join:kill",
    message: /^error: Rank 1 was killed by SIGKILL while the ranks were joining the run/,
    kept: 0,
  },
  {
    name: "SIGKILL in the middle of an exchange",
    fault: "1:config=2,iter=15:kill",
    message:
      /^error: Rank 1 was killed by SIGKILL in configuration 2 \(lag 2, 64 B\) at iteration 1\d of 40 \(as rank \d saw it: .*Rank 1 closed the connection/,
    kept: 1,
  },
  {
    name: "SIGKILL in the middle of an exchange over Unix sockets, progress thread",
    fault: "2:config=2,iter=20:kill",
    message:
      /^error: Rank 2 was killed by SIGKILL in configuration 2 \(lag 2, 64 B\) at iteration \d+ of 40 \(as rank \d saw it: .*Rank 2 closed the connection/,
    kept: 1,
    extra: ["--transport", "unix", "--progress", "thread"],
  },
  {
    name: "SIGKILL between configurations",
    fault: "1:config=2:kill",
    message:
      /^error: Rank 1 was killed by SIGKILL in configuration [12] \(lag \d, 64 B\) (in the gather|[a-z ]*warm-up iteration \d)/,
    kept: 1,
  },
  {
    name: "SIGKILL of rank 0, which writes the results",
    fault: "0:config=2,iter=9:kill",
    message:
      /^error: Rank 0 was killed by SIGKILL in configuration 2 \(lag 2, 64 B\) at iteration \d+ of 40/,
    kept: 1,
  },
  {
    name: "an out-of-memory-like abort (SIGABRT)",
    fault: "2:config=2,iter=5:abort",
    message: /^error: Rank 2 was killed by SIGABRT in configuration 2 \(lag 2, 64 B\) at iteration/,
    kept: 1,
  },
  {
    name: "a crash that exits at once",
    fault: "1:config=1,iter=7:exit",
    message: /^error: Rank 1 exited with code 3 in configuration 1 \(lag 0, 64 B\) at iteration/,
    kept: 0,
  },
  {
    name: "an error thrown in the rank",
    fault: "1:config=2,iter=3:throw",
    message:
      /^error: Rank 1 exited with code 1 \(Rank 1 failed in configuration 2 \(lag 2, 64 B\) at iteration 3 of 40: Injected fault/,
    kept: 1,
  },
];

for (const c of cases) {
  Deno.test(`a rank dies (${c.name}): everything ends within 5 s, exit 1 naming it, results kept`, async () => {
    const out = await Deno.makeTempDir({ prefix: "blsbench-fault-" });
    try {
      const run = startCli(
        benchArgs(out, ["--ranks", "3", "--iters", "40", "--progress", "inline", ...c.extra ?? []]),
        { BLSBENCH_FAULT: c.fault },
      );
      const end = await waitEnd(run);
      assert.equal(end.code, 1, end.stderr);
      assert.match(lastError(end.stderr), c.message);
      // The death itself is not observable from here; the whole run, start-up
      // included, stays within a few seconds plus the bound.
      assert.ok(
        end.endedAt - run.startedAt < 10_000 + DEATH_BOUND_MS,
        `took ${end.endedAt - run.startedAt} ms`,
      );
      assert.deepEqual(await leftBehind(out), [], "processes left behind");
      const written = await Deno.stat(`${out}/run.json`).then(() => true, () => false);
      assert.equal(written, c.fault !== "1:join:kill", "run.json written once the run started");
      if (written) {
        const { run: info, rows } = await readResults(out);
        assert.equal(info.status, "failed");
        assert.match(info.error ?? "", /Rank \d (failed|was killed)/);
        assert.equal(rows.length, c.kept);
        if (c.kept) assert.equal(rows[0].lag, "0");
      }
    } finally {
      await leftBehind(out);
      await Deno.remove(out, { recursive: true }).catch(() => {});
    }
  });
}

Deno.test("a rank killed from outside mid-run: the launcher ends within 5 s of the kill", async () => {
  const out = await Deno.makeTempDir({ prefix: "blsbench-fault-" });
  try {
    // Ranks log their memory every 500 timed iterations: the first line from
    // rank 2 past iteration 0 says it is in the middle of the exchanges.
    let iterating: () => void;
    const midRun = new Promise<void>((r) => (iterating = r));
    const run = startCli(
      benchArgs(out, ["--ranks", "3", "--iters", "1000000", "--lag", "0,3", "--warmup", "0"]),
      { BLSBENCH_MEMORY_LOG: "500" },
      (line) => {
        if (/memory: rank 2 iteration [1-9]/.test(line)) iterating();
      },
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([midRun, new Promise((r) => (timer = setTimeout(r, 30_000)))]);
    clearTimeout(timer);
    const ranks = findProcesses(out).filter((x) => x.env.RANK !== undefined);
    assert.equal(ranks.length, 3, "three rank processes are running");
    const killedAt = Date.now();
    Deno.kill(ranks.find((p) => p.env.RANK === "2")!.pid, "SIGKILL");
    const end = await waitEnd(run);
    assert.ok(end.endedAt - killedAt < DEATH_BOUND_MS, `took ${end.endedAt - killedAt} ms`);
    assert.equal(end.code, 1);
    assert.match(
      lastError(end.stderr),
      /^error: Rank 2 was killed by SIGKILL in configuration 1 \(lag 0, 64 B\) at iteration \d+ of 1000000/,
    );
    assert.deepEqual(await leftBehind(out), []);
  } finally {
    await leftBehind(out);
    await Deno.remove(out, { recursive: true }).catch(() => {});
  }
});

Deno.test("a rank that hangs (SIGSTOP): --timeout ends the run, exit 1 naming the silent rank", async () => {
  for (
    const [fault, where] of [
      ["1:config=2,iter=10:stop", /in configuration 2 \(lag 2, 64 B\) at iteration \d+ of 40/],
      ["1:config=1,iter=10:stop", /in configuration 1 \(lag 0, 64 B\) at iteration 10 of 40/],
      ["1:join:stop", /rank\(s\) 1 did not connect|while the ranks were joining/],
    ] as const
  ) {
    const out = await Deno.makeTempDir({ prefix: "blsbench-hang-" });
    try {
      const run = startCli(
        benchArgs(out, ["--ranks", "3", "--iters", "40", "--timeout", "1"]),
        { BLSBENCH_FAULT: fault },
      );
      const end = await waitEnd(run);
      assert.equal(end.code, 1, end.stderr);
      const line = lastError(end.stderr);
      assert.match(line, /^error: Rank 1 did not answer/, line);
      assert.match(line, where);
      assert.deepEqual(await leftBehind(out), []);
    } finally {
      await leftBehind(out);
      await Deno.remove(out, { recursive: true }).catch(() => {});
    }
  }
});

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  Deno.test(`${signal} to the launcher mid-sweep: ranks stopped, finished configurations written, exit ${code}`, async () => {
    const out = await Deno.makeTempDir({ prefix: "blsbench-int-" });
    try {
      const run = startCli(
        benchArgs(out, ["--ranks", "2", "--lag", "0,1,2,3,4,5", "--iters", "400"]),
      );
      // Wait until at least one configuration is on disk, then interrupt.
      const first = await waitFor(() => {
        try {
          const text = Deno.readTextFileSync(`${out}/summary.csv`);
          return text.trim().split("\n").length >= 2 ? true : undefined;
        } catch {
          return undefined;
        }
      }, 20_000);
      assert.ok(first, "a configuration finished");
      const sentAt = Date.now();
      run.child.kill(signal);
      const end = await waitEnd(run);
      assert.equal(end.code, code, end.stderr);
      assert.ok(end.endedAt - sentAt < DEATH_BOUND_MS, `took ${end.endedAt - sentAt} ms`);
      assert.match(lastError(end.stderr), new RegExp(`^error: Interrupted by ${signal}`));
      const { run: info, rows } = await readResults(out);
      assert.equal(info.status, "interrupted");
      assert.ok(rows.length >= 1 && rows.length < 6, `${rows.length} rows`);
      assert.equal(info.configurations, rows.length);
      for (const r of rows) {
        assert.equal(r.workload, "alltoallv");
        assert.ok(Number(r.iters_per_s) > 0, "a well-formed row");
      }
      // Every row of iterations.csv belongs to a finished configuration.
      const iterLines = (await Deno.readTextFile(`${out}/iterations.csv`)).trim().split("\n");
      assert.equal(iterLines.length - 1, rows.length * 2 * 400);
      // No temporary file was left half-written.
      for await (const e of Deno.readDir(out)) assert.doesNotMatch(e.name, /\.tmp-/);
      assert.deepEqual(await leftBehind(out), []);
    } finally {
      await leftBehind(out);
      await Deno.remove(out, { recursive: true }).catch(() => {});
    }
  });
}

Deno.test("a launcher killed with SIGKILL: its ranks notice and end", async () => {
  const out = await Deno.makeTempDir({ prefix: "blsbench-orphan-" });
  try {
    const run = startCli(benchArgs(out, ["--ranks", "2", "--iters", "1000000", "--warmup", "0"]));
    const ranks = await waitFor(() => {
      const p = findProcesses(out).filter((x) => x.env.RANK !== undefined);
      return p.length === 2 ? p : undefined;
    }, 20_000);
    assert.ok(ranks);
    await new Promise((r) => setTimeout(r, 500));
    run.child.kill("SIGKILL");
    await waitEnd(run);
    const gone = await waitFor(
      () => (findProcesses(out).length === 0 ? true : undefined),
      DEATH_BOUND_MS,
    );
    assert.ok(gone, "ranks outlived their launcher");
  } finally {
    await leftBehind(out);
    await Deno.remove(out, { recursive: true }).catch(() => {});
  }
});
