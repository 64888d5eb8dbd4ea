import type { Queryable } from '../store/index.ts';
import type { DayRange } from './day-range.ts';

/**
 * The KPIs ACS reports about itself, each with its definition, computed from what is recorded: cases, signals
 * (support tickets, `outcome` and `lead_form` signals), subscriptions, proposals, decisions, approvals, executions,
 * messages and tasks. Every section is a few set-based statements over the range, one pass per table.
 */

/**
 * Service level per case priority: hours from a case's opening to its closing. The one place they are set; the
 * README's KPI table repeats them. A priority not listed here is held to `normal`.
 */
export const SLA_HOURS: Readonly<Record<'urgent' | 'high' | 'normal' | 'low', number>> = { urgent: 4, high: 24, normal: 72, low: 168 };

/** A customer who comes back within this many days of a case closing was not helped at the first contact. */
export const REPEAT_CONTACT_DAYS = 7;
/** A support need counts as deflected when resolved within this many days with no person's work in between. */
export const DEFLECTION_DAYS = 7;
/** CLV and the monthly churn rate assume a month of this many days. */
export const MONTH_DAYS = 30;

export type KpiUnit = 'hours' | 'share' | 'USD';
export type KpiSection = 'operational' | 'business' | 'aiQuality';

export interface KpiDefinition {
  section: KpiSection;
  label: string;
  unit: KpiUnit;
  definition: string;
}

const sla = Object.entries(SLA_HOURS)
  .map(([p, h]) => `${p} ${h} h`)
  .join(', ');

/** Every KPI's definition, in one place: the API returns it with each value and the README documents the same. */
export const KPI_DEFINITIONS = {
  handleTime: {
    section: 'operational',
    label: 'Handle time',
    unit: 'hours',
    definition: "Median hours from a case's opening to its closing, over the cases closed in the range (closed: closedAt set).",
  },
  firstContactResolution: {
    section: 'operational',
    label: 'First-contact resolution',
    unit: 'share',
    definition: `Of the cases closed in the range, the share whose customer sent no further support ticket after the case opened and within ${REPEAT_CONTACT_DAYS} days of its closing.`,
  },
  slaCompliance: {
    section: 'operational',
    label: 'SLA compliance',
    unit: 'share',
    definition: `Of the cases opened in the range that are closed or past their deadline, the share closed within their priority's service level (${sla}; see SLA_HOURS).`,
  },
  deflection: {
    section: 'operational',
    label: 'Deflection',
    unit: 'share',
    definition: `Of the support needs raised in the range (support_ticket signals of known customers), the share resolved without a person: a case_resolved outcome for the customer within ${DEFLECTION_DAYS} days, with no task created for the customer and no approval decided for them between the ticket and that resolution.`,
  },
  churn: {
    section: 'business',
    label: 'Churn',
    unit: 'share',
    definition:
      'Of the customers at the start of the range (live profiles with an active subscription, or that churned in the range; none that churned before it), the share with a churned outcome in the range.',
  },
  renewal: {
    section: 'business',
    label: 'Renewal',
    unit: 'share',
    definition: 'Of the customers with a renewed or churned outcome in the range, the share that renewed and did not churn.',
  },
  conversion: {
    section: 'business',
    label: 'Conversion',
    unit: 'share',
    definition: 'Of the leads that sent a lead_form signal in the range, the share with a converted outcome in the range.',
  },
  clv: {
    section: 'business',
    label: 'Customer lifetime value',
    unit: 'USD',
    definition: `Average monthly revenue per customer (active subscriptions' monthly amounts, per live customer that has one) divided by the monthly churn rate, 1 − (1 − churn)^(${MONTH_DAYS}/days): revenue over the expected lifetime, undiscounted, before costs.`,
  },
  policyViolationRate: {
    section: 'aiQuality',
    label: 'Policy violation rate',
    unit: 'share',
    definition: 'Of the proposals put to policy in the range (decisions), the share denied by policy.',
  },
  overrideRate: {
    section: 'aiQuality',
    label: 'Override rate',
    unit: 'share',
    definition:
      'Of the approvals a person decided in the range (approved or rejected), the share rejected or approved with edited parameters.',
  },
  approvalLatency: {
    section: 'aiQuality',
    label: 'Approval latency',
    unit: 'hours',
    definition:
      'Median hours from a proposal being sent for approval to a person approving or rejecting it, over the approvals decided in the range.',
  },
  escalationPrecision: {
    section: 'aiQuality',
    label: 'Escalation precision',
    unit: 'share',
    definition:
      'Of the approvals a person decided in the range, the share approved (with or without edits): escalations the person agreed with. Expired ones are left out: nobody judged them.',
  },
  toolCallFailureRate: {
    section: 'aiQuality',
    label: 'Tool-call failure rate',
    unit: 'share',
    definition:
      'Of the executions recorded in the range, the share that did not take effect as intended: compensated, refused by their tool when they came to run, or a message whose delivery failed. (A call that raises rolls back and leaves no execution; its play retries it.)',
  },
} as const satisfies Record<string, KpiDefinition>;

