/**
 * The figure suite: planning, running and reporting every figure of the paper.
 *
 * @module
 */
export * from "./figures.ts";
