/** The figure suite's plan: which runs make each figure, quick against full. */

import { deepStrictEqual, equal, ok, throws } from "node:assert/strict";
import { type FigureStep, planFigures, stepCommandLine } from "../bench/figures/figures.ts";
import { FIGURE_IDS } from "../bench/paper/figures.ts";
import { parseDelaySpec } from "../bench/models/delay.ts";
import { parseImbalanceSpec } from "../bench/models/imbalance.ts";

/** The value after a flag, or undefined. */
function flag(step: FigureStep, name: string): string | undefined {
  const i = step.args.indexOf(name);
  return i < 0 ? undefined : step.args[i + 1];
}

function lagsOf(step: FigureStep): number[] {
  return flag(step, "--lag")!.split(",").map(Number);
}

function itersOf(step: FigureStep): number {
  return Number(flag(step, "--iters") ?? 1000);
}

for (const quick of [true, false]) {
  const name = quick ? "quick" : "full";
  Deno.test(`figures plan (${name}): every figure, tagged runs into their own directories`, () => {
    const plan = planFigures({ quick, out: "out/figs", cpus: 2 });
    deepStrictEqual(plan.figures, [...FIGURE_IDS]);
    deepStrictEqual(new Set(plan.steps.map((s) => s.figure)), new Set(FIGURE_IDS));
    const dirs = plan.steps.map((s) => s.dir);
    equal(new Set(dirs).size, dirs.length, "one directory per run");
    for (const step of plan.steps) {
      equal(step.dir, `out/figs/${step.figure}/${step.name}`);
      equal(flag(step, "--out"), step.dir);
      equal(step.args[0], step.command);
      ok(step.configs >= 1);
      ok(stepCommandLine(step).startsWith(`deno run -A cli.ts ${step.command} `));
      if (step.command === "bench") {
        equal(flag(step, "--figure"), step.figure, stepCommandLine(step));
        equal(flag(step, "--workload"), step.workload);
        equal(flag(step, "--transport"), "tcp");
        equal(Number(flag(step, "--ranks")), step.ranks);
        equal(step.oversubscribed, step.ranks! > 2);
        equal(lagsOf(step)[0], 0, "the synchronous baseline runs in every run");
        equal(Number(flag(step, "--repeat")), quick ? 1 : 3);
        // Every spec the plan writes is one bench accepts.
        const delay = flag(step, "--delay");
        if (delay) parseDelaySpec(delay);
        const imbalance = flag(step, "--imbalance");
        if (imbalance) parseImbalanceSpec(imbalance);
      } else {
        equal(step.figure, "fig-scale");
        equal(flag(step, "--ranks"), "2:65536");
        equal(step.oversubscribed, false);
      }
    }
  });
}

Deno.test("figures plan: each figure's runs fit what its chart plots", () => {
  const plan = planFigures({ cpus: 2 });
  const of = (id: string) => plan.steps.filter((s) => s.figure === id);

  // fig-balanced: 8 B to 1 MiB, one run per size in full (two sweeps in quick), at both rank
  // counts, lags 0..8, no delay, no imbalance.
  const balanced = of("fig-balanced");
  const sizes = (r: number) =>
    balanced.filter((s) => s.ranks === r).map((s) => flag(s, "--sizes")!.split(":").map(Number));
  for (const r of [2, 4]) {
    const list = sizes(r);
    ok(list.every(([min, max]) => min === max));
    equal(list[0][0], 8);
    equal(list.at(-1)![0], 1 << 20);
    ok(list.length >= 8);
  }
  deepStrictEqual(lagsOf(balanced[0]), [0, 1, 2, 4, 8]);
  ok(balanced.every((s) => !flag(s, "--delay") && !flag(s, "--imbalance")));
  deepStrictEqual(
    planFigures({ quick: true, only: ["fig-balanced"] }).steps.map((s) => flag(s, "--sizes")),
    ["8:8192", "16384:1048576"],
  );

  // fig-hetero: hot factors 2..16 and random CVs up to 2, each beside an unimbalanced base
  // of the same ranks; no hot rank at 2 ranks (every block touches it there).
  const hetero = of("fig-hetero");
  const specs = (r: number) =>
    hetero.filter((s) => s.ranks === r).map((s) => flag(s, "--imbalance"));
  ok(specs(2).includes("none") && specs(4).includes("none"));
  ok(!specs(2).some((s) => s!.startsWith("hot")));
  ok(specs(4).includes("hot:0:16") && specs(4).includes("hot:0:2"));
  ok(specs(2).includes("random:2") && specs(2).includes("random:0.5"));
  equal(new Set(hetero.map((s) => flag(s, "--sizes"))).size, 1, "one base size");

  // fig-delay: exp delays from 0 (none) to 4 ms at one size.
  const delays = of("fig-delay").filter((s) => s.ranks === 2).map((s) => flag(s, "--delay"));
  equal(delays[0], "none");
  ok(delays.includes("exp:4ms"));
  ok(delays.slice(1).every((d) => d!.startsWith("exp:")));

  // fig-lag: lags 0..16 at one fixed delay.
  const lag = of("fig-lag");
  ok(lag.every((s) => flag(s, "--delay") === "exp:2ms"));
  deepStrictEqual(lagsOf(lag[0]), [0, 1, 2, 4, 8, 16]);

  // DLRM: both datasets against ranks (1 included), and an undelayed target beside
  // delayed and skewed runs.
  const dlrm = of("fig-dlrm-balanced");
  deepStrictEqual(
    new Set(dlrm.map((s) => flag(s, "--dataset"))),
    new Set(["mini-kaggle", "ali-ccp"]),
  );
  deepStrictEqual([...new Set(dlrm.map((s) => s.ranks))], [1, 2, 4]);
  const unbalanced = of("fig-dlrm-unbalanced");
  ok(unbalanced.every((s) => flag(s, "--dataset") === "synthetic"));
  ok(unbalanced.some((s) => !flag(s, "--delay") && !flag(s, "--skew")));
  ok(unbalanced.some((s) => flag(s, "--delay")?.startsWith("exp:")));
  ok(unbalanced.some((s) => flag(s, "--skew")));
  // DLRM runs check their predictions (after the timed batches); alltoallv runs do not check
  // bytes inside their timed loop.
  for (const step of plan.steps.filter((s) => s.command === "bench")) {
    equal(step.args.includes("--validate"), step.workload === "dlrm", step.name);
  }

  // fig-scale runs last, calibrated on the measured fig-lag run.
  const [scale] = of("fig-scale");
  equal(plan.steps.at(-1), scale);
  equal(scale.calibrateFrom, "results/figures/fig-lag/r2");
  equal(flag(scale, "--calibrate"), scale.calibrateFrom);
});

