import { listAgents } from '../reason/index.ts';
import { QUALITY_RULES, type QualityRule } from '../sense/index.ts';
import type { Queryable } from '../store/index.ts';
import {
  readinessIdentityReviews,
  readinessIntakeCounts,
  readinessOutcomeKinds,
  readinessOversight,
  readinessPlayStatuses,
  readinessLedgerChanges,
  readinessRecordRuleCounts,
  readinessTopDenials,
} from '../views/index.ts';
import { dayRange } from './day-range.ts';
import { agentUplift, measuresOf, type AgentUplift, type RegisteredAgent } from './kpis.ts';
import { kpiMetrics, type Kpi, type KpiMetrics } from './metrics.ts';
import { modelUsage, RULES } from './model-usage.ts';
import { readinessRegistryRows } from './registry.repo.ts';
import { requiredSampleSize } from './uplift.ts';

/**
 * The readiness scorecard: how ready this ACS is to let its agents act, in eight dimensions, each scored 0–100 from
 * ACS's own live data, with the metrics behind the score (each with its definition), the evidence numbers and what
 * to fix next. An overall maturity stage from 1 to 5 sums it up.
 *
 * A dimension's score is the weighted mean of its metrics' scores (each 0–1) over the metrics that can be measured,
 * times 100. A dimension with nothing measurable scores 0: no evidence is not readiness.
 *
 * Time: what the loop dates on the server clock (proposals, decisions, approvals, executions, signals, cases) is read
 * over the last `days` days; what is dated on the database's own clock (the ledger, the quarantine, identity reviews,
 * plays, the model registry) is read over all time, so a server on an accelerated world clock still counts it.
 */

export const DIMENSIONS = [
  'strategicAlignment',
  'dataReadiness',
  'processAdaptability',
  'agentReliability',
  'modelGovernance',
  'humanOversight',
  'operationalPerformance',
  'customerValue',
] as const;
export type DimensionKey = (typeof DIMENSIONS)[number];

const NAMES: Record<DimensionKey, { name: string; question: string }> = {
  strategicAlignment: {
    name: 'Strategic alignment',
    question: 'Do the agents work toward business outcomes that are measured against a holdout, with the KPIs defined and fed?',
  },
  dataReadiness: {
    name: 'Data readiness',
    question: 'Is the data the agents read complete, valid, resolved to one profile per person, and is refused input dealt with?',
  },
  processAdaptability: {
    name: 'Process adaptability',
    question: 'Are policy changes tested before they are adopted, and is autonomy tuned so agents act where they have earned it?',
  },
  agentReliability: { name: 'Agent reliability', question: 'Do the agents propose within policy, and do their actions take effect?' },
  modelGovernance: {
    name: 'Model governance',
    question: 'Are the models agents rely on registered, validated, traceable in every proposal and watched for drift?',
  },
  humanOversight: { name: 'Human oversight', question: 'Do people answer the approvals they are asked for, in time?' },
  operationalPerformance: {
    name: 'Operational performance',
    question: 'Are customers served well: within SLA, at the first contact, without needing a person?',
  },
  customerValue: {
    name: 'Customer value',
    question: 'Is there proof, against the holdout, that the agents improve their outcomes, and could the holdout show it?',
  },
};

/** Approvals answered within this many hours count as on time. */
export const OVERSIGHT_TARGET_HOURS = 24;
/** The effect a holdout should be able to detect (absolute difference in rates) for a comparison to count as powered. */
export const POWERED_MDE = 0.05;
/** Labelled examples at which a model's training data counts as ample (models train from 50). */
export const AMPLE_TRAINING_ROWS = 500;

/**
 * Maturity stages. The overall score is the mean of the eight dimension scores; its band gives the stage, but never
 * more than one stage above the band of the weakest dimension (a scorecard is as ready as its weakest link allows).
 * Bands: below 20 → 1, below 40 → 2, below 60 → 3, below 80 → 4, else 5.
 */
export const STAGES = [
  { stage: 1, name: 'Initial', from: 0, description: 'agents may run, but little of what they do is measured, governed or proven' },
  { stage: 2, name: 'Developing', from: 20, description: 'measures and controls exist in places; the evidence has gaps' },
  {
    stage: 3,
    name: 'Defined',
    from: 40,
    description: 'agents are measured against a holdout, governed by policy and reviewed by people; some dimensions lag',
  },
  {
    stage: 4,
    name: 'Managed',
    from: 60,
    description: 'every dimension is measured and mostly healthy; value is shown against the holdout',
  },
  { stage: 5, name: 'Optimizing', from: 80, description: 'value is proven and the process, models and autonomy are tuned continuously' },
] as const;

