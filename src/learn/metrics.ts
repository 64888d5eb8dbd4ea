import type { Queryable } from '../store/index.ts';
import { generationMetrics } from '../ground/index.ts';
import { aiQualityKpis, businessKpis, caseKpis, generationKpiRows, injectionFlagRows, supportNeedKpis } from '../views/index.ts';
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

/** `per1000`: per 1,000 sentences. */
export type KpiUnit = 'hours' | 'share' | 'USD' | 'per1000' | 'count';
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
    definition:
      'Of the proposals put to policy in the range (decisions), the share denied by policy. An L1 agent\u2019s suggestion is not counted as denied: policy holding it back from running is what L1 means.',
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
  groundingRate: {
    section: 'aiQuality',
    label: 'Grounding rate',
    unit: 'share',
    definition:
      'Of the factual sentences in the texts generated in the range (generation.created ledger entries; abstentions left out), the share the output guardrails found supported by a passage or customer fact the sentence cites.',
  },
  unsupportedClaims: {
    section: 'aiQuality',
    label: 'Unsupported claims',
    unit: 'per1000',
    definition:
      'Factual sentences not supported by what they cite, per 1,000 factual sentences, in the texts generated in the range (abstentions left out): (1 − grounding rate) × 1,000.',
  },
  abstentionRate: {
    section: 'aiQuality',
    label: 'Abstention rate',
    unit: 'share',
    definition:
      'Of the texts generated in the range (replies, answers, summaries, message bodies), the share that abstained ("Not enough support: route to a person") because retrieval found too little support.',
  },
  injectionFlags: {
    section: 'aiQuality',
    label: 'Injection flags',
    unit: 'count',
    definition:
      'Signals in the range whose free text the prompt-injection detector flagged at intake (each sends its customer\u2019s actions to a person for 7 days); `detail` adds the signals scanned, and the knowledge passages scanned and flagged as they stand now (a flagged passage never grounds customer-facing text).',
  },
  maskedEntities: {
    section: 'aiQuality',
    label: 'Masked entities',
    unit: 'count',
    definition:
      'Pieces of personal data (emails, phones, cards, IBANs, national ids, addresses, names) masked out of the text sent to a language model by the generations of the range; `detail.byType` by type. Zero when only the embedded composer ran: then nothing left the process.',
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
  aiQuality: {
    policyViolationRate: Kpi;
    overrideRate: Kpi;
    approvalLatency: Kpi;
    escalationPrecision: Kpi;
    toolCallFailureRate: Kpi;
    groundingRate: Kpi;
    unsupportedClaims: Kpi;
    abstentionRate: Kpi;
    injectionFlags: Kpi;
    maskedEntities: Kpi;
  };
}

const round = (x: number | null, digits = 6) => (x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits);
const num = (x: unknown) => (x === null || x === undefined ? null : Number(x));

/** Hours to 3 decimals and dollars to cents, as shown; shares stay exact (numerator / denominator). */
const DIGITS: Record<KpiUnit, number | null> = { hours: 3, USD: 2, share: null, per1000: 1, count: 0 };

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
  const [cases, needs] = await Promise.all([
    caseKpis(q, range, {
      priorities: PRIORITIES,
      hours: PRIORITIES.map((p) => SLA_HOURS[p as keyof typeof SLA_HOURS]),
      defaultHours: SLA_HOURS.normal,
      repeatContactDays: REPEAT_CONTACT_DAYS,
    }),
    supportNeedKpis(q, range, DEFLECTION_DAYS),
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
    deflection: share('deflection', needs.deflected, needs.needs, 'no support ticket from a known customer in the range', {
      resolved: needs.resolved,
    }),
  };
}

