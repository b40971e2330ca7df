/**
 * Binding the calling thread to one CPU (Linux `sched_setaffinity` through
 * FFI). Threads the process starts afterwards (a progress Worker) inherit it.
 *
 * @module
 */

/**
 * Binds the calling thread, and the threads it starts from now on, to `cpu`.
 *
 * @example Bind to the first CPU
 * ```ts
 * import { bindToCpu } from "./affinity.ts";
 * bindToCpu(0); // false where FFI or sched_setaffinity is not available
 * ```
 *
 * @param cpu The CPU number (0-based).
 * @returns Whether the binding took effect.
 */
export function bindToCpu(cpu: number): boolean {
  if (!Number.isInteger(cpu) || cpu < 0 || cpu >= 1024) return false;
  try {
    if (Deno.build.os !== "linux") return false;
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return false;
    const libc = Deno.dlopen("libc.so.6", {
      sched_setaffinity: { parameters: ["i32", "usize", "buffer"], result: "i32" },
    });
    const mask = new Uint8Array(128);
    mask[cpu >> 3] |= 1 << (cpu & 7);
    const ok = libc.symbols.sched_setaffinity(0, BigInt(mask.byteLength), mask) === 0;
    libc.close();
    return ok;
  } catch {
    return false;
  }
}