export const bandOf = (score: number) => [...STAGES].reverse().find((s) => score >= s.from)!.stage;

export interface ReadinessMetric {
  key: string;
  definition: string;
  unit: 'share' | 'count' | 'hours' | 'auc';
  value: number | null;
  /** The metric's contribution, 0–1; null leaves it out of the dimension's score. */
  score: number | null;
  weight: number;
}

export interface ReadinessDimension {
  key: DimensionKey;
  name: string;
  question: string;
  /** 0–100. */
  score: number;
  metrics: ReadinessMetric[];
  evidence: Record<string, unknown>;
  /** What would raise the score most, first things first. */
  fixNext: string[];
}

export interface Readiness {
  now: string;
  from: string;
  days: number;
  overall: number;
  stage: { stage: number; name: string; description: string; weakest: DimensionKey };
  /** How stages are assigned, for the reader. */
  stageRule: string;
  dimensions: ReadinessDimension[];
  topFixes: { dimension: DimensionKey; name: string; score: number; fix: string }[];
}

const clamp01 = (x: number) => Math.min(1, Math.max(0, x));
const r3 = (x: number | null) => (x === null ? null : Math.round(x * 1000) / 1000);
const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);

function metric(
  key: string,
  definition: string,
  unit: ReadinessMetric['unit'],
  value: number | null,
  score: number | null,
  weight = 1,
): ReadinessMetric {
  return { key, definition, unit, value: r3(value), score: score === null ? null : r3(clamp01(score)), weight };
}

/** A KPI as a readiness metric: its own definition, scored by `score` of its value. */
const fromKpi = (key: string, k: Kpi, score: (v: number) => number, weight = 1) =>
  metric(
    key,
    `${k.label}: ${k.definition}`,
    k.unit === 'hours' ? 'hours' : 'share',
    k.value,
    k.value === null ? null : score(k.value),
    weight,
  );

function dimension(
  key: DimensionKey,
  metrics: ReadinessMetric[],
  evidence: Record<string, unknown>,
  fixNext: string[],
): ReadinessDimension {
  const scored = metrics.filter((m) => m.score !== null);
  const weight = scored.reduce((n, m) => n + m.weight, 0);
  const score = weight ? Math.round((100 * scored.reduce((n, m) => n + m.weight * m.score!, 0)) / weight) : 0;
  return { key, ...NAMES[key], score, metrics, evidence, fixNext };
}

/** Rule pass counts over one table's live rows, one statement: the same rules the profile and source scores use. */
async function tableQuality(q: Queryable, entity: QualityRule['entity']) {
  const rules = QUALITY_RULES.filter((r) => r.entity === entity);
  const row = await readinessRecordRuleCounts(q, entity, rules);
  return {
    records: row.records!,
    rules: rules.map((r, i) => ({
      rule: r.id,
      description: r.description,
      applicable: row[`a${i}`]!,
      failing: row[`a${i}`]! - row[`p${i}`]!,
    })),
  };
}

/** The model registry's champions and their latest drift check; empty when the registry's tables are not there. */
async function registry(q: Queryable) {
  const { available, rows } = await readinessRegistryRows(q);
  if (!available) return { available: false, models: [] as RegistryModel[] };
  return {
    available: true,
    models: rows.map((r) => ({
      name: r.name,
      champion: r.champion,
      heldOutAuc: r3(r.auc),
      dataFingerprint: r.fingerprint,
      trainedAt: r.trained_at ? new Date(r.trained_at).toISOString() : null,
      versions: r.versions,
      rulesSince: r.rules_since ? new Date(r.rules_since).toISOString() : null,
      lastDriftCheck: r.drift_status ? { status: r.drift_status, at: new Date(r.drift_at!).toISOString(), maxPsi: r3(r.max_psi) } : null,
    })),
  };
}
type RegistryModel = {
  name: string;
  champion: number | null;
  heldOutAuc: number | null;
  dataFingerprint: string | null;
  trainedAt: string | null;
  versions: number;
  rulesSince: string | null;
  lastDriftCheck: { status: string; at: string; maxPsi: number | null } | null;
};

