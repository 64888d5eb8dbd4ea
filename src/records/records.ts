import { jsonHazards, RECORD_INPUTS, toFieldIssues, type RecordKind } from '../contracts/index.ts';
import { AppError } from '../errors.ts';
import { publish } from '../bus/index.ts';
import { appendToLedger } from '../ledger/index.ts';
import { newId, type Db, type Queryable, type Tx } from '../store/index.ts';
import { syncRecordPeople } from '../sense/identity/people.ts';
import { resolveOpportunityStage } from './pipelines.ts';
import { registerIdentities, releaseIdentities, releaseOwner } from './identities.ts';
import {
  insertDeletionReason,
  insertRecordRow,
  lockLiveRecordRow,
  selectLiveRecordRow,
  selectLiveRecordPage,
  selectLiveRecordRows,
  type RecordPosition,
  softDeleteRecordRow,
  updateRecordRow,
} from './records.repo.ts';

interface TableMeta {
  prefix: string;
  /** Fields stored as jsonb. */
  json: string[];
  /** Fields a list may be filtered by, with `?field=value`. */
  filters: string[];
}

const TABLES: Record<RecordKind, TableMeta> = {
  accounts: { prefix: 'acc', json: ['attributes'], filters: ['customerId', 'kind', 'externalId'] },
  contacts: { prefix: 'con', json: ['attributes'], filters: ['accountId', 'email', 'externalId'] },
  leads: { prefix: 'lead', json: ['attributes'], filters: ['status', 'email', 'externalId'] },
  opportunities: { prefix: 'opp', json: ['attributes'], filters: ['accountId', 'pipeline', 'stage', 'externalId'] },
  cases: { prefix: 'case', json: ['attributes'], filters: ['accountId', 'contactId', 'status', 'externalId'] },
  interactions: { prefix: 'int', json: [], filters: ['accountId', 'contactId', 'leadId', 'type'] },
  products: { prefix: 'prod', json: [], filters: ['sku'] },
  subscriptions: { prefix: 'sub', json: ['services'], filters: ['accountId', 'productId', 'status'] },
  partners: { prefix: 'part', json: ['attributes'], filters: ['type', 'status'] },
  consents: { prefix: 'cons', json: [], filters: ['contactId', 'leadId', 'channel', 'purpose'] },
};

export type RecordRow = Record<string, unknown> & { id: string; version: number };

/** Published when a case is created, changed or deleted, so the customer's open-case count follows. */
export const CASES_CHANGED = 'cases.changed';

async function announce(tx: Tx, kind: RecordKind, before: RecordRow | null, after: RecordRow | null): Promise<void> {
  if (kind !== 'cases') return;
  const accountIds = [...new Set([before?.accountId, after?.accountId].filter((a): a is string => typeof a === 'string'))];
  if (accountIds.length) await publish(tx, CASES_CHANGED, { accountIds });
}

/** The prefix of the ids a kind's records get, for writers that mint ids themselves (bulk import). */
export function recordIdPrefix(kind: RecordKind): string {
  return TABLES[kind].prefix;
}

export const snake = (s: string) => s.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
const camel = (s: string) => s.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** A database row in API shape: camelCase keys, ISO timestamps. */
export function toApi(row: Record<string, unknown>): RecordRow {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) out[camel(k)] = v instanceof Date ? v.toISOString() : v;
  return out as RecordRow;
}

function toColumns(kind: RecordKind, input: Record<string, unknown>): Record<string, unknown> {
  const cols: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    if (v === undefined) continue;
    cols[snake(k)] = TABLES[kind].json.includes(k) && v !== null ? JSON.stringify(v) : v;
  }
  return cols;
}

