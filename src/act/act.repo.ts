/**
 * act's tables: approvals, executions, plays, messages and credits. Their SQL lives here; the workflows that use it
 * (approvals.ts, execute.ts, plays.ts, tools.ts, transport.ts) keep the decisions.
 */
import { insertRows, type Queryable, type Tx } from '../store/index.ts';

// Approvals.

/** Opens approvals (id, decision_id, expires_at) for decisions that need one. */
export async function insertApprovals(
  tx: Tx,
  rows: readonly { id: string | null; decision_id: string; expires_at: string }[],
): Promise<void> {
  await insertRows(tx, 'approvals', { id: 'text', decision_id: 'text', expires_at: 'timestamptz' }, rows);
}

/** Locks an approval's row for its decision (approve, reject); what it is about is read after, under the lock. */
export async function lockApproval(tx: Tx, id: string): Promise<void> {
  await tx.query('SELECT id FROM approvals WHERE id = $1 FOR UPDATE', [id]);
}

export async function markApprovalApproved(
  tx: Tx,
  id: string,
  change: { actor: string; decidedAt: string; editedParams: string | null },
): Promise<void> {
  await tx.query(
    "UPDATE approvals SET status = 'approved', decided_by = $2, decided_at = $3, edited_params = $4::jsonb, last_error = NULL WHERE id = $1",
    [id, change.actor, change.decidedAt, change.editedParams],
  );
}

/** Notes why a still-pending approval's run failed; returns whether it was still pending. */
export async function noteApprovalRunError(tx: Tx, id: string, lastError: string): Promise<boolean> {
  const [row] = await tx.query("UPDATE approvals SET last_error = $2::jsonb WHERE id = $1 AND status = 'pending' RETURNING id", [
    id,
    lastError,
  ]);
  return row !== undefined;
}

export async function markApprovalRejected(
  tx: Tx,
  id: string,
  change: { actor: string; decidedAt: string; reason: string; category: string },
): Promise<void> {
  await tx.query(
    "UPDATE approvals SET status = 'rejected', decided_by = $2, decided_at = $3, reason = $4, reason_category = $5 WHERE id = $1",
    [id, change.actor, change.decidedAt, change.reason, change.category],
  );
}

/** Marks pending approvals past their time as expired; returns them. */
export async function expirePendingApprovals(tx: Tx, now: string): Promise<{ id: string; decision_id: string }[]> {
  return tx.query<{ id: string; decision_id: string }>(
    "UPDATE approvals SET status = 'expired', decided_at = $1 WHERE status = 'pending' AND expires_at <= $1 RETURNING id, decision_id",
    [now],
  );
}

/** Withdraws a pending approval (its play was cancelled): it ends expired, with who withdrew it and why. */
export async function withdrawPendingApproval(
  tx: Tx,
  id: string,
  opts: { actor: string; reason: string; at: string },
): Promise<{ id: string; decision_id: string } | undefined> {
  const [row] = await tx.query<{ id: string; decision_id: string }>(
    "UPDATE approvals SET status = 'expired', decided_by = $2, reason = $3, decided_at = $4 WHERE id = $1 AND status = 'pending' RETURNING id, decision_id",
    [id, opts.actor, opts.reason, opts.at],
  );
  return row;
}

export async function findApprovalStatus(q: Queryable, id: string | null | undefined): Promise<string | undefined> {
  const [row] = await q.query<{ status: string }>('SELECT status FROM approvals WHERE id = $1', [id]);
  return row?.status;
}

// Executions.

/** Serialises work on one idempotency key across processes. */
export const lockExecutionKey = (tx: Tx, key: string) => tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [key]);

export async function findExecutionByKey(tx: Tx, key: string) {
  const [row] = await tx.query<{
    decision_id: string;
    action: string;
    status: 'succeeded' | 'compensated' | 'refused';
    result: Record<string, unknown>;
  }>('SELECT decision_id, action, status, result FROM executions WHERE idempotency_key = $1', [key]);
  return row;
}

export async function insertExecution(
  tx: Tx,
  e: { idempotencyKey: string; decisionId: string; action: string; params: string; status: string; result: string; createdAt: string },
): Promise<void> {
  await tx.query(
    'INSERT INTO executions (idempotency_key, decision_id, action, params, status, result, created_at) VALUES ($1, $2, $3, $4::jsonb, $5, $6::jsonb, $7)',
    [e.idempotencyKey, e.decisionId, e.action, e.params, e.status, e.result, e.createdAt],
  );
}