/** The scorecard over the `days` days ending on the day of `now` (the server clock). */
export async function readiness(q: Queryable, opts: { now: Date; days: number; agents: RegisteredAgent[] }): Promise<Readiness> {
  const range = dayRange(opts.now, opts.days);
  const measures = measuresOf(opts.agents);
  const [kpi, uplift, outcomeKinds, accounts, contacts, leads, intake, identity, ledger, agents, oversight, plays, models, reg, denials] =
    await Promise.all([
      kpiMetrics(q, range),
      agentUplift(q, measures, range),
      readinessOutcomeKinds(q, range),
      tableQuality(q, 'accounts'),
      tableQuality(q, 'contacts'),
      tableQuality(q, 'leads'),
      readinessIntakeCounts(q),
      readinessIdentityReviews(q),
      readinessLedgerChanges(q),
      listAgents(q),
      readinessOversight(q, range, range.now, OVERSIGHT_TARGET_HOURS),
      readinessPlayStatuses(q),
      modelUsage(q, range),
      registry(q),
      readinessTopDenials(q, range),
    ]);
  const period = `in the last ${opts.days} days`;
  const dims: ReadinessDimension[] = [
    strategicAlignment(opts.agents, uplift, outcomeKinds, kpi, period),
    dataReadiness({ accounts, contacts, leads }, intake, identity),
    processAdaptability(ledger, agents),
    agentReliability(kpi, denials, plays),
    modelGovernance(models, reg, period),
    humanOversight(oversight, kpi, period),
    operationalPerformance(kpi, period),
    customerValue(uplift, kpi, period),
  ];
  const overall = Math.round(dims.reduce((n, d) => n + d.score, 0) / dims.length);
  const weakest = dims.reduce((w, d) => (d.score < w.score ? d : w));
  const stage = STAGES[Math.min(bandOf(overall), bandOf(weakest.score) + 1) - 1]!;
  return {
    now: range.now.toISOString(),
    from: range.from.toISOString(),
    days: opts.days,
    overall,
    stage: { stage: stage.stage, name: stage.name, description: stage.description, weakest: weakest.key },
    stageRule:
      "overall = mean of the eight dimension scores; stage = its band (below 20: 1, 40: 2, 60: 3, 80: 4, else 5), at most one above the weakest dimension's band",
    dimensions: dims,
    // The first fix of each dimension, weakest dimension first.
    topFixes: [...dims]
      .sort((a, b) => a.score - b.score || DIMENSIONS.indexOf(a.key) - DIMENSIONS.indexOf(b.key))
      .filter((d) => d.fixNext.length > 0)
      .slice(0, 5)
      .map((d) => ({ dimension: d.key, name: d.name, score: d.score, fix: d.fixNext[0]! })),
  };
}

function strategicAlignment(
  agents: RegisteredAgent[],
  uplift: AgentUplift[],
  kinds: { kind: string; n: number }[],
  kpi: KpiMetrics,
  period: string,
): ReadinessDimension {
  const measured = agents.filter((a) => a.measure);
  const recorded = measured.filter((a) => kinds.some((k) => k.kind === a.measure!.outcome && k.n > 0));
  const withHoldout = uplift.filter((u) => u.holdout.customers > 0);
  const all = [...Object.entries(kpi.operational), ...Object.entries(kpi.business), ...Object.entries(kpi.aiQuality)] as [string, Kpi][];
  const fed = all.filter(([, k]) => k.value !== null);
  const share = (n: number, d: number) => (d ? n / d : null);
  const fixes = [
    ...agents
      .filter((a) => !a.measure)
      .map(
        (a) =>
          `Give ${a.agentId} a measure: the outcome kind its objective should move, and which way (manifest.measure), so it can be judged against the holdout.`,
      ),
    ...measured
      .filter((a) => !recorded.includes(a))
      .map((a) => `Record '${a.measure!.outcome}' outcomes (outcome signals): none arrived ${period}, so ${a.agentId} cannot be measured.`),
    ...uplift
      .filter((u) => u.holdout.customers === 0)
      .map((u) => `${u.agentId} had no held-out customer ${period}: keep ACS_HOLDOUT_FRACTION above 0 so its effect can be shown.`),
    ...all.filter(([, k]) => k.value === null).map(([key, k]) => `Feed the ${k.label} KPI (${key}): ${k.reason}.`),
  ];
  return dimension(
    'strategicAlignment',
    [
      metric(
        'measuredAgents',
        'Share of the registered agents whose manifest names the outcome that measures them.',
        'share',
        share(measured.length, agents.length),
        share(measured.length, agents.length) ?? 0,
      ),
      metric(
        'outcomesRecorded',
        `Share of the measured agents whose outcome kind was recorded ${period}.`,
        'share',
        share(recorded.length, measured.length),
        share(recorded.length, measured.length) ?? 0,
      ),
      metric(
        'holdoutCoverage',
        `Share of the measured agents with held-out customers ${period}.`,
        'share',
        share(withHoldout.length, measured.length),
        share(withHoldout.length, measured.length) ?? 0,
      ),
      metric(
        'kpisFed',
        `Share of the ${all.length} defined KPIs (GET /api/v1/kpis) that have a value ${period}.`,
        'share',
        share(fed.length, all.length),
        share(fed.length, all.length) ?? 0,
      ),
    ],
    {
      agents: agents.length,
      measuredAgents: measured.map((a) => a.agentId),
      unmeasuredAgents: agents.filter((a) => !a.measure).map((a) => a.agentId),
      outcomesRecorded: Object.fromEntries(kinds.map((k) => [k.kind, k.n])),
      heldOut: Object.fromEntries(uplift.map((u) => [u.agentId, u.holdout.customers])),
      kpisWithValue: fed.map(([key]) => key),
      kpisWithoutValue: all.filter(([, k]) => k.value === null).map(([key]) => key),
    },
    fixes,
  );
}

