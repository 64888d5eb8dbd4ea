/**
 * The approval queue: approvals (act) with the decision and proposal they answer (assure) and the customer's
 * context (records, sense). Read only; the locks and the writes are act's (src/act/act.repo.ts).
 */
import type { Queryable } from '../store/index.ts';

/** The queue's tabs: one status, or `decided` (approved and rejected together). */
export type ApprovalTab = 'pending' | 'approved' | 'rejected' | 'expired' | 'decided';
/** The queue's orders; each ends on the approval id, so a page boundary never repeats or skips an item. */
export type ApprovalSort = 'ev' | 'expiry' | 'newest';

export interface ApprovalQueueFilter {
  status: ApprovalTab;
  agent?: string;
  action?: string;
  risk?: string;
  /** Only approvals that expire within this many hours of `now` (and not before it when pending). */
  expiresWithinHours?: number;
  sort: ApprovalSort;
  /** The world's time: what "expires within" counts from and what "the last 90 days" end at. */
  now: Date;
  offset: number;
  limit: number;
}

const ORDERS: Record<ApprovalSort, string> = {
  ev: 'p.ev_value DESC, a.expires_at, a.id',
  expiry: 'a.expires_at, p.ev_value DESC, a.id',
  // Approval ids are ULIDs, so their order is the order they were opened in.
  newest: 'a.id DESC',
};

/** How far back the card's "past credits and contacts" look. */
export const CONTEXT_DAYS = 90;

/**
 * One page of the queue, filtered and in the chosen order (default: highest expected value first, then soonest to
 * expire), with what decides each item: the customer's latest live subscription (status, plan, tenure) and their
 * credits and outbound messages over the last 90 days.
 */
export async function listApprovalQueue(q: Queryable, f: ApprovalQueueFilter): Promise<Record<string, unknown>[]> {
  const where = ['a.status = ANY($1::text[])'];
  const statuses = f.status === 'decided' ? ['approved', 'rejected'] : [f.status];
  const args: unknown[] = [statuses, f.now.toISOString(), CONTEXT_DAYS];
  const add = (sql: string, value: unknown) => {
    args.push(value);
    where.push(sql.replace('?', `$${args.length}`));
  };
  if (f.agent) add('p.agent_id = ?', f.agent);
  if (f.action) add('p.action = ?', f.action);
  if (f.risk) add('p.risk = ?', f.risk);
  if (f.expiresWithinHours !== undefined) {
    add('a.expires_at <= $2::timestamptz + make_interval(secs => ?::float8 * 3600)', f.expiresWithinHours);
    if (f.status === 'pending') where.push('a.expires_at > $2::timestamptz');
  }
  args.push(f.offset, f.limit);
  return q.query<Record<string, unknown>>(
    `SELECT a.*, d.outcome, d.policy_ids, d.reasons, d.autonomy, p.id AS proposal_id, p.agent_id, p.action, p.params, p.channel, p.purpose,
            p.risk, p.ev, p.ev_value, p.reason AS proposal_reason, p.account_id, p.lead_id, acc.customer_id, f.features,
            sub.status AS sub_status, sub.contract AS sub_contract, sub.product_name AS sub_plan, sub.tenure_months AS sub_tenure_months,
            sub.monthly_amount AS sub_monthly_amount, cr.n AS credits_n, cr.cents AS credits_cents, msg.n AS messages_n, msg.last_at AS messages_last_at
     FROM approvals a JOIN decisions d ON d.id = a.decision_id JOIN proposals p ON p.id = d.proposal_id
     LEFT JOIN accounts acc ON acc.id = p.account_id LEFT JOIN customer_features f ON f.account_id = p.account_id
     LEFT JOIN LATERAL (
       SELECT s.status, s.contract, s.tenure_months, s.monthly_amount::float8 AS monthly_amount, pr.name AS product_name
       FROM subscriptions s LEFT JOIN products pr ON pr.id = s.product_id
       WHERE s.account_id = p.account_id AND s.deleted_at IS NULL
       ORDER BY (s.status = 'active') DESC, s.start_date DESC NULLS LAST, s.id DESC LIMIT 1) sub ON true
     LEFT JOIN LATERAL (
       SELECT count(*)::int AS n, coalesce(sum(c.amount_cents), 0)::int AS cents FROM credits c
       WHERE c.account_id = p.account_id AND c.status = 'applied' AND c.created_at > $2::timestamptz - make_interval(days => $3::int)) cr ON true
     LEFT JOIN LATERAL (
       SELECT count(*)::int AS n, max(m.created_at) AS last_at FROM messages m
       WHERE m.account_id = p.account_id AND m.status <> 'cancelled' AND m.created_at > $2::timestamptz - make_interval(days => $3::int)) msg ON true
     WHERE ${where.join(' AND ')}
     ORDER BY ${ORDERS[f.sort]} OFFSET $${args.length - 1} LIMIT $${args.length}`,
    args,
  );
}

