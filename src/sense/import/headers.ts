import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { unescapeCsvCell } from '../../lib/index.ts';

/** What a CSV cell must become before validation, read off the zod schema rather than listed by hand. */
export type FieldType =
  | { kind: 'number' }
  | { kind: 'boolean' }
  /** `synonyms`: other products' values for an option, by their loose spelling (normalizeHeader). */
  | { kind: 'enum'; options: string[]; synonyms?: Record<string, string> }
  | { kind: 'json' }
  | { kind: 'timestamp' }
  | { kind: 'date' }
  | { kind: 'text' };

/** Strips optional/nullable/default wrappers and refinement pipes down to the type a value must have. */
function baseType(t: z.core.$ZodType): z.core.$ZodType {
  for (;;) {
    if (t instanceof z.ZodOptional || t instanceof z.ZodNullable || t instanceof z.ZodDefault) t = t.unwrap();
    else if (t instanceof z.ZodPipe) t = t.in;
    else return t;
  }
}

function typeOf(t: z.core.$ZodType): FieldType {
  if (t instanceof z.ZodNumber) return { kind: 'number' };
  if (t instanceof z.ZodBoolean) return { kind: 'boolean' };
  if (t instanceof z.ZodEnum) return { kind: 'enum', options: t.options.map(String) };
  if (t instanceof z.ZodRecord || t instanceof z.ZodObject) return { kind: 'json' };
  if (t instanceof z.ZodISODateTime) return { kind: 'timestamp' };
  if (t instanceof z.ZodISODate) return { kind: 'date' };
  return { kind: 'text' };
}

/** The fields an input schema accepts, with the type of each. */
export function fieldTypes(schema: z.core.$ZodType): Map<string, FieldType> {
  const object = baseType(schema);
  if (!(object instanceof z.ZodObject)) throw new Error('an import target must be an object schema');
  return new Map(Object.entries(object.shape).map(([field, t]) => [field, typeOf(baseType(t))]));
}

/** Header spelling with case, spaces and punctuation removed: "E-mail", "e_mail" and "EMail" all read "email". */
export const normalizeHeader = (s: string) => s.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');

/**
 * Spellings seen in exports from other CRMs and spreadsheets. A field's own name is always recognised,
 * and an alias only counts for entities that have that field.
 */
const COMMON_ALIASES: Record<string, readonly string[]> = {
  firstName: ['given name', 'fname', 'forename'],
  lastName: ['surname', 'family name', 'lname'],
  email: ['email address', 'e-mail address', 'mail'],
  phone: ['phone number', 'mobile', 'mobile phone', 'mobile number', 'cell', 'cell phone', 'telephone', 'tel'],
  company: ['company name', 'organization', 'organisation', 'org', 'employer'],
  customerId: ['customer number', 'customer no', 'cust id', 'client id'],
  // Salesforce exports name a record's own id `Id`, HubSpot's `Record ID`: ACS keeps it as the external id, and
  // references to the record (AccountId, Associated Company IDs) are resolved by it.
  externalId: ['ext id', 'external ref', 'crm id', 'id', 'record id', 'hs object id'],
  accountId: ['account id', 'associated company id', 'associated company ids', 'primary associated company id', 'company id'],
  contactId: ['contact id', 'associated contact id', 'associated contact ids', 'primary associated contact id'],
  owner: ['owner id', 'account owner', 'company owner', 'contact owner', 'deal owner', 'opportunity owner', 'ticket owner', 'case owner'],
  currency: ['currency iso code', 'currency code'],
  title: ['job title', 'position'],
  website: ['url', 'web', 'homepage'],
  sku: ['product code', 'item code', 'part number'],
  price: ['unit price', 'list price'],
  closeDate: ['close', 'closing date', 'expected close'],
  occurredAt: ['date', 'timestamp', 'occurred'],
};

export interface MappingTarget {
  /** Names the entity in error messages. */
  entity: string;
  fields: Map<string, FieldType>;
  /** Entity-specific spellings by field; they win over the common ones. */
  aliases: Record<string, readonly string[]>;
  /** The json field that unmapped columns are kept in, or null to ignore them. */
  extrasField: string | null;
}

export interface ColumnMapping {
  header: string[];
  /** The field each column fills, by column index; null for extras and ignored columns. */
  fields: (string | null)[];
  /** Column indexes kept in the extras field. */
  extras: number[];
  ignored: string[];
  /** Column name to field, extras as `attributes.<column>`, for the summary. */
  mapping: Record<string, string>;
  /**
   * Columns that also spell a field another column took (Salesforce's MobilePhone beside Phone), by field: a row
   * whose own column for the field is empty takes the first of these that is not. They are kept as extras too.
   */
  fallbacks: Map<string, number[]>;
}

function aliasIndex(target: MappingTarget): Map<string, string> {
  const index = new Map<string, string>();
  const add = (field: string, spellings: readonly string[]) => {
    if (!target.fields.has(field)) return;
    for (const s of spellings) if (!index.has(normalizeHeader(s))) index.set(normalizeHeader(s), field);
  };
  for (const [field, spellings] of Object.entries(target.aliases)) add(field, spellings);
  for (const field of target.fields.keys()) add(field, [field]);
  for (const [field, spellings] of Object.entries(COMMON_ALIASES)) add(field, spellings);
  return index;
}

function findColumn(header: string[], column: string): number {
  const exact = header.indexOf(column);
  return exact >= 0 ? exact : header.findIndex((h) => normalizeHeader(h) === normalizeHeader(column));
}