function dataReadiness(
  tables: Record<'accounts' | 'contacts' | 'leads', Awaited<ReturnType<typeof tableQuality>>>,
  intake: { accepted: number; quarantined: number; quarantine_total: number; quarantine_open: number },
  identity: { reviews: number; open: number; merges: number },
): ReadinessDimension {
  const rules = Object.values(tables).flatMap((t) => t.rules);
  const applicable = rules.reduce((n, r) => n + r.applicable, 0);
  const failing = rules.reduce((n, r) => n + r.failing, 0);
  const quality = applicable ? (applicable - failing) / applicable : null;
  const signals = intake.accepted + intake.quarantined;
  const acceptance = signals ? intake.accepted / signals : null;
  const resolved = intake.quarantine_total ? (intake.quarantine_total - intake.quarantine_open) / intake.quarantine_total : null;
  const decided = identity.reviews ? (identity.reviews - identity.open) / identity.reviews : null;
  const worst = rules.filter((r) => r.failing > 0).sort((a, b) => b.failing - a.failing);
  const fixes = [
    ...worst
      .slice(0, 3)
      .map(
        (r) =>
          `${r.failing} of ${r.applicable} records fail ${r.rule} (${r.description}): correct them (GET /api/v1/customers/{id}/quality lists them per profile).`,
      ),
    ...(intake.quarantine_open
      ? [`${intake.quarantine_open} refused input(s) wait in the quarantine: resubmit them corrected or discard them with a reason.`]
      : []),
    ...(identity.open
      ? [
          `${identity.open} uncertain identity match(es) wait for a data steward: merge or keep apart (GET /api/v1/identity/reviews?status=open).`,
        ]
      : []),
    ...(acceptance !== null && acceptance < 0.98
      ? [`${intake.quarantined} of ${signals} signals were refused: fix the senders named in GET /api/v1/quality/sources.`]
      : []),
    ...(applicable === 0 ? ['No customer, contact or lead records yet: import them (acs import).'] : []),
  ];
  return dimension(
    'dataReadiness',
    [
      metric(
        'qualityScore',
        'Share of the data-quality rules (src/sense/quality.ts) that pass, over every live account, contact and lead they apply to.',
        'share',
        quality,
        quality ?? 0,
        0.4,
      ),
      metric(
        'signalAcceptance',
        'Signals accepted against signals accepted plus signals refused into the quarantine (all time).',
        'share',
        acceptance,
        acceptance,
        0.3,
      ),
      metric(
        'quarantineResolved',
        'Share of the quarantined input that was resubmitted or discarded rather than left open (all time).',
        'share',
        resolved,
        resolved,
        0.15,
      ),
      metric(
        'identityReviewsDecided',
        'Share of the uncertain identity matches a steward has decided (all time).',
        'share',
        decided,
        decided,
        0.15,
      ),
    ],
    {
      records: { accounts: tables.accounts.records, contacts: tables.contacts.records, leads: tables.leads.records },
      rulesApplicable: applicable,
      rulesFailing: failing,
      failingByRule: Object.fromEntries(worst.map((r) => [r.rule, r.failing])),
      signals: { accepted: intake.accepted, quarantined: intake.quarantined },
      quarantine: { total: intake.quarantine_total, open: intake.quarantine_open },
      identity: { reviews: identity.reviews, open: identity.open, merges: identity.merges },
    },
    fixes,
  );
}

