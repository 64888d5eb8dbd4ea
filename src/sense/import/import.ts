import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { parse } from 'csv-parse';
import {
  normalizeEmail,
  RECORD_INPUTS,
  RECORD_KINDS,
  toE164,
  toFieldIssues,
  type FieldIssue,
  type RecordKind,
} from '../../contracts/index.ts';
import { csvLines } from '../../lib/index.ts';
import { AppError } from '../../errors.ts';
import { systemClock, type Clock } from '../../clock.ts';
import { appendToLedger, type LedgerEvent } from '../../ledger/index.ts';
import {
  claimIdentities,
  identityClaimsFor,
  insertRecordRowsReturning,
  liveRecordIdsByKey,
  loadPipelines,
  mapDbError,
  recordIdsByReference,
  REFERENCE_FIELDS,
  DEFAULT_PIPELINE,
  type Pipelines,
  patchRecordRows,
  recordIdPrefix,
  snake,
  tableColumnTypes,
  toApi,
  type RecordRow,
} from '../../records/index.ts';
import { newId, type Db, type Queryable, type Tx } from '../../store/index.ts';
import { syncRecordPeople } from '../identity/people.ts';
import { attachContacts } from '../identity/resolve.ts';
import { fieldTypes, mapColumns, normalizeHeader, rowValues, type ColumnMapping, type FieldType, type MappingTarget } from './headers.ts';

export type ImportEntity = RecordKind | 'customers' | 'pipeline-stages';
export const IMPORT_ENTITIES: readonly ImportEntity[] = [...RECORD_KINDS, 'customers', 'pipeline-stages'];

export interface ImportOptions {
  /** CSV column to field, overriding the recognised headers (`--map column=field`). */
  map?: Record<string, string>;
  actor: string;
  onProgress?: (done: number, total: number) => void;
  /** Rows per transaction. */
  batchSize?: number;
  /** The server's clock: each batch's ledger entries are dated by it. Default the real time. */
  clock?: Clock;
}

export interface ImportSummary {
  entity: ImportEntity;
  file: string;
  total: number;
  imported: number;
  updated: number;
  /** Contacts imported without a profile that identity resolution attached to one. */
  attached: number;
  rejected: number;
  rejectedFile: string | null;
  ignoredColumns: string[];
  mapping: Record<string, string>;
  ms: number;
}

export type Prepared<T> = { ok: true; item: T } | { ok: false; issues: FieldIssue[] };

/** Column name to SQL type, per table, read from the database so bulk inserts cast like the table does. */
export type ColumnTypes = Map<string, Record<string, string>>;

export interface WriteContext {
  actor: string;
  columns: ColumnTypes;
  /** The batch's time on the server's clock: its ledger entries and identity lineage are dated by it. */
  now: Date;
}

export interface BatchWrite {
  inserted: number;
  updated: number;
  /** Contacts that identity resolution attached to an existing profile. */
  attached?: number;
  events: LedgerEvent[];
}

/** What differs between import entities: how a row validates and how a batch of rows is written. */
export interface EntityPlan<T> {
  entity: ImportEntity;
  /** Tables the plan writes. */
  tables: RecordKind[];
  target: MappingTarget;
  /** Called once the header is read, before any row: reads what `prepare` needs from the database. */
  init?(db: Queryable, header: readonly string[]): Promise<void>;
  /** `row` is the data row's number in the file, from 1 (the header is not counted). */
  prepare(values: Record<string, unknown>, row: number): Prepared<T>;
  /** Natural keys of an item. Two rows with one key never share a batch, so the later one updates the earlier. */
  keys(item: T): string[];
  /** Writes a batch in the caller's transaction and returns the ledger events for it. */
  write(tx: Tx, items: T[], ctx: WriteContext): Promise<BatchWrite>;
}

const DEFAULT_BATCH = 500;

// ---------------------------------------------------------------------------------------------
// Record writing: bulk inserts and updates with identities and ledger events, for any record kind.

