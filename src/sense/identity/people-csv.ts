import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { AppError } from '../../errors.ts';
import { PERSON_FIELDS, type PersonField, type PersonRecord } from './types.ts';

/** Header names (lowercased, without spaces, dashes or underscores) that mean each person field. */
const HEADER_NAMES: Record<PersonField, string[]> = {
  givenName: ['givenname', 'firstname', 'first', 'given', 'forename', 'fname'],
  surname: ['surname', 'lastname', 'last', 'familyname', 'lname'],
  dateOfBirth: ['dateofbirth', 'dob', 'birthdate', 'birthday', 'born'],
  streetNumber: ['streetnumber', 'streetno', 'housenumber', 'number'],
  address1: ['address1', 'address', 'street', 'streetaddress', 'addressline1'],
  address2: ['address2', 'addressline2'],
  suburb: ['suburb', 'city', 'town', 'locality'],
  postcode: ['postcode', 'zip', 'zipcode', 'postalcode'],
  state: ['state', 'region', 'province'],
  email: ['email', 'emailaddress', 'mail'],
  phone: ['phone', 'phonenumber', 'mobile', 'telephone', 'tel'],
  nationalId: ['nationalid', 'socsecid', 'ssn', 'socialsecuritynumber', 'taxid'],
};
/** The person field a column or attribute name means, if any (`Date of birth`, `zip`, `dob` ...). */
export const personFieldNamed = (name: string): PersonField | undefined =>
  PERSON_FIELDS.find((f) => HEADER_NAMES[f].includes(squash(name)));

const ID_NAMES = ['recid', 'recordid', 'id', 'personid', 'customerid'];
const squash = (h: string) => h.toLowerCase().replace(/[\s_\-.]/g, '');

/** Normalizes a value the way every comparison expects: lowercase, single spaces; digits only where that is the meaning. */
export function normalizeValue(field: PersonField, raw: string): string | undefined {
  const text = raw.trim().toLowerCase().replace(/\s+/g, ' ');
  if (!text) return undefined;
  switch (field) {
    case 'dateOfBirth': {
      const iso = text.match(/^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/);
      const value = iso ? `${iso[1]}${iso[2]!.padStart(2, '0')}${iso[3]!.padStart(2, '0')}` : text.replace(/\D/g, '');
      return value || undefined;
    }
    case 'phone':
    case 'nationalId':
    case 'streetNumber':
      return text.replace(/[^0-9a-z]/g, '') || undefined;
    case 'postcode':
      return text.replace(/\s/g, '');
    default:
      return text;
  }
}

export interface PeopleFile {
  records: PersonRecord[];
  /** Column → field, as detected or mapped. */
  columns: Record<string, PersonField>;
  idColumn: string | null;
  /** The truth column's value per record id, when asked for (`--truth`). */
  truth?: Map<string, string>;
  ignored: string[];
}

/**
 * Reads a CSV of people (FEBRL's `, ` separator works too), maps its columns to person fields from the header
 * (`map` overrides: column → field), and normalizes every value. Rows without an id column are numbered.
 */
export function readPeopleCsv(
  file: string,
  opts: { source?: number; idColumn?: string; map?: Record<string, string>; truthColumn?: string } = {},
): PeopleFile {
  let rows: Record<string, string>[];
  try {
    rows = parse(readFileSync(file, 'utf8'), {
      columns: (h: string[]) => h.map((x) => x.trim()),
      trim: true,
      skip_empty_lines: true,
      relax_column_count: true,
      bom: true,
    });
  } catch (err) {
    throw new AppError('bad_request', `cannot read ${file}: ${(err as Error).message}`);
  }
  const headers = rows.length ? Object.keys(rows[0]!) : [];
  for (const [column, field] of Object.entries(opts.map ?? {})) {
    if (!headers.includes(column))
      throw new AppError('validation_failed', `--map names a column ${file} does not have`, [
        { path: `map.${column}`, message: `columns are: ${headers.join(', ')}` },
      ]);
    if (!(PERSON_FIELDS as readonly string[]).includes(field))
      throw new AppError('validation_failed', `--map names an unknown field`, [
        { path: `map.${column}`, message: `fields are: ${PERSON_FIELDS.join(', ')}` },
      ]);
  }
  const idColumn = opts.idColumn ?? headers.find((h) => ID_NAMES.includes(squash(h))) ?? null;
  if (opts.idColumn && !headers.includes(opts.idColumn))
    throw new AppError('validation_failed', `no column ${opts.idColumn} in ${file}`, [
      { path: 'id-column', message: `columns are: ${headers.join(', ')}` },
    ]);
  if (opts.truthColumn && !headers.includes(opts.truthColumn))
    throw new AppError('validation_failed', `no column ${opts.truthColumn} in ${file}`, [
      { path: 'truth', message: `columns are: ${headers.join(', ')}` },
    ]);
  const columns: Record<string, PersonField> = {};
  const taken = new Set<PersonField>();
  for (const h of headers) {
    if (h === idColumn || h === opts.truthColumn) continue;
    const mapped = opts.map?.[h] as PersonField | undefined;
    const field = mapped ?? PERSON_FIELDS.find((f) => !taken.has(f) && HEADER_NAMES[f].includes(squash(h)));
    if (field) {
      columns[h] = field;
      taken.add(field);
    }
  }
  if (Object.keys(columns).length === 0)
    throw new AppError('validation_failed', `no person columns recognised in ${file}`, [
      { path: 'header', message: `got ${headers.join(', ')}; name them with --map column=field` },
    ]);
  const truth = opts.truthColumn ? new Map<string, string>() : undefined;
  const records = rows.map((row, i) => {
    const id = idColumn ? row[idColumn]! : String(i + 1);
    const fields: PersonRecord['fields'] = {};
    for (const [column, field] of Object.entries(columns)) {
      const v = normalizeValue(field, row[column] ?? '');
      if (v) fields[field] = v;
    }
    if (truth) truth.set(id, row[opts.truthColumn!] ?? '');
    return { id, source: opts.source ?? 0, fields };
  });
  return { records, columns, idColumn, truth, ignored: headers.filter((h) => !(h in columns) && h !== idColumn && h !== opts.truthColumn) };
}

/** FEBRL's ids name the true entity: `rec-<n>-org` and `rec-<n>-dup-<k>` are person `<n>`. */
export function febrlTruth(records: PersonRecord[]): Map<string, string> | null {
  const truth = new Map<string, string>();
  for (const r of records) {
    const m = r.id.match(/^rec-(\d+)-(org|dup-\d+)$/);
    if (!m) return null;
    truth.set(r.id, m[1]!);
  }
  return truth;
}
