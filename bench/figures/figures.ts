/**
 * The figure suite: runs every figure's `bench` and `simulate`
 * subprocesses into sub-directories of one output directory, shows progress,
 * and writes one `report.html` from all of them with the paper's claims
 * checked. A run that fails is recorded (its figure is then partly or not
 * measured) and the others go on.
 *
 * @example Plan the quick suite
 * ```ts
 * import { planFigures } from "./figures.ts";
 * import { ok } from "node:assert/strict";
 * const plan = planFigures({ quick: true, out: "results/figures" });
 * ok(plan.steps.some((s) => s.figure === "fig-scale"));
 * ```
 *
 * @module
 */

import process from "node:process";
import { writeFileAtomic } from "../../util/atomic.ts";
import { type FigureId, FIGURES } from "../paper/figures.ts";
import { checkClaims, type ClaimCheck, verdictLabel } from "../paper/claims.ts";
import { renderReport } from "../report/report.ts";
import { readResultDir, type ResultRun } from "../results/read.ts";
import {
  createProgress,
  formatDuration,
  formatSummaryTable,
  type ProgressStream,
} from "../run/progress_bar.ts";
import { enrichedRows } from "../paper/figures.ts";
import type { FigurePlan, FigureStep } from "./_plan.ts";
import { runStep, type StepResult } from "./_step.ts";
import { hasResults, removeDir, tagRun, writeRowlessDir } from "./_dirs.ts";

export {
  type FigurePlan,
  type FigurePlanOptions,
  type FigureStep,
  planFigures,
  stepCommandLine,
} from "./_plan.ts";
export { failureReason, type StepResult } from "./_step.ts";

/** How one step of the suite ended. */
export interface StepOutcome {
  /** The step. */
  step: FigureStep;
  /** `completed`, `failed`, or `skipped` (its workload is not available here). */
  status: "completed" | "failed" | "skipped";
  /** Why it failed or was skipped; empty when completed. */
  reason: string;
  /** Wall-clock seconds (0 when skipped). */
  seconds: number;
}

/** What the suite did. */
export interface FiguresOutcome {
  /** The path of `report.html`. */
  reportPath: string;
  /** Every step, in run order. */
  steps: StepOutcome[];
  /** Figures with at least one failed step, in suite order. */
  failedFigures: FigureId[];
  /** Figures whose steps were all skipped. */
  skippedFigures: FigureId[];
  /** The claim checks, one per figure. */
  claims: ClaimCheck[];
  /** Wall-clock seconds of the whole suite. */
  seconds: number;
}

/** Options of {@link runFigures}. */
export interface RunFiguresOptions {
  /** Where progress goes (default standard error). */
  progress?: ProgressStream;
  /** Force the live progress bar on or off (default: whether `progress` is a terminal). */
  tty?: boolean;
  /** Where the summary tables, claims and report path go (default standard output). */
  output?: ProgressStream;
  /**
   * Whether `bench --workload dlrm` is available; default: asked once from
   * `bench --help`. When it is not, the DLRM steps are skipped, not failed.
   */
  dlrmAvailable?: boolean;
  /** Kill a step after this many seconds (default 1,800). */
  stepTimeoutS?: number;
  /** The command line recorded in the suite's `run.json` (default `figures` and this process's arguments). */
  command?: string[];
  /** Every subprocess output line goes to `progress` too. */
  verbose?: boolean;
  /** The `cli.ts` the steps run (default this project's). */
  cli?: string | URL;
}

const CLI_PATH = new URL("../../cli.ts", import.meta.url);

/**
 * Whether this build's `bench` takes the DLRM flags (`--dataset`).
 *
 * @example Ask
 * ```ts ignore
 * import { dlrmBenchAvailable } from "./figures.ts";
 * console.log(await dlrmBenchAvailable());
 * ```
 *
 * @param cli The `cli.ts` to ask (default this project's).
 * @returns True when `bench --help` lists `--dataset`.
 */
export async function dlrmBenchAvailable(cli: string | URL = CLI_PATH): Promise<boolean> {
  try {
    const { stdout } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", String(cli), "bench", "--help"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    return new TextDecoder().decode(stdout).includes("--dataset");
  } catch {
    return false;
  }
}

/**
 * Runs one planned step into its directory: a run that failed without
 * results still leaves a directory saying why, and a run whose results cannot
 * be read counts as failed.
 */
