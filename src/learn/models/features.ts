import { createHash } from 'node:crypto';
import { AppError } from '../../errors.ts';
import type { ColumnSpec, DropReason, FeatureSchema, RawRow, RawValue } from './types.ts';

/** Cell values that mean "no value" (besides null, undefined and blanks), compared trimmed and lower-cased. */
export const DEFAULT_MISSING_TOKENS = ['na', 'n/a', 'nan', 'null', 'none', '?'];

export interface SchemaOptions {
  /** Most one-hot levels per categorical column; the rest share `(other)`. */
  maxLevels?: number;
  /** A level needs this many training rows to get its own feature. */
  minLevelCount?: number;
  missingTokens?: string[];
}

const SCHEMA_DEFAULTS = { maxLevels: 20, minLevelCount: 3 };

/** The cell as a trimmed string, or null when it is missing. */
export function cellText(v: RawValue, missing: ReadonlySet<string>): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : null;
  const s = (typeof v === 'string' ? v : String(v)).trim();
  if (s === '' || missing.has(s.toLowerCase())) return null;
  return s;
}

/** The cell as a finite number, or NaN (missing or not a number). Blanks are missing, not 0 as Number('') would say. */
export function cellNumber(v: RawValue): number {
  if (typeof v === 'number') return Number.isFinite(v) ? v : NaN;
  if (typeof v !== 'string') return typeof v === 'boolean' ? (v ? 1 : 0) : NaN;
  // Number() ignores surrounding blanks itself; only a 0 needs a second look (it is what '' and '  ' give).
  const n = Number(v);
  if (!Number.isFinite(n)) return NaN;
  return n === 0 && v.trim() === '' ? NaN : n;
}

/** The columns of a table: every key, in the order first seen. */
export function tableColumns(rows: readonly RawRow[]): string[] {
  const seen = new Set<string>();
  for (const row of rows) for (const k of Object.keys(row)) seen.add(k);
  return [...seen];
}

// `id`, `customer_id`, `row-key`, `customerID`, `accountId`: not `paid` or `valid`.
const looksLikeIdName = (name: string) =>
  /(^|[\s_\-.])(id|uuid|guid|key|no)$/i.test(name) || /^(id|uuid|guid|key)$/i.test(name) || /[a-z](Id|ID)$/.test(name);

/**
 * Reads a table's columns and decides how each becomes features: numeric (numbers, or strings that all parse as
 * numbers once missing values are set aside), categorical (one-hot, capped), or dropped (the target, id-like,
 * high-cardinality text, constant, empty). Missing values are imputed (numeric: the median) and flagged.
 */