Deno.test("figures plan: quick is smaller and cheaper than full", () => {
  const quick = planFigures({ quick: true, cpus: 2 });
  const full = planFigures({ cpus: 2 });
  ok(quick.steps.length < full.steps.length);
  const work = (steps: FigureStep[]) =>
    steps.reduce((sum, s) => sum + s.configs * (s.command === "bench" ? itersOf(s) : 0), 0);
  ok(work(quick.steps) * 4 < work(full.steps), `${work(quick.steps)} vs ${work(full.steps)}`);
  deepStrictEqual(quick.ranks, [2]);
  deepStrictEqual(full.ranks, [2, 4]);
  // Quick stays at 2 ranks except where 2 cannot show the effect (a hot rank) and the
  // one-rank DLRM point.
  for (const step of quick.steps.filter((s) => s.ranks !== null && s.ranks !== 2)) {
    ok(
      (step.figure === "fig-hetero" && flag(step, "--imbalance")!.match(/^(hot|none)/)) ||
        (step.figure === "fig-dlrm-balanced" && step.ranks === 1),
      stepCommandLine(step),
    );
  }
  ok(quick.steps.every((s) => itersOf(s) <= 1000));
  // Undelayed exchanges take microseconds, delayed ones milliseconds: more iterations for the
  // former, so that every configuration measures long enough.
  const delayQuick = quick.steps.filter((s) => s.figure === "fig-delay");
  ok(itersOf(delayQuick[0]) > itersOf(delayQuick[1]));
});

Deno.test("figures plan: options narrow and override it", () => {
  const plan = planFigures({
    quick: true,
    only: ["fig-balanced", "fig-scale"],
    iters: 5,
    ranks: [3],
    repeat: 2,
    transport: "unix",
    out: "x/",
    cpus: 8,
  });
  deepStrictEqual(plan.figures, ["fig-balanced", "fig-scale"]);
  deepStrictEqual(plan.steps.map((s) => s.figure), ["fig-balanced", "fig-balanced", "fig-scale"]);
  const [balanced, , scale] = plan.steps;
  equal(flag(balanced, "--iters"), "5");
  equal(flag(balanced, "--warmup"), "1");
  equal(flag(balanced, "--ranks"), "3");
  equal(flag(balanced, "--repeat"), "2");
  equal(flag(balanced, "--transport"), "unix");
  equal(balanced.dir, "x/fig-balanced/8-8192-r3");
  equal(balanced.oversubscribed, false);
  equal(flag(scale, "--iters"), "5");
  // Without fig-lag in the plan there is nothing to calibrate on.
  equal(flag(scale, "--calibrate"), undefined);
  equal(scale.calibrateFrom, undefined);

  throws(() => planFigures({ ranks: [] }), RangeError);
  throws(() => planFigures({ ranks: [0] }), RangeError);
  throws(() => planFigures({ repeat: 0 }), RangeError);
});
