import assert from "node:assert/strict";
import { planFigures } from "../bench/figures/_plan.ts";
import { runStep } from "../bench/figures/_step.ts";

/** A stand-in for `cli.ts` that behaves as its first argument says. */
const SCRIPT = `
const [how] = Deno.args;
if (how === "progress") {
  console.error("[1/3] lag 0: 10 iters/s");
  console.error("[2/3] lag 1: 12 iters/s");
  console.log("[rank 1] something went wrong");
  console.error("error: Rank 1 failed in configuration 3 (lag 2): boom");
  Deno.exit(1);
}
if (how === "ok") Deno.exit(0);
if (how === "stubborn") Deno.addSignalListener("SIGTERM", () => console.error("ignoring SIGTERM"));
setTimeout(() => {}, 60_000);
`;

async function withScript(body: (cli: string) => Promise<void>): Promise<void> {
  const cli = await Deno.makeTempFile({ suffix: ".ts" });
  try {
    await Deno.writeTextFile(cli, SCRIPT);
    await body(cli);
  } finally {
    await Deno.remove(cli);
  }
}

const [step] = planFigures({ quick: true, only: ["fig-scale"] }).steps;

Deno.test("figure step: progress lines are counted, the last error line is the reason", async () => {
  await withScript(async (cli) => {
    const done: [number, number][] = [];
    const lines: string[] = [];
    const result = await runStep({ ...step, args: ["progress"] }, {
      cli,
      onConfig: (i, n) => done.push([i, n]),
      onLine: (l) => lines.push(l),
    });
    assert.deepEqual(done, [[1, 3], [2, 3]]);
    assert.equal(result.ok, false);
    assert.equal(result.code, 1);
    assert.equal(result.error, "Rank 1 failed in configuration 3 (lag 2): boom");
    assert.equal(lines.length, 4);
    const ok = await runStep({ ...step, args: ["ok"] }, { cli });
    assert.deepEqual([ok.ok, ok.code, ok.error], [true, 0, ""]);
  });
});

Deno.test("figure step: a step that hangs is stopped at its timeout, and killed if it ignores SIGTERM", async () => {
  await withScript(async (cli) => {
    const hung = await runStep({ ...step, args: ["hang"] }, { cli, timeoutS: 1 });
    assert.equal(hung.ok, false);
    assert.equal(hung.error, "Timed out after 1 s");
    assert.ok(hung.seconds < 30, `took ${hung.seconds} s`);
    const stubborn = await runStep({ ...step, args: ["stubborn"] }, {
      cli,
      timeoutS: 1,
      graceS: 1,
    });
    assert.equal(stubborn.ok, false);
    assert.equal(stubborn.error, "Timed out after 1 s");
    assert.ok(stubborn.seconds < 30, `took ${stubborn.seconds} s`);
  });
});
