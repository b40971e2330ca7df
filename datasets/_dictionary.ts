/**
 * A dictionary from unsigned 32-bit values to indices in order of first
 * appearance: an open-addressing hash table on typed arrays (no per-entry objects).
 *
 * @module
 */

import { grown } from "./_grow.ts";

/** Maps uint32 values to 0, 1, 2, ... in the order they are first seen. */
export class FirstSeenDictionary {
  // Interleaved [key, index + 1] pairs (0 = free slot), so a probe touches one cache line.
  #table: Int32Array;
  #mask: number;
  #shift: number;
  /** Number of distinct values seen. */
  size = 0;

  constructor(initialCapacity = 1024) {
    let bits = 4;
    while ((1 << bits) < initialCapacity * 2) bits++;
    this.#table = new Int32Array(2 << bits);
    this.#mask = (1 << bits) - 1;
    this.#shift = 32 - bits;
  }

  /**
   * The index of `value`, adding it when new.
   *
   * @param value A uint32 value.
   * @returns Its index.
   */
  indexOf(value: number): number {
    const table = this.#table;
    const mask = this.#mask;
    const key = value | 0;
    let at = Math.imul(key, 0x9e3779b1) >>> this.#shift;
    for (;;) {
      const slot = table[2 * at + 1];
      if (slot === 0) break;
      if (table[2 * at] === key) return slot - 1;
      at = (at + 1) & mask;
    }
    const index = this.size++;
    table[2 * at] = key;
    table[2 * at + 1] = index + 1;
    if (this.size * 2 > mask) this.#grow();
    return index;
  }

  /**
   * The index of `value` if present.
   *
   * @param value A uint32 value.
   * @returns The index or -1.
   */
  get(value: number): number {
    const table = this.#table;
    const mask = this.#mask;
    const key = value | 0;
    let at = Math.imul(key, 0x9e3779b1) >>> this.#shift;
    for (;;) {
      const slot = table[2 * at + 1];
      if (slot === 0) return -1;
      if (table[2 * at] === key) return slot - 1;
      at = (at + 1) & mask;
    }
  }

  /**
   * The largest value held, as an unsigned integer.
   *
   * @returns The value, or -1 when empty.
   */
  maxValue(): number {
    const table = this.#table;
    let max = -1;
    for (let i = 0; i < table.length; i += 2) {
      if (table[i + 1] !== 0 && table[i] >>> 0 > max) max = table[i] >>> 0;
    }
    return max;
  }

  /** Bytes held by the table. */
  get byteLength(): number {
    return this.#table.byteLength;
  }

  #grow(): void {
    const old = this.#table;
    const bits = 32 - this.#shift + 1;
    const table = new Int32Array(2 << bits);
    const mask = (1 << bits) - 1;
    this.#shift = 32 - bits;
    this.#mask = mask;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i + 1] === 0) continue;
      let at = Math.imul(old[i], 0x9e3779b1) >>> this.#shift;
      while (table[2 * at + 1] !== 0) at = (at + 1) & mask;
      table[2 * at] = old[i];
      table[2 * at + 1] = old[i + 1];
    }
    this.#table = table;
  }
}

/** A growable typed-array column: appends with amortised doubling. */
class Column<A extends Int32Array | Float32Array> {
  data: A;
  length = 0;
  #make: (length: number) => A;
  constructor(make: (length: number) => A, capacity: number) {
    this.#make = make;
    this.data = make(Math.max(16, capacity));
  }
  /** Appends one value. */
  push(value: number): void {
    if (this.length === this.data.length) {
      this.data = grown(this.data, this.data.length * 2);
    }
    this.data[this.length++] = value;
  }
  /** The values as an exactly sized array (a copy when over-allocated). */
  toArray(): A {
    return this.length === this.data.length ? this.data : this.data.slice(0, this.length) as A;
  }
}

/** A growable Int32 column. */
export class IntColumn extends Column<Int32Array> {
  constructor(capacity = 1024) {
    super((n) => new Int32Array(n), capacity);
  }
}

/** A growable Float32 column. */
export class FloatColumn extends Column<Float32Array> {
  constructor(capacity = 1024) {
    super((n) => new Float32Array(n), capacity);
  }
}