export async function markExecutionCompensated(tx: Tx, key: string): Promise<void> {
  await tx.query("UPDATE executions SET status = 'compensated', updated_at = now() WHERE idempotency_key = $1", [key]);
}

// Credits.

export async function insertCredit(
  tx: Tx,
  c: {
    id: string;
    accountId: string;
    amountCents: number;
    currency: string;
    reason: string | null;
    executionKey: string;
    createdAt: string;
  },
): Promise<void> {
  await tx.query(
    'INSERT INTO credits (id, account_id, amount_cents, currency, reason, execution_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)',
    [c.id, c.accountId, c.amountCents, c.currency, c.reason, c.executionKey, c.createdAt],
  );
}

export async function reverseAppliedCredit(tx: Tx, id: unknown): Promise<void> {
  await tx.query("UPDATE credits SET status = 'reversed', reversed_at = now() WHERE id = $1 AND status = 'applied'", [id]);
}

/** Credits applied on the (UTC) day of `now`, in cents. */
/**
 * Serialises credit writes against the daily budget: whoever applies a credit holds this lock until commit, so two
 * credits near the budget cannot both read the room that only one of them fits in.
 */
export async function lockCreditBudget(tx: Tx): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtext('acs.credits.daily_budget'))");
}

export async function sumCreditsAppliedOn(q: Queryable, now: string): Promise<number> {
  const [row] = await q.query<{ cents: number }>(
    "SELECT coalesce(sum(amount_cents), 0)::int AS cents FROM credits WHERE status = 'applied' AND created_at >= date_trunc('day', $1::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    [now],
  );
  return row!.cents;
}

// Messages.

export async function insertMessage(
  tx: Tx,
  m: {
    id: string;
    accountId: string | null;
    leadId: string | null;
    channel: string;
    purpose: string;
    template: string;
    body: string | null;
    executionKey: string;
    createdAt: string;
    contactPoint: string | null;
    brand: string | null;
    /** The consent that allowed the message, read at `createdAt` (the same clock). */
    consentId: string | null;
  },
): Promise<void> {
  await tx.query(
    `INSERT INTO messages (id, account_id, lead_id, channel, purpose, template, body, execution_key, created_at, contact_point, brand,
                           consent_id, consent_checked_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $9)`,
    [
      m.id,
      m.accountId,
      m.leadId,
      m.channel,
      m.purpose,
      m.template,
      m.body,
      m.executionKey,
      m.createdAt,
      m.contactPoint,
      m.brand,
      m.consentId,
    ],
  );
}

export async function cancelQueuedMessage(tx: Tx, id: unknown): Promise<void> {
  await tx.query("UPDATE messages SET status = 'cancelled' WHERE id = $1 AND status = 'queued'", [id]);
}

/** Claims the oldest queued message with SKIP LOCKED, so two dispatchers never send one twice. */
export async function claimQueuedMessage(tx: Tx) {
  const [row] = await tx.query<{
    id: string;
    account_id: string | null;
    lead_id: string | null;
    channel: string;
    purpose: string;
    contact_point: string | null;
    brand: string | null;
    template: string;
    body: string | null;
  }>(
    "SELECT id, account_id, lead_id, channel, purpose, contact_point, brand, template, body FROM messages WHERE status = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
  );
  return row;
}

export async function markMessageSent(tx: Tx, id: string, transport: string): Promise<void> {
  await tx.query("UPDATE messages SET status = 'sent', sent_at = now(), transport = $2 WHERE id = $1", [id, transport]);
}

export async function markMessageFailed(tx: Tx, id: string, transport: string): Promise<void> {
  await tx.query("UPDATE messages SET status = 'failed', transport = $2 WHERE id = $1", [id, transport]);
}

// Plays.

export async function insertPlay(
  tx: Tx,
  p: { id: string; kind: string; accountId: string | null; step: string; state: string; nextRunAt: string },
): Promise<void> {
  await tx.query('INSERT INTO plays (id, kind, account_id, step, state, next_run_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6)', [
    p.id,
    p.kind,
    p.accountId,
    p.step,
    p.state,
    p.nextRunAt,
  ]);
}

/** Locks the next due play (SKIP LOCKED: several workers never run one step twice), leaving out `skipped`. */
export async function claimDuePlay<R>(tx: Tx, now: string, skipped: string[]): Promise<R | undefined> {
  const [row] = await tx.query<R>(
    `SELECT id, kind, account_id, step, status, state, attempts FROM plays
         WHERE status IN ('running', 'waiting') AND next_run_at <= $1 AND NOT (id = ANY($2::text[]))
         ORDER BY next_run_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`,
    [now, skipped],
  );
  return row;
}

