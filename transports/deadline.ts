/**
 * Deadlines for waits that must never hang.
 *
 * @module
 */

import { TimeoutError } from "./errors.ts";

/**
 * Resolves like `promise`, or rejects with a `TimeoutError` after `ms`.
 *
 * @example Time out a wait
 * ```ts
 * import { withTimeout } from "@blsbench/core";
 * const v = await withTimeout(Promise.resolve(3), 100, "never");
 * if (v !== 3) throw new Error("bad");
 * ```
 *
 * @param promise What to wait for.
 * @param ms The deadline in milliseconds (Infinity for none).
 * @param message The error message on timeout.
 * @returns The promise's value.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  if (!Number.isFinite(ms)) return promise;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Sleeps for `ms` milliseconds.
 *
 * @param ms How long.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
