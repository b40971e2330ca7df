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

/**
 * A deadline for a sequence of waits, one at a time, that arms at most one
 * timer and re-arms it only when it fires early: `withTimeout` creates a timer
 * per wait, which costs 15-25 us per call on a small VM, more than a whole
 * exchange of a few KiB. The timer is unreferenced between waits, so an idle
 * watchdog never keeps the process alive.
 *
 * @example Guard two waits with one watchdog
 * ```ts
 * import { Watchdog } from "@blsbench/core/transports";
 * const dog = new Watchdog(1000);
 * await dog.guard(Promise.resolve(1), () => "first wait");
 * try {
 *   await new Watchdog(10).guard(new Promise(() => {}), () => "never settles");
 *   throw new Error("no timeout");
 * } catch (e) {
 *   if ((e as Error).name !== "TimeoutError") throw e;
 * }
 * dog.dispose();
 * ```
 */
export class Watchdog {
  #ms: number;
  #timer: number | undefined;
  #deadline = 0;
  #reject: ((error: Error) => void) | undefined;
  #message: () => string = () => "";

  /**
   * Creates a watchdog.
   *
   * @param ms How long each wait may take, in ms (Infinity: no deadline).
   */
  constructor(ms: number) {
    this.#ms = ms;
  }

  /**
   * Resolves like `promise`, or rejects with a `TimeoutError` carrying
   * `message()` once the wait has taken longer than the watchdog's limit.
   * One wait at a time.
   *
   * @param promise What to wait for.
   * @param message The error message, built only on timeout.
   * @returns The promise's value.
   */
  guard<T>(promise: Promise<T>, message: () => string): Promise<T> {
    if (!Number.isFinite(this.#ms)) return promise;
    return new Promise<T>((resolve, reject) => {
      this.#deadline = performance.now() + this.#ms;
      this.#reject = reject;
      this.#message = message;
      if (this.#timer === undefined) this.#arm(this.#ms);
      else Deno.refTimer(this.#timer);
      const done = () => {
        this.#reject = undefined;
        if (this.#timer !== undefined) Deno.unrefTimer(this.#timer);
      };
      promise.then((v) => {
        done();
        resolve(v);
      }, (e) => {
        done();
        reject(e);
      });
    });
  }

  /** Stops the timer. */
  dispose(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#reject = undefined;
  }

  #arm(ms: number): void {
    // Deno returns a timer id (Node types say Timeout).
    this.#timer = setTimeout(() => this.#fire(), ms) as unknown as number;
  }

  #fire(): void {
    this.#timer = undefined;
    const reject = this.#reject;
    if (!reject) return;
    const left = this.#deadline - performance.now();
    if (left > 0) {
      this.#arm(left);
      return;
    }
    this.#reject = undefined;
    reject(new TimeoutError(this.#message()));
  }
}