export async function movePlayToStep(tx: Tx, id: string, step: string, state: string, nextRunAt: string): Promise<void> {
  await tx.query(
    "UPDATE plays SET step = $2, status = 'running', state = $3::jsonb, attempts = 0, next_run_at = $4, last_error = NULL, updated_at = now() WHERE id = $1",
    [id, step, state, nextRunAt],
  );
}

export async function makePlayWait(tx: Tx, id: string, state: string, nextRunAt: string): Promise<void> {
  await tx.query("UPDATE plays SET status = 'waiting', state = $2::jsonb, next_run_at = $3, updated_at = now() WHERE id = $1", [
    id,
    state,
    nextRunAt,
  ]);
}

export async function finishPlay(tx: Tx, id: string, status: string, state: string): Promise<void> {
  await tx.query('UPDATE plays SET status = $2, state = $3::jsonb, updated_at = now() WHERE id = $1', [id, status, state]);
}

export async function schedulePlayRetry(tx: Tx, id: string, attempts: number, retryAt: string, error: string): Promise<void> {
  await tx.query('UPDATE plays SET attempts = $2, next_run_at = $3, last_error = $4, updated_at = now() WHERE id = $1', [
    id,
    attempts,
    retryAt,
    error,
  ]);
}

export async function markPlayGaveUp(tx: Tx, id: string, attempts: number, error: string): Promise<void> {
  await tx.query("UPDATE plays SET status = 'gave_up', attempts = $2, last_error = $3, updated_at = now() WHERE id = $1", [
    id,
    attempts,
    error,
  ]);
}

// An admin's controls on a play (src/act/play-controls.ts).

/** Locks a play's row (waiting for a step that is running on it to commit); undefined when there is none. */
export async function lockPlay(
  tx: Tx,
  id: string,
): Promise<
  { status: string; attempts: number; step: string; kind: string; last_error: string | null; state: { completed?: unknown } } | undefined
> {
  const [row] = await tx.query<{
    status: string;
    attempts: number;
    step: string;
    kind: string;
    last_error: string | null;
    state: { completed?: unknown };
  }>('SELECT status, attempts, step, kind, last_error, state FROM plays WHERE id = $1 FOR UPDATE', [id]);
  return row;
}

/** Makes a play due now with a fresh count of attempts, running again from its current step (its last error stays). */
export async function rerunPlayNow(tx: Tx, id: string, now: string): Promise<void> {
  await tx.query("UPDATE plays SET status = 'running', attempts = 0, next_run_at = $2, updated_at = now() WHERE id = $1", [id, now]);
}

/** Stops a play as refused by a person, noting who cancelled it, when and why in its state. */
export async function cancelPlayRow(tx: Tx, id: string, cancelled: string): Promise<void> {
  await tx.query(
    "UPDATE plays SET status = 'refused', state = state || jsonb_build_object('cancelled', $2::jsonb), updated_at = now() WHERE id = $1",
    [id, cancelled],
  );
}

// What the demo world reads of executions (src/world/driver.ts).
/** The idempotency key of every execution on record. */
export async function listExecutionKeys(q: Queryable): Promise<string[]> {
  return (await q.query<{ key: string }>('SELECT idempotency_key AS key FROM executions')).map((r) => r.key);
}

// Gauges.

/** Every status a play can have (the plays table's CHECK). */
export const PLAY_STATUSES = ['running', 'waiting', 'done', 'refused', 'gave_up'] as const;

/** What /metrics shows of act's work in flight: plays by status, approvals waiting for a human, messages not yet sent. */
export interface ActGauges {
  playsByStatus: Record<string, number>;
  pendingApprovals: number;
  /** Messages queued and not yet handed to the transport. */
  queuedMessages: number;
}

export async function readActGauges(q: Queryable): Promise<ActGauges> {
  const plays = await q.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM plays GROUP BY status');
  const [counts] = await q.query<{ approvals: number; messages: number }>(
    `SELECT (SELECT count(*)::int FROM approvals WHERE status = 'pending') AS approvals,
            (SELECT count(*)::int FROM messages WHERE status = 'queued') AS messages`,
  );
  return {
    playsByStatus: Object.fromEntries(plays.map((r) => [r.status, r.n])),
    pendingApprovals: counts?.approvals ?? 0,
    queuedMessages: counts?.messages ?? 0,
  };
}
