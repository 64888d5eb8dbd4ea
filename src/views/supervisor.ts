import type { Queryable } from '../store/index.ts';

// Read models of the supervisor (src/supervisor): per agent and day before `now` (bucket 0 is the last 24 hours,
// bucket 1 the 24 before, and so on), what it proposed and what became of it (assure's proposals and decisions,
// act's approvals and executions), the complaints after its actions (sense's signals), and its credits today (act).

export interface AgentDayRow {
  agent_id: string;
  /** Whole days before `now`: 0 is the last 24 hours. */
  bucket: number;
  proposals: number;
  /** Denied by policy, or rejected by a human. */
  denied_or_rejected: number;
  /** Verdicts as precision counts them (src/learn/kpis.ts): ran on its own or approved by a human, against rejected. */
  approved: number;
  rejected: number;
  complaints: number;
}

const BUCKET = (column: string) => `floor(extract(epoch FROM ($1::timestamptz - ${column})) / 86400)::int`;

/**
 * Per agent and bucket over the `days` days before `now`: proposals by when they were made, with their denials,
 * rejections and verdicts; and the `outcome` complaints (data.kind 'complaint') on a customer the agent acted on
 * (an execution that ran) within `complaintHours` before the complaint, by when the complaint occurred.
 */
export async function supervisorAgentDays(q: Queryable, now: Date, days: number, complaintHours: number): Promise<AgentDayRow[]> {
  return q.query<AgentDayRow>(
    `WITH p AS (
       SELECT p.agent_id, ${BUCKET('p.created_at')} AS bucket, count(*)::int AS proposals,
              count(*) FILTER (WHERE d.outcome = 'deny' OR a.status = 'rejected')::int AS denied_or_rejected,
              count(*) FILTER (WHERE d.outcome = 'execute' OR a.status = 'approved')::int AS approved,
              count(*) FILTER (WHERE a.status = 'rejected')::int AS rejected
       FROM proposals p LEFT JOIN decisions d ON d.proposal_id = p.id LEFT JOIN approvals a ON a.decision_id = d.id
       WHERE p.created_at < $1::timestamptz AND p.created_at >= $1::timestamptz - make_interval(days => $2)
       GROUP BY 1, 2
     ), c AS (
       SELECT x.agent_id, ${BUCKET('x.occurred_at')} AS bucket, count(*)::int AS complaints
       FROM (SELECT DISTINCT s.id, s.occurred_at, p.agent_id
             FROM signals s
             JOIN proposals p ON p.account_id = s.account_id
             JOIN decisions d ON d.proposal_id = p.id
             JOIN executions e ON e.decision_id = d.id AND e.status <> 'refused'
             WHERE s.type = 'outcome' AND s.data->>'kind' = 'complaint'
               AND s.occurred_at < $1::timestamptz AND s.occurred_at >= $1::timestamptz - make_interval(days => $2)
               AND e.created_at < s.occurred_at AND e.created_at >= s.occurred_at - make_interval(hours => $3)) x
       GROUP BY 1, 2
     )
     SELECT coalesce(p.agent_id, c.agent_id) AS agent_id, coalesce(p.bucket, c.bucket) AS bucket,
            coalesce(p.proposals, 0) AS proposals, coalesce(p.denied_or_rejected, 0) AS denied_or_rejected,
            coalesce(p.approved, 0) AS approved, coalesce(p.rejected, 0) AS rejected, coalesce(c.complaints, 0) AS complaints
     FROM p FULL JOIN c ON c.agent_id = p.agent_id AND c.bucket = p.bucket`,
    [now.toISOString(), days, complaintHours],
  );
}

/** Per agent, the credits applied on the UTC day of `now` up to `now`, in cents, through the actions it proposed. */
export async function supervisorCreditsToday(q: Queryable, now: Date): Promise<{ agent_id: string; cents: number }[]> {
  return q.query<{ agent_id: string; cents: number }>(
    `SELECT p.agent_id, sum(c.amount_cents)::int AS cents
     FROM credits c JOIN executions e ON e.idempotency_key = c.execution_key
     JOIN decisions d ON d.id = e.decision_id JOIN proposals p ON p.id = d.proposal_id
     WHERE c.status = 'applied' AND c.created_at >= date_trunc('day', $1::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
       AND c.created_at < $1::timestamptz
     GROUP BY 1`,
    [now.toISOString()],
  );
}
