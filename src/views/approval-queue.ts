/**
 * The approval queue: approvals (act) with the decision and proposal they answer (assure) and the customer's
 * context (records, sense). Read only; the locks and the writes are act's (src/act/act.repo.ts).
 */
import type { Queryable } from '../store/index.ts';

/** One page of the queue, highest expected value first, then soonest to expire. */
export async function listApprovalQueue(q: Queryable, status: string, offset: number, limit: number): Promise<Record<string, unknown>[]> {
  return q.query<Record<string, unknown>>(
    `SELECT a.*, d.outcome, d.policy_ids, d.reasons, d.autonomy, p.id AS proposal_id, p.agent_id, p.action, p.params, p.channel, p.purpose,
                  p.risk, p.ev, p.ev_value, p.reason AS proposal_reason, p.account_id, p.lead_id, acc.customer_id, f.features
           FROM approvals a JOIN decisions d ON d.id = a.decision_id JOIN proposals p ON p.id = d.proposal_id
           LEFT JOIN accounts acc ON acc.id = p.account_id LEFT JOIN customer_features f ON f.account_id = p.account_id
           WHERE a.status = $1 ORDER BY p.ev_value DESC, a.expires_at, a.id OFFSET $2 LIMIT $3`,
    [status, offset, limit],
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