/** Validates a create or update body; updates accept any subset of the fields. */
export function parseRecordInput(kind: RecordKind, body: unknown, partial: boolean): Record<string, unknown> {
  // First, and alone: a value too deep or holding text the store refuses is not safe to validate further.
  const hazards = jsonHazards(body);
  if (hazards.length) throw new AppError('validation_failed', `invalid ${kind} record`, hazards);
  const parsed = RECORD_INPUTS[kind][partial ? 'update' : 'create'].safeParse(body);
  if (!parsed.success) throw new AppError('validation_failed', `invalid ${kind} record`, toFieldIssues(parsed.error));
  return parsed.data as Record<string, unknown>;
}

/** Turns database constraint failures into 4xx errors that name the field. */
export function mapDbError(err: unknown): never {
  const e = err as { code?: string; constraint?: string; detail?: string; message?: string };
  const column = e.detail?.match(/Key \((\w+)\)/)?.[1] ?? e.constraint?.match(/_(\w+?)_(fkey|key|check)$/)?.[1];
  const field = column ? camel(column) : '(record)';
  if (e.code === '23503')
    throw new AppError('validation_failed', 'referenced record does not exist', [{ path: field, message: 'no such record' }]);
  if (e.code === '23505')
    throw new AppError('record.already_exists', `${field} is already taken`, [{ path: field, message: 'already exists' }]);
  if (e.code === '23514')
    throw new AppError('validation_failed', 'a value breaks a rule of the record', [
      { path: field, message: `violates ${e.constraint ?? 'a check'}` },
    ]);
  // Data exceptions (SQLSTATE class 22): a value the column cannot hold, e.g. a numeric overflow, a NUL character, a date out of range.
  if (typeof e.code === 'string' && /^22[0-9A-Z]{3}$/.test(e.code)) {
    throw new AppError('validation_failed', 'a value cannot be stored', [{ path: field, message: e.message ?? 'value out of range' }]);
  }
  throw err;
}

export async function createRecord(
  db: Db,
  kind: RecordKind,
  input: Record<string, unknown>,
  actor: string,
  at = new Date(),
): Promise<RecordRow> {
  return db.transaction((tx) => insertRecord(tx, kind, input, actor, at)).catch(mapDbError);
}

/**
 * Inserts within an open transaction; used by imports and intake that batch their own transactions. `at` is the
 * server's clock (the ledger dates the entry by it); callers with a clock pass it.
 */
export async function insertRecord(
  tx: Tx,
  kind: RecordKind,
  given: Record<string, unknown>,
  actor: string,
  at = new Date(),
): Promise<RecordRow> {
  const input = kind === 'opportunities' ? await resolveOpportunityStage(tx, given) : given;
  const cols = { id: newId(TABLES[kind].prefix), ...toColumns(kind, input) };
  const row = await insertRecordRow(tx, kind, cols);
  const record = toApi(row!);
  await registerIdentities(tx, kind, record, 'record');
  await syncRecordPeople(tx, kind, [record], 'record');
  await announce(tx, kind, null, record);
  await appendToLedger(tx, [
    { type: 'record.created', actor, subjectType: kind, subjectId: record.id, data: { fields: Object.keys(input).sort(), version: 1 }, at },
  ]);
  return record;
}

export async function getRecord(db: Queryable, kind: RecordKind, id: string): Promise<RecordRow> {
  const row = await selectLiveRecordRow(db, kind, id);
  if (!row) throw new AppError('record.not_found', `no ${kind} record ${id}`);
  return toApi(row);
}

export function recordFilters(kind: RecordKind): string[] {
  return TABLES[kind].filters;
}

/** Lists live records in creation order after `afterId`, at most `limit`. */
export async function listRecords(
  db: Queryable,
  kind: RecordKind,
  opts: { limit: number; afterId?: string; filters?: Record<string, string> },
): Promise<RecordRow[]> {
  const columns: [string, string][] = [];
  for (const [field, value] of Object.entries(opts.filters ?? {})) {
    if (!TABLES[kind].filters.includes(field)) continue;
    columns.push([snake(field), value]);
  }
  const rows = await selectLiveRecordRows(db, kind, { limit: opts.limit, afterId: opts.afterId, columns });
  return rows.map(toApi);
}

