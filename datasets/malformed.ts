/**
 * Malformed input lines: every reader skips and counts them, reports the first
 * few as `FILE:LINE: reason`, or with `strict` fails on the first one.
 *
 * @module
 */

/** A malformed input line (thrown in strict mode); the message is `FILE:LINE: reason`. */
export class MalformedLineError extends SyntaxError {
  /**
   * Creates the error.
   *
   * @param file The input file.
   * @param line The 1-based line number.
   * @param reason What is wrong with the line.
   */
  constructor(readonly file: string, readonly line: number, readonly reason: string) {
    super(`${file}:${line}: ${reason}`);
    this.name = "MalformedLineError";
  }
}

/** Called for each skipped line, in file order. */
export type MalformedLineHandler = (file: string, line: number, reason: string) => void;

/** Options every reader takes. */
export interface ReadOptions {
  /** Fail with a {@link MalformedLineError} on the first malformed line instead of skipping it. */
  strict?: boolean;
  /** Called for each skipped line; by default the first five go to stderr as `FILE:LINE: reason`. */
  onMalformed?: MalformedLineHandler;
}

/**
 * A handler that prints the first `limit` skipped lines to stderr as `FILE:LINE: reason`.
 *
 * @example Report the first two
 * ```ts
 * import { stderrReporter } from "@blsbench/core/datasets";
 * const report = stderrReporter(2);
 * report("a.txt", 3, "label is not 0 or 1");
 * ```
 *
 * @param limit How many lines to print.
 * @returns The handler.
 */
export function stderrReporter(limit = 5): MalformedLineHandler {
  let printed = 0;
  return (file, line, reason) => {
    if (printed++ < limit) console.error(`${file}:${line}: ${reason}`);
  };
}

/** Counts malformed lines and applies the strict and reporting options. */
export class MalformedCounter {
  /** Lines skipped so far. */
  count = 0;
  readonly #strict: boolean;
  readonly #handler: MalformedLineHandler;

  /**
   * Creates a counter.
   *
   * @param options The reader's options.
   */
  constructor(options: ReadOptions = {}) {
    this.#strict = options.strict ?? false;
    this.#handler = options.onMalformed ?? stderrReporter();
  }

  /**
   * Records a malformed line (or throws in strict mode).
   *
   * @param file The input file.
   * @param line The 1-based line number.
   * @param reason What is wrong.
   * @throws MalformedLineError in strict mode.
   */
  skip(file: string, line: number, reason: string): void {
    if (this.#strict) throw new MalformedLineError(file, line, reason);
    this.count++;
    this.#handler(file, line, reason);
  }
}