export type KpiKey = keyof typeof KPI_DEFINITIONS;

export interface Kpi extends KpiDefinition {
  /** Null when there is nothing to measure; `reason` says why. */
  value: number | null;
  reason: string | null;
  /** For a share: value = numerator / denominator. */
  numerator?: number;
  denominator?: number;
  /** The numbers behind the value. */
  detail?: Record<string, unknown>;
}

export interface KpiMetrics {
  operational: { handleTime: Kpi; firstContactResolution: Kpi; slaCompliance: Kpi; deflection: Kpi };
  business: { churn: Kpi; renewal: Kpi; conversion: Kpi; clv: Kpi };
  aiQuality: { policyViolationRate: Kpi; overrideRate: Kpi; approvalLatency: Kpi; escalationPrecision: Kpi; toolCallFailureRate: Kpi };
}

const round = (x: number | null, digits = 6) => (x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits);
const num = (x: unknown) => (x === null || x === undefined ? null : Number(x));

/** Hours to 3 decimals and dollars to cents, as shown; shares stay exact (numerator / denominator). */
const DIGITS: Record<KpiUnit, number | null> = { hours: 3, USD: 2, share: null };

function kpi(
  key: KpiKey,
  value: number | null,
  reason: string,
  extra: Partial<Pick<Kpi, 'numerator' | 'denominator' | 'detail'>> = {},
): Kpi {
  const digits = DIGITS[KPI_DEFINITIONS[key].unit];
  return {
    ...KPI_DEFINITIONS[key],
    value: digits === null ? value : round(value, digits),
    reason: value === null ? reason : null,
    ...extra,
  };
}

/** A share with its counts; null (with the reason) when the denominator is 0. */
const share = (key: KpiKey, numerator: number, denominator: number, reason: string, detail?: Record<string, unknown>) =>
  kpi(key, denominator ? numerator / denominator : null, reason, { numerator, denominator, ...(detail ? { detail } : {}) });

const PRIORITIES = Object.keys(SLA_HOURS);

/** Cases: handle time, first-contact resolution and SLA compliance, in one statement grouped by priority (and in all). */
async function operational(q: Queryable, range: DayRange): Promise<KpiMetrics['operational']> {
  const bounds = [range.from.toISOString(), range.to.toISOString(), range.now.toISOString()];
  const [cases, [needs]] = await Promise.all([
    q.query<{
      priority: string | null;
      closed: number;
      median_h: number | null;
      p90_h: number | null;
      mean_h: number | null;
      fcr: number;
      due: number;
      met: number;
    }>(
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
      [...bounds, PRIORITIES, PRIORITIES.map((p) => SLA_HOURS[p as keyof typeof SLA_HOURS]), SLA_HOURS.normal, REPEAT_CONTACT_DAYS],
    ),
    q.query<{ needs: number; resolved: number; deflected: number }>(
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
      [range.from.toISOString(), range.to.toISOString(), DEFLECTION_DAYS],
    ),
  ]);
  const all = cases.find((r) => r.priority === null) ?? { closed: 0, median_h: null, p90_h: null, mean_h: null, fcr: 0, due: 0, met: 0 };
  const byPriority = Object.fromEntries(
    cases
      .filter((r) => r.priority !== null)
      .sort((a, b) => String(a.priority).localeCompare(String(b.priority)))
      .map((r) => [
        r.priority,
        { targetHours: SLA_HOURS[r.priority as keyof typeof SLA_HOURS] ?? SLA_HOURS.normal, due: r.due, met: r.met },
      ]),
  );
  return {
    handleTime: kpi('handleTime', num(all.median_h), 'no case was closed in the range', {
      detail: { closed: all.closed, meanHours: round(num(all.mean_h), 3), p90Hours: round(num(all.p90_h), 3) },
    }),
    firstContactResolution: share('firstContactResolution', all.fcr, all.closed, 'no case was closed in the range'),
    slaCompliance: share('slaCompliance', all.met, all.due, 'no case opened in the range is closed or past its deadline yet', {
      slaHours: SLA_HOURS,
      byPriority,
    }),
    deflection: share('deflection', needs!.deflected, needs!.needs, 'no support ticket from a known customer in the range', {
      resolved: needs!.resolved,
    }),
  };
}