function processAdaptability(
  ledger: { type: string; n: number; autonomy: number; last: Date }[],
  agents: Awaited<ReturnType<typeof listAgents>>,
): ReadinessDimension {
  const dryRuns = ledger.find((l) => l.type === 'policy.dry_run');
  const updates = ledger.find((l) => l.type === 'agent.updated');
  const actions = agents.flatMap((a) =>
    Object.entries(a.actions).map(([action, s]) => ({ agent: a.id, action, autonomy: s.autonomy, defaultAutonomy: s.defaultAutonomy })),
  );
  const acting = actions.filter((a) => a.autonomy >= 3);
  const tuned = actions.filter((a) => a.autonomy !== a.defaultAutonomy);
  const share = actions.length ? acting.length / actions.length : null;
  const autonomyChanges = updates?.autonomy ?? 0;
  const fixes = [
    ...(!dryRuns
      ? [
          "Dry-run policy changes over recorded decisions before adopting them (POST /api/v1/policies/dry-run, or the console's policy workbench): none has been run.",
        ]
      : []),
    ...(autonomyChanges === 0
      ? [
          "Review autonomy per action against each agent's precision and override rate (PATCH /api/v1/agents/{id}): it has never been changed from the manifests.",
        ]
      : []),
    ...(actions.filter((a) => a.autonomy < 3).length
      ? [
          `${actions.filter((a) => a.autonomy < 3).length} of ${actions.length} agent actions need a person for every run (autonomy below L3: ${actions
            .filter((a) => a.autonomy < 3)
            .map((a) => `${a.agent}.${a.action}`)
            .join(', ')}): raise those with a good track record.`,
        ]
      : []),
  ];
  return dimension(
    'processAdaptability',
    [
      metric(
        'policyDryRuns',
        'Policy dry-runs recorded in the ledger (all time); 1 or more scores full.',
        'count',
        dryRuns?.n ?? 0,
        dryRuns ? 1 : 0,
      ),
      metric(
        'autonomyChanges',
        "Changes of an agent's autonomy recorded in the ledger (all time); 1 or more scores full.",
        'count',
        autonomyChanges,
        autonomyChanges > 0 ? 1 : 0,
      ),
      metric(
        'actionsAtL3OrAbove',
        "Share of the agents' actions whose autonomy in force lets them run without a person (L3 or above).",
        'share',
        share,
        share ?? 0,
      ),
    ],
    {
      dryRuns: dryRuns?.n ?? 0,
      lastDryRunAt: dryRuns ? new Date(dryRuns.last).toISOString() : null,
      agentUpdates: updates?.n ?? 0,
      autonomyChanges,
      autonomy: Object.fromEntries(actions.map((a) => [`${a.agent}.${a.action}`, a.autonomy])),
      tunedFromManifest: tuned.map((a) => `${a.agent}.${a.action}`),
      paused: agents.filter((a) => a.paused).map((a) => a.id),
    },
    fixes,
  );
}

