// The part of csv-parse's synchronous API this folder uses. csv-parse's own
// declarations reference Node's types, which `deno doc` cannot resolve.

/** The csv-parse options used here. */
export interface Options {
  /** Drop a leading byte order mark. */
  bom?: boolean;
  /** Skip lines holding nothing. */
  skip_empty_lines?: boolean;
  /** Accept records of different lengths. */
  relax_column_count?: boolean;
  /** The line ends that close a record. */
  record_delimiter?: string | string[];
}

/** Parses CSV text into records of fields. */
export function parse(input: string, options?: Options): string[][];