/** `--map` entries win; a target field the entity lacks, or a column the file lacks, is an error. */
function applyOverrides(header: string[], target: MappingTarget, overrides: Record<string, string>, fields: (string | null)[]): void {
  for (const [column, field] of Object.entries(overrides)) {
    const flag = `--map ${column}=${field}`;
    if (!target.fields.has(field)) {
      throw new AppError(
        'bad_request',
        `${flag}: ${target.entity} have no field "${field}" (fields: ${[...target.fields.keys()].join(', ')})`,
        [{ path: `map.${column}`, message: `unknown field "${field}"` }],
      );
    }
    const index = findColumn(header, column);
    if (index < 0) {
      throw new AppError('bad_request', `${flag}: the file has no column "${column}" (columns: ${header.join(', ')})`, [
        { path: `map.${column}`, message: 'no such column' },
      ]);
    }
    if (fields.includes(field))
      throw new AppError('bad_request', `${flag}: field "${field}" is mapped twice`, [
        { path: `map.${column}`, message: 'field mapped twice' },
      ]);
    fields[index] = field;
  }
}

/** Decides which field each column fills. The first column to claim a field keeps it. */
export function mapColumns(header: string[], target: MappingTarget, overrides: Record<string, string> = {}): ColumnMapping {
  const fields: (string | null)[] = header.map(() => null);
  applyOverrides(header, target, overrides, fields);
  const index = aliasIndex(target);
  const fallbacks = new Map<string, number[]>();
  header.forEach((column, i) => {
    if (fields[i] !== null) return;
    const field = index.get(normalizeHeader(column));
    if (field && !fields.includes(field)) fields[i] = field;
    else if (field) fallbacks.set(field, [...(fallbacks.get(field) ?? []), i]);
  });
  const unmapped = header.flatMap((_column, i) => (fields[i] === null ? [i] : []));
  const extras = target.extrasField ? unmapped : [];
  const mapping: Record<string, string> = {};
  header.forEach((column, i) => {
    if (fields[i] !== null) mapping[column] = fields[i]!;
    else if (extras.includes(i)) mapping[column] = `${target.extrasField}.${column}`;
  });
  return { header, fields, extras, ignored: target.extrasField ? [] : unmapped.map((i) => header[i]!), mapping, fallbacks };
}

const NUMBER = /^[-+]?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;
// Timestamps as other products export them: "2024-03-01 10:15", "2024-03-01T10:15:00.000+0000", a bare date.
const LOCAL_TIME = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2})(:\d{2}(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** An ISO timestamp with an offset: a time without one is read as UTC, `+0000` becomes `+00:00`. */
function toTimestamp(v: string): string {
  const m = v.match(LOCAL_TIME);
  if (!m) return v;
  const [, date, hm = '00:00', sec = ':00', zone = 'Z'] = m;
  const offset = zone.toUpperCase() === 'Z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
  return `${date}T${hm}${sec}${offset}`;
}
// Exports from R, pandas and spreadsheets spell a missing value these ways; only typed fields read them so,
// since "NA" can be real text.
const MISSING = new Set(['na', 'n/a', 'nan', 'null', '#n/a']);
const TRUE = new Set(['yes', 'y', 'true', 't', '1']);
const FALSE = new Set(['no', 'n', 'false', 'f', '0']);

/**
 * Turns a cell into the value its field takes; empty and missing cells are omitted. A cell that does not convert
 * stays a string, so validation rejects it with the schema's own message.
 */
export function coerceCell(cell: string, type: FieldType): unknown {
  const v = cell.trim();
  if (v === '' || (type.kind !== 'text' && MISSING.has(v.toLowerCase()))) return undefined;
  switch (type.kind) {
    case 'number':
      return NUMBER.test(v) ? Number(v) : v;
    case 'boolean': {
      const lower = v.toLowerCase();
      return TRUE.has(lower) ? true : FALSE.has(lower) ? false : v;
    }
    case 'enum':
      // "Closed Won" and "One year" name the options closed_won and one-year.
      return type.options.find((o) => normalizeHeader(o) === normalizeHeader(v)) ?? type.synonyms?.[normalizeHeader(v)] ?? v;
    case 'timestamp':
      return toTimestamp(v);
    case 'date':
      // A date exported with a time ("2024-06-30 00:00", ACS's own midnight timestamps) is that day.
      return /^\d{4}-\d{2}-\d{2}[ T]/.test(v) ? v.slice(0, 10) : v;
    case 'json':
      return parseJsonObject(v) ?? v;
    case 'text':
      return v;
  }
}

function parseJsonObject(v: string): Record<string, unknown> | undefined {
  if (!v.startsWith('{')) return undefined;
  try {
    return JSON.parse(v) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** One CSV row as the typed field values validation sees; extra columns go into the extras field. */
export function rowValues(given: readonly string[], m: ColumnMapping, target: MappingTarget): Record<string, unknown> {
  // A file ACS exported escaped formula-like cells with an apostrophe (src/lib/csv.ts); they read back as they were.
  const cells = given.map(unescapeCsvCell);
  const values: Record<string, unknown> = {};
  m.fields.forEach((field, i) => {
    if (!field) return;
    const type = target.fields.get(field)!;
    let v = coerceCell(cells[i] ?? '', type);
    for (const j of m.fallbacks.get(field) ?? []) v ??= coerceCell(cells[j] ?? '', type);
    if (v !== undefined) values[field] = v;
  });
  const extras = Object.fromEntries(m.extras.flatMap((i) => (cells[i]?.trim() ? [[m.header[i]!, cells[i]!.trim()]] : [])));
  if (target.extrasField && Object.keys(extras).length > 0) {
    // A JSON cell for the field itself is kept; a malformed one stays a string for validation to reject.
    const given = values[target.extrasField];
    if (given === undefined) values[target.extrasField] = extras;
    else if (typeof given === 'object' && given !== null) values[target.extrasField] = { ...extras, ...given };
  }
  return values;
}
