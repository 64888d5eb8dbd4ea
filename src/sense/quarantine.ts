import { storableIssue, storableText, type FieldIssue } from '../contracts/index.ts';
import { AppError } from '../errors.ts';
import type { LedgerEvent } from '../ledger/index.ts';
import { appendToLedger } from '../ledger/index.ts';
import { newId, type Db, type Queryable, type Tx } from '../store/index.ts';
import { insertQuarantine, lockQuarantineRow, quarantineRowById, quarantineRowsAfter, resolveQuarantineRow } from './quarantine.repo.ts';

export interface QuarantineInput {
  source: string;
  reason: string;
  issues: FieldIssue[];
  raw: string;
  /** The bytes as received, when `raw` was decoded from them lossily (invalid UTF-8); kept exactly. */
  rawBytes?: Uint8Array;
  /** The source a refused signal declared, so quality per source counts it (src/sense/quality.ts). */
  signalSource?: string | null;
}

export interface QuarantineRecord {
  id: string;
  source: string;
  reason: string;
  issues: FieldIssue[];
  /** The input as text; NUL characters and unpaired surrogates are shown as `\uXXXX` escapes. */
  raw: string;
  /** False when `raw` is not an exact copy of what was received; `rawBase64` then holds the exact bytes. */
  rawExact: boolean;
  rawBase64?: string;
  status: 'open' | 'resubmitted' | 'discarded';
  receivedAt: string;
  resolvedAt: string | null;
  resolution: Record<string, unknown> | null;
}

/** An unknown field's name is client text (it could be an email address); the ledger gets a placeholder. */
const ledgerSafePath = (issue: FieldIssue) => (issue.message === 'unknown field' ? issue.path.replace(/[^.]*$/, '<unknown>') : issue.path);

/** Rows plus their ledger events; the caller writes both in its transaction. */
export function quarantineRows(
  items: QuarantineInput[],
  actor: string,
  at: Date,
): { rows: Record<string, unknown>[]; events: LedgerEvent[] } {
  const rows = items.map((q) => {
    // Whole: the request body limit already bounds it. NUL and unpaired surrogates are escaped so it can be stored,
    // and then the exact bytes are kept beside it.
    const raw = storableText(q.raw);
    const bytes = q.rawBytes ?? (raw !== q.raw ? Buffer.from(q.raw, 'utf8') : null);
    return {
      id: newId('q'),
      source: q.source,
      reason: q.reason,
      // Issues may quote client text (a field name, a type): jsonb must be able to hold them too.
      issues: q.issues.map(storableIssue),
      raw,
      // bytea's hex input form, as jsonb_to_recordset reads it.
      raw_bytes: bytes ? `\\x${Buffer.from(bytes).toString('hex')}` : null,
      signal_source: q.signalSource ?? null,
    };
  });
  // Field paths only: the raw input may hold personal data, the ledger must not.
  const events = rows.map((r, i) => ({
    type: 'signal.quarantined',
    actor,
    subjectType: 'quarantine',
    subjectId: r.id,
    data: { source: items[i]!.source, fields: [...new Set(r.issues.map(ledgerSafePath))].slice(0, 50) },
    at,
  }));
  return { rows, events };
}

/** Quarantines input that never reached validation (malformed JSON, oversized body) in its own transaction. */
export async function quarantineNow(
  db: { transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T> },
  item: QuarantineInput,
  actor: string,
  at: Date,
): Promise<string> {
  const { rows, events } = quarantineRows([item], actor, at);
  await db.transaction(async (tx) => {
    await insertQuarantine(tx, rows);
    await appendToLedger(tx, events);
  });
  return rows[0]!.id as string;
}

const toRecord = (r: Record<string, unknown>): QuarantineRecord => ({
  id: r.id as string,
  source: r.source as string,
  reason: r.reason as string,
  issues: r.issues as FieldIssue[],
  raw: r.raw as string,
  rawExact: r.raw_bytes == null,
  ...(r.raw_bytes == null ? {} : { rawBase64: Buffer.from(r.raw_bytes as Uint8Array).toString('base64') }),
  status: r.status as QuarantineRecord['status'],
  receivedAt: (r.received_at as Date).toISOString(),
  resolvedAt: r.resolved_at ? (r.resolved_at as Date).toISOString() : null,
  resolution: (r.resolution as Record<string, unknown> | null) ?? null,
});

/** Quarantined items after `afterId` in id order, at most `limit`. */
export async function listQuarantine(
  q: Queryable,
  opts: { status?: string; afterId?: string; limit: number },
): Promise<QuarantineRecord[]> {
  const rows = await quarantineRowsAfter(q, opts);
  return rows.map(toRecord);
}

export async function getQuarantine(q: Queryable, id: string): Promise<QuarantineRecord> {
  const row = await quarantineRowById(q, id);
  if (!row) throw new AppError('quarantine.not_found', `no quarantine record ${id}`);
  return toRecord(row);
}

/**
 * Locks a quarantine item and checks it is still open. Callers take this lock before anything that
 * appends to the ledger, so resubmit and discard lock in one order and cannot deadlock.
 */
export async function lockOpenQuarantine(tx: Tx, id: string): Promise<void> {
  const row = await lockQuarantineRow(tx, id);
  if (!row) throw new AppError('quarantine.not_found', `no quarantine record ${id}`);
  if (row.status !== 'open') throw new AppError('quarantine.already_resolved', `quarantine record ${id} is already ${row.status}`);
}

/** Closes an open item without ingesting it; the reason stays with the item. */
export async function discardQuarantined(db: Db, id: string, reason: string, actor: string, at: Date): Promise<void> {
  await db.transaction(async (tx) => {
    await lockOpenQuarantine(tx, id);
    await closeQuarantine(tx, id, 'discarded', { reason }, actor, at);
  });
}

/**
 * Closes an item locked by lockOpenQuarantine. A discard reason is free text and stays in the
 * quarantine record; the ledger notes only that one was given.
 */
export async function closeQuarantine(
  tx: Tx,
  id: string,
  status: 'resubmitted' | 'discarded',
  resolution: { signalId?: string; corrected?: boolean; reason?: string },
  actor: string,
  at: Date,
): Promise<void> {
  await resolveQuarantineRow(tx, id, status, resolution);
  const { reason, ...facts } = resolution;
  await appendToLedger(tx, [
    {
      type: `quarantine.${status}`,
      actor,
      subjectType: 'quarantine',
      subjectId: id,
      data: { ...facts, ...(reason ? { reasonGiven: true } : {}) },
      at,
    },
  ]);
}