function agentReliability(
  kpi: KpiMetrics & {
    executionsByAction: { action: string; executions: number; compensated: number; refused: number; failedDelivery: number }[];
  },
  denials: { policy: string; n: number }[],
  plays: { status: string; n: number }[],
): ReadinessDimension {
  const v = kpi.aiQuality.policyViolationRate;
  const f = kpi.aiQuality.toolCallFailureRate;
  const g = kpi.aiQuality.groundingRate;
  const a = kpi.aiQuality.abstentionRate;
  const count = (s: string) => plays.find((p) => p.status === s)?.n ?? 0;
  const ended = count('done') + count('gave_up');
  const completion = ended ? count('done') / ended : null;
  const failing = kpi.executionsByAction
    .map((e) => ({ ...e, failed: e.compensated + e.refused + e.failedDelivery }))
    .filter((e) => e.failed > 0)
    .sort((a, b) => b.failed - a.failed);
  const fixes = [
    ...denials
      .slice(0, 2)
      .map(
        (d) =>
          `Policy '${d.policy}' denied ${d.n} proposal(s): have the agents check what it requires before proposing, or fix the data it reads.`,
      ),
    ...failing
      .slice(0, 2)
      .map(
        (e) =>
          `${e.action} did not take effect ${e.failed} of ${e.executions} time(s) (compensated ${e.compensated}, refused ${e.refused}, delivery failed ${e.failedDelivery}): look at the executions and the transport.`,
      ),
    ...(count('gave_up')
      ? [`${count('gave_up')} play(s) gave up after retries and were compensated: read their last error (plays.last_error).`]
      : []),
    ...(v.value === null ? ['Nothing was put to policy: let the agents run (ACS_AGENTS=on) on live signals.'] : []),
    ...(g.value !== null && g.value < 1
      ? [
          `${g.denominator! - g.numerator!} of ${g.denominator} generated factual sentence(s) were not supported by what they cite: read the blocked drafts' reasons, then fix the prompt, the model or the knowledge base.`,
        ]
      : []),
  ];
  return dimension(
    'agentReliability',
    [
      // Named after what the value is (a rate of failures); the score is its complement, higher is better.
      fromKpi('policyViolationRate', v, (x) => 1 - x),
      fromKpi('toolCallFailureRate', f, (x) => 1 - x),
      // Generated text: grounding is scored; abstaining is right when support is low, so its rate is shown, not scored.
      fromKpi('groundingRate', g, (x) => x),
      metric('abstentionRate', `${a.label}: ${a.definition}`, 'share', a.value, null),
      metric(
        'playCompletion',
        'Of the durable plays that ended (done or gave up), the share done (all time); refused plays are left out: stopping was right.',
        'share',
        completion,
        completion,
      ),
    ],
    {
      decisions: v.denominator,
      denied: v.numerator,
      topDenials: Object.fromEntries(denials.map((d) => [d.policy, d.n])),
      executions: f.denominator,
      failed: f.numerator,
      failingActions: Object.fromEntries(failing.map((e) => [e.action, e.failed])),
      plays: Object.fromEntries(plays.map((p) => [p.status, p.n])),
      generations: a.denominator,
      unsupportedClaimsPer1000Sentences: kpi.aiQuality.unsupportedClaims.value,
      maskedEntities: kpi.aiQuality.maskedEntities.detail?.byType ?? {},
      injectionFlags: kpi.aiQuality.injectionFlags.value,
    },
    fixes,
  );
}

function modelGovernance(
  usage: Record<string, { model: string; version: string | null; proposals: number }[]>,
  reg: { available: boolean; models: RegistryModel[] },
  period: string,
): ReadinessDimension {
  const uses = Object.values(usage).flat();
  const modelled = uses.filter((u) => u.model !== RULES);
  const modelProposals = modelled.reduce((n, u) => n + u.proposals, 0);
  const versioned = modelled.filter((u) => u.version !== null).reduce((n, u) => n + u.proposals, 0);
  const champions = reg.models.filter((m) => m.champion !== null);
  const registered = reg.models.length ? champions.length / reg.models.length : null;
  const aucs = champions.filter((m) => m.heldOutAuc !== null);
  // AUC 0.5 is chance, 0.75 or better scores full.
  const validated = aucs.length ? aucs.reduce((n, m) => n + clamp01((m.heldOutAuc! - 0.5) / 0.25), 0) / champions.length : null;
  const driftScore = (m: RegistryModel) =>
    !m.lastDriftCheck ? 0 : m.lastDriftCheck.status === 'ok' ? 1 : m.lastDriftCheck.status === 'watch' ? 0.5 : 0;
  const watched = champions.length ? champions.reduce((n, m) => n + driftScore(m), 0) / champions.length : null;
  const inUse = [...new Set(modelled.map((u) => u.model))];
  const unregistered = inUse.filter((m) => !reg.models.some((r) => r.name === m));
  const fixes = [
    ...(reg.models.length === 0
      ? [
          `Train and register a model in the model registry so agents use a validated, versioned champion${inUse.length ? ` (in use but not registered: ${inUse.join(', ')})` : ''}.`,
        ]
      : []),
    ...reg.models
      .filter((m) => m.champion === null)
      .map((m) => `Promote a validated version of '${m.name}' to champion${m.rulesSince ? ` (serving rules since ${m.rulesSince})` : ''}.`),
    ...champions
      .filter((m) => m.heldOutAuc !== null && m.heldOutAuc < 0.75)
      .map((m) => `'${m.name}' v${m.champion} has a held-out AUC of ${m.heldOutAuc}: improve its features or data before relying on it.`),
    ...champions.filter((m) => !m.lastDriftCheck).map((m) => `Run a drift check on '${m.name}' v${m.champion}: none has been recorded.`),
    ...champions
      .filter((m) => m.lastDriftCheck?.status === 'drift' || m.lastDriftCheck?.status === 'watch')
      .map(
        (m) =>
          `'${m.name}' v${m.champion} shows drift (${m.lastDriftCheck!.status}, PSI ${m.lastDriftCheck!.maxPsi}): retrain on current data.`,
      ),
    ...(modelProposals > versioned
      ? [`${modelProposals - versioned} model-backed proposal(s) ${period} do not name the model version: record it in their EV terms.`]
      : []),
    ...(unregistered.length && reg.models.length
      ? [`Register the model(s) proposals rely on but the registry does not know: ${unregistered.join(', ')}.`]
      : []),
  ];
  return dimension(
    'modelGovernance',
    [
      metric(
        'registeredChampions',
        'Of the models in the registry, the share with a champion version serving; 0 when none is registered.',
        'share',
        registered,
        registered ?? 0,
      ),
      metric(
        'validatedChampions',
        "The champions' held-out AUC, scored 0 at 0.5 (chance) to full at 0.75, averaged over the champions (0 when none).",
        'auc',
        aucs.length ? aucs.reduce((n, m) => n + m.heldOutAuc!, 0) / aucs.length : null,
        champions.length ? (validated ?? 0) : 0,
      ),
      metric(
        'driftWatched',
        'Of the champions, the latest drift check: ok scores full, watch half, drift or none recorded nothing (0 when no champion).',
        'share',
        watched,
        champions.length ? watched : 0,
      ),
      metric(
        'traceableProposals',
        `Of the proposals ${period} whose terms came from a model, the share naming its version.`,
        'share',
        modelProposals ? versioned / modelProposals : null,
        modelProposals ? versioned / modelProposals : null,
      ),
    ],
    {
      registry: reg.available ? reg.models : 'the model registry is not installed in this database',
      modelUse: usage,
      modelBackedProposals: modelProposals,
      ruleBasedProposals: uses.filter((u) => u.model === RULES).reduce((n, u) => n + u.proposals, 0),
    },
    fixes,
  );
}

