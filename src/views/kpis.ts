import type { Queryable } from '../store/index.ts';

// Read models of the KPI charts and per-agent performance (src/learn/kpis.ts): proposals and decisions (assure),
// approvals and executions (act) and signals (sense). Each series is one set-based statement over the whole range
// (grouped by day in SQL), never a query per day.

interface Range {
  from: Date;
  to: Date;
}

const bounds = (range: Range) => [range.from.toISOString(), range.to.toISOString()];

/** A day bucket in SQL: the UTC date of a timestamptz. */
const day = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')`;

export interface UpliftEntryRow {
  agent_id: string;
  action: string;
  account_id: string | null;
  lead_id: string | null;
  held: boolean;
  first_at: Date | string;
  event_at: Date | string | null;
}

/**
 * One row per customer, agent and action whose proposal of that agent falls in the range: treated (decided, not
 * denied) or held out, when they entered that comparison (their first such proposal), and their first `outcome`
 * signal of the agent's kind after that and before the range ends. `agents` and `kinds` pair up: agent i's kind.
 */
export async function kpiUpliftEntries(q: Queryable, range: Range, agents: string[], kinds: string[]): Promise<UpliftEntryRow[]> {
  return q.query<UpliftEntryRow>(
    `WITH m AS (SELECT * FROM unnest($3::text[], $4::text[]) AS m(agent_id, kind)),
     firsts AS (
       SELECT p.agent_id, p.action, p.account_id, p.lead_id, p.status = 'held_out' AS held, min(p.created_at) AS first_at
       FROM proposals p LEFT JOIN decisions d ON d.proposal_id = p.id
       WHERE p.agent_id = ANY($3::text[]) AND p.created_at >= $1::timestamptz AND p.created_at < $2::timestamptz
         AND (p.status = 'held_out' OR (p.status = 'decided' AND d.outcome <> 'deny'))
       GROUP BY 1, 2, 3, 4, 5
     )
     SELECT f.agent_id, f.action, f.account_id, f.lead_id, f.held, f.first_at,
            -- One branch per holder column, so each reads its own index; least() skips the branch that found nothing.
            least(
              (SELECT min(s.occurred_at) FROM signals s WHERE s.account_id = f.account_id AND s.type = 'outcome' AND s.data->>'kind' = m.kind
                 AND s.occurred_at > f.first_at AND s.occurred_at < $2::timestamptz),
              (SELECT min(s.occurred_at) FROM signals s WHERE s.lead_id = f.lead_id AND s.type = 'outcome' AND s.data->>'kind' = m.kind
                 AND s.occurred_at > f.first_at AND s.occurred_at < $2::timestamptz)
            ) AS event_at
     FROM firsts f JOIN m ON m.agent_id = f.agent_id`,
    [...bounds(range), agents, kinds],
  );
}

/** Decisions by the day they were decided and outcome; held-out and suppressed proposals by the day they were made (k = status). */
export async function kpiDecisionOutcomesByDay(q: Queryable, range: Range): Promise<{ day: string; k: string; n: number }[]> {
  return q.query<{ day: string; k: string; n: number }>(
    `SELECT ${day('decided_at')} AS day, outcome AS k, count(*)::int AS n
       FROM decisions WHERE decided_at >= $1::timestamptz AND decided_at < $2::timestamptz GROUP BY 1, 2
       UNION ALL
       SELECT ${day('created_at')}, status, count(*)::int
       FROM proposals WHERE status IN ('held_out', 'suppressed') AND created_at >= $1::timestamptz AND created_at < $2::timestamptz GROUP BY 1, 2`,
    bounds(range),
  );
}

/** Accepted signals by the day they were received, per type. */
export async function kpiSignalVolumeByDay(q: Queryable, range: Range): Promise<{ day: string; type: string; n: number }[]> {
  return q.query<{ day: string; type: string; n: number }>(
    `SELECT ${day('received_at')} AS day, type, count(*)::int AS n
       FROM signals WHERE received_at >= $1::timestamptz AND received_at < $2::timestamptz GROUP BY 1, 2`,
    bounds(range),
  );
}

/**
 * Approvals a human approved or rejected, by the day decided, with the hours from the approval's creation (its
 * decision's time) to the human's decision: median and 90th percentile, interpolated (percentile_cont).
 */
