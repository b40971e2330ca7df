/** The claim checks against synthetic rows where each claim holds, fails, or lacks data. */

import { equal, match } from "node:assert/strict";
import {
  checkBalanced,
  checkClaims,
  checkDelay,
  checkDlrmBalanced,
  checkDlrmUnbalanced,
  checkHetero,
  checkLag,
  checkScale,
} from "../bench/paper/claims.ts";
import { parseSummaryCsv, type SummaryRow } from "../bench/results/read.ts";
import { FIGURE_IDS } from "../bench/paper/figures.ts";
import {
  alltoallvCells,
  type Cells,
  figureSuiteRows,
  runJson,
  summaryCsv,
} from "./_report_fixture.ts";

/** Rows as the reader makes them, from cells in the documented schema. */
function rows(cells: Cells[]): SummaryRow[] {
  return parseSummaryCsv(summaryCsv(cells), "summary.csv");
}

const a2a = alltoallvCells;
const dlrm = (cells: Cells): Cells =>
  a2a({ workload: "dlrm", size_bytes: null, dataset: "mini-kaggle", ...cells });

Deno.test("fig-balanced: every lag within 5% of sync at every size", () => {
  const sizes = [8, 1024, 65536];
  const holding = rows(
    sizes.flatMap((size) =>
      [0, 1, 2, 4].map((lag) => a2a({ size_bytes: size, lag, iters_per_s: 1000 + lag * 10 }))
    ),
  );
  const ok = checkBalanced(holding);
  equal(ok.holds, true);
  match(ok.detail, /^3 of 3 sizes hold/);

  const failing = rows(
    sizes.flatMap((size) =>
      [0, 4].map((lag) =>
        a2a({ size_bytes: size, lag, iters_per_s: size === 1024 && lag === 4 ? 1300 : 1000 })
      )
    ),
  );
  const bad = checkBalanced(failing);
  equal(bad.holds, false);
  match(bad.detail, /^2 of 3 sizes hold; furthest: 1 KiB, 4 ranks, lag 4 at 1\.30× sync/);

  equal(checkBalanced(rows([a2a({ lag: 0, iters_per_s: 1000 })])).holds, "not enough data");
});

Deno.test("fig-balanced: repeats are averaged before comparing", () => {
  const noisy = rows([
    a2a({ lag: 0, repeat: 1, iters_per_s: 900 }),
    a2a({ lag: 0, repeat: 2, iters_per_s: 1100 }),
    a2a({ lag: 2, repeat: 1, iters_per_s: 1040 }),
    a2a({ lag: 2, repeat: 2, iters_per_s: 1000 }),
  ]);
  equal(checkBalanced(noisy).holds, true);
});

Deno.test("fig-hetero: lags pull ahead of sync as the imbalance grows", () => {
  const grows = rows([1, 4, 16].flatMap((f) =>
    [0, 2].map((lag) =>
      a2a({
        lag,
        imbalance: f === 1 ? "none" : `hot:0:${f}`,
        iters_per_s: (1000 / f) * (lag === 0 ? 1 : 1 + f / 40),
      })
    )
  ));
  const ok = checkHetero(grows);
  equal(ok.holds, true);
  match(
    ok.detail,
    /hot: best lag 1\.02× sync \(saves [^)]*\) at F=1 -> 1\.40× \(lag 2, saves [^)]*\) at F=16/,
  );

  const flat = rows(
    [1, 16].flatMap((f) =>
      [0, 2].map((lag) =>
        a2a({ lag, imbalance: f === 1 ? "none" : `hot:0:${f}`, iters_per_s: 1000 / f })
      )
    ),
  );
  equal(checkHetero(flat).holds, false);

  const oneLevel = rows([0, 2].map((lag) => a2a({ lag, imbalance: "random:1", iters_per_s: 10 })));
  equal(checkHetero(oneLevel).holds, "not enough data");
});

Deno.test("fig-delay: lags beat sync as the mean delay grows", () => {
  const ideal = (delayMs: number, lag: number) => 0.1 + delayMs * (lag === 0 ? 2 : 1.2);
  const grows = rows([0, 1, 4].flatMap((d) =>
    [0, 1, 4].map((lag) =>
      a2a({
        lag,
        delay: d === 0 ? "none" : `exp:${d}ms`,
        iters_per_s: 1000 / ideal(d, lag),
        ideal_iters_per_s: 1000 / ideal(d, lag),
      })
    )
  ));
  equal(checkDelay(grows).holds, true);

  // BLS slower than sync at the largest delay: the claim fails.
  const worse = rows([0, 4].flatMap((d) =>
    [0, 1].map((lag) =>
      a2a({
        lag,
        delay: d === 0 ? "none" : `uniform:0ms:${2 * d}ms`,
        iters_per_s: lag === 0 ? 100 : 90,
      })
    )
  ));
  const bad = checkDelay(worse);
  equal(bad.holds, false);
  match(bad.detail, /uniform: .* at 4 ms/);
  equal(checkDelay([]).holds, "not enough data");
});

