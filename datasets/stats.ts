/**
 * Per-feature statistics of a data file, as `data inspect --json` prints them
 * (the `data inspect --json` schema in docs/datasets.md).
 *
 * @module
 */

/** Statistics of one sparse feature. */
export interface SparseStats {
  /** Feature name. */
  name: string;
  /** Distinct non-missing ids. */
  distinct: number;
  /**
   * Largest id as written in the file (Criteo: the categorical value as an
   * unsigned integer; npz: the largest `X_cat` index); null when the feature has
   * no id. A table that takes the ids as given needs `maxId + 1` rows.
   */
  maxId: number | null;
  /** Rows without the feature. */
  missing: number;
  /** Mean ids per row (the pooling factor). */
  meanPerRow: number;
  /** Most ids in one row. */
  maxPerRow: number;
}

/** Statistics of one dense feature over its non-missing values (null when all are missing). */
export interface DenseStats {
  /** Feature name. */
  name: string;
  /** Smallest value as in the file. */
  min: number | null;
  /** Largest value as in the file. */
  max: number | null;
  /** Mean value as in the file. */
  mean: number | null;
  /** Rows where the field was empty. */
  missing: number;
}

/** What `data inspect` reports about a file. */
export interface InspectReport {
  /** The file's format. */
  format: string;
  /** Valid rows. */
  rows: number;
  /** Malformed lines skipped. */
  skipped: number;
  /** Positive label counts. */
  labels: { click: number; purchase?: number };
  /** Per sparse feature. */
  sparse: SparseStats[];
  /** Per dense feature. */
  dense: DenseStats[];
}

/** Accumulates min, max, mean and missing of one dense feature. */
export class DenseAccumulator {
  #min = Infinity;
  #max = -Infinity;
  #sum = 0;
  #count = 0;
  /** Rows where the value was missing. */
  missing = 0;

  /** The feature name. */
  readonly name: string;

  /**
   * Creates an accumulator.
   *
   * @param name The feature name.
   */
  constructor(name: string) {
    this.name = name;
  }

  /** Adds a present value. */
  add(x: number): void {
    if (x < this.#min) this.#min = x;
    if (x > this.#max) this.#max = x;
    this.#sum += x;
    this.#count++;
  }

  /** The statistics so far. */
  result(): DenseStats {
    const any = this.#count > 0;
    return {
      name: this.name,
      min: any ? this.#min : null,
      max: any ? this.#max : null,
      mean: any ? this.#sum / this.#count : null,
      missing: this.missing,
    };
  }
}