/** Natural keys imports match existing records by, strongest first; other kinds always insert. */
const NATURAL_KEYS: Partial<Record<RecordKind, string[]>> = {
  accounts: ['customerId', 'externalId'],
  contacts: ['email', 'externalId'],
  leads: ['email', 'externalId'],
  opportunities: ['externalId'],
  cases: ['externalId'],
  products: ['sku'],
};

export interface RecordItem {
  /** Validated fields. On an update, exactly the fields that change. */
  input: Record<string, unknown>;
  /** Fields used only when the record is created. */
  defaults?: Record<string, unknown>;
}

export interface WrittenRecord {
  op: 'created' | 'updated';
  record: RecordRow;
}

const toColumns = (fields: Record<string, unknown>) => Object.fromEntries(Object.entries(fields).map(([k, v]) => [snake(k), v]));

const keyValue = (field: string, v: unknown) => (typeof v !== 'string' || v === '' ? null : field === 'email' ? normalizeEmail(v) : v);
const keySql = (field: string) => (field === 'email' ? 'lower(email)' : snake(field));

/** The natural keys an input carries, as `field:value` strings. */
export function naturalKeys(fields: readonly string[], input: Record<string, unknown>): string[] {
  return fields.flatMap((f) => {
    const v = keyValue(f, input[f]);
    return v === null ? [] : [`${f}:${v}`];
  });
}

/** The id of the live record each input names by natural key (the oldest, when several match); one query per key field. */
async function findExisting(
  tx: Tx,
  kind: RecordKind,
  inputs: Record<string, unknown>[],
  keyFields: readonly string[],
): Promise<(string | undefined)[]> {
  const found: (string | undefined)[] = inputs.map(() => undefined);
  for (const field of keyFields) {
    const pending = inputs.flatMap((input, i) => {
      const key = found[i] ? null : keyValue(field, input[field]);
      return key === null ? [] : [{ i, key }];
    });
    if (pending.length === 0) continue;
    const rows = await liveRecordIdsByKey(tx, kind, keySql(field), [...new Set(pending.map((p) => p.key))]);
    const ids = new Map<string, string>();
    for (const r of rows) if (!ids.has(r.key)) ids.set(r.key, r.id);
    for (const p of pending) found[p.i] = ids.get(p.key);
  }
  return found;
}

function typesFor(ctx: WriteContext, kind: RecordKind, names: string[]): Record<string, string> {
  const table = ctx.columns.get(kind);
  return Object.fromEntries(
    names.map((n) => {
      const type = table?.[n];
      if (!type) throw new Error(`${kind} has no column ${n}`);
      return [n, type];
    }),
  );
}

/** Inserts in one statement per distinct column set: a column missing from a row would be NULL, not its default. */
async function insertRecords(
  tx: Tx,
  kind: RecordKind,
  creates: { id: string; fields: Record<string, unknown> }[],
  ctx: WriteContext,
): Promise<Map<string, RecordRow>> {
  const groups = new Map<string, Record<string, unknown>[]>();
  for (const c of creates) {
    const row = { id: c.id, ...toColumns(c.fields) };
    const signature = Object.keys(row).sort().join(',');
    const group = groups.get(signature);
    if (group) group.push(row);
    else groups.set(signature, [row]);
  }
  const written = new Map<string, RecordRow>();
  for (const [signature, rows] of groups) {
    const inserted = await insertRecordRowsReturning(tx, kind, typesFor(ctx, kind, signature.split(',')), rows);
    for (const r of inserted) written.set(r.id as string, toApi(r));
  }
  return written;
}

/** Splits updates so no record is updated twice by one statement, which PostgreSQL would apply only once. */
function rounds<T extends { id: string }>(updates: T[]): T[][] {
  const out: { ids: Set<string>; items: T[] }[] = [];
  for (const u of updates) {
    let round = out.find((r) => !r.ids.has(u.id));
    if (!round) out.push((round = { ids: new Set(), items: [] }));
    round.ids.add(u.id);
    round.items.push(u);
  }
  return out.map((r) => r.items);
}

