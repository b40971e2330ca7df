/**
 * The in-memory form every dataset reader produces and the DLRM model consumes.
 *
 * @module
 */

/** One sparse feature (one embedding table) for all rows, as bags of indices. */
export interface SparseFeature {
  /** The feature's name (e.g. `C1` or `205`). */
  name: string;
  /** `offsets[i]..offsets[i+1]` are row i's indices into `indices`; length rows+1. */
  offsets: Int32Array;
  /** Table row indices, already mapped to 0..tableSize-1. */
  indices: Int32Array;
}

/** A preprocessed dataset ready for DLRM: dense features, bags of sparse indices, labels. */
export interface Dataset {
  /** Number of rows (samples). */
  rows: number;
  /** Names of the dense features, in column order. */
  denseNames: string[];
  /** Dense features, row-major [rows x denseNames.length], already transformed (log(x+1) for Criteo). */
  dense: Float32Array;
  /** One entry per sparse feature (embedding table), in column order. */
  sparse: SparseFeature[];
  /** Number of distinct indices of each sparse feature (the table sizes the data needs). */
  tableSizes: number[];
  /** Labels per row (click), 0 or 1. */
  labels: Float32Array;
  /** Lines skipped as malformed (counted, never dropped silently). */
  skipped: number;
}