export function inferSchema(rows: readonly RawRow[], target: string, positive: string, options: SchemaOptions = {}): FeatureSchema {
  const maxLevels = options.maxLevels ?? SCHEMA_DEFAULTS.maxLevels;
  const minLevelCount = options.minLevelCount ?? SCHEMA_DEFAULTS.minLevelCount;
  const missingTokens = (options.missingTokens ?? DEFAULT_MISSING_TOKENS).map((t) => t.trim().toLowerCase());
  const missing = new Set(missingTokens);
  const n = rows.length;
  const columns: ColumnSpec[] = [];
  const dropped: FeatureSchema['dropped'] = [];
  const drop = (column: string, reason: DropReason) => dropped.push({ column, reason });

  for (const column of tableColumns(rows)) {
    if (column === target) {
      drop(column, 'target');
      continue;
    }
    const counts = new Map<string, number>();
    const numbers: number[] = [];
    let present = 0;
    let numeric = true;
    for (const row of rows) {
      const text = cellText(row[column], missing);
      if (text === null) continue;
      present++;
      counts.set(text, (counts.get(text) ?? 0) + 1);
      if (numeric) {
        const x = cellNumber(row[column]);
        if (Number.isNaN(x)) numeric = false;
        else numbers.push(x);
      }
    }
    const hasMissing = present < n;
    const distinct = counts.size;
    if (present === 0) {
      drop(column, 'empty');
      continue;
    }
    if (distinct === 1 && !hasMissing) {
      drop(column, 'constant');
      continue;
    }
    // A value per row says who, not what: a customer id, an email, a row number named like an id.
    const uniquePerRow = distinct === present && present >= 0.9 * n && n >= 10;
    if (uniquePerRow && (!numeric || looksLikeIdName(column))) {
      drop(column, 'id-like');
      continue;
    }
    if (numeric) {
      numbers.sort((a, b) => a - b);
      columns.push({ column, kind: 'numeric', impute: median(numbers), missingIndicator: hasMissing });
      continue;
    }
    if (distinct > maxLevels && distinct > 0.5 * present) {
      drop(column, 'high-cardinality');
      continue;
    }
    // Most frequent first; ties by value, so the schema does not depend on row order.
    const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const levels = ranked
      .filter(([, c]) => c >= minLevelCount)
      .slice(0, maxLevels)
      .map(([v]) => v);
    columns.push({ column, kind: 'categorical', levels, other: levels.length < distinct, missingIndicator: hasMissing });
  }

  const features: string[] = [];
  const featureColumn: number[] = [];
  columns.forEach((spec, c) => {
    const names =
      spec.kind === 'numeric'
        ? [spec.column, ...(spec.missingIndicator ? [`${spec.column}:missing`] : [])]
        : [
            ...spec.levels.map((l) => `${spec.column}=${l}`),
            ...(spec.other ? [`${spec.column}=(other)`] : []),
            ...(spec.missingIndicator ? [`${spec.column}:missing`] : []),
          ];
    for (const name of names) {
      features.push(name);
      featureColumn.push(c);
    }
  });
  return { target, positive, columns, features, featureColumn, dropped, missingTokens };
}

function median(sorted: readonly number[]): number {
  if (sorted.length === 0) return 0;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Turns raw rows into the schema's feature vectors. Compiled once per schema; allocation-free per row. */
export class FeatureEncoder {
  readonly width: number;
  private readonly missing: ReadonlySet<string>;
  /** Per column: its first feature's offset, and for categoricals the level → offset map. */
  private readonly plan: { spec: ColumnSpec; offset: number; levelIndex?: Map<string, number>; other: number; missingAt: number }[];

  constructor(readonly schema: FeatureSchema) {
    this.width = schema.features.length;
    this.missing = new Set(schema.missingTokens);
    let offset = 0;
    this.plan = schema.columns.map((spec) => {
      const start = offset;
      if (spec.kind === 'numeric') {
        offset += 1 + (spec.missingIndicator ? 1 : 0);
        return { spec, offset: start, other: -1, missingAt: spec.missingIndicator ? start + 1 : -1 };
      }
      const levelIndex = new Map(spec.levels.map((l, i) => [l, start + i]));
      offset += spec.levels.length;
      const other = spec.other ? offset++ : -1;
      const missingAt = spec.missingIndicator ? offset++ : -1;
      return { spec, offset: start, levelIndex, other, missingAt };
    });
    if (offset !== this.width) throw new Error(`feature schema is inconsistent: ${offset} features planned, ${this.width} named`);
  }

  /** Writes one row's features into `out` at `at` (the caller zeroes nothing: every slot is written). */
  encodeInto(row: RawRow, out: Float64Array, at: number): void {
    for (const p of this.plan) {
      const v = row[p.spec.column];
      if (p.spec.kind === 'numeric') {
        const x = cellNumber(v);
        const absent = Number.isNaN(x);
        out[at + p.offset] = absent ? p.spec.impute : x;
        if (p.missingAt >= 0) out[at + p.missingAt] = absent ? 1 : 0;
        continue;
      }
      const end = p.offset + p.spec.levels.length + (p.other >= 0 ? 1 : 0) + (p.missingAt >= 0 ? 1 : 0);
      for (let j = p.offset; j < end; j++) out[at + j] = 0;
      // Fast path: the cell is exactly a level (no blanks to trim), as it is in clean data.
      let j = typeof v === 'string' ? p.levelIndex!.get(v) : undefined;
      if (j !== undefined) {
        out[at + j] = 1;
        continue;
      }
      const text = cellText(v, this.missing);
      if (text === null) {
        if (p.missingAt >= 0) out[at + p.missingAt] = 1;
        continue;
      }
      j = p.levelIndex!.get(text);
      if (j !== undefined) out[at + j] = 1;
      else if (p.other >= 0) out[at + p.other] = 1;
    }
  }

  /** Row-major matrix: row i's features at [i·width, (i+1)·width). */
  encode(rows: readonly RawRow[]): Float64Array {
    const out = new Float64Array(rows.length * this.width);
    for (let i = 0; i < rows.length; i++) this.encodeInto(rows[i]!, out, i * this.width);
    return out;
  }
}

/** Whether each row's target is the positive value (1) or not (0); NaN when the target is missing. */
export function targetLabels(
  rows: readonly RawRow[],
  target: string,
  positive: string,
  missingTokens = DEFAULT_MISSING_TOKENS,
): Float64Array {
  const missing = new Set(missingTokens);
  const want = positive.trim();
  const y = new Float64Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const text = cellText(rows[i]![target], missing);
    y[i] = text === null ? NaN : text === want ? 1 : 0;
  }
  return y;
}

