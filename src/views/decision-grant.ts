/**
 * What lets an action run: a decision (assure) on a proposal (assure), with its approval (act) if it has one, and
 * whether the proposing agent is stopped. Read by act's tools before any effect.
 */
import type { Queryable } from '../store/index.ts';

export interface DecisionGrantRow {
  outcome: string;
  proposal_id: string;
  action: string;
  params: unknown;
  account_id: string | null;
  lead_id: string | null;
  proposal_status: string;
  approval_status: string | null;
  edited_params: unknown;
  agent_id: string;
  /** SQL's `agent_stop_reason()`: 'kill_switch', 'paused' or null. */
  stopped: string | null;
}

export async function readDecisionGrant(q: Queryable, decisionId: string): Promise<DecisionGrantRow | undefined> {
  const [row] = await q.query<DecisionGrantRow>(
    `SELECT d.outcome, p.id AS proposal_id, p.action, p.params, p.account_id, p.lead_id, p.status AS proposal_status,
            a.status AS approval_status, a.edited_params, p.agent_id, agent_stop_reason(p.agent_id) AS stopped
     FROM decisions d JOIN proposals p ON p.id = d.proposal_id LEFT JOIN approvals a ON a.decision_id = d.id
     WHERE d.id = $1`,
    [decisionId],
  );
  return row;
}