/**
 * A page of live records in (updated_at, id) order, the order the API lists them in so a client can sync
 * incrementally: those updated at or after `updatedSince`, after `after`, at most `limit`; each with its position.
 */
export async function pageRecords(
  db: Queryable,
  kind: RecordKind,
  opts: { limit: number; after?: RecordPosition; updatedSince?: string; filters?: Record<string, string> },
): Promise<{ record: RecordRow; position: RecordPosition }[]> {
  const columns: [string, string][] = [];
  for (const [field, value] of Object.entries(opts.filters ?? {})) {
    if (!TABLES[kind].filters.includes(field)) continue;
    columns.push([snake(field), value]);
  }
  const rows = await selectLiveRecordPage(db, kind, { limit: opts.limit, after: opts.after, updatedSince: opts.updatedSince, columns });
  return rows.map(({ page_updated_at, ...row }) => {
    const record = toApi(row);
    return { record, position: { updatedAt: String(page_updated_at), id: record.id } };
  });
}

/** Applies a partial update. With `ifVersion`, a concurrent change since that version is a 409, not a lost update. */
export async function updateRecord(
  db: Db,
  kind: RecordKind,
  id: string,
  patch: Record<string, unknown>,
  actor: string,
  ifVersion?: number,
  at = new Date(),
): Promise<RecordRow> {
  return db.transaction((tx) => patchRecord(tx, kind, id, patch, actor, ifVersion, at)).catch(mapDbError);
}

/** Applies a validated partial update inside the caller's transaction (tools run inside theirs). */
export async function patchRecord(
  tx: Tx,
  kind: RecordKind,
  id: string,
  patch: Record<string, unknown>,
  actor: string,
  ifVersion?: number,
  at = new Date(),
): Promise<RecordRow> {
  const currentRow = await lockLiveRecordRow(tx, kind, id);
  if (!currentRow) throw new AppError('record.not_found', `no ${kind} record ${id}`);
  const current = toApi(currentRow);
  if (ifVersion !== undefined && current.version !== ifVersion) {
    throw new AppError('record.version_conflict', `${kind} ${id} is at version ${current.version}, not ${ifVersion}`, [
      { path: 'version', message: 'stale version' },
    ]);
  }
  if (kind === 'opportunities') patch = await resolveOpportunityStage(tx, patch, current);
  const row = await updateRecordRow(tx, kind, id, toColumns(kind, patch));
  const record = toApi(row!);
  // An email or account that changed must stop resolving to the old profile.
  await releaseIdentities(tx, kind, current);
  await registerIdentities(tx, kind, record, 'record');
  await syncRecordPeople(tx, kind, [record], 'record');
  await announce(tx, kind, current, record);
  await appendToLedger(tx, [
    {
      type: 'record.updated',
      actor,
      subjectType: kind,
      subjectId: id,
      data: { fields: Object.keys(patch).sort(), version: record.version },
      at,
    },
  ]);
  return record;
}

/**
 * Soft delete: the row stays, marked and ledgered, and disappears from reads; its identifiers stop
 * resolving to it. A reason is free text, so it is kept beside the record, not in the ledger.
 */
export async function deleteRecord(db: Db, kind: RecordKind, id: string, actor: string, reason?: string, at = new Date()): Promise<void> {
  await db.transaction(async (tx) => {
    const row = await softDeleteRecordRow(tx, kind, id);
    if (!row) throw new AppError('record.not_found', `no ${kind} record ${id}`);
    const record = toApi(row);
    await releaseIdentities(tx, kind, record);
    await releaseOwner(tx, kind, id);
    await syncRecordPeople(tx, kind, [record], 'record');
    await announce(tx, kind, record, null);
    if (reason) await insertDeletionReason(tx, kind, id, reason, actor);
    await appendToLedger(tx, [
      {
        type: 'record.deleted',
        actor,
        subjectType: kind,
        subjectId: id,
        data: { version: record.version, ...(reason ? { reasonGiven: true } : {}) },
        at,
      },
    ]);
  });
}