Deno.test("fig-lag: non-decreasing until saturation near the ideal", () => {
  const lags = [0, 1, 2, 4, 8, 16];
  const idealOf = (lag: number) => 500 - 250 / (1 + lag);
  const saturates = rows(lags.map((lag) =>
    a2a({
      lag,
      delay: "exp:2ms",
      iters_per_s: idealOf(lag) * 0.9,
      ideal_iters_per_s: idealOf(lag),
    })
  ));
  const ok = checkLag(saturates);
  equal(ok.holds, true);
  match(ok.detail, /best at 90% of ideal/);

  const drops = rows(
    lags.map((lag) => a2a({ lag, delay: "exp:2ms", iters_per_s: lag === 8 ? 200 : idealOf(lag) })),
  );
  const bad = checkLag(drops);
  equal(bad.holds, false);
  match(bad.detail, /drops at lag 8/);

  const farFromIdeal = rows(lags.map((lag) =>
    a2a({
      lag,
      delay: "exp:2ms",
      iters_per_s: idealOf(lag) * 0.5,
      ideal_iters_per_s: idealOf(lag),
    })
  ));
  equal(checkLag(farFromIdeal).holds, false);

  const twoLags = rows([0, 4].map((lag) => a2a({ lag, delay: "exp:2ms", iters_per_s: 1 })));
  equal(checkLag(twoLags).holds, "not enough data");
});

Deno.test("fig-dlrm-balanced: no notable gain from BLS", () => {
  const flat = rows(
    ["mini-kaggle", "ali-ccp"].flatMap((dataset) =>
      [0, 1, 4].map((lag) => dlrm({ dataset, lag, samples_per_s: 50000 * (1 + lag * 0.01) }))
    ),
  );
  const ok = checkDlrmBalanced(flat);
  equal(ok.holds, true);
  match(ok.detail, /^2 of 2 configurations hold/);

  const gains = rows([0, 4].map((lag) => dlrm({ lag, samples_per_s: lag === 0 ? 100 : 150 })));
  equal(checkDlrmBalanced(gains).holds, false);
  equal(checkDlrmBalanced(rows([dlrm({ lag: 0, samples_per_s: 1 })])).holds, "not enough data");
});

Deno.test("fig-dlrm-unbalanced: delays masked by the best lag", () => {
  const masked = rows([
    dlrm({ dataset: "synthetic", lag: 0, delay: "none", samples_per_s: 10000 }),
    dlrm({ dataset: "synthetic", lag: 0, delay: "exp:2ms", samples_per_s: 6000 }),
    dlrm({ dataset: "synthetic", lag: 4, delay: "exp:2ms", samples_per_s: 9500 }),
  ]);
  const ok = checkDlrmUnbalanced(masked);
  equal(ok.holds, true);
  match(ok.detail, /sync at 60%, lag 4 at 95% of undelayed/);

  const notMasked = rows([
    dlrm({ lag: 0, delay: "none", samples_per_s: 10000 }),
    dlrm({ lag: 0, delay: "exp:2ms", samples_per_s: 6000 }),
    dlrm({ lag: 4, delay: "exp:2ms", samples_per_s: 7000 }),
  ]);
  equal(checkDlrmUnbalanced(notMasked).holds, false);

  const noBaseline = rows([
    dlrm({ lag: 0, delay: "exp:2ms", samples_per_s: 6000 }),
    dlrm({ lag: 4, delay: "exp:2ms", samples_per_s: 7000 }),
  ]);
  const unknown = checkDlrmUnbalanced(noBaseline);
  equal(unknown.holds, "not enough data");
  match(unknown.detail, /undelayed/);
});

Deno.test("fig-scale: speedup grows with the number of ranks", () => {
  const sim = (ranks: number, lag: number, speedup: number) =>
    a2a({
      workload: "simulated",
      transport: "model",
      size_bytes: null,
      ranks,
      lag,
      delay: "exp:2ms",
      iters_per_s: 100 * speedup,
      speedup_vs_sync: speedup,
    });
  const grows = rows([2, 64, 4096, 65536].flatMap((r) => [
    sim(r, 0, 1),
    sim(r, 4, 1 + Math.log2(r) / 10),
  ]));
  equal(checkScale(grows).holds, true);

  const shrinks = rows(
    [2, 64, 4096].flatMap((r) => [sim(r, 0, 1), sim(r, 4, 3 - Math.log2(r) / 10)]),
  );
  equal(checkScale(shrinks).holds, false);
  equal(checkScale(rows([sim(8, 4, 2)])).holds, "not enough data");
});

Deno.test("fig-scale: speedups missing from rows are derived from the lag-0 row", () => {
  const cells = [2, 1024].flatMap((ranks) =>
    [0, 2].map((lag) =>
      a2a({
        workload: "simulated",
        size_bytes: null,
        ranks,
        lag,
        delay: "exp:1ms",
        iters_per_s: lag === 0 ? 100 : ranks === 2 ? 110 : 180,
      })
    )
  );
  const run = { dir: "sim", run: parseRun(), rows: rows(cells) };
  const scale = checkClaims([run]).find((c) => c.figure === "fig-scale")!;
  equal(scale.holds, true);
  match(scale.detail, /1\.10× at 2 ranks -> 1\.80× at 1024/);
});

Deno.test("the synthetic figure suite: all seven claims hold", () => {
  const run = { dir: "suite", run: parseRun(), rows: rows(figureSuiteRows()) };
  const checks = checkClaims([run]);
  equal(checks.map((c) => c.figure).join(","), FIGURE_IDS.join(","));
  for (const check of checks) equal(check.holds, true, `${check.figure}: ${check.detail}`);
});

function parseRun() {
  const run = runJson({});
  return {
    version: String(run.version),
    command: run.command as string[],
    config: run.config as Record<string, unknown>,
    machine: run.machine as Record<string, unknown>,
    startedAt: "",
    endedAt: "",
    status: "completed",
    figure: null,
  };
}
