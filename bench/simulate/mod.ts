/**
 * The simulate command's parts: calibrating the cost model on a measured run,
 * sweeping it, and writing the results.
 *
 * @module
 */
export {
  calibrate,
  type Calibration,
  type MeasuredRow,
  type MeasuredRun,
  readMeasuredRun,
} from "./_calibrate.ts";
export { planSweep, simulateSweep, type SweepFlags } from "./_sweep.ts";
export { formatTable, writeSimulationDir } from "./_output.ts";