/**
 * Applies partial updates in one statement per round: each row keeps the columns its patch leaves out,
 * and json columns merge (an import adds attributes, it does not drop the ones already there).
 */
async function updateRecords(
  tx: Tx,
  kind: RecordKind,
  updates: { id: string; fields: Record<string, unknown> }[],
  ctx: WriteContext,
): Promise<RecordRow[]> {
  const results: RecordRow[] = [];
  for (const round of rounds(updates)) {
    const patches = round.map((u) => ({ id: u.id, patch: toColumns(u.fields) }));
    const names = [...new Set(patches.flatMap((p) => Object.keys(p.patch)))];
    const types = typesFor(ctx, kind, names);
    const values = names.map((n) =>
      types[n] === 'jsonb' ? `COALESCE(t.${n}, '{}'::jsonb) || COALESCE(u.patch->'${n}', '{}'::jsonb)` : `r.${n}`,
    );
    const rows = await patchRecordRows(tx, kind, names, values, patches);
    const byId = new Map(rows.map((r) => [r.id as string, toApi(r)]));
    results.push(...round.map((u) => byId.get(u.id)!));
  }
  return results;
}

/** A ledger event naming the record and the fields written: ids and field names only, never values. */
const recordEvent = (kind: RecordKind, w: WrittenRecord, fields: Record<string, unknown>, actor: string, at: Date): LedgerEvent => ({
  type: `record.${w.op}`,
  actor,
  subjectType: kind,
  subjectId: w.record.id,
  data: { fields: Object.keys(fields).sort(), version: w.record.version, via: 'import' },
  at,
});

/**
 * Upserts records of one kind inside the caller's transaction: an item whose natural key names a live
 * record updates it, the rest are inserted. Returns what happened to each item, in order, and the
 * ledger events for the caller to append.
 */
export async function writeRecords(
  tx: Tx,
  kind: RecordKind,
  items: RecordItem[],
  ctx: WriteContext,
  keyFields: readonly string[] = NATURAL_KEYS[kind] ?? [],
): Promise<{ written: WrittenRecord[]; attached: number; events: LedgerEvent[] }> {
  const existing = await findExisting(
    tx,
    kind,
    items.map((i) => i.input),
    keyFields,
  );
  const ops = items.map((item, i) => {
    const id = existing[i];
    return id
      ? { op: 'updated' as const, id, fields: item.input }
      : { op: 'created' as const, id: newId(recordIdPrefix(kind)), fields: { ...item.defaults, ...item.input } };
  });
  const created = await insertRecords(
    tx,
    kind,
    ops.filter((o) => o.op === 'created'),
    ctx,
  );
  const updateOps = ops.filter((o) => o.op === 'updated');
  const updated = await updateRecords(tx, kind, updateOps, ctx);
  const updatedByOp = new Map(updateOps.map((o, i) => [o, updated[i]!]));
  const written = ops.map((o) => ({ op: o.op, record: o.op === 'created' ? created.get(o.id)! : updatedByOp.get(o)! }));
  // People imported without a profile find theirs through identity resolution (and then claim identifiers for it).
  const attached =
    kind === 'contacts'
      ? await attachContacts(
          tx,
          written.map((w) => w.record),
          { actor: ctx.actor, now: ctx.now, source: 'import' },
        )
      : [];
  await claimIdentities(
    tx,
    written.flatMap((w) => identityClaimsFor(kind, w.record, 'import')),
  );
  await syncRecordPeople(
    tx,
    kind,
    written.map((w) => w.record),
    'import',
  );
  return { written, attached: attached.length, events: written.map((w, i) => recordEvent(kind, w, ops[i]!.fields, ctx.actor, ctx.now)) };
}

