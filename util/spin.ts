/**
 * Spinning that shares the CPU: while a thread spins on a shared word it calls
 * `sched_yield` (through FFI, where the program may use it), so that on a
 * machine with fewer cores than busy threads the thread it waits for gets to
 * run. Without FFI permission it spins plainly.
 *
 * @module
 */

function loadYield(): () => void {
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return () => {};
    const libc = Deno.dlopen("libc.so.6", { sched_yield: { parameters: [], result: "i32" } });
    const fn = libc.symbols.sched_yield;
    return () => void fn();
  } catch {
    return () => {};
  }
}

let yieldFn: (() => void) | undefined;

/**
 * Gives the CPU to another runnable thread, if any (a no-op without FFI).
 *
 * @example Spin politely
 * ```ts
 * import { yieldCpu } from "./spin.ts";
 * const end = performance.now() + 0.05;
 * while (performance.now() < end) yieldCpu();
 * ```
 */
export function yieldCpu(): void {
  (yieldFn ??= loadYield())();
}

/**
 * Spins until `ready()` or `budgetUs` microseconds pass, yielding the CPU
 * between checks.
 *
 * @param ready The condition.
 * @param budgetUs How long to spin.
 * @returns Whether the condition came true.
 */
export function spinUntil(ready: () => boolean, budgetUs: number): boolean {
  if (ready()) return true;
  if (budgetUs <= 0) return false;
  const end = performance.now() + budgetUs / 1000;
  do {
    yieldCpu();
    if (ready()) return true;
  } while (performance.now() < end);
  return false;
}
