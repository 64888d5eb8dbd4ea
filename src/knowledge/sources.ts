import { AppError } from '../errors.ts';
import { appendToLedger } from '../ledger/index.ts';
import { newId, type Db, type Queryable, type Tx } from '../store/index.ts';
import {
  insertSource,
  markSourceApproved,
  markSourceRetired,
  selectDocuments,
  selectSource,
  type DocumentListRow,
  selectSources,
  updateSourceFields,
  type SourceRow,
} from './knowledge.repo.ts';

export const AUDIENCES = ['internal', 'customer'] as const;
export type Audience = (typeof AUDIENCES)[number];
export const SOURCE_STATES = ['draft', 'approved', 'retired'] as const;

/** A knowledge source as the API and the CLI show it. */
export interface KnowledgeSource {
  id: string;
  name: string;
  owner: string;
  audience: Audience;
  state: (typeof SOURCE_STATES)[number];
  version: number;
  approvedVersion: number | null;
  approvedAt: string | null;
  approvedBy: string | null;
  reviewDate: string | null;
  /** Approved, and its review date (if any) not passed on the server's day: it may ground customer-facing text. */
  current: boolean;
  documents: number;
  chunks: number;
  createdAt: string;
  updatedAt: string;
}

const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());
/** A date column as YYYY-MM-DD (both backends read it as midnight UTC). */
export const dayOf = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString().slice(0, 10));

export function toSource(r: SourceRow, now: Date): KnowledgeSource {
  const reviewDate = dayOf(r.review_date);
  return {
    id: r.id,
    name: r.name,
    owner: r.owner,
    audience: r.audience,
    state: r.state,
    version: r.version,
    approvedVersion: r.approved_version,
    approvedAt: iso(r.approved_at),
    approvedBy: r.approved_by,
    reviewDate,
    current: r.state === 'approved' && (reviewDate === null || reviewDate >= dayOf(now)!),
    documents: r.documents,
    chunks: r.chunks,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
  };
}

export async function listSources(q: Queryable, now: Date): Promise<KnowledgeSource[]> {
  return (await selectSources(q)).map((r) => toSource(r, now));
}

export async function getSource(q: Queryable, idOrName: string, now: Date): Promise<KnowledgeSource> {
  const row = await selectSource(q, idOrName);
  if (!row) throw new AppError('knowledge.source_not_found', `no knowledge source '${idOrName}'`);
  return toSource(row, now);
}

/** A document as listed: its row, with times as ISO strings. */
export type KnowledgeDocumentSummary = Omit<DocumentListRow, 'created_at' | 'updated_at'> & { createdAt: string; updatedAt: string };

/** A source's documents (by id or name), ordered by path: `limit` from `offset`, fetched one more to tell a next page. */
export async function listDocuments(q: Queryable, idOrName: string, offset: number, limit: number): Promise<KnowledgeDocumentSummary[]> {
  const source = await selectSource(q, idOrName);
  if (!source) throw new AppError('knowledge.source_not_found', `no knowledge source '${idOrName}'`);
  return (await selectDocuments(q, source.id, offset, limit)).map(({ created_at, updated_at, ...d }) => ({
    ...d,
    createdAt: new Date(created_at).toISOString(),
    updatedAt: new Date(updated_at).toISOString(),
  }));
}

export interface SourceFields {
  name: string;
  owner?: string;
  audience?: Audience;
  /** YYYY-MM-DD, or null for none. */
  reviewDate?: string | null;
}

export const DEFAULT_OWNER = 'unassigned';

/** Creates the source inside `tx`; false when the name is taken. Ledgered. */
export async function createSourceIn(tx: Tx, f: SourceFields, actor: string, now: Date): Promise<{ id: string; created: boolean }> {
  const id = newId('kbs');
  const created = await insertSource(tx, {
    id,
    name: f.name,
    owner: f.owner ?? DEFAULT_OWNER,
    audience: f.audience ?? 'customer',
    reviewDate: f.reviewDate ?? null,
    now,
  });
  if (!created) return { id: (await selectSource(tx, f.name))!.id, created: false };
  await appendToLedger(tx, [
    {
      type: 'knowledge.source_created',
      actor,
      subjectType: 'knowledge_source',
      subjectId: id,
      data: { name: f.name, audience: f.audience ?? 'customer', reviewDate: f.reviewDate ?? null },
      at: now,
    },
  ]);
  return { id, created: true };
}