function humanOversight(
  o: { decided: number; on_time: number; expired: number; pending: number; overdue: number },
  kpi: KpiMetrics,
  period: string,
): ReadinessDimension {
  const onTime = o.decided ? o.on_time / o.decided : null;
  const asked = o.decided + o.expired;
  const answered = asked ? o.decided / asked : null;
  const latency = kpi.aiQuality.approvalLatency;
  const fixes = [
    ...(o.expired
      ? [
          `${o.expired} approval(s) expired unanswered ${period}: staff the review queue, or let low-risk actions with a good record run (autonomy L3).`,
        ]
      : []),
    ...(o.overdue
      ? [`${o.overdue} pending approval(s) have waited over ${OVERSIGHT_TARGET_HOURS} hours: work the queue (GET /api/v1/approvals).`]
      : []),
    ...(onTime !== null && onTime < 0.9
      ? [
          `Only ${pct(onTime)} of approvals were answered within ${OVERSIGHT_TARGET_HOURS} hours (median ${latency.value} h): agree a response time and watch it on the KPI view.`,
        ]
      : []),
    ...(asked === 0
      ? [
          `No approval was asked of a person ${period}: keep people in the loop for medium and high-risk actions (policy 'approval' outcomes).`,
        ]
      : []),
  ];
  return dimension(
    'humanOversight',
    [
      metric(
        'answeredOnTime',
        `Of the approvals a person decided ${period}, the share decided within ${OVERSIGHT_TARGET_HOURS} hours of being asked.`,
        'share',
        onTime,
        onTime,
      ),
      metric(
        'answered',
        `Of the approvals that ended ${period} (decided or expired), the share a person decided.`,
        'share',
        answered,
        answered,
      ),
    ],
    {
      decided: o.decided,
      decidedOnTime: o.on_time,
      expired: o.expired,
      pending: o.pending,
      pendingOverdue: o.overdue,
      medianLatencyHours: latency.value,
      p90LatencyHours: (latency.detail as { p90Hours: number | null }).p90Hours,
      overrideRate: kpi.aiQuality.overrideRate.value,
      escalationPrecision: kpi.aiQuality.escalationPrecision.value,
    },
    fixes,
  );
}