/** A cited passage as the approval card lists it: the marker in the body, the chunk, its document's path and heading path. */
export interface ApprovalCitation {
  marker: string;
  chunkId: string;
  path: string | null;
  headingPath: string[];
}

/** The message a send_message proposal would send: its generated body (null when none was written) and what the body cites. */
export interface ApprovalMessage {
  body: string | null;
  /** The body's sentences that cite evidence, each with its markers: the body itself carries no markers. */
  sentences: { text: string; markers: string[] }[];
  citations: ApprovalCitation[];
  /** The generation abstained: nothing grounded to say. */
  abstained: boolean;
  /** Why the body may not go out on its own (each failed guardrail check); empty when it passed. */
  blocked: string[];
}

/**
 * The message a queue row's proposal carries (src/act/message-body.ts writes it into the parameters), or null for an
 * action that sends nothing. An approver's edited body, when one was saved, is what would go out.
 */
export function approvalMessage(row: Record<string, unknown>): ApprovalMessage | null {
  if (row.action !== 'send_message') return null;
  const params = (row.params ?? {}) as Record<string, unknown>;
  const edited = (row.edited_params ?? null) as Record<string, unknown> | null;
  const body = typeof edited?.body === 'string' ? edited.body : typeof params.body === 'string' ? params.body : null;
  const cited = Array.isArray(params.citations) ? (params.citations as Record<string, unknown>[]) : [];
  const generation = (params.generation ?? {}) as { abstained?: unknown; blocked?: unknown };
  // An approver's edit replaces the body: the generated sentences and their evidence no longer describe it.
  const sentences =
    typeof edited?.body === 'string' || !Array.isArray(params.sentences) ? [] : (params.sentences as Record<string, unknown>[]);
  return {
    body,
    sentences: sentences.map((x) => ({ text: String(x.text ?? ''), markers: Array.isArray(x.markers) ? x.markers.map(String) : [] })),
    citations: cited.map((c) => ({
      marker: String(c.marker ?? ''),
      chunkId: String(c.chunkId ?? ''),
      path: typeof c.path === 'string' ? c.path : null,
      headingPath: Array.isArray(c.headingPath) ? c.headingPath.map(String) : [],
    })),
    abstained: generation.abstained === true,
    blocked: Array.isArray(generation.blocked) ? generation.blocked.map(String) : [],
  };
}

/** An approval with what deciding it needs: the action, the policy request, the subject and whether its agent is stopped. */
export interface ApprovalForDecisionRow {
  id: string;
  decision_id: string;
  status: string;
  expires_at: Date;
  action: string;
  request: unknown;
  agent_id: string;
  account_id: string | null;
  lead_id: string | null;
  /** SQL's `agent_stop_reason()`: 'kill_switch', 'paused' or null. */
  stopped: string | null;
}

/** Read after act locked the approval's row (lockApproval), so it is what the decision is made on. */
export async function readApprovalForDecision<T = ApprovalForDecisionRow>(q: Queryable, id: string): Promise<T | undefined> {
  const [row] = await q.query<T>(
    `SELECT a.id, a.decision_id, a.status, a.expires_at, p.action, d.request, p.agent_id, p.account_id, p.lead_id, agent_stop_reason(p.agent_id) AS stopped
     FROM approvals a JOIN decisions d ON d.id = a.decision_id JOIN proposals p ON p.id = d.proposal_id
     WHERE a.id = $1`,
    [id],
  );
  return row;
}

/** What a bulk approval checks of each item: its state, risk, agent and action. */
export async function readApprovalsForBulk(
  q: Queryable,
  ids: string[],
): Promise<{ id: string; status: string; expires_at: Date; risk: string; agent_id: string; action: string }[]> {
  return q.query<{ id: string; status: string; expires_at: Date; risk: string; agent_id: string; action: string }>(
    `SELECT a.id, a.status, a.expires_at, p.risk, p.agent_id, p.action
     FROM approvals a JOIN decisions d ON d.id = a.decision_id JOIN proposals p ON p.id = d.proposal_id
     WHERE a.id = ANY($1::text[])`,
    [ids],
  );
}

/**
 * The credit offers waiting for a person, in cents (an edited amount where one was saved): the daily budget counts
 * them as spoken for. Expired ones no longer count; `exceptApprovalId` leaves out the one being decided.
 */
export async function pendingCreditOfferCents(q: Queryable, now: string, exceptApprovalId: string | null = null): Promise<number> {
  const [row] = await q.query<{ cents: number }>(
    `SELECT coalesce(sum(coalesce((a.edited_params->>'amountCents')::bigint, (p.params->>'amountCents')::bigint)), 0)::int AS cents
     FROM approvals a JOIN decisions d ON d.id = a.decision_id JOIN proposals p ON p.id = d.proposal_id
     WHERE a.status = 'pending' AND a.expires_at > $1::timestamptz AND p.action = 'offer_credit' AND a.id IS DISTINCT FROM $2`,
    [now, exceptApprovalId],
  );
  return row!.cents;
}