export async function createSource(db: Db, f: SourceFields, actor: string, now: Date): Promise<KnowledgeSource> {
  const { created } = await db.transaction((tx) => createSourceIn(tx, f, actor, now));
  if (!created)
    throw new AppError('knowledge.source_conflict', `a knowledge source named '${f.name}' exists already`, [
      { path: 'name', message: 'taken' },
    ]);
  return getSource(db, f.name, now);
}

/** Changes owner, audience or review date of an existing source inside `tx`, where they differ; ledgered when any does. */
export async function updateSourceIn(tx: Tx, row: SourceRow, f: Omit<SourceFields, 'name'>, actor: string, now: Date): Promise<void> {
  const changes: Omit<SourceFields, 'name'> = {};
  if (f.owner !== undefined && f.owner !== row.owner) changes.owner = f.owner;
  if (f.audience !== undefined && f.audience !== row.audience) changes.audience = f.audience;
  if (f.reviewDate !== undefined && f.reviewDate !== dayOf(row.review_date)) changes.reviewDate = f.reviewDate;
  if (Object.keys(changes).length === 0) return;
  await updateSourceFields(tx, row.id, { ...changes, now });
  await appendToLedger(tx, [
    { type: 'knowledge.source_updated', actor, subjectType: 'knowledge_source', subjectId: row.id, data: { ...changes }, at: now },
  ]);
}

/** Approves the source's current version inside `tx` (a retired source cannot be); ledgered. */
export async function approveSourceIn(tx: Tx, row: SourceRow, actor: string, now: Date, reviewDate?: string | null): Promise<void> {
  if (row.state === 'retired')
    throw new AppError('knowledge.source_conflict', `knowledge source '${row.name}' is retired; it cannot be approved`);
  if (reviewDate !== undefined) await updateSourceFields(tx, row.id, { reviewDate, now });
  await markSourceApproved(tx, row.id, actor, now);
  await appendToLedger(tx, [
    {
      type: 'knowledge.source_approved',
      actor,
      subjectType: 'knowledge_source',
      subjectId: row.id,
      data: { name: row.name, version: row.version, reviewDate: reviewDate === undefined ? dayOf(row.review_date) : reviewDate },
      at: now,
    },
  ]);
}

export async function approveSource(
  db: Db,
  idOrName: string,
  actor: string,
  now: Date,
  reviewDate?: string | null,
): Promise<KnowledgeSource> {
  await db.transaction(async (tx) => {
    const row = await selectSource(tx, idOrName, true);
    if (!row) throw new AppError('knowledge.source_not_found', `no knowledge source '${idOrName}'`);
    if (row.state === 'approved' && row.approved_version === row.version && reviewDate === undefined)
      throw new AppError('knowledge.source_conflict', `knowledge source '${row.name}' is already approved at version ${row.version}`);
    await approveSourceIn(tx, row, actor, now, reviewDate);
  });
  return getSource(db, idOrName, now);
}

/** Retires a source: search no longer sees it, for any use; ledgered. */
export async function retireSource(db: Db, idOrName: string, actor: string, now: Date, reason?: string): Promise<KnowledgeSource> {
  await db.transaction(async (tx) => {
    const row = await selectSource(tx, idOrName, true);
    if (!row) throw new AppError('knowledge.source_not_found', `no knowledge source '${idOrName}'`);
    if (row.state === 'retired') throw new AppError('knowledge.source_conflict', `knowledge source '${row.name}' is already retired`);
    await markSourceRetired(tx, row.id, now);
    await appendToLedger(tx, [
      {
        type: 'knowledge.source_retired',
        actor,
        subjectType: 'knowledge_source',
        subjectId: row.id,
        data: { name: row.name, version: row.version, ...(reason ? { reason } : {}) },
        at: now,
      },
    ]);
  });
  return getSource(db, idOrName, now);
}