async function runPlannedStep(
  step: FigureStep,
  calibrated: boolean,
  progress: ReturnType<typeof createProgress>,
  options: RunFiguresOptions,
): Promise<{ outcome: StepOutcome; run: ResultRun | null }> {
  const progressStream = options.progress ?? process.stderr;
  // Leftovers of an earlier suite must not pass for this run's results.
  await removeDir(step.dir);
  const args = step.calibrateFrom !== undefined && !calibrated
    ? withoutCalibration(step.args)
    : step.args;
  const label = `${step.figure} ${step.label}${step.oversubscribed ? " [oversubscribed]" : ""}`;
  progress.startConfig(label, step.configs);
  const stepStart = new Date();
  const result: StepResult = await runStep({ ...step, args }, {
    onConfig: (done) => progress.tick(Math.min(done, step.configs)),
    onLine: options.verbose ? (line) => progressStream.write(`  ${line}\n`) : undefined,
    timeoutS: options.stepTimeoutS ?? 1800,
    cli: options.cli,
  });
  let reason = result.error;
  let ok = result.ok;
  if (await hasResults(step.dir)) {
    try {
      await tagRun(step.dir, step.figure);
    } catch { /* a malformed run.json is reported by readRun below */ }
  }
  if (!ok && !(await hasResults(step.dir))) {
    await writeRowlessDir(step.dir, {
      command: args,
      config: { figure: step.figure, step: step.name, error: reason, exitCode: result.code },
      status: "failed",
      figure: step.figure,
      startedAt: stepStart.toISOString(),
      endedAt: new Date().toISOString(),
    });
  }
  const read = await readRun(step.dir);
  if (ok && read.run === null) {
    ok = false;
    reason = `Its results cannot be read: ${read.error}`;
  }
  progress.endConfig(ok ? outcomeText(read.run) : `FAILED: ${reason}`);
  const status = ok ? "completed" : "failed";
  return { outcome: { step, status, reason, seconds: result.seconds }, run: read.run };
}

/** The summary tables, one per figure, then the claims, the notes and the failed runs. */
function printSummary(
  output: ProgressStream,
  runs: ResultRun[],
  claims: ClaimCheck[],
  notes: string[],
  outcomes: StepOutcome[],
): void {
  const rows = enrichedRows(runs);
  for (const spec of FIGURES) {
    const own = rows.filter((r) => r.figure === spec.id);
    if (own.length === 0) continue;
    output.write(`\n${spec.id} (${own.length} rows)\n${formatSummaryTable(own)}`);
  }
  output.write("\nThe paper's claims, checked:\n");
  for (const check of claims) {
    const verdict = verdictLabel(check.holds).text;
    output.write(`  ${check.figure.padEnd(19)} ${verdict}: ${check.detail}\n`);
  }
  for (const note of notes) output.write(`Note: ${note}\n`);
  for (const o of outcomes.filter((o) => o.status === "failed")) {
    output.write(`Failed: ${stepKey(o.step)}: ${o.reason}\n`);
  }
}

function stepKey(step: FigureStep): string {
  return `${step.figure}/${step.name}`;
}

/** The args of a step with `--calibrate DIR` taken out. */
function withoutCalibration(args: readonly string[]): string[] {
  const i = args.indexOf("--calibrate");
  return i < 0 ? [...args] : [...args.slice(0, i), ...args.slice(i + 2)];
}

function outcomeText(run: ResultRun | null): string {
  if (!run) return "done";
  const rows = enrichedRows([run]);
  const gains = rows.filter((r) => r.lag > 0 && r.speedupVsSync !== null);
  const best = gains.reduce<typeof gains[number] | null>(
    (a, b) => a === null || b.speedupVsSync! > a.speedupVsSync! ? b : a,
    null,
  );
  const bestText = best
    ? `; best lag ${best.lag} at ${best.speedupVsSync!.toFixed(2)}× sync` +
      (best.workload === "simulated" ? ` (${best.ranks} ranks)` : "")
    : "";
  return `${rows.length} rows${bestText}`;
}

async function readRun(dir: string): Promise<{ run: ResultRun | null; error: string }> {
  try {
    return { run: await readResultDir(dir), error: "" };
  } catch (e) {
    return { run: null, error: (e as Error).message };
  }
}

/**
 * Runs a planned figure suite: every step in order (a failed step is recorded
 * and the suite goes on), then one `report.html` in the plan's output directory
 * from every result directory, the summary tables and the claim checks.
 *
 * @example Run the quick suite
 * ```ts ignore
 * import { planFigures, runFigures } from "./figures.ts";
 * const outcome = await runFigures(planFigures({ quick: true }));
 * console.log(outcome.reportPath, outcome.failedFigures);
 * ```
 *
 * @param plan The plan (see `planFigures`).
 * @param options Streams, timeouts, the DLRM switch.
 * @returns What ran, how it ended, the claims and where the report is.
 */