/** Churn, renewal and conversion from one pass over outcome and lead_form signals; CLV adds subscriptions. */
async function business(q: Queryable, range: DayRange): Promise<KpiMetrics['business']> {
  const [r] = await q.query<{
    customers: number;
    churned: number;
    renewed: number;
    renewal_base: number;
    leads: number;
    converted: number;
    paying: number;
    revenue: number | null;
  }>(
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
  const days = range.days.length;
  const churnRate = r!.customers ? r!.churned / r!.customers : null;
  // The churn of the range scaled to a month, compounding: 1 − (1 − c)^(30/days).
  const monthlyChurn = churnRate === null ? null : 1 - (1 - churnRate) ** (MONTH_DAYS / days);
  const revenue = num(r!.revenue);
  const clvReason =
    revenue === null
      ? 'no live customer has an active subscription with a monthly amount'
      : monthlyChurn === null
        ? 'no customers to measure churn on'
        : 'no churn in the range: the expected lifetime is unbounded';
  return {
    churn: share('churn', r!.churned, r!.customers, 'no customers in the range', { monthlyRate: monthlyChurn }),
    renewal: share('renewal', r!.renewed, r!.renewal_base, 'no renewed or churned outcome in the range'),
    conversion: share('conversion', r!.converted, r!.leads, 'no lead_form signal in the range'),
    clv: kpi('clv', revenue !== null && monthlyChurn ? revenue / monthlyChurn : null, clvReason, {
      detail: { averageMonthlyRevenue: round(revenue, 4), customersWithRevenue: r!.paying, monthlyChurnRate: monthlyChurn },
    }),
  };
}

/** Policy, approvals and executions: one statement each. */
async function aiQuality(q: Queryable, range: DayRange): Promise<KpiMetrics['aiQuality'] & { executionsByAction: ExecutionTally[] }> {
  const bounds = [range.from.toISOString(), range.to.toISOString()];
  const [[dec], [appr], execs] = await Promise.all([
    q.query<{ decisions: number; denied: number }>(
      `SELECT count(*)::int AS decisions, count(*) FILTER (WHERE outcome = 'deny')::int AS denied
       FROM decisions WHERE decided_at >= $1::timestamptz AND decided_at < $2::timestamptz`,
      bounds,
    ),
    q.query<{ approved: number; edited: number; rejected: number; expired: number; median_h: number | null; p90_h: number | null }>(
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
    q.query<{ action: string; executions: number; compensated: number; refused: number; failed_delivery: number }>(
      `SELECT e.action, count(*)::int AS executions,
              count(*) FILTER (WHERE e.status = 'compensated')::int AS compensated,
              count(*) FILTER (WHERE e.status = 'refused')::int AS refused,
              count(*) FILTER (WHERE e.status = 'succeeded' AND EXISTS (SELECT 1 FROM messages m WHERE m.execution_key = e.idempotency_key AND m.status = 'failed'))::int AS failed_delivery
       FROM executions e WHERE e.created_at >= $1::timestamptz AND e.created_at < $2::timestamptz GROUP BY e.action`,
      bounds,
    ),
  ]);
  const executionsByAction = execs
    .map((e) => ({
      action: e.action,
      executions: e.executions,
      compensated: e.compensated,
      refused: e.refused,
      failedDelivery: e.failed_delivery,
    }))
    .sort((a, b) => (a.action < b.action ? -1 : 1));
  const sum = (k: keyof ExecutionTally) => executionsByAction.reduce((n, e) => n + (e[k] as number), 0);
  const human = appr!.approved + appr!.edited + appr!.rejected;
  const noneDecided = 'no approval was decided by a person in the range';
  return {
    policyViolationRate: share('policyViolationRate', dec!.denied, dec!.decisions, 'no proposal was put to policy in the range'),
    overrideRate: share('overrideRate', appr!.rejected + appr!.edited, human, noneDecided, {
      approved: appr!.approved,
      approvedWithEdits: appr!.edited,
      rejected: appr!.rejected,
    }),
    approvalLatency: kpi('approvalLatency', num(appr!.median_h), noneDecided, {
      detail: { decided: human, p90Hours: round(num(appr!.p90_h), 3), expired: appr!.expired },
    }),
    escalationPrecision: share('escalationPrecision', appr!.approved + appr!.edited, human, noneDecided, { expired: appr!.expired }),
    toolCallFailureRate: share(
      'toolCallFailureRate',
      sum('compensated') + sum('refused') + sum('failedDelivery'),
      sum('executions'),
      'nothing was executed in the range',
      {
        compensated: sum('compensated'),
        refused: sum('refused'),
        failedDelivery: sum('failedDelivery'),
      },
    ),
    executionsByAction,
  };
}

export interface ExecutionTally {
  action: string;
  executions: number;
  compensated: number;
  refused: number;
  failedDelivery: number;
}

/** Every KPI over the range, with its definition; the executions per action come along for the readiness scorecard. */
export async function kpiMetrics(q: Queryable, range: DayRange): Promise<KpiMetrics & { executionsByAction: ExecutionTally[] }> {
  const [op, biz, ai] = await Promise.all([operational(q, range), business(q, range), aiQuality(q, range)]);
  const { executionsByAction, ...quality } = ai;
  return { operational: op, business: biz, aiQuality: quality, executionsByAction };
}
