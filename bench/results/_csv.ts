/**
 * A small RFC 4180 CSV parser for the result files: quoted fields, doubled
 * quotes, separators and line breaks inside quotes, CRLF or LF line ends.
 *
 * @module
 */

/**
 * Parses CSV text into records of fields. A trailing line break does not make
 * an empty record; blank lines are skipped.
 *
 * @example Parse quoted fields
 * ```ts
 * import { parseCsv } from "./_csv.ts";
 * import { deepStrictEqual } from "node:assert/strict";
 * deepStrictEqual(parseCsv('a,b\n"x,1","say ""hi"""\n'), [["a", "b"], ["x,1", 'say "hi"']]);
 * ```
 *
 * @param text The CSV text.
 * @returns The records, each an array of field strings.
 * @throws SyntaxError when a quoted field is not closed or a quote is followed by text.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let fieldWasQuoted = false;
  let i = 0;
  let line = 1;
  // A BOM written by spreadsheet tools is not part of the first column name.
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  const endRecord = () => {
    record.push(field);
    // A line holding nothing at all is blank, not a record with one empty field.
    if (!(record.length === 1 && record[0] === "" && !fieldWasQuoted)) records.push(record);
    record = [];
    field = "";
    fieldWasQuoted = false;
  };
  while (i < text.length) {
    const c = text[i];
    if (c === '"' && field === "" && !fieldWasQuoted) {
      fieldWasQuoted = true;
      i++;
      const startLine = line;
      for (;;) {
        if (i >= text.length) {
          throw new SyntaxError(`Unclosed quoted field starting on line ${startLine}`);
        }
        const q = text[i];
        if (q === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (q === "\n") line++;
        field += q;
        i++;
      }
      const next = text[i];
      if (next !== undefined && next !== "," && next !== "\n" && next !== "\r") {
        throw new SyntaxError(`Unexpected text after a closing quote on line ${line}`);
      }
      continue;
    }
    if (c === ",") {
      record.push(field);
      field = "";
      fieldWasQuoted = false;
      i++;
    } else if (c === "\r" || c === "\n") {
      endRecord();
      i += c === "\r" && text[i + 1] === "\n" ? 2 : 1;
      line++;
    } else {
      field += c;
      i++;
    }
  }
  if (field !== "" || fieldWasQuoted || record.length > 0) endRecord();
  return records;
}
