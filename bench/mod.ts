/**
 * The benchmark's building blocks for programs of their own: delay and
 * imbalance models, the cost-model simulator, result files, the figures'
 * claims and the HTML report.
 *
 * @module
 */
export * from "./delay.ts";
export * from "./imbalance.ts";
export * from "./simulate.ts";
export {
  parseRunJson,
  parseSummaryCsv,
  readResultDir,
  readResultDirs,
  type ResultRun,
  type RunInfo,
  SUMMARY_COLUMNS,
  type SummaryRow,
} from "./results_read.ts";
export { FIGURE_IDS, type FigureId } from "./figure_specs.ts";
export * from "./claims.ts";
export * from "./report.ts";
