/**
 * Growing the typed-array columns the scanners append to.
 *
 * @module
 */

/** The typed arrays a scanner's columns are made of. */
export type TypedColumn =
  | Int32Array
  | Uint32Array
  | Uint16Array
  | Uint8Array
  | Float32Array
  | Float64Array;

/**
 * A bigger array of the same type holding `a`'s values first (the rest zero).
 *
 * @example Double a column
 * ```ts
 * import { grown } from "./_grow.ts";
 * const a = grown(new Int32Array([1, 2]), 4);
 * if (!(a instanceof Int32Array) || a.join() !== "1,2,0,0") throw new Error("wrong");
 * ```
 *
 * @param a The full array.
 * @param length The new length (at least `a.length`).
 * @returns The new array.
 */
export function grown<T extends TypedColumn>(a: T, length: number): T {
  const b = new (a.constructor as new (length: number) => T)(length);
  b.set(a);
  return b;
}