/** The distinct values of a column with their counts, most frequent first (for error messages). */
export function valueCounts(rows: readonly RawRow[], column: string): [string, number][] {
  const counts = new Map<string, number>();
  const missing = new Set(DEFAULT_MISSING_TOKENS);
  for (const row of rows) {
    const text = cellText(row[column], missing) ?? '(missing)';
    counts.set(text, (counts.get(text) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

/**
 * sha256 of the table's canonical form: columns sorted by name, then one JSON array per row of its cells in that
 * order (missing keys and non-finite numbers as null). The same rows in the same order give the same hash,
 * whatever order the keys of each row were written in.
 */
export function fingerprintTable(rows: readonly RawRow[]): string {
  const columns = tableColumns(rows).sort();
  const hash = createHash('sha256');
  hash.update(JSON.stringify(columns) + '\n');
  for (const row of rows) {
    hash.update(
      JSON.stringify(
        columns.map((c) => {
          const v = row[c];
          return v === undefined || (typeof v === 'number' && !Number.isFinite(v)) ? null : v;
        }),
      ) + '\n',
    );
  }
  return hash.digest('hex');
}

/** Checks the target and positive value before any work, with errors that name the option at fault. */
export function checkTarget(rows: readonly RawRow[], target: string, positive: string): void {
  if (rows.length === 0) throw new AppError('validation_failed', 'the table has no rows', [{ path: 'csv', message: 'no data rows' }]);
  const columns = tableColumns(rows);
  if (!columns.includes(target)) {
    throw new AppError('validation_failed', `no column '${target}' in the table`, [
      { path: 'target', message: `columns are: ${columns.join(', ')}` },
    ]);
  }
  const counts = valueCounts(rows, target).filter(([v]) => v !== '(missing)');
  const listed =
    counts
      .slice(0, 10)
      .map(([v, c]) => `${v} (${c})`)
      .join(', ') + (counts.length > 10 ? ', …' : '');
  if (counts.length < 2) {
    throw new AppError('validation_failed', `target column '${target}' has one class only: both outcomes are needed to learn`, [
      { path: 'target', message: `values are: ${listed || 'none'}` },
    ]);
  }
  if (!counts.some(([v]) => v === positive.trim())) {
    throw new AppError('validation_failed', `no row has ${target} = '${positive}'`, [
      { path: 'positive', message: `values of ${target} are: ${listed}` },
    ]);
  }
}
