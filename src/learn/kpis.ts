import { SIGNAL_TYPES } from '../contracts/index.ts';
import type { Queryable } from '../store/index.ts';
import {
  kpiAgentProposalCounts,
  kpiApprovalLatencyByDay,
  kpiDecisionOutcomesByDay,
  kpiDenialsByPolicy,
  kpiPendingApprovals,
  kpiExpiredApprovals,
  kpiSignalVolumeByDay,
  kpiUpliftEntries,
} from '../views/index.ts';
import { DAY_MS, dayRange, type DayRange } from './day-range.ts';
import { kpiMetrics, type KpiMetrics } from './metrics.ts';
import { powerReport, upliftReport, wilsonInterval, type GroupCounts, type PowerReport } from './uplift.ts';

// KPIs over a range of UTC days and per-agent performance, read from what the loop recorded. Each series is
// one set-based statement over the whole range (grouped by day in SQL), never a query per day: the read models
// in src/views/kpis.ts.

/** How an agent's value is measured: the `outcome` signal kind of its objective, and which way is better. */
export interface AgentMeasure {
  agentId: string;
  outcome: string;
  better: 'lower' | 'higher';
}

/** An agent of the registry, with its manifest's measure when it has one. */
export interface RegisteredAgent {
  agentId: string;
  measure?: Omit<AgentMeasure, 'agentId'>;
}

export const measuresOf = (agents: RegisteredAgent[]): AgentMeasure[] =>
  agents.flatMap((a) => (a.measure ? [{ agentId: a.agentId, ...a.measure }] : []));

type Group = { customers: number; events: number; rate: number; ci95: [number, number] };

/** One treated-against-holdout comparison: both groups, the difference with its 95% interval, and its power. */
export interface Comparison {
  treated: Group;
  holdout: Group;
  /** treated.rate − holdout.rate, with the 95% interval of the difference (Newcombe). */
  difference: number;
  ci95: [number, number];
  /** p-value, minimum detectable effect at 80% power and α = 0.05, and the power the observed difference had. */
  power: PowerReport;
}

/** The comparison for one action of an agent: customers who got it against held-out customers it was the best proposal for. */
export interface ActionUplift extends Comparison {
  action: string;
}

export interface AgentUplift extends Comparison {
  agentId: string;
  outcome: string;
  better: 'lower' | 'higher';
  /** Per action the agent took or would have taken, by action name. */
  byAction: ActionUplift[];
  /** The comparison as it stood at the end of each day of the range (cumulative), oldest first. */
  series: { day: string; treated: Group; holdout: Group }[];
}

export interface Kpis {
  now: string;
  from: string;
  days: string[];
  decisionsByOutcome: { day: string; execute: number; approval: number; deny: number; heldOut: number; suppressed: number }[];
  signalVolume: { day: string; total: number; byType: Record<string, number> }[];
  approvalLatency: { day: string; decided: number; medianHours: number | null; p90Hours: number | null }[];
  approvalsPending: number;
  /** Approvals that expired with nobody deciding them: in all, and marked expired within the range. */
  approvalsExpired: { total: number; inRange: number };
  denialsByPolicy: { policyId: string; reason: string; count: number }[];
  uplift: AgentUplift[];
  /** Operational, business and AI-quality KPIs over the range, each with its definition and unit (src/learn/metrics.ts). */
  metrics: KpiMetrics;
}

export interface AgentStats {
  agentId: string;
  proposals: number;
  suppressed: number;
  heldOut: number;
  decided: number;
  executed: number;
  denied: number;
  approvals: { pending: number; approved: number; approvedWithEdits: number; rejected: number; expired: number };
  precision: number | null;
  overrideRate: number | null;
  uplift: AgentUplift | null;
}

/** A denial with no policy id: nothing permitted the action (Cedar's default deny). */
export const DEFAULT_DENY = '(default deny)';
const hours = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000);

/** How many of the ascending `sorted` are below `limit`. */
function countBefore(sorted: number[], limit: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < limit) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Treated against held out, per measured agent and per action, for the customers (accounts, or leads) whose
 * proposal of that agent falls in the range:
 * - treated: customers with a decided proposal of the agent that policy did not deny;
 * - holdout: customers whose proposal of the agent was held out (the holdout records the best proposal, so per action
 *   the held-out customers are those the action was the best proposal for);
 * - an event: an `outcome` signal of the agent's kind on that customer after their first such proposal in the
 *   range (of the agent, or of the agent and action) and before the range ends.
 * Each comparison comes with its power (see powerReport). `series` gives the agent's comparison as it stood at the
 * end of each day of the range (cumulative), for charts.
 */
