/**
 * The self-contained HTML report.
 *
 * @module
 */
export * from "./report.ts";