export const countOps = (written: WrittenRecord[]) => ({
  inserted: written.filter((w) => w.op === 'created').length,
  updated: written.filter((w) => w.op === 'updated').length,
});

// ---------------------------------------------------------------------------------------------
// Plans for the plain record kinds.

/** Header spellings particular to one kind; the common ones live in headers.ts. */
const RECORD_ALIASES: Partial<Record<RecordKind, Record<string, readonly string[]>>> = {
  accounts: { name: ['account name', 'account', 'company', 'company name', 'organization', 'organisation'], kind: ['account type'] },
  leads: { source: ['lead source', 'original source'], status: ['lead status'] },
  opportunities: {
    name: ['opportunity name', 'opportunity', 'deal name', 'deal'],
    amount: ['deal value', 'value'],
    stage: ['stage name', 'deal stage', 'opportunity stage'],
    probability: ['deal probability', 'probability percent'],
  },
  products: { name: ['product name', 'product'] },
  partners: { name: ['partner name', 'partner', 'company', 'company name'] },
  cases: {
    subject: ['title', 'summary', 'ticket name'],
    description: ['ticket description'],
    status: ['ticket status', 'case status'],
    priority: ['ticket priority', 'case priority'],
    channel: ['origin', 'case origin', 'source', 'ticket source'],
    openedAt: ['created date', 'create date', 'opened date', 'opened'],
    closedAt: ['closed date', 'close date', 'closed'],
  },
};

/**
 * Values other products export for ACS's options, by their loose spelling: Salesforce's default lead and case
 * picklists and HubSpot's lead statuses and ticket stages, priorities and sources.
 */
const VALUE_SYNONYMS: Partial<Record<RecordKind, Record<string, Record<string, string>>>> = {
  leads: {
    status: {
      opennotcontacted: 'new',
      open: 'new',
      workingcontacted: 'working',
      inprogress: 'working',
      attemptedtocontact: 'working',
      connected: 'working',
      opendeal: 'qualified',
      closedconverted: 'converted',
      closednotconverted: 'disqualified',
      unqualified: 'disqualified',
      badtiming: 'disqualified',
    },
  },
  cases: {
    status: { new: 'open', working: 'pending', escalated: 'open', waitingoncontact: 'pending', waitingonus: 'open', onhold: 'pending' },
    priority: { medium: 'normal' },
    channel: { form: 'web', webform: 'web', livechat: 'chat' },
  },
};

/** Which product wrote an export, read off its header: Salesforce names a record's id `Id`, HubSpot `Record ID`. */
export function exportSource(header: readonly string[]): 'salesforce' | 'hubspot' | null {
  if (header.includes('Id')) return 'salesforce';
  if (header.some((h) => normalizeHeader(h) === 'recordid')) return 'hubspot';
  return null;
}

/**
 * Replaces references given as another product's record ids (Salesforce's AccountId, HubSpot's Associated Company
 * IDs) or natural keys (`acs export` writes an account's customer id, a contact's or lead's external id or email, a
 * product's sku) with the ACS ids they name. One that names nothing is left for the database to refuse, which
 * rejects that row.
 */
async function resolveReferences(tx: Tx, items: RecordItem[]): Promise<void> {
  for (const field of REFERENCE_FIELDS) {
    const keys = [...new Set(items.flatMap((i) => (typeof i.input[field] === 'string' ? [i.input[field] as string] : [])))];
    if (keys.length === 0) continue;
    const ids = new Map((await recordIdsByReference(tx, field, keys)).map((r) => [r.key, r.id]));
    for (const item of items) {
      const key = item.input[field];
      if (typeof key === 'string' && ids.has(key)) item.input[field] = ids.get(key);
    }
  }
}

/** Salesforce exports probability in percent; elsewhere a value above 1 is read as one (20 is 0.2). */
function probabilityFraction(v: unknown, source: string | null): unknown {
  if (typeof v !== 'number') return v;
  return source === 'salesforce' || (v > 1 && v <= 100) ? v / 100 : v;
}

