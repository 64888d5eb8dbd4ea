import type { Queryable } from '../store/index.ts';

// The read model of earned autonomy's track records (src/learn/track-record.ts): decisions and proposals (assure)
// with the approvals (act) a person answered.

export interface TrackRecordRow {
  agent_id: string;
  action: string;
  /** The reviewer's category of a rejection (`other` when none was given); null for approvals. */
  category: string | null;
  approved: number;
  rejected: number;
}

/**
 * Verdicts on the decisions made in (now − windowDays, now] that policy did not deny, of these agents (all when
 * null), by agent, action and rejection category: one grouped statement over the window's decisions (index
 * decisions_decided).
 */
export async function trackRecordVerdicts(
  q: Queryable,
  opts: { now: Date; windowDays: number; agentIds: string[] | null },
): Promise<TrackRecordRow[]> {
  return q.query<TrackRecordRow>(
    `SELECT p.agent_id, p.action, CASE WHEN a.status = 'rejected' THEN coalesce(a.reason_category, 'other') END AS category,
            count(*) FILTER (WHERE d.outcome = 'execute' OR a.status = 'approved')::int AS approved,
            count(*) FILTER (WHERE a.status = 'rejected')::int AS rejected
     FROM decisions d JOIN proposals p ON p.id = d.proposal_id LEFT JOIN approvals a ON a.decision_id = d.id
     WHERE d.decided_at > $1::timestamptz - make_interval(days => $2::int) AND d.decided_at <= $1::timestamptz AND d.outcome <> 'deny'
       AND ($3::text[] IS NULL OR p.agent_id = ANY($3::text[]))
     GROUP BY 1, 2, 3`,
    [opts.now.toISOString(), opts.windowDays, opts.agentIds],
  );
}
