import type { Queryable } from '../store/index.ts';

// Read models of the readiness scorecard (src/learn/readiness.ts): the evidence it reads from sense (signals, the
// quarantine, identity), records, the ledger, assure and act. Server-clock data is read over `range`; what is dated
// on the database's own clock over all time.

interface Range {
  from: Date;
  to: Date;
}

const bounds = (range: Range) => [range.from.toISOString(), range.to.toISOString()];

/**
 * Rule pass counts over one record table's live rows, one statement: `records`, and per rule i `a{i}` (rows it
 * applies to) and `p{i}` (rows that pass). `applies` and `passes` are SQL conditions over the table's columns.
 */
export async function readinessRecordRuleCounts(
  q: Queryable,
  table: 'accounts' | 'contacts' | 'leads',
  rules: readonly { applies: string; passes: string }[],
): Promise<Record<string, number>> {
  const live = table === 'accounts' ? 'deleted_at IS NULL AND merged_into IS NULL' : 'deleted_at IS NULL';
  const [row] = await q.query<Record<string, number>>(
    `SELECT count(*)::int AS records, ${rules.map((r, i) => `count(*) FILTER (WHERE ${r.applies})::int AS a${i}, count(*) FILTER (WHERE ${r.applies} AND coalesce(${r.passes}, false))::int AS p${i}`).join(', ')}
     FROM ${table} WHERE ${live}`,
  );
  return row!;
}

/** Outcome signals that occurred in the range, by kind. */
export async function readinessOutcomeKinds(q: Queryable, range: Range): Promise<{ kind: string; n: number }[]> {
  return q.query<{ kind: string; n: number }>(
    `SELECT data->>'kind' AS kind, count(*)::int AS n FROM signals
       WHERE type = 'outcome' AND occurred_at >= $1::timestamptz AND occurred_at < $2::timestamptz GROUP BY 1`,
    bounds(range),
  );
}

/** Signals against refused signals (records the record API refused are not signals), as the source scores count. */
export async function readinessIntakeCounts(
  q: Queryable,
): Promise<{ accepted: number; quarantined: number; quarantine_total: number; quarantine_open: number }> {
  const [row] = await q.query<{ accepted: number; quarantined: number; quarantine_total: number; quarantine_open: number }>(
    `SELECT (SELECT count(*) FROM signals)::int AS accepted,
              count(*) FILTER (WHERE source NOT LIKE 'records:%')::int AS quarantined,
              count(*)::int AS quarantine_total, count(*) FILTER (WHERE status = 'open')::int AS quarantine_open
       FROM quarantine`,
  );
  return row!;
}

/** Identity reviews (all, open) and merges in force. */
export async function readinessIdentityReviews(q: Queryable): Promise<{ reviews: number; open: number; merges: number }> {
  const [row] = await q.query<{ reviews: number; open: number; merges: number }>(
    `SELECT count(*)::int AS reviews, count(*) FILTER (WHERE status = 'open')::int AS open,
              (SELECT count(*) FROM identity_merges WHERE unmerged_at IS NULL)::int AS merges
       FROM identity_reviews`,
  );
  return row!;
}

/** Policy dry-runs and agent updates in the ledger (all time): how many, how many changed autonomy, the latest. */
export async function readinessLedgerChanges(q: Queryable): Promise<{ type: string; n: number; autonomy: number; last: Date }[]> {
  return q.query<{ type: string; n: number; autonomy: number; last: Date }>(
    `SELECT type, count(*)::int AS n, count(*) FILTER (WHERE (body::jsonb)->'data'->'autonomy' IS NOT NULL)::int AS autonomy, max(ts) AS last
       FROM ledger WHERE type IN ('policy.dry_run', 'agent.updated') GROUP BY type`,
  );
}

/**
 * Approvals a person decided in the range (and of those, within `targetHours` of being asked), approvals that
 * expired in the range, and approvals pending now (and of those, waiting longer than `targetHours` at `now`).
 */
export async function readinessOversight(
  q: Queryable,
  range: Range,
  now: Date,
  targetHours: number,
): Promise<{ decided: number; on_time: number; expired: number; pending: number; overdue: number }> {
  const [row] = await q.query<{ decided: number; on_time: number; expired: number; pending: number; overdue: number }>(
    `SELECT count(*) FILTER (WHERE a.status IN ('approved', 'rejected') AND a.decided_at >= $1::timestamptz AND a.decided_at < $2::timestamptz)::int AS decided,
              count(*) FILTER (WHERE a.status IN ('approved', 'rejected') AND a.decided_at >= $1::timestamptz AND a.decided_at < $2::timestamptz
                               AND a.decided_at - d.decided_at <= make_interval(hours => $4::int))::int AS on_time,
              count(*) FILTER (WHERE a.status = 'expired' AND a.decided_at >= $1::timestamptz AND a.decided_at < $2::timestamptz)::int AS expired,
              count(*) FILTER (WHERE a.status = 'pending')::int AS pending,
              count(*) FILTER (WHERE a.status = 'pending' AND d.decided_at < $3::timestamptz - make_interval(hours => $4::int))::int AS overdue
       FROM approvals a JOIN decisions d ON d.id = a.decision_id
       WHERE a.status = 'pending' OR (a.decided_at >= $1::timestamptz AND a.decided_at < $2::timestamptz)`,
    [...bounds(range), now.toISOString(), targetHours],
  );
  return row!;
}

/** Durable plays by status (all time). */
export async function readinessPlayStatuses(q: Queryable): Promise<{ status: string; n: number }[]> {
  return q.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM plays GROUP BY status');
}

/** The three policies that denied most decisions in the range (a denial naming none counts as '(default deny)'). */
export async function readinessTopDenials(q: Queryable, range: Range): Promise<{ policy: string; n: number }[]> {
  return q.query<{ policy: string; n: number }>(
    `SELECT coalesce(p.policy, '(default deny)') AS policy, count(*)::int AS n
       FROM decisions d LEFT JOIN LATERAL jsonb_array_elements_text(d.policy_ids) AS p(policy) ON true
       WHERE d.outcome = 'deny' AND d.decided_at >= $1::timestamptz AND d.decided_at < $2::timestamptz
       GROUP BY 1 ORDER BY n DESC, policy LIMIT 3`,
    bounds(range),
  );
}