function withSynonyms(kind: RecordKind, fields: Map<string, FieldType>): Map<string, FieldType> {
  for (const [field, synonyms] of Object.entries(VALUE_SYNONYMS[kind] ?? {})) {
    const type = fields.get(field);
    if (type?.kind === 'enum') fields.set(field, { ...type, synonyms });
  }
  return fields;
}

/**
 * An opportunity's pipeline and stage as stored. A pipeline ACS does not have (HubSpot's "Sales Pipeline") is kept
 * in attributes, and the stage is looked for in the export's own product's pipeline first, then in the others.
 */
function placeStage(values: Record<string, unknown>, pipelines: Pipelines, source: string | null): FieldIssue[] {
  const given = typeof values.pipeline === 'string' ? values.pipeline.trim().toLowerCase() : undefined;
  const known = given !== undefined && pipelines.has(given) ? given : undefined;
  if (given !== undefined && !known) {
    values.attributes = { ...(values.attributes as Record<string, unknown> | undefined), pipeline: values.pipeline };
  }
  const preferred = source ?? DEFAULT_PIPELINE;
  const stage = typeof values.stage === 'string' ? values.stage : undefined;
  const found = pipelines.resolve(known ?? preferred, stage, known ? undefined : preferred);
  if (!found.ok) return [{ path: found.path, message: found.message }];
  values.pipeline = found.pipeline;
  values.stage = found.stage.stage;
  return [];
}

