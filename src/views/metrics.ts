import type { Queryable } from '../store/index.ts';

// Read models of the KPIs ACS reports about itself (src/learn/metrics.ts, where each is defined): cases, tasks and
// subscriptions (records), signals (sense), proposals and decisions (assure), approvals, executions and messages
// (act). Every section is a few set-based statements over the range, one pass per table.

interface Range {
  from: Date;
  to: Date;
  now: Date;
}

export interface CaseKpiRow {
  priority: string | null;
  closed: number;
  median_h: number | null;
  p90_h: number | null;
  mean_h: number | null;
  fcr: number;
  due: number;
  met: number;
}

/**
 * Cases, grouped by priority and in all (priority null): closed in the range with their handle time (hours from
 * opening to closing), closed at the first contact (no support ticket from the customer after the case opened, up
 * to `repeatContactDays` after it closed), and opened in the range and due now or met their SLA (`slaHours` by
 * priority, `defaultSlaHours` for a priority not listed).
 */
export async function caseKpis(
  q: Queryable,
  range: Range,
  sla: { priorities: string[]; hours: number[]; defaultHours: number; repeatContactDays: number },
): Promise<CaseKpiRow[]> {
  const bounds = [range.from.toISOString(), range.to.toISOString(), range.now.toISOString()];
  return q.query<CaseKpiRow>(
    `WITH sla AS (SELECT * FROM unnest($4::text[], $5::float8[]) AS sla(priority, hours)),
       c AS (
         SELECT c.priority, c.opened_at, c.closed_at, c.account_id,
                c.closed_at >= $1::timestamptz AND c.closed_at < $2::timestamptz AS closed_in_range,
                (extract(epoch FROM c.closed_at - c.opened_at) / 3600)::float8 AS h,
                c.opened_at + make_interval(secs => coalesce(sla.hours, $6::float8) * 3600) AS due_at
         FROM cases c LEFT JOIN sla ON sla.priority = c.priority
         WHERE c.deleted_at IS NULL
           AND ((c.closed_at >= $1::timestamptz AND c.closed_at < $2::timestamptz) OR (c.opened_at >= $1::timestamptz AND c.opened_at < $2::timestamptz))
       )
       SELECT CASE WHEN grouping(priority) = 1 THEN NULL ELSE priority END AS priority,
              count(*) FILTER (WHERE closed_in_range)::int AS closed,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY h) FILTER (WHERE closed_in_range) AS median_h,
              percentile_cont(0.9) WITHIN GROUP (ORDER BY h) FILTER (WHERE closed_in_range) AS p90_h,
              avg(h) FILTER (WHERE closed_in_range) AS mean_h,
              -- First contact: no support ticket from the customer after the case opened, up to N days after it closed.
              count(*) FILTER (WHERE closed_in_range AND NOT EXISTS (
                SELECT 1 FROM signals s WHERE s.account_id = c.account_id AND s.type = 'support_ticket'
                  AND s.occurred_at > c.opened_at AND s.occurred_at <= c.closed_at + make_interval(days => $7::int)))::int AS fcr,
              -- Due: opened in the range and either closed or past its deadline now.
              count(*) FILTER (WHERE opened_at >= $1::timestamptz AND opened_at < $2::timestamptz AND (closed_at IS NOT NULL OR due_at <= $3::timestamptz))::int AS due,
              count(*) FILTER (WHERE opened_at >= $1::timestamptz AND opened_at < $2::timestamptz AND closed_at IS NOT NULL AND closed_at <= due_at)::int AS met
       FROM c GROUP BY GROUPING SETS ((priority), ())`,
    [...bounds, sla.priorities, sla.hours, sla.defaultHours, sla.repeatContactDays],
  );
}

/**
 * Support needs: support tickets from known customers in the range, those resolved (a `case_resolved` outcome within
 * `deflectionDays`), and those resolved without a person's work in between (no task, no approval decided).
 */
export async function supportNeedKpis(
  q: Queryable,
  range: Range,
  deflectionDays: number,
): Promise<{ needs: number; resolved: number; deflected: number }> {
  const [row] = await q.query<{ needs: number; resolved: number; deflected: number }>(
    `SELECT count(*)::int AS needs, count(r.at)::int AS resolved,
              count(*) FILTER (WHERE r.at IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM tasks k WHERE k.account_id = t.account_id AND k.created_at >= t.occurred_at AND k.created_at <= r.at)
                AND NOT EXISTS (SELECT 1 FROM approvals a JOIN decisions d ON d.id = a.decision_id JOIN proposals p ON p.id = d.proposal_id
                                WHERE p.account_id = t.account_id AND a.status IN ('approved', 'rejected') AND a.decided_at >= t.occurred_at AND a.decided_at <= r.at))::int AS deflected
       FROM signals t
       LEFT JOIN LATERAL (
         SELECT min(s.occurred_at) AS at FROM signals s
         WHERE s.account_id = t.account_id AND s.type = 'outcome' AND s.data->>'kind' = 'case_resolved'
           AND s.occurred_at > t.occurred_at AND s.occurred_at <= t.occurred_at + make_interval(days => $3::int)
       ) r ON true
       WHERE t.type = 'support_ticket' AND t.account_id IS NOT NULL AND t.occurred_at >= $1::timestamptz AND t.occurred_at < $2::timestamptz`,
    [range.from.toISOString(), range.to.toISOString(), deflectionDays],
  );
  return row!;
}