export async function kpiApprovalLatencyByDay(
  q: Queryable,
  range: Range,
): Promise<{ day: string; decided: number; median: number; p90: number }[]> {
  return q.query<{ day: string; decided: number; median: number; p90: number }>(
    `SELECT day, count(*)::int AS decided,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY h) AS median, percentile_cont(0.9) WITHIN GROUP (ORDER BY h) AS p90
       FROM (SELECT ${day('a.decided_at')} AS day, (extract(epoch FROM a.decided_at - d.decided_at) / 3600)::float8 AS h
             FROM approvals a JOIN decisions d ON d.id = a.decision_id
             WHERE a.status IN ('approved', 'rejected') AND a.decided_at >= $1::timestamptz AND a.decided_at < $2::timestamptz) x
       GROUP BY day`,
    bounds(range),
  );
}

/**
 * Approvals that reached their expiry with nobody deciding them: in all, and those marked expired in the range. One
 * lapsed early because its customer was erased (marked before its expiry) is not counted: it was not left unreviewed.
 */
export async function kpiExpiredApprovals(q: Queryable, range: Range): Promise<{ total: number; in_range: number }> {
  const [row] = await q.query<{ total: number; in_range: number }>(
    `SELECT count(*)::int AS total,
            count(*) FILTER (WHERE decided_at >= $1::timestamptz AND decided_at < $2::timestamptz)::int AS in_range
     FROM approvals WHERE status = 'expired' AND decided_at >= expires_at`,
    bounds(range),
  );
  return row!;
}

/** Approvals waiting for a human now. */
export async function kpiPendingApprovals(q: Queryable): Promise<number> {
  const [row] = await q.query<{ n: number }>("SELECT count(*)::int AS n FROM approvals WHERE status = 'pending'");
  return row!.n;
}

/**
 * Denied decisions in the range, counted once per policy id in the decision (a denial no policy named counts as
 * `defaultDeny`), with the policy's reason.
 */
export async function kpiDenialsByPolicy(
  q: Queryable,
  range: Range,
  defaultDeny: string,
): Promise<{ policy_id: string; reason: string; n: number }[]> {
  return q.query<{ policy_id: string; reason: string; n: number }>(
    `SELECT coalesce(p.policy_id, $3) AS policy_id,
              coalesce(CASE WHEN p.policy_id IS NULL OR jsonb_array_length(d.reasons) <> jsonb_array_length(d.policy_ids) THEN d.reasons->>0
                            ELSE d.reasons->>(p.ord::int - 1) END, '') AS reason,
              count(*)::int AS n
       FROM decisions d LEFT JOIN LATERAL jsonb_array_elements_text(d.policy_ids) WITH ORDINALITY AS p(policy_id, ord) ON true
       WHERE d.outcome = 'deny' AND d.decided_at >= $1::timestamptz AND d.decided_at < $2::timestamptz
       GROUP BY 1, 2 ORDER BY n DESC, policy_id, reason`,
    [...bounds(range), defaultDeny],
  );
}

export interface AgentProposalCountsRow {
  agent_id: string;
  proposals: number;
  suppressed: number;
  held_out: number;
  decided: number;
  executed: number;
  denied: number;
  auto_executed: number;
  pending: number;
  approved: number;
  approved_with_edits: number;
  rejected: number;
  expired: number;
}

/** Per agent, the proposals it made in the range and what became of them: decisions, executions, approvals. */
export async function kpiAgentProposalCounts(q: Queryable, range: Range): Promise<AgentProposalCountsRow[]> {
  return q.query<AgentProposalCountsRow>(
    `SELECT p.agent_id, count(*)::int AS proposals,
              count(*) FILTER (WHERE p.status = 'suppressed')::int AS suppressed,
              count(*) FILTER (WHERE p.status = 'held_out')::int AS held_out,
              count(d.id)::int AS decided,
              count(*) FILTER (WHERE EXISTS (SELECT 1 FROM executions e WHERE e.decision_id = d.id AND e.status <> 'refused'))::int AS executed,
              count(*) FILTER (WHERE d.outcome = 'deny')::int AS denied,
              count(*) FILTER (WHERE d.outcome = 'execute')::int AS auto_executed,
              count(*) FILTER (WHERE a.status = 'pending')::int AS pending,
              count(*) FILTER (WHERE a.status = 'approved' AND a.edited_params IS NULL)::int AS approved,
              count(*) FILTER (WHERE a.status = 'approved' AND a.edited_params IS NOT NULL)::int AS approved_with_edits,
              count(*) FILTER (WHERE a.status = 'rejected')::int AS rejected,
              count(*) FILTER (WHERE a.status = 'expired')::int AS expired
       FROM proposals p
       LEFT JOIN decisions d ON d.proposal_id = p.id
       LEFT JOIN approvals a ON a.decision_id = d.id
       WHERE p.created_at >= $1::timestamptz AND p.created_at < $2::timestamptz
       GROUP BY p.agent_id`,
    bounds(range),
  );
}
