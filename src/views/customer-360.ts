import type { Queryable } from '../store/index.ts';

// The Customer 360 read model: what the profile (src/sense/profile.ts getProfile) and the consent history of a
// customer (consentHistory) read of the records, the signals, the features, the consents and the agents' work.

const liveRowsOfAccount = (q: Queryable, table: 'contacts' | 'subscriptions' | 'cases', accountId: string, extra = '') =>
  q.query<Record<string, unknown>>(`SELECT * FROM ${table} WHERE account_id = $1 AND deleted_at IS NULL ${extra}`, [accountId]);

/** The identity claims on an account (customer id, email...), by kind and value. */
export function profileIdentities(q: Queryable, accountId: string): Promise<{ kind: string; value: string; source: string }[]> {
  return q.query<{ kind: string; value: string; source: string }>(
    'SELECT kind, value, source FROM identities WHERE account_id = $1 ORDER BY kind, value',
    [accountId],
  );
}

/** An account's live contacts, in id order. */
export const profileContacts = (q: Queryable, accountId: string) => liveRowsOfAccount(q, 'contacts', accountId, 'ORDER BY id');

/** An account's live subscriptions, in id order. */
export const profileSubscriptions = (q: Queryable, accountId: string) => liveRowsOfAccount(q, 'subscriptions', accountId, 'ORDER BY id');

/** An account's open and pending cases, newest opened first. */
export const profileOpenCases = (q: Queryable, accountId: string) =>
  liveRowsOfAccount(q, 'cases', accountId, "AND status IN ('open', 'pending') ORDER BY opened_at DESC");

/** An account's stored features, when there are any. */
export function profileFeatures(q: Queryable, accountId: string): Promise<{ as_of: Date; features: Record<string, unknown> }[]> {
  return q.query<{ as_of: Date; features: Record<string, unknown> }>(
    'SELECT as_of, features FROM customer_features WHERE account_id = $1',
    [accountId],
  );
}

/** An account's newest `limit` signals. */
export function profileSignals(q: Queryable, accountId: string, limit: number): Promise<Record<string, unknown>[]> {
  return q.query<Record<string, unknown>>(
    'SELECT id, type, occurred_at, data, metric FROM signals WHERE account_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT $2',
    [accountId, limit],
  );
}

/** An account's newest `limit` live interactions. */
export function profileInteractions(q: Queryable, accountId: string, limit: number): Promise<Record<string, unknown>[]> {
  return q.query<Record<string, unknown>>(
    'SELECT id, type, occurred_at, direction, subject FROM interactions WHERE account_id = $1 AND deleted_at IS NULL ORDER BY occurred_at DESC LIMIT $2',
    [accountId, limit],
  );
}

/** One step of the agents' work on an account, as the profile's timeline shows it. */
export interface AgentWorkItem {
  at: string;
  kind: 'proposal' | 'decision' | 'action';
  id: string;
  type: string;
  summary: Record<string, unknown>;
}

/**
 * The agents' work on an account, newest first, at most `limit` of each kind: proposals, the decisions on them
 * and the executions of those decisions, in one statement.
 */
export async function agentWorkOfAccount(q: Queryable, accountId: string, limit: number): Promise<AgentWorkItem[]> {
  const rows = await q.query<{
    at: Date | string;
    kind: AgentWorkItem['kind'];
    id: string;
    type: string;
    summary: Record<string, unknown>;
  }>(
    `(SELECT p.created_at AS at, 'proposal' AS kind, p.id, p.action AS type,
             jsonb_build_object('agentId', p.agent_id, 'status', p.status, 'statusReason', p.status_reason, 'ev', p.ev_value, 'reason', p.reason) AS summary
      FROM proposals p WHERE p.account_id = $1 ORDER BY p.created_at DESC, p.id DESC LIMIT $2)
     UNION ALL
     (SELECT d.decided_at, 'decision', d.id, d.outcome,
             jsonb_build_object('proposalId', d.proposal_id, 'policyIds', d.policy_ids, 'reasons', d.reasons)
      FROM decisions d JOIN proposals p ON p.id = d.proposal_id WHERE p.account_id = $1 ORDER BY d.decided_at DESC, d.id DESC LIMIT $2)
     UNION ALL
     (SELECT e.created_at, 'action', e.idempotency_key, e.action,
             jsonb_build_object('status', e.status, 'idempotencyKey', e.idempotency_key, 'result', e.result)
      FROM executions e JOIN decisions d ON d.id = e.decision_id JOIN proposals p ON p.id = d.proposal_id
      WHERE p.account_id = $1 ORDER BY e.created_at DESC, e.idempotency_key DESC LIMIT $2)`,
    [accountId, limit],
  );
  return rows.map((r) => ({ at: new Date(r.at).toISOString(), kind: r.kind, id: r.id, type: r.type, summary: r.summary }));
}

/** Every consent record of an account's live contacts, deleted records left out, newest captured first. */
export function consentRecordsOfAccount(q: Queryable, accountId: string): Promise<Record<string, unknown>[]> {
  return q.query<Record<string, unknown>>(
    `SELECT c.* FROM consents c JOIN contacts ct ON ct.id = c.contact_id
       WHERE ct.account_id = $1 AND ct.deleted_at IS NULL AND c.deleted_at IS NULL
       ORDER BY c.captured_at DESC, c.id DESC`,
    [accountId],
  );
}

/** An account's live contacts and their contact points. */
export function contactPointsOfAccount(
  q: Queryable,
  accountId: string,
): Promise<{ id: string; email: string | null; phone: string | null }[]> {
  return q.query<{ id: string; email: string | null; phone: string | null }>(
    'SELECT id, email, phone FROM contacts WHERE account_id = $1 AND deleted_at IS NULL',
    [accountId],
  );
}

/**
 * The churn score the customer's latest decision used: the newest proposal that recorded one (`ev.churn`, written by
 * the retention agent), with the decision on it when policy judged it (suppressed and held-out drafts have none).
 */
export async function latestDecidedChurnScore(
  q: Queryable,
  accountId: string,
): Promise<{ proposal_id: string; decision_id: string | null; churn: Record<string, unknown> } | undefined> {
  const [row] = await q.query<{ proposal_id: string; decision_id: string | null; churn: Record<string, unknown> }>(
    `SELECT p.id AS proposal_id, d.id AS decision_id, p.ev->'churn' AS churn
     FROM proposals p LEFT JOIN decisions d ON d.proposal_id = p.id
     WHERE p.account_id = $1 AND p.ev->'churn' IS NOT NULL
     ORDER BY p.created_at DESC, (d.id IS NULL), p.id DESC LIMIT 1`,
    [accountId],
  );
  return row;
}