export function recordPlan(kind: RecordKind): EntityPlan<RecordItem> {
  const schema = RECORD_INPUTS[kind].create;
  const fields = withSynonyms(kind, fieldTypes(schema));
  const keyFields = NATURAL_KEYS[kind] ?? [];
  let source: 'salesforce' | 'hubspot' | null = null;
  let pipelines: Pipelines | null = null;
  return {
    entity: kind,
    tables: [kind],
    target: {
      entity: kind,
      fields,
      aliases: RECORD_ALIASES[kind] ?? {},
      extrasField: fields.get('attributes')?.kind === 'json' ? 'attributes' : null,
    },
    init: async (db, header) => {
      source = exportSource(header);
      if (kind === 'opportunities') pipelines = await loadPipelines(db);
    },
    prepare: (given) => {
      const values = { ...given };
      // HubSpot lists every associated record, "123;456": the first is the primary one.
      for (const field of REFERENCE_FIELDS) {
        if (typeof values[field] === 'string') values[field] = (values[field] as string).split(';')[0]!.trim();
      }
      if (kind === 'opportunities') {
        values.probability = probabilityFraction(values.probability, source);
        const issues = pipelines ? placeStage(values, pipelines, source) : [];
        if (issues.length) return { ok: false, issues };
      }
      const parsed = schema.safeParse(values);
      if (!parsed.success) return { ok: false, issues: toFieldIssues(parsed.error) };
      const input = parsed.data as Record<string, unknown>;
      // Phones are stored in E.164 when libphonenumber-js reads them (ACS_DEFAULT_PHONE_REGION for national ones).
      if (typeof input.phone === 'string') input.phone = toE164(input.phone) ?? input.phone;
      return { ok: true, item: { input } };
    },
    keys: (item) => naturalKeys(keyFields, item.input),
    write: async (tx, items, ctx) => {
      await resolveReferences(tx, items);
      const { written, attached, events } = await writeRecords(tx, kind, items, ctx);
      return { ...countOps(written), attached, events };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The import run: read, map, validate, batch, write, report.

/** Reads records; the parser's own errors (an unclosed quote) name the line. Ragged rows are let through to be rejected. */
async function* csvRecords(file: string): AsyncGenerator<string[]> {
  const parser = parse({ bom: true, relax_column_count: true, skip_empty_lines: true });
  createReadStream(file)
    .on('error', (err) => parser.destroy(err))
    .pipe(parser);
  try {
    for await (const record of parser) yield record as string[];
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new AppError('bad_request', e.code === 'ENOENT' ? `no such file: ${file}` : `${file}: ${e.message}`);
  }
}

/** A first pass for the header and the row count, so progress can show a total. */
export async function scanCsv(file: string): Promise<{ header: string[]; total: number }> {
  let header: string[] | null = null;
  let total = 0;
  for await (const record of csvRecords(file)) {
    if (header) total += 1;
    else header = record.map((h) => h.trim());
  }
  if (!header) throw new AppError('bad_request', `${file} is empty: expected a header row`);
  return { header, total };
}

async function loadColumnTypes(db: Queryable, tables: readonly string[]): Promise<ColumnTypes> {
  const types: ColumnTypes = new Map();
  for (const table of tables) {
    const rows = await tableColumnTypes(db, table);
    types.set(table, Object.fromEntries(rows.map((r) => [r.name, r.type])));
  }
  return types;
}

export const rejectedPath = (file: string) => file.replace(/\.csv$/i, '') + '.rejected.csv';

const csvLine = (values: readonly string[]) => csvLines([values]);

/** Rejected rows, written as they come: the original columns plus `_reason`. Created on the first reject. */
class RejectFile {
  private out: WriteStream | null = null;
  count = 0;

  constructor(
    readonly path: string,
    private readonly header: string[],
  ) {}

  add(cells: readonly string[], reason: string): void {
    if (!this.out) {
      this.out = createWriteStream(this.path);
      this.out.write(csvLine([...this.header, '_reason']));
    }
    this.out.write(csvLine([...this.header.map((_, i) => cells[i] ?? ''), reason]));
    this.count += 1;
  }

  /** Finishes the file; with no rejects, removes one left by an earlier run. */
  async close(): Promise<string | null> {
    if (!this.out) {
      await rm(this.path, { force: true });
      return null;
    }
    await this.end(this.out);
    return this.path;
  }

  /** Closes without touching an earlier run's file, for an import that failed. */
  async abandon(): Promise<void> {
    if (this.out) await this.end(this.out);
  }

  private end(out: WriteStream): Promise<void> {
    return new Promise((resolve, reject) => out.on('error', reject).end(resolve));
  }
}

/** "column: message; column: message", naming the CSV column a field came from. */
function reasonText(issues: FieldIssue[], columns: ColumnMapping): string {
  const columnOf = new Map(columns.fields.flatMap((f, i) => (f ? [[f, columns.header[i]!]] : [])));
  return issues
    .map((issue) => {
      const [head = '', ...rest] = issue.path.split('.');
      return `${[columnOf.get(head) ?? head, ...rest].join('.')}: ${issue.message}`;
    })
    .join('; ');
}

/** Constraint and data errors reject the rows that caused them; anything else (a lost connection) aborts the import. */
function dataErrorIssues(err: unknown): FieldIssue[] {
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string' || !/^2[23]/.test(code)) throw err;
  try {
    mapDbError(err);
  } catch (mapped) {
    if (mapped instanceof AppError) return mapped.issues;
  }
  return [{ path: '(record)', message: (err as Error).message }];
}

interface Pending<T> {
  cells: string[];
  item: T;
}

interface BatchOutcome<T> {
  inserted: number;
  updated: number;
  attached: number;
  failed: { row: Pending<T>; issues: FieldIssue[] }[];
}

/** Writes one batch in one transaction; when the database refuses it, retries row by row to reject only the bad rows. */
async function writeBatch<T>(db: Db, plan: EntityPlan<T>, rows: Pending<T>[], ctx: WriteContext): Promise<BatchOutcome<T>> {
  try {
    const { inserted, updated, attached } = await db.transaction(async (tx) => {
      const result = await plan.write(
        tx,
        rows.map((r) => r.item),
        ctx,
      );
      await appendToLedger(tx, result.events);
      return result;
    });
    return { inserted, updated, attached: attached ?? 0, failed: [] };
  } catch (err) {
    const issues = dataErrorIssues(err);
    if (rows.length === 1) return { inserted: 0, updated: 0, attached: 0, failed: [{ row: rows[0]!, issues }] };
    const total: BatchOutcome<T> = { inserted: 0, updated: 0, attached: 0, failed: [] };
    for (const row of rows) {
      const one = await writeBatch(db, plan, [row], ctx);
      total.inserted += one.inserted;
      total.updated += one.updated;
      total.attached += one.attached;
      total.failed.push(...one.failed);
    }
    return total;
  }
}

/** Rows waiting for the next write, and the natural keys among them. */
class Batch<T> {
  rows: Pending<T>[] = [];
  private keys = new Set<string>();

  clashes(keys: string[]): boolean {
    return keys.some((k) => this.keys.has(k));
  }

  add(row: Pending<T>, keys: string[]): void {
    this.rows.push(row);
    for (const k of keys) this.keys.add(k);
  }
}

function prepareRow<T>(cells: string[], row: number, columns: ColumnMapping, plan: EntityPlan<T>): Prepared<T> {
  if (cells.length !== columns.header.length) {
    const found = `${cells.length} value${cells.length === 1 ? '' : 's'}`;
    return { ok: false, issues: [{ path: '(row)', message: `has ${found}, the header has ${columns.header.length} columns` }] };
  }
  return plan.prepare(rowValues(cells, columns, plan.target), row);
}

/** Imports a CSV file through a plan. Bad rows are rejected into `<file>.rejected.csv`; the rest are upserted in batches. */
export async function runImport<T>(db: Db, plan: EntityPlan<T>, file: string, opts: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  const batchSize = opts.batchSize ?? DEFAULT_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new AppError('bad_request', `batch size must be a positive integer, not ${batchSize}`);
  const { header, total } = await scanCsv(file);
  const columns = mapColumns(header, plan.target, opts.map);
  await plan.init?.(db, header);
  const clock = opts.clock ?? systemClock;
  const base = { actor: opts.actor, columns: await loadColumnTypes(db, plan.tables) };
  const rejects = new RejectFile(rejectedPath(file), header);
  const counts = { imported: 0, updated: 0, attached: 0 };
  let batch = new Batch<T>();
  let done = 0;
  let reported = -1;

  const flush = async () => {
    if (batch.rows.length > 0) {
      const outcome = await writeBatch(db, plan, batch.rows, { ...base, now: clock.now() });
      counts.imported += outcome.inserted;
      counts.updated += outcome.updated;
      counts.attached += outcome.attached;
      for (const f of outcome.failed) rejects.add(f.row.cells, reasonText(f.issues, columns));
      batch = new Batch<T>();
    }
    if (done !== reported) opts.onProgress?.(done, total);
    reported = done;
  };

  try {
    let isHeader = true;
    for await (const cells of csvRecords(file)) {
      if (isHeader) {
        isHeader = false;
        continue;
      }
      const prepared = prepareRow(cells, done + 1, columns, plan);
      if (!prepared.ok) {
        rejects.add(cells, reasonText(prepared.issues, columns));
        done += 1;
        continue;
      }
      const keys = plan.keys(prepared.item);
      if (batch.clashes(keys)) await flush();
      batch.add({ cells, item: prepared.item }, keys);
      done += 1;
      if (batch.rows.length >= batchSize) await flush();
    }
    await flush();
  } catch (err) {
    await rejects.abandon();
    throw err;
  }
  const rejectedFile = await rejects.close();
  return {
    entity: plan.entity,
    file,
    total,
    ...counts,
    rejected: rejects.count,
    rejectedFile,
    ignoredColumns: columns.ignored,
    mapping: columns.mapping,
    ms: Math.round(performance.now() - started),
  };
}
