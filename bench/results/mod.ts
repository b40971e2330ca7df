/**
 * Result files: the columns, summary.csv and iterations.csv, run.json, reading
 * them back, and the statistics behind them.
 *
 * @module
 */
export * from "./read.ts";
export * from "./csv.ts";
export * from "./stats.ts";
export {
  type ConfigurationResult,
  finishSummary,
  iterationsCsv,
  machineInfo,
  osuTable,
  summarize,
  summaryCsv,
  summaryTable,
  VERSION,
  writeResults,
} from "./write.ts";
export {
  configKey,
  delayMeanMs,
  durationMs,
  formatBytes,
  type ImbalanceLevel,
  imbalanceLevel,
  NOT_CONFIG,
  throughputOf,
} from "./values.ts";