export interface BusinessKpiRow {
  customers: number;
  churned: number;
  renewed: number;
  renewal_base: number;
  leads: number;
  converted: number;
  paying: number;
  revenue: number | null;
}

/** Churn, renewal and conversion from one pass over outcome and lead_form signals; CLV adds subscriptions. */
export async function businessKpis(q: Queryable, range: Range): Promise<BusinessKpiRow> {
  const [r] = await q.query<BusinessKpiRow>(
    `WITH o AS (
       SELECT account_id, lead_id, grouping(account_id) AS by_lead,
              bool_or(type = 'outcome' AND data->>'kind' = 'churned' AND occurred_at < $1::timestamptz) AS churned_before,
              bool_or(type = 'outcome' AND data->>'kind' = 'churned' AND occurred_at >= $1::timestamptz) AS churned,
              bool_or(type = 'outcome' AND data->>'kind' = 'renewed' AND occurred_at >= $1::timestamptz) AS renewed,
              bool_or(type = 'outcome' AND data->>'kind' = 'converted' AND occurred_at >= $1::timestamptz) AS converted,
              bool_or(type = 'lead_form' AND occurred_at >= $1::timestamptz) AS arrived
       FROM signals WHERE type IN ('outcome', 'lead_form') AND occurred_at < $2::timestamptz
       GROUP BY GROUPING SETS ((account_id), (lead_id))
     ),
     subs AS (
       SELECT account_id, sum(monthly_amount)::float8 AS monthly FROM subscriptions
       WHERE status = 'active' AND deleted_at IS NULL GROUP BY account_id
     ),
     acc AS (
       SELECT a.id, s.account_id IS NOT NULL AS active, s.monthly, coalesce(o.churned, false) AS churned,
              coalesce(o.churned_before, false) AS churned_before, coalesce(o.renewed, false) AS renewed
       FROM accounts a LEFT JOIN subs s ON s.account_id = a.id LEFT JOIN o ON o.by_lead = 0 AND o.account_id = a.id
       WHERE a.deleted_at IS NULL AND a.merged_into IS NULL
     )
     SELECT (SELECT count(*) FROM acc WHERE (active OR churned) AND NOT churned_before)::int AS customers,
            (SELECT count(*) FROM acc WHERE churned AND NOT churned_before)::int AS churned,
            (SELECT count(*) FROM acc WHERE renewed AND NOT churned)::int AS renewed,
            (SELECT count(*) FROM acc WHERE renewed OR churned)::int AS renewal_base,
            (SELECT count(*) FROM o WHERE by_lead = 1 AND lead_id IS NOT NULL AND arrived)::int AS leads,
            (SELECT count(*) FROM o WHERE by_lead = 1 AND lead_id IS NOT NULL AND arrived AND converted)::int AS converted,
            (SELECT count(*) FROM acc WHERE active AND monthly IS NOT NULL)::int AS paying,
            (SELECT avg(monthly) FROM acc WHERE active AND monthly IS NOT NULL) AS revenue`,
    [range.from.toISOString(), range.to.toISOString()],
  );
  return r!;
}

export interface ApprovalKpiRow {
  approved: number;
  edited: number;
  rejected: number;
  expired: number;
  median_h: number | null;
  p90_h: number | null;
}

export interface ExecutionKpiRow {
  action: string;
  executions: number;
  compensated: number;
  refused: number;
  failed_delivery: number;
}