export async function agentUplift(q: Queryable, measures: AgentMeasure[], range: DayRange): Promise<AgentUplift[]> {
  if (measures.length === 0) return [];
  // One row per customer, agent and action: when they entered that comparison, and their first event after that.
  const rows = await kpiUpliftEntries(
    q,
    range,
    measures.map((m) => m.agentId),
    measures.map((m) => m.outcome),
  );
  // The agent's own comparison: per customer, the row of the action proposed first (its event is the first after that).
  const agentRows = new Map<string, (typeof rows)[number]>();
  for (const r of rows) {
    const key = `${r.agent_id}|${r.held}|${r.account_id}|${r.lead_id}`;
    const seen = agentRows.get(key);
    if (!seen || new Date(r.first_at).getTime() < new Date(seen.first_at).getTime()) agentRows.set(key, r);
  }
  // Per agent and group, the entry times and the event times, sorted: a count before any instant is a binary search.
  // (An event comes after its customer's entry, so an event before `until` belongs to a customer who entered before it.)
  const times = new Map<string, { entered: number[]; events: number[] }>();
  for (const r of agentRows.values()) {
    const key = `${r.agent_id}|${r.held}`;
    const t = times.get(key) ?? times.set(key, { entered: [], events: [] }).get(key)!;
    t.entered.push(new Date(r.first_at).getTime());
    if (r.event_at !== null) t.events.push(new Date(r.event_at).getTime());
  }
  for (const t of times.values()) {
    t.entered.sort((a, b) => a - b);
    t.events.sort((a, b) => a - b);
  }
  /** Counts for one agent and group: customers who entered before `until`, and their events before `until`. */
  const counts = (agentId: string, held: boolean, until: number) => {
    const t = times.get(`${agentId}|${held}`);
    return { customers: t ? countBefore(t.entered, until) : 0, events: t ? countBefore(t.events, until) : 0 };
  };
  /** Per action, the final counts (everything in the rows happened before the range's end). */
  const perAction = new Map<string, Record<'true' | 'false', GroupCounts>>();
  for (const r of rows) {
    const key = `${r.agent_id}|${r.action}`;
    const c = perAction.get(key) ?? perAction.set(key, { true: { customers: 0, events: 0 }, false: { customers: 0, events: 0 } }).get(key)!;
    c[`${r.held}`].customers++;
    if (r.event_at !== null) c[`${r.held}`].events++;
  }
  const end = range.to.getTime();
  return measures.map((m) => ({
    agentId: m.agentId,
    outcome: m.outcome,
    better: m.better,
    ...compare(counts(m.agentId, false, end), counts(m.agentId, true, end)),
    byAction: [...perAction.entries()]
      .filter(([key]) => key.startsWith(`${m.agentId}|`))
      .map(([key, c]) => ({
        action: key.slice(m.agentId.length + 1),
        ...compare(c.false, c.true),
      }))
      .sort((a, b) => (a.action < b.action ? -1 : a.action > b.action ? 1 : 0)),
    series: range.days.map((day) => {
      const until = Date.parse(`${day}T00:00:00.000Z`) + DAY_MS;
      return { day, treated: group(counts(m.agentId, false, until)), holdout: group(counts(m.agentId, true, until)) };
    }),
  }));
}

const group = (g: GroupCounts): Group => ({
  ...g,
  rate: g.customers ? g.events / g.customers : 0,
  ci95: wilsonInterval(g.events, g.customers),
});

/** Treated against holdout from the two groups' counts. */
export function compare(treated: GroupCounts, holdout: GroupCounts): Comparison {
  const report = upliftReport(treated, holdout);
  return {
    treated: group(report.treated),
    holdout: group(report.holdout),
    difference: report.difference,
    ci95: report.ci95,
    power: powerReport(treated, holdout),
  };
}

/**
 * The console's KPI charts over `days` UTC days ending today (on the server clock):
 * - decisionsByOutcome: decisions by the day they were decided; held-out and suppressed proposals by the day
 *   they were made;
 * - signalVolume: accepted signals by the day they were received, per type;
 * - approvalLatency: approvals a human approved or rejected that day, with the hours from the approval's
 *   creation (it opens with its decision, at the decision's time) to the human's decision: median and 90th
 *   percentile, interpolated (percentile_cont); null on a day without any;
 * - approvalsPending: approvals waiting for a human now;
 * - approvalsExpired: approvals that reached their expiry with nobody deciding them, in all and marked expired in
 *   the range (one lapsed early because its customer was erased is not counted);
 * - denialsByPolicy: denied decisions in the range, counted once per policy id in the decision (a denial
 *   no policy named counts as "(default deny)"), with the policy's reason;
 * - uplift: per measured agent (and per action), see agentUplift;
 * - metrics: the operational, business and AI-quality KPIs with their definitions, see src/learn/metrics.ts.
 */
