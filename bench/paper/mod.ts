/**
 * The paper's figures as data: their specifications and the claim rules that decide their verdicts.
 *
 * @module
 */
export * from "./figures.ts";
export * from "./claims.ts";
