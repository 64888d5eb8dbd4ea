/**
 * The proposals feed: what agents proposed (assure), newest first, with the customer id (records), what policy
 * decided (assure), the approval and what ran (act).
 */
import type { Queryable } from '../store/index.ts';

export interface ProposalFeedFilter {
  agentId: string | null;
  status: string | null;
  outcome: string | null;
  accountId: string | null;
  leadId: string | null;
  /** Only proposals with a smaller id (the page's cursor). */
  before: string | null;
  limit: number;
}

export async function listProposalsFeed(q: Queryable, f: ProposalFeedFilter): Promise<Record<string, unknown>[]> {
  return q.query<Record<string, unknown>>(
    `SELECT p.*, acc.customer_id, d.id AS decision_id, d.outcome, d.policy_ids, d.reasons, d.autonomy, d.decided_at, a.id AS approval_id, a.status AS approval_status,
                  (SELECT jsonb_agg(jsonb_build_object('idempotencyKey', e.idempotency_key, 'status', e.status, 'result', e.result) ORDER BY e.created_at)
                   FROM executions e WHERE e.decision_id = d.id) AS executions
           FROM proposals p LEFT JOIN accounts acc ON acc.id = p.account_id
           LEFT JOIN decisions d ON d.proposal_id = p.id LEFT JOIN approvals a ON a.decision_id = d.id
           WHERE ($1::text IS NULL OR p.agent_id = $1) AND ($2::text IS NULL OR p.status = $2) AND ($3::text IS NULL OR d.outcome = $3)
             AND ($4::text IS NULL OR p.account_id = $4) AND ($5::text IS NULL OR p.lead_id = $5) AND ($6::text IS NULL OR p.id < $6)
           ORDER BY p.id DESC LIMIT $7`,
    [f.agentId, f.status, f.outcome, f.accountId, f.leadId, f.before, f.limit],
  );
}