export async function kpis(q: Queryable, opts: { now: Date; days: number; agents: RegisteredAgent[] }): Promise<Kpis> {
  const range = dayRange(opts.now, opts.days);
  const [outcomes, signals, latency, pending, expired, denials, uplift, metrics] = await Promise.all([
    kpiDecisionOutcomesByDay(q, range),
    kpiSignalVolumeByDay(q, range),
    kpiApprovalLatencyByDay(q, range),
    kpiPendingApprovals(q),
    kpiExpiredApprovals(q, range),
    kpiDenialsByPolicy(q, range, DEFAULT_DENY),
    agentUplift(q, measuresOf(opts.agents), range),
    kpiMetrics(q, range),
  ]);

  const count = (d: string, k: string) => outcomes.find((r) => r.day === d && r.k === k)?.n ?? 0;
  const types = [...new Set([...SIGNAL_TYPES, ...signals.map((s) => s.type)])];
  return {
    now: range.now.toISOString(),
    from: range.from.toISOString(),
    days: range.days,
    decisionsByOutcome: range.days.map((d) => ({
      day: d,
      execute: count(d, 'execute'),
      approval: count(d, 'approval'),
      deny: count(d, 'deny'),
      heldOut: count(d, 'held_out'),
      suppressed: count(d, 'suppressed'),
    })),
    signalVolume: range.days.map((d) => {
      const byType = Object.fromEntries(types.map((t) => [t, signals.find((s) => s.day === d && s.type === t)?.n ?? 0]));
      return { day: d, total: Object.values(byType).reduce((a, b) => a + b, 0), byType };
    }),
    approvalLatency: range.days.map((d) => {
      const r = latency.find((x) => x.day === d);
      return { day: d, decided: r?.decided ?? 0, medianHours: hours(r?.median ?? null), p90Hours: hours(r?.p90 ?? null) };
    }),
    approvalsPending: pending,
    approvalsExpired: { total: expired.total, inRange: expired.in_range },
    denialsByPolicy: denials.map((r) => ({ policyId: r.policy_id, reason: r.reason, count: r.n })),
    uplift,
    metrics: { operational: metrics.operational, business: metrics.business, aiQuality: metrics.aiQuality },
  };
}

/**
 * Per agent, over the proposals it made in the range (by the day they were made) and what became of them.
 * - precision: approved / proposed, over the agent's decided proposals that got a verdict: *approved* = policy let
 *   it run on its own (outcome execute) or a human approved it (with or without edits), *proposed* = approved +
 *   rejected by a human; null when none has a verdict. Denials by policy (its rules, such as consent or the
 *   autonomy level, say nothing of the agent's judgement) and approvals pending or expired (nobody judged them) are
 *   left out. The same definition, per action over the last 30 days, is the track record earned autonomy reads
 *   (src/learn/track-record.ts).
 * - overrideRate: of the agent's approvals a human decided (approved, with or without edits, or rejected), the
 *   share rejected or approved with edited parameters; null when a human decided none.
 * - executed: decided proposals with at least one execution recorded (an action that ran, even if a play later
 *   compensated it); one its tool refused when it came to run (consent withdrawn meanwhile) did not run.
 */
export async function agentStats(q: Queryable, opts: { now: Date; days: number; agents: RegisteredAgent[] }): Promise<AgentStats[]> {
  const range = dayRange(opts.now, opts.days);
  const [rows, uplift] = await Promise.all([kpiAgentProposalCounts(q, range), agentUplift(q, measuresOf(opts.agents), range)]);
  return opts.agents.map(({ agentId }) => {
    const r = rows.find((x) => x.agent_id === agentId);
    const approvals = {
      pending: r?.pending ?? 0,
      approved: r?.approved ?? 0,
      approvedWithEdits: r?.approved_with_edits ?? 0,
      rejected: r?.rejected ?? 0,
      expired: r?.expired ?? 0,
    };
    const executed = r?.executed ?? 0;
    const denied = r?.denied ?? 0;
    const approvedAll = (r?.auto_executed ?? 0) + approvals.approved + approvals.approvedWithEdits;
    const verdicts = approvedAll + approvals.rejected;
    const humanDecided = approvals.approved + approvals.approvedWithEdits + approvals.rejected;
    return {
      agentId,
      proposals: r?.proposals ?? 0,
      suppressed: r?.suppressed ?? 0,
      heldOut: r?.held_out ?? 0,
      decided: r?.decided ?? 0,
      executed,
      denied,
      approvals,
      precision: verdicts ? approvedAll / verdicts : null,
      overrideRate: humanDecided ? (approvals.rejected + approvals.approvedWithEdits) / humanDecided : null,
      uplift: uplift.find((u) => u.agentId === agentId) ?? null,
    };
  });
}
