import type { Queryable, Tx } from '../store/index.ts';

/** The PostgreSQL channel on which publishing wakes the buses of other processes. */
export const OUTBOX_CHANNEL = 'acs_outbox';

/**
 * Writes an event to the outbox. The same statement NOTIFYs other processes' buses, which PostgreSQL delivers on
 * commit (and never on rollback).
 */
export async function insertOutboxEvent(tx: Queryable, topic: string, payload: unknown): Promise<void> {
  await tx.query(
    `WITH wake AS (SELECT pg_notify('${OUTBOX_CHANNEL}', $1)) INSERT INTO outbox (topic, payload) SELECT $1, $2::jsonb FROM wake`,
    [topic, JSON.stringify(payload)],
  );
}

/** Wakes the buses of other processes on commit, as publishing does. */
export async function notifyOutbox(tx: Tx, topic: string): Promise<void> {
  await tx.query('SELECT pg_notify($1, $2)', [OUTBOX_CHANNEL, topic]);
}

/** Pending events of these topics: how many, how many are due now, and the milliseconds until the next one is. */
export async function pendingOutboxSummary(
  db: Queryable,
  topics: string[],
): Promise<{ n: number; due: number; wait: number | null } | undefined> {
  const [p] = await db.query<{ n: number; due: number; wait: number | null }>(
    `SELECT count(*)::int AS n, count(*) FILTER (WHERE next_attempt_at IS NULL OR next_attempt_at <= now())::int AS due,
            (extract(epoch FROM min(next_attempt_at) - now()) * 1000)::float8 AS wait
       FROM outbox WHERE state = 'pending' AND topic = ANY($1::text[])`,
    [topics],
  );
  return p;
}

/** The pending event that failed last. */
export async function lastFailedOutboxEvent(
  db: Queryable,
): Promise<{ id: number; topic: string; attempts: number; last_error: string } | undefined> {
  const [last] = await db.query<{ id: number; topic: string; attempts: number; last_error: string }>(
    "SELECT id, topic, attempts, last_error FROM outbox WHERE state = 'pending' AND attempts > 0 ORDER BY last_attempt_at DESC LIMIT 1",
  );
  return last;
}

/** An event as its subscribers get it. */
interface OutboxMessageRow {
  id: number;
  topic: string;
  payload: unknown;
}

/** Claims up to `limit` due events of these topics, oldest first; rows another process holds are skipped. */
export function claimDueOutboxEvents(tx: Tx, topics: string[], limit: number): Promise<OutboxMessageRow[]> {
  return tx.query<OutboxMessageRow>(
    `SELECT id, topic, payload FROM outbox
      WHERE state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= now()) AND topic = ANY($1::text[])
      ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED`,
    [topics],
  );
}

/**
 * Locks these events, oldest first, where they are still pending, whether due or not: the broker decides when an
 * event comes again. It waits for a process that holds one, so an event another delivered meanwhile is not found.
 */
export function lockPendingOutboxEvents(tx: Tx, ids: number[]): Promise<(OutboxMessageRow & { attempts: number })[]> {
  return tx.query<OutboxMessageRow & { attempts: number }>(
    `SELECT id, topic, payload, attempts FROM outbox WHERE id = ANY($1::bigint[]) AND state = 'pending' ORDER BY id FOR UPDATE`,
    [ids],
  );
}

/**
 * Claims up to `limit` committed events of these topics not yet handed to the broker, oldest first; and those it
 * holds but should have delivered `staleSeconds` ago (after their publication or their last retry's due time).
 */
export function claimUnpublishedOutboxEvents(
  tx: Tx,
  topics: string[],
  limit: number,
  staleSeconds: number,
): Promise<(OutboxMessageRow & { publications: number })[]> {
  return tx.query<OutboxMessageRow & { publications: number }>(
    `SELECT id, topic, payload, publications FROM outbox
      WHERE state = 'pending' AND topic = ANY($1::text[])
        AND (published_at IS NULL OR greatest(published_at, next_attempt_at) < now() - make_interval(secs => $2::float8))
      ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED`,
    [topics, staleSeconds],
  );
}

/** Notes that the broker holds these events; the next publication of one (after a retry) gets a new message id. */
export async function markOutboxPublished(tx: Tx, ids: number[]): Promise<void> {
  await tx.query('UPDATE outbox SET published_at = now(), publications = publications + 1 WHERE id = ANY($1::bigint[])', [ids]);
}

/** This database's name on the broker: random, made by the migration that added it. */
export async function selectBusIdentity(q: Queryable): Promise<string> {
  const [row] = await q.query<{ id: string }>('SELECT id FROM bus_identity');
  if (!row) throw new Error('bus_identity is empty');
  return row.id;
}

/** A copy of a database (one started from an image) takes a name of its own, so two copies never share streams. */
export async function renewBusIdentity(q: Queryable): Promise<void> {
  await q.query('UPDATE bus_identity SET id = substr(md5(random()::text || clock_timestamp()::text), 1, 12)');
}

