import { AppError } from '../errors.ts';
import { appendToLedger } from '../ledger/index.ts';
import type { Db, Queryable, Tx } from '../store/index.ts';
import {
  countOutboxBacklog,
  deleteDeliveredOutboxEvents,
  lockOutboxEvent,
  markOutboxDiscarded,
  notifyOutbox,
  requeueOutboxEvent,
  selectOutboxEvent,
  selectParkedOutboxEvents,
} from './outbox.repo.ts';

/** One outbox event as operators see it. */
export interface OutboxEvent {
  id: number;
  topic: string;
  payload: unknown;
  state: 'pending' | 'delivered' | 'parked' | 'discarded';
  attempts: number;
  lastError: string | null;
  createdAt: string;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  parkedAt: string | null;
  deliveredAt: string | null;
  discardedAt: string | null;
  discardedBy: string | null;
  discardReason: string | null;
}

/** How an event id is written (in a path, a cursor or on the command line): a positive integer. */
export const EVENT_ID = /^[1-9]\d{0,15}$/;

type Row = Record<string, unknown>;
const iso = (v: unknown) => (v == null ? null : new Date(v as string).toISOString());

function toEvent(r: Row): OutboxEvent {
  return {
    id: Number(r.id),
    topic: r.topic as string,
    payload: r.payload,
    state: r.state as OutboxEvent['state'],
    attempts: r.attempts as number,
    lastError: (r.last_error as string | null) ?? null,
    createdAt: iso(r.created_at)!,
    lastAttemptAt: iso(r.last_attempt_at),
    nextAttemptAt: iso(r.next_attempt_at),
    parkedAt: iso(r.parked_at),
    deliveredAt: iso(r.delivered_at),
    discardedAt: iso(r.discarded_at),
    discardedBy: (r.discarded_by as string | null) ?? null,
    discardReason: (r.discard_reason as string | null) ?? null,
  };
}

/** Parked events, oldest first, after `afterId`; up to `limit` of them (callers ask one more to know if a page follows). */
export async function listParked(q: Queryable, opts: { afterId?: number; limit: number }): Promise<OutboxEvent[]> {
  const rows = await selectParkedOutboxEvents(q, opts.afterId ?? 0, opts.limit);
  return rows.map(toEvent);
}

export async function getOutboxEvent(q: Queryable, id: number): Promise<OutboxEvent> {
  const row = await selectOutboxEvent(q, id);
  if (!row) throw new AppError('outbox.not_found', `no outbox event ${id}`);
  return toEvent(row);
}

/** Locks a parked event for the rest of the transaction: 404 when there is none, 409 when it is not parked. */
async function lockParked(tx: Tx, id: number): Promise<{ topic: string; attempts: number }> {
  const row = await lockOutboxEvent(tx, id);
  if (!row) throw new AppError('outbox.not_found', `no outbox event ${id}`);
  if (row.state !== 'parked') throw new AppError('outbox.not_parked', `outbox event ${id} is ${row.state}, not parked`);
  return row;
}

/**
 * Puts a parked event back in line with a fresh count of attempts (its last error stays for reference), and
 * wakes the buses of other processes on commit. The caller notifies its own bus after commit.
 */
export function retryParked(db: Db, id: number, actor: string, now: Date): Promise<OutboxEvent> {
  return db.transaction(async (tx) => {
    const { topic, attempts } = await lockParked(tx, id);
    await requeueOutboxEvent(tx, id);
    await notifyOutbox(tx, topic);
    await appendToLedger(tx, [
      {
        type: 'outbox.retried',
        actor,
        subjectType: 'outbox_event',
        subjectId: String(id),
        data: { topic, attempts },
        at: now,
      },
    ]);
    return getOutboxEvent(tx, id);
  });
}

/** Closes a parked event for good: it is never delivered. The reason stays in the row; the ledger notes one was given. */
export function discardParked(db: Db, id: number, reason: string, actor: string, now: Date): Promise<OutboxEvent> {
  return db.transaction(async (tx) => {
    const { topic, attempts } = await lockParked(tx, id);
    await markOutboxDiscarded(tx, id, actor, reason);
    await appendToLedger(tx, [
      {
        type: 'outbox.discarded',
        actor,
        subjectType: 'outbox_event',
        subjectId: String(id),
        data: { topic, attempts, reasonGiven: true },
        at: now,
      },
    ]);
    return getOutboxEvent(tx, id);
  });
}

export interface OutboxStats {
  /** Events waiting for delivery, including those waiting to retry. */
  pending: number;
  /** Seconds since the oldest pending event was published; 0 when none is. */
  oldestPendingAgeSeconds: number;
  parked: number;
}

export async function outboxStats(q: Queryable): Promise<OutboxStats> {
  const row = await countOutboxBacklog(q);
  return {
    pending: row?.pending ?? 0,
    parked: row?.parked ?? 0,
    oldestPendingAgeSeconds: Math.max(0, row?.age ?? 0),
  };
}

/** Deletes delivered events older than the retention window, at most `limit` per call; returns how many. */
export async function pruneDelivered(q: Queryable, retentionHours: number, limit = 10_000): Promise<number> {
  return deleteDeliveredOutboxEvents(q, retentionHours * 3600, limit);
}
