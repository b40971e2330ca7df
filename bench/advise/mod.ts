/**
 * Advice on which lag to run, from the cost model calibrated on a measured run.
 *
 * @module
 */
export * from "./advise.ts";