/** Claims one event if it is still pending and due (and no other process holds it). */
export async function claimDueOutboxEvent(tx: Tx, id: number): Promise<(OutboxMessageRow & { attempts: number }) | undefined> {
  const [m] = await tx.query<OutboxMessageRow & { attempts: number }>(
    `SELECT id, topic, payload, attempts FROM outbox
      WHERE id = $1 AND state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= now()) FOR UPDATE SKIP LOCKED`,
    [id],
  );
  return m;
}

/** The savepoint an event's handlers run in: opened, released when they succeed, rolled back to when they fail. */
export async function outboxEventSavepoint(tx: Tx, step: 'open' | 'release' | 'rollback'): Promise<void> {
  const sql = { open: 'SAVEPOINT outbox_event', release: 'RELEASE SAVEPOINT outbox_event', rollback: 'ROLLBACK TO SAVEPOINT outbox_event' };
  await tx.query(sql[step]);
}

/** Records a failed attempt: the event waits `delayMs` for the next one, or is parked. */
export async function recordOutboxFailure(
  tx: Tx,
  f: { id: number; attempts: number; error: string; parked: boolean; delayMs: number },
): Promise<void> {
  await tx.query(
    `UPDATE outbox SET attempts = $2, last_error = $3, last_attempt_at = now(),
            state = CASE WHEN $4 THEN 'parked' ELSE 'pending' END,
            parked_at = CASE WHEN $4 THEN now() END,
            next_attempt_at = CASE WHEN $4 THEN NULL ELSE now() + make_interval(secs => $5::float8 / 1000) END
      WHERE id = $1`,
    [f.id, f.attempts, f.error, f.parked, f.delayMs],
  );
}

export async function markOutboxDelivered(tx: Tx, ids: number[]): Promise<void> {
  await tx.query("UPDATE outbox SET state = 'delivered', delivered_at = now(), next_attempt_at = NULL WHERE id = ANY($1::bigint[])", [ids]);
}

const OUTBOX_COLUMNS =
  'id, topic, payload, state, attempts, last_error, created_at, last_attempt_at, next_attempt_at, parked_at, delivered_at, discarded_at, discarded_by, discard_reason';

/** Parked events, oldest first, after `afterId`; up to `limit` of them. */
export function selectParkedOutboxEvents(q: Queryable, afterId: number, limit: number): Promise<Record<string, unknown>[]> {
  return q.query(`SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE state = 'parked' AND id > $1 ORDER BY id LIMIT $2`, [afterId, limit]);
}

export async function selectOutboxEvent(q: Queryable, id: number): Promise<Record<string, unknown> | undefined> {
  const [row] = await q.query(`SELECT ${OUTBOX_COLUMNS} FROM outbox WHERE id = $1`, [id]);
  return row;
}

/** Locks an event for the rest of the transaction. */
export async function lockOutboxEvent(tx: Tx, id: number): Promise<{ topic: string; attempts: number; state: string } | undefined> {
  const [row] = await tx.query<{
    topic: string;
    attempts: number;
    state: string;
  }>('SELECT topic, attempts, state FROM outbox WHERE id = $1 FOR UPDATE', [id]);
  return row;
}

/** Puts an event back in line with a fresh count of attempts (its last error stays for reference). */
export async function requeueOutboxEvent(tx: Tx, id: number): Promise<void> {
  // Unpublished again, so a relay to a broker hands it over once more.
  await tx.query(
    "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = NULL, parked_at = NULL, published_at = NULL WHERE id = $1",
    [id],
  );
}

export async function markOutboxDiscarded(tx: Tx, id: number, actor: string, reason: string): Promise<void> {
  await tx.query("UPDATE outbox SET state = 'discarded', discarded_at = now(), discarded_by = $2, discard_reason = $3 WHERE id = $1", [
    id,
    actor,
    reason,
  ]);
}

/** Counts of pending and parked events, and the age in seconds of the oldest pending one. */
export async function countOutboxBacklog(q: Queryable): Promise<{ pending: number; parked: number; age: number | null } | undefined> {
  const [row] = await q.query<{
    pending: number;
    parked: number;
    age: number | null;
  }>(
    `SELECT count(*) FILTER (WHERE state = 'pending')::int AS pending, count(*) FILTER (WHERE state = 'parked')::int AS parked,
            extract(epoch FROM now() - min(created_at) FILTER (WHERE state = 'pending'))::float8 AS age
       FROM outbox WHERE state IN ('pending', 'parked')`,
  );
  return row;
}

/** Deletes delivered events older than `retentionSeconds`, at most `limit`; returns how many. */
export async function deleteDeliveredOutboxEvents(q: Queryable, retentionSeconds: number, limit: number): Promise<number> {
  const rows = await q.query(
    `DELETE FROM outbox WHERE id IN (
       SELECT id FROM outbox WHERE state = 'delivered' AND delivered_at < now() - make_interval(secs => $1::float8) LIMIT $2)
     RETURNING id`,
    [retentionSeconds, limit],
  );
  return rows.length;
}