export async function runFigures(
  plan: FigurePlan,
  options: RunFiguresOptions = {},
): Promise<FiguresOutcome> {
  const started = new Date();
  const t0 = performance.now();
  const progressStream = options.progress ?? process.stderr;
  const output = options.output ?? process.stdout;
  await Deno.mkdir(plan.out, { recursive: true });

  const needsDlrm = plan.steps.some((s) => s.workload === "dlrm");
  const dlrm = needsDlrm ? options.dlrmAvailable ?? await dlrmBenchAvailable(options.cli) : true;
  const skipReason = "bench --workload dlrm is not available in this build";
  const runnable = plan.steps.filter((s) => s.workload !== "dlrm" || dlrm);
  const progress = createProgress(runnable.length, { stream: progressStream, tty: options.tty });
  const outcomes: StepOutcome[] = [];
  const runs = new Map<string, ResultRun>();
  const completedDirs = new Set<string>();

  for (const step of plan.steps) {
    if (step.workload === "dlrm" && !dlrm) {
      outcomes.push({ step, status: "skipped", reason: skipReason, seconds: 0 });
      continue;
    }
    const calibrated = step.calibrateFrom !== undefined && completedDirs.has(step.calibrateFrom);
    const { outcome, run } = await runPlannedStep(step, calibrated, progress, options);
    if (run) runs.set(step.dir, run);
    if (outcome.status === "completed") completedDirs.add(step.dir);
    outcomes.push(outcome);
  }
  progress.finish();

  const failedFigures = plan.figures.filter((id) =>
    outcomes.some((o) => o.step.figure === id && o.status === "failed")
  );
  const skippedFigures = plan.figures.filter((id) => {
    const own = outcomes.filter((o) => o.step.figure === id);
    return own.length > 0 && own.every((o) => o.status === "skipped");
  });
  const cpus = navigator.hardwareConcurrency;
  const oversubscribed = plan.steps.filter((s) => s.oversubscribed).map(stepKey);
  const notes: string[] = [];
  if (oversubscribed.length > 0) {
    notes.push(
      `${oversubscribed.length} run(s) start more ranks than this machine's ${cpus} CPUs ` +
        `(oversubscribed; every rank also has a progress thread): ${oversubscribed.join(", ")}`,
    );
  }
  if (skippedFigures.length > 0) {
    notes.push(`Not measured: ${skippedFigures.join(", ")} (${skipReason})`);
  }
  const suiteDir = `${plan.out.replace(/\/+$/, "")}/suite`;
  await writeRowlessDir(suiteDir, {
    command: options.command ?? ["figures", ...Deno.args.slice(Deno.args.indexOf("figures") + 1)],
    config: {
      suite: plan.quick ? "quick" : "full",
      transport: plan.transport,
      ranks: plan.ranks,
      repeat: plan.repeat,
      figures: plan.figures,
      runs: plan.steps.length,
      failed: outcomes.filter((o) => o.status === "failed").map((o) =>
        `${stepKey(o.step)}: ${o.reason}`
      ),
      notes,
      seconds: Number(((performance.now() - t0) / 1000).toFixed(1)),
      runSeconds: Object.fromEntries(
        outcomes.filter((o) => o.status !== "skipped").map((o) => [
          stepKey(o.step),
          Number(o.seconds.toFixed(1)),
        ]),
      ),
    },
    status: failedFigures.length > 0 ? "failed" : "completed",
    figure: null,
    startedAt: started.toISOString(),
    endedAt: new Date().toISOString(),
  });
  const suite = await readRun(suiteDir);
  const allRuns = [
    ...(suite.run ? [suite.run] : []),
    ...plan.steps.map((s) => runs.get(s.dir)).filter((r): r is ResultRun => r !== undefined),
  ];
  const reportPath = `${plan.out.replace(/\/+$/, "")}/report.html`;
  await writeFileAtomic(
    reportPath,
    renderReport(allRuns, {
      paper: true,
      title: `blsbench figures (${plan.quick ? "quick" : "full"} suite, ${plan.transport})`,
    }),
  );
  const claims = checkClaims(allRuns);
  const seconds = (performance.now() - t0) / 1000;

  printSummary(output, allRuns, claims, notes, outcomes);
  output.write(`Report: ${reportPath} (suite took ${formatDuration(seconds)})\n`);
  return { reportPath, steps: outcomes, failedFigures, skippedFigures, claims, seconds };
}