/** Policy, approvals and executions over the range: one statement each. */
export async function aiQualityKpis(
  q: Queryable,
  range: Range,
): Promise<{ decisions: { decisions: number; denied: number }; approvals: ApprovalKpiRow; executions: ExecutionKpiRow[] }> {
  const bounds = [range.from.toISOString(), range.to.toISOString()];
  const [[dec], [appr], execs] = await Promise.all([
    q.query<{ decisions: number; denied: number }>(
      `SELECT count(*)::int AS decisions, count(*) FILTER (WHERE d.outcome = 'deny' AND p.status <> 'suggested')::int AS denied
       FROM decisions d JOIN proposals p ON p.id = d.proposal_id
       WHERE d.decided_at >= $1::timestamptz AND d.decided_at < $2::timestamptz`,
      bounds,
    ),
    q.query<ApprovalKpiRow>(
      `SELECT count(*) FILTER (WHERE a.status = 'approved' AND a.edited_params IS NULL)::int AS approved,
              count(*) FILTER (WHERE a.status = 'approved' AND a.edited_params IS NOT NULL)::int AS edited,
              count(*) FILTER (WHERE a.status = 'rejected')::int AS rejected,
              count(*) FILTER (WHERE a.status = 'expired')::int AS expired,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY (extract(epoch FROM a.decided_at - d.decided_at) / 3600)::float8) FILTER (WHERE a.status IN ('approved', 'rejected')) AS median_h,
              percentile_cont(0.9) WITHIN GROUP (ORDER BY (extract(epoch FROM a.decided_at - d.decided_at) / 3600)::float8) FILTER (WHERE a.status IN ('approved', 'rejected')) AS p90_h
       FROM approvals a JOIN decisions d ON d.id = a.decision_id
       WHERE a.decided_at >= $1::timestamptz AND a.decided_at < $2::timestamptz`,
      bounds,
    ),
    q.query<ExecutionKpiRow>(
      `SELECT e.action, count(*)::int AS executions,
              count(*) FILTER (WHERE e.status = 'compensated')::int AS compensated,
              count(*) FILTER (WHERE e.status = 'refused')::int AS refused,
              count(*) FILTER (WHERE e.status = 'succeeded' AND EXISTS (SELECT 1 FROM messages m WHERE m.execution_key = e.idempotency_key AND m.status = 'failed'))::int AS failed_delivery
       FROM executions e WHERE e.created_at >= $1::timestamptz AND e.created_at < $2::timestamptz GROUP BY e.action`,
      bounds,
    ),
  ]);
  return { decisions: dec!, approvals: appr!, executions: execs };
}

/** What the injection detector flagged: signals in the range (by when they occurred), and knowledge passages now. */
export interface InjectionFlagRow {
  scanned: number;
  flagged: number;
  chunksScanned: number;
  chunksFlagged: number;
}

/**
 * Signals whose free text the trust layer scanned at intake in the range, and those it flagged (signals.trust); the
 * knowledge passages scanned and flagged as they stand (a passage's finding is of its current text).
 */
export async function injectionFlagRows(q: Queryable, range: Range): Promise<InjectionFlagRow> {
  const [row] = await q.query<InjectionFlagRow>(
    `SELECT (SELECT count(*) FROM signals WHERE trust IS NOT NULL AND occurred_at >= $1::timestamptz AND occurred_at < $2::timestamptz)::int AS scanned,
            (SELECT count(*) FROM signals WHERE (trust -> 'injection' ->> 'flagged') = 'true'
                                            AND occurred_at >= $1::timestamptz AND occurred_at < $2::timestamptz)::int AS flagged,
            (SELECT count(*) FROM knowledge_chunks WHERE injection IS NOT NULL)::int AS "chunksScanned",
            (SELECT count(*) FROM knowledge_chunks WHERE (injection ->> 'flagged') = 'true')::int AS "chunksFlagged"`,
    [range.from.toISOString(), range.to.toISOString()],
  );
  return row!;
}

/** What the AI-quality KPIs read of one generation's ledger entry (`generation.created`): flags and counts only. */
export interface GenerationKpiRow {
  abstained: boolean;
  guardrails: { passed: boolean; factualSentences: number; supportedSentences: number };
  maskedEntities: Record<string, number>;
}

/**
 * The generations ledgered in the range (`generation.created` entries, src/ground): whether each abstained, its
 * guardrail counts and its masked entities by type. The entries hold ids, counts and hashes only.
 */
export async function generationKpiRows(q: Queryable, range: Range): Promise<GenerationKpiRow[]> {
  const rows = await q.query<{
    abstained: boolean;
    passed: boolean;
    factual: number;
    supported: number;
    masked: Record<string, number> | null;
  }>(
    `SELECT (d->>'abstained')::boolean AS abstained,
            coalesce((d->'guardrails'->>'passed')::boolean, false) AS passed,
            coalesce((d->'guardrails'->>'factualSentences')::int, 0) AS factual,
            coalesce((d->'guardrails'->>'supportedSentences')::int, 0) AS supported,
            d->'maskedEntities' AS masked
     FROM (SELECT body::jsonb->'data' AS d FROM ledger
           WHERE type = 'generation.created' AND ts >= $1::timestamptz AND ts < $2::timestamptz) g`,
    [range.from.toISOString(), range.to.toISOString()],
  );
  return rows.map((r) => ({
    abstained: r.abstained === true,
    guardrails: { passed: r.passed, factualSentences: r.factual, supportedSentences: r.supported },
    maskedEntities: Object.fromEntries(Object.entries(r.masked ?? {}).map(([k, v]) => [k, Number(v)])),
  }));
}
