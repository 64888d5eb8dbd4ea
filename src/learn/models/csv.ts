import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { AppError } from '../../errors.ts';

/** Reads a CSV with a header row into rows of strings (cells trimmed; blanks stay '' and count as missing). */
export function readCsvTable(file: string): { columns: string[]; rows: Record<string, string>[] } {
  let rows: Record<string, string>[];
  try {
    rows = parse(readFileSync(file, 'utf8'), {
      columns: (h: string[]) => h.map((x) => x.trim()),
      trim: true,
      skip_empty_lines: true,
      bom: true,
    });
  } catch (err) {
    throw new AppError('bad_request', `cannot read ${file}: ${(err as Error).message}`, [{ path: 'csv', message: (err as Error).message }]);
  }
  const columns = rows.length ? Object.keys(rows[0]!) : [];
  return { columns, rows };
}
