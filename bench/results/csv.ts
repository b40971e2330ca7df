/**
 * Reading CSV result files (RFC 4180: quoted fields, doubled quotes, separators
 * and line breaks inside quotes, CRLF or LF line ends, a leading BOM), with the
 * maintained `csv-parse` package.
 *
 * @module
 */

// @ts-types="./_csv_parse.d.ts"
import { parse } from "csv-parse/sync";

/**
 * Parses CSV text into records of fields. Blank lines are skipped; records may
 * have different lengths (the callers name the line that does not fit).
 *
 * @example Parse quoted fields
 * ```ts
 * import { parseCsv } from "./csv.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 * deepStrictEqual(parseCsv('a,b\n"x,1","say ""hi"""\n'), [["a", "b"], ["x,1", 'say "hi"']]);
 * ```
 *
 * @param text The CSV text.
 * @returns The records, each an array of field strings.
 * @throws SyntaxError when a quoted field is not closed or a quote is followed by text.
 */
export function parseCsv(text: string): string[][] {
  try {
    return parse(text, {
      bom: true,
      skip_empty_lines: true,
      relax_column_count: true,
      record_delimiter: ["\r\n", "\n", "\r"],
    });
  } catch (e) {
    throw new SyntaxError((e as Error).message);
  }
}

/**
 * Parses CSV text with a header row into objects keyed by column name.
 *
 * @example A header and a row
 * ```ts
 * import { parseCsvObjects } from "./csv.ts";
 * import { equal } from "node:assert/strict";
 * const [row] = parseCsvObjects("lag,iters_per_s\n2,140.5\n");
 * equal(row.iters_per_s, "140.5");
 * ```
 *
 * @param text The CSV text.
 * @returns One object per data row.
 * @throws SyntaxError when the text is not CSV or a row's cell count differs from the header's.
 */
export function parseCsvObjects(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  if (!header) return [];
  const names = header.map((name) => name.trim());
  return rows.map((row, index) => {
    if (row.length !== names.length) {
      throw new SyntaxError(
        `Line ${index + 2} has ${row.length} cells, the header has ${names.length}`,
      );
    }
    return Object.fromEntries(names.map((name, i) => [name, row[i]]));
  });
}
