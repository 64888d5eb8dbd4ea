import { stringify } from 'csv-stringify/sync';

/**
 * Every CSV file ACS writes goes through here (exports and rejected-row files), so every one is escaped the same
 * way. A cell that starts with = + - @, a tab or a carriage return is one a spreadsheet may run as a formula
 * (CSV injection, as OWASP describes it): it gets a leading apostrophe, which spreadsheets show as text.
 * `unescapeCsvCell` undoes that on import, so a file ACS wrote imports back as it was.
 */
export function csvLines(rows: readonly (readonly string[])[]): string {
  return stringify(rows as string[][], { escape_formulas: true, record_delimiter: '\n' });
}

const ESCAPED = /^'[=+\-@\t\r]/;

/** A cell as ACS wrote it, without the apostrophe formula escaping put in front. */
export function unescapeCsvCell(cell: string): string {
  return ESCAPED.test(cell) ? cell.slice(1) : cell;
}