function operationalPerformance(kpi: KpiMetrics, period: string): ReadinessDimension {
  const { slaCompliance: sla, firstContactResolution: fcr, deflection, handleTime } = kpi.operational;
  const fixes = [
    ...(sla.value !== null && sla.value < 0.95
      ? [
          `${(sla.denominator ?? 0) - (sla.numerator ?? 0)} of ${sla.denominator} due cases missed their SLA ${period}: route by priority (service recovery's priority_routing) and close cases promptly.`,
        ]
      : []),
    ...(fcr.value !== null && fcr.value < 0.8
      ? [`Only ${pct(fcr.value)} of closed cases were resolved at the first contact: look at the customers who wrote again within 7 days.`]
      : []),
    ...(deflection.value !== null && deflection.value < 0.3
      ? [`Only ${pct(deflection.value)} of support needs were resolved without a person: automate the commonest resolutions.`]
      : []),
    ...[sla, fcr, deflection]
      .filter((k) => k.value === null)
      .map((k) => `Measure ${k.label.toLowerCase()}: ${k.reason} (close cases with closedAt, send case_resolved outcomes).`),
  ];
  return dimension(
    'operationalPerformance',
    [
      fromKpi('slaCompliance', sla, (x) => x),
      fromKpi('firstContactResolution', fcr, (x) => x),
      fromKpi('deflection', deflection, (x) => x),
    ],
    {
      handleTimeHours: handleTime.value,
      casesClosed: (handleTime.detail as { closed: number }).closed,
      slaDue: sla.denominator,
      slaMet: sla.numerator,
      supportNeeds: deflection.denominator,
      deflected: deflection.numerator,
    },
    fixes,
  );
}

function customerValue(uplift: AgentUplift[], kpi: KpiMetrics, period: string): ReadinessDimension {
  const compared = uplift.filter((u) => u.treated.customers > 0 && u.holdout.customers > 0);
  // Proven: the whole 95% interval of the difference lies on the better side of 0; harmful: wholly on the worse side.
  const proven = compared.filter((u) => (u.better === 'lower' ? u.ci95[1] < 0 : u.ci95[0] > 0));
  const harmful = compared.filter((u) => (u.better === 'lower' ? u.ci95[0] > 0 : u.ci95[1] < 0));
  const powered = uplift.filter((u) => u.power.mde !== null && u.power.mde <= POWERED_MDE);
  const share = (n: number) => (uplift.length ? n / uplift.length : null);
  const fixes = [
    ...harmful.map(
      (u) =>
        `${u.agentId} makes '${u.outcome}' worse (difference ${pct(u.difference)}, 95% CI ${pct(u.ci95[0])} to ${pct(u.ci95[1])}): pause it or lower its autonomy, and review what it does.`,
    ),
    ...uplift
      .filter((u) => !powered.includes(u))
      .map((u) => {
        // Held-out customers needed for the target MDE at today's treated:holdout ratio.
        const need = compared.includes(u)
          ? requiredSampleSize(POWERED_MDE, u.power.baseRate, u.treated.customers / u.holdout.customers)
          : null;
        const can = u.power.mde === null ? 'can detect nothing yet' : `can only detect a ${pct(u.power.mde)} difference`;
        const needs = need
          ? `about ${need.holdout} held-out customers are needed to detect ${pct(POWERED_MDE)}`
          : 'it needs treated and held-out customers whose outcomes vary';
        return `${u.agentId}'s comparison (treated ${u.treated.customers}, held out ${u.holdout.customers}) ${can}: ${needs} (a longer period or a larger ACS_HOLDOUT_FRACTION).`;
      }),
    ...uplift
      .filter((u) => powered.includes(u) && !proven.includes(u) && !harmful.includes(u))
      .map(
        (u) => `${u.agentId} shows no significant effect on '${u.outcome}' (p = ${u.power.pValue?.toFixed(3)}): revisit what it proposes.`,
      ),
  ];
  return dimension(
    'customerValue',
    [
      metric(
        'provenBenefit',
        `Share of the measured agents whose 95% interval of the treated-against-holdout difference ${period} lies wholly on the better side of 0.`,
        'share',
        share(proven.length),
        share(proven.length) ?? 0,
        0.6,
      ),
      metric(
        'poweredComparisons',
        `Share of the measured agents whose holdout can detect a ${pct(POWERED_MDE)} difference with 80% power at α = 0.05 (MDE ≤ ${POWERED_MDE}).`,
        'share',
        share(powered.length),
        share(powered.length) ?? 0,
        0.4,
      ),
    ],
    {
      byAgent: Object.fromEntries(
        uplift.map((u) => [
          u.agentId,
          {
            outcome: u.outcome,
            better: u.better,
            treated: u.treated.customers,
            holdout: u.holdout.customers,
            difference: r3(u.difference),
            ci95: u.ci95.map((x) => r3(x)),
            pValue: r3(u.power.pValue),
            mde: r3(u.power.mde),
            power: r3(u.power.power),
          },
        ]),
      ),
      harmful: harmful.map((u) => u.agentId),
      clv: kpi.business.clv.value,
      churn: kpi.business.churn.value,
      conversion: kpi.business.conversion.value,
    },
    fixes,
  );
}