/** Churn, renewal and conversion from one pass over outcome and lead_form signals; CLV adds subscriptions. */
async function business(q: Queryable, range: DayRange): Promise<KpiMetrics['business']> {
  const r = await businessKpis(q, range);
  const days = range.days.length;
  const churnRate = r.customers ? r.churned / r.customers : null;
  // The churn of the range scaled to a month, compounding: 1 − (1 − c)^(30/days).
  const monthlyChurn = churnRate === null ? null : 1 - (1 - churnRate) ** (MONTH_DAYS / days);
  const revenue = num(r.revenue);
  const clvReason =
    revenue === null
      ? 'no live customer has an active subscription with a monthly amount'
      : monthlyChurn === null
        ? 'no customers to measure churn on'
        : 'no churn in the range: the expected lifetime is unbounded';
  return {
    churn: share('churn', r.churned, r.customers, 'no customers in the range', { monthlyRate: monthlyChurn }),
    renewal: share('renewal', r.renewed, r.renewal_base, 'no renewed or churned outcome in the range'),
    conversion: share('conversion', r.converted, r.leads, 'no lead_form signal in the range'),
    clv: kpi('clv', revenue !== null && monthlyChurn ? revenue / monthlyChurn : null, clvReason, {
      detail: { averageMonthlyRevenue: round(revenue, 4), customersWithRevenue: r.paying, monthlyChurnRate: monthlyChurn },
    }),
  };
}

/** Policy, approvals and executions: one statement each; generation from its ledger entries. */
async function aiQuality(q: Queryable, range: DayRange): Promise<KpiMetrics['aiQuality'] & { executionsByAction: ExecutionTally[] }> {
  const [{ decisions: dec, approvals: appr, executions: execs }, generations, injection] = await Promise.all([
    aiQualityKpis(q, range),
    generationKpiRows(q, range),
    injectionFlagRows(q, range),
  ]);
  // The same figures generationMetrics gives the ground module's own report: one definition.
  const gen = generationMetrics(generations);
  const factual = generations.filter((g) => !g.abstained).reduce((n, g) => n + g.guardrails.factualSentences, 0);
  const supported = generations.filter((g) => !g.abstained).reduce((n, g) => n + g.guardrails.supportedSentences, 0);
  const abstained = generations.filter((g) => g.abstained).length;
  const noGeneration = 'no text was generated in the range';
  const noFactual = generations.length ? 'the texts generated in the range state no fact (or all abstained)' : noGeneration;
  const masked = Object.values(gen.maskedEntities).reduce((n, x) => n + x, 0);
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
  const human = appr.approved + appr.edited + appr.rejected;
  const noneDecided = 'no approval was decided by a person in the range';
  return {
    policyViolationRate: share('policyViolationRate', dec.denied, dec.decisions, 'no proposal was put to policy in the range'),
    overrideRate: share('overrideRate', appr.rejected + appr.edited, human, noneDecided, {
      approved: appr.approved,
      approvedWithEdits: appr.edited,
      rejected: appr.rejected,
    }),
    approvalLatency: kpi('approvalLatency', num(appr.median_h), noneDecided, {
      detail: { decided: human, p90Hours: round(num(appr.p90_h), 3), expired: appr.expired },
    }),
    escalationPrecision: share('escalationPrecision', appr.approved + appr.edited, human, noneDecided, { expired: appr.expired }),
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
    groundingRate: share('groundingRate', supported, factual, noFactual, { blockedRate: gen.blockedRate }),
    unsupportedClaims: kpi('unsupportedClaims', gen.unsupportedPer1000Sentences, noFactual, {
      detail: { unsupportedSentences: factual - supported, factualSentences: factual },
    }),
    abstentionRate: share('abstentionRate', abstained, generations.length, noGeneration),
    injectionFlags: kpi(
      'injectionFlags',
      injection.scanned ? injection.flagged : null,
      'no signal in the range carried free text to scan',
      {
        detail: { signalsScanned: injection.scanned, chunksScanned: injection.chunksScanned, chunksFlagged: injection.chunksFlagged },
      },
    ),
    maskedEntities: kpi('maskedEntities', generations.length ? masked : null, noGeneration, {
      detail: { byType: gen.maskedEntities, generations: generations.length },
    }),
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
