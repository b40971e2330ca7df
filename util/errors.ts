/**
 * Error classes that carry the process exit code of the command line contract:
 * 2 for bad usage or input, 1 for a run that failed.
 *
 * @module
 */

/** Bad usage or bad input: the command exits 2 with the message. */
export class UsageError extends Error {
  /** The exit code the command line uses for this error. */
  readonly exitCode = 2;
  /**
   * Creates a usage error.
   *
   * @param message A one-line, sentence-case description naming the flag or file.
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** A run that failed (a rank died or timed out, a validation mismatch): exit 1. */
export class RunError extends Error {
  /** The exit code the command line uses for this error. */
  readonly exitCode = 1;
  /**
   * Creates a run error.
   *
   * @param message A one-line description naming what failed.
   * @param options The underlying cause, if any.
   */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RunError";
  }
}
