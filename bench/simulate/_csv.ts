/**
 * A small RFC 4180 CSV reader for the simulator's calibration input
 * (`summary.csv`): quoted cells, doubled quotes, CRLF or LF line ends.
 *
 * @module
 */

/**
 * Parses CSV text into records of cells. Blank lines are skipped.
 *
 * @example Quoted cells
 * ```ts
 * import { parseCsvRecords } from "./_csv.ts";
 * const [record] = parseCsvRecords('a,"b,""c"""\r\n');
 * if (record.join("|") !== 'a|b,"c"') throw new Error(record.join("|"));
 * ```
 *
 * @param text The CSV text.
 * @returns The records.
 * @throws SyntaxError on an unterminated quoted cell.
 */
export function parseCsvRecords(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = "";
  let quoted = false;
  let i = 0;
  const endRecord = () => {
    record.push(cell);
    if (record.length > 1 || record[0] !== "") records.push(record);
    record = [];
    cell = "";
  };
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        cell += ch;
      }
      i++;
      continue;
    }
    if (ch === '"') quoted = true;
    else if (ch === ",") {
      record.push(cell);
      cell = "";
    } else if (ch === "\n") endRecord();
    else if (ch !== "\r") cell += ch;
    i++;
  }
  if (quoted) throw new SyntaxError("Unterminated quoted cell");
  if (cell !== "" || record.length > 0) endRecord();
  return records;
}

/**
 * Parses CSV text with a header row into objects keyed by column name.
 *
 * @example A header and a row
 * ```ts
 * import { parseCsvObjects } from "./_csv.ts";
 * const [row] = parseCsvObjects("lag,iters_per_s\n2,140.5\n");
 * if (row.iters_per_s !== "140.5") throw new Error(JSON.stringify(row));
 * ```
 *
 * @param text The CSV text.
 * @returns One object per data row.
 * @throws SyntaxError when a row's cell count differs from the header's.
 */
export function parseCsvObjects(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsvRecords(text);
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
