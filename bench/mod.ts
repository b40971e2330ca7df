/**
 * The benchmark's building blocks for programs of their own: delay and
 * imbalance models, the cost-model simulator, result files, the figures'
 * claims and the HTML report.
 *
 * @module
 */
export * from "./models/delay.ts";
export * from "./models/imbalance.ts";
export * from "./models/bls_cost.ts";
export {
  parseRunJson,
  parseSummaryCsv,
  readResultDir,
  readResultDirs,
  type ResultRun,
  type RunInfo,
  SUMMARY_COLUMNS,
  type SummaryRow,
} from "./results/read.ts";
export { FIGURE_IDS, type FigureId } from "./paper/figures.ts";
export * from "./paper/claims.ts";
export * from "./report/report.ts";
export * from "./advise/mod.ts";
export {
  calibrate,
  type Calibration,
  type MeasuredRow,
  type MeasuredRun,
  readMeasuredRun,
} from "./simulate/mod.ts";
