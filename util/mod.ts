/**
 * Shared utilities: exit-code carrying errors, seeded random streams, atomic writes.
 *
 * @module
 */
export * from "./errors.ts";
export * from "./random.ts";
export * from "./atomic.ts";
