import { z } from 'zod';
import { component, IsoTime } from './core.ts';

// KPIs, per-agent performance, uplift against the holdout, the bandits and the readiness scorecard.

const Day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const Count = z.number().int().min(0);
const Interval = z.tuple([z.number(), z.number()]);
const Group = z.object({ customers: Count, events: Count, rate: z.number(), ci95: Interval });

const PowerReport = z.object({
  alpha: z.number(),
  targetPower: z.number(),
  baseRate: z.number().nullable(),
  pValue: z.number().nullable(),
  /** Minimum detectable effect at the target power. */
  mde: z.number().nullable(),
  power: z.number().nullable(),
  required: z.object({ treated: z.number(), holdout: z.number() }).nullable(),
});

/** Treated against holdout: both groups, the difference with its 95% interval, and its power. */
const comparison = { treated: Group, holdout: Group, difference: z.number(), ci95: Interval, power: PowerReport };

export const AgentUpliftSchema = component(
  'AgentUplift',
  z.object({
    agentId: z.string(),
    outcome: z.string(),
    better: z.enum(['lower', 'higher']),
    ...comparison,
    byAction: z.array(z.object({ action: z.string(), ...comparison })),
    /** Cumulative, at the end of each day of the range, oldest first. */
    series: z.array(z.object({ day: Day, treated: Group, holdout: Group })),
  }),
  'an agent\u2019s effect on its outcome, treated against held-out customers, overall and per action',
);

export const KpiSchema = component(
  'Kpi',
  z.object({
    section: z.enum(['operational', 'business', 'aiQuality']),
    label: z.string(),
    /** `per1000`: per 1,000 sentences. */
    unit: z.enum(['hours', 'share', 'USD', 'per1000', 'count']),
    definition: z.string(),
    /** Null when there is nothing to measure; `reason` says why. */
    value: z.number().nullable(),
    reason: z.string().nullable(),
    numerator: z.number().optional(),
    denominator: z.number().optional(),
    /** The numbers behind the value: they differ per KPI. */
    detail: z.record(z.string(), z.unknown()).optional(),
  }),
  'one KPI with its definition and unit',
);

export const KpisSchema = component(
  'Kpis',
  z.object({
    now: IsoTime,
    from: IsoTime,
    days: z.array(Day),
    decisionsByOutcome: z.array(z.object({ day: Day, execute: Count, approval: Count, deny: Count, heldOut: Count, suppressed: Count })),
    signalVolume: z.array(z.object({ day: Day, total: Count, byType: z.record(z.string(), Count) })),
    approvalLatency: z.array(z.object({ day: Day, decided: Count, medianHours: z.number().nullable(), p90Hours: z.number().nullable() })),
    approvalsPending: Count,
    /** Approvals that reached their expiry with nobody deciding them: in all, and marked expired within the range. */
    approvalsExpired: z.object({ total: Count, inRange: Count }),
    denialsByPolicy: z.array(z.object({ policyId: z.string(), reason: z.string(), count: Count })),
    uplift: z.array(AgentUpliftSchema),
    metrics: z.object({
      operational: z.object({ handleTime: KpiSchema, firstContactResolution: KpiSchema, slaCompliance: KpiSchema, deflection: KpiSchema }),
      business: z.object({ churn: KpiSchema, renewal: KpiSchema, conversion: KpiSchema, clv: KpiSchema }),
      aiQuality: z.object({
        policyViolationRate: KpiSchema,
        overrideRate: KpiSchema,
        approvalLatency: KpiSchema,
        escalationPrecision: KpiSchema,
        toolCallFailureRate: KpiSchema,
        groundingRate: KpiSchema,
        unsupportedClaims: KpiSchema,
        abstentionRate: KpiSchema,
        injectionFlags: KpiSchema,
        maskedEntities: KpiSchema,
      }),
    }),
  }),
  'KPIs per UTC day over the range, uplift against the holdout, and the operational, business and AI-quality KPIs',
);

export const AgentStatsSchema = component(
  'AgentStats',
  z.object({
    data: z.array(
      z.object({
        agentId: z.string(),
        proposals: Count,
        suppressed: Count,
        heldOut: Count,
        decided: Count,
        executed: Count,
        denied: Count,
        approvals: z.object({ pending: Count, approved: Count, approvedWithEdits: Count, rejected: Count, expired: Count }),
        precision: z.number().nullable(),
        overrideRate: z.number().nullable(),
        uplift: AgentUpliftSchema.nullable(),
      }),
    ),
    trackRecord: z.object({
      windowDays: z.number().int(),
      data: z.array(
        z.object({
          agentId: z.string(),
          action: z.string(),
          decisions: Count,
          approved: Count,
          rejected: Count,
          rejectedBy: z.record(z.string(), Count),
          /** approved / decisions in basis points, rounded down; 0 without decisions. */
          precisionBp: z.number().int().min(0).max(10_000),
        }),
      ),
    }),
  }),
  'per agent: proposals by fate, approvals, precision, override rate and uplift; and the track record earned autonomy reads',
);

export const BanditsSchema = component(
  'Bandits',
  z.object({
    data: z.array(
      z.object({
        bandit: z.string(),
        segment: z.string(),
        arms: z.array(
          z.object({
            arm: z.string(),
            alpha: z.number().int().min(1),
            beta: z.number().int().min(1),
            mean: z.number(),
            pulls: Count,
            accepted: Count,
            declined: Count,
            open: Count,
          }),
        ),
      }),
    ),
    /** What each bandit chooses among. */
    bandits: z.record(z.string(), z.array(z.string())),
    /** Outcome kinds that answer an offer: 1 accepts it, 0 declines. */
    reward: z.record(z.string(), z.union([z.literal(0), z.literal(1)])),
    horizonDays: z.number().int(),
  }),
  'the offer and channel bandits\u2019 posteriors per segment and arm',
);

const UpliftArm = z.object({ customers: Count, events: Count, rate: z.number() });

export const UpliftModelSchema = component(
  'UpliftModel',
  z.object({
    now: IsoTime,
    /** Proposals of the last windowDays days are learned from. */
    windowDays: z.number().int(),
    /** An outcome counts when it comes within horizonDays of the customer's first proposal of the action. */
    horizonDays: z.number().int(),
    /** The prior's weight in customers of effective sample size: the data's weight is n / (n + k). */
    k: z.number(),
    /** Share of customers (by a hash of their id) the evaluation fit is trained on; the rest are ranked. */
    fitShare: z.number(),
    agents: z.array(
      z.object({
        agentId: z.string(),
        outcome: z.string(),
        better: z.enum(['lower', 'higher']),
        /** Ranking quality on customers held out of the fit: Qini coefficient and AUUC, in incremental successes per customer; null without both groups. */
        evaluation: z.object({
          qini: z.number().nullable(),
          auuc: z.number().nullable(),
          customers: Count,
          treated: Count,
          holdout: Count,
        }),
        /** The served fit per action and segment: treated (the action ran) and holdout (held out) arms. */
        segments: z.array(
          z.object({
            action: z.string(),
            segment: z.string(),
            treated: UpliftArm,
            holdout: UpliftArm,
            /** The incremental effect observed, in the direction the measure calls better; null without both arms. */
            observed: z.number().nullable(),
            effectiveN: z.number(),
            weight: z.number(),
            meanPrior: z.number(),
          }),
        ),
      }),
    ),
  }),
  'the uplift model p(success) comes from: per measured agent, action and segment, treated against held-out outcomes, and how well it ranks customers held out of the fit',
);

const DimensionKey = z.enum([
  'strategicAlignment',
  'dataReadiness',
  'processAdaptability',
  'agentReliability',
  'modelGovernance',
  'humanOversight',
  'operationalPerformance',
  'customerValue',
]);

export const ReadinessSchema = component(
  'Readiness',
  z.object({
    now: IsoTime,
    from: IsoTime,
    days: z.number().int(),
    overall: z.number().int().min(0).max(100),
    stage: z.object({ stage: z.number().int().min(1).max(5), name: z.string(), description: z.string(), weakest: DimensionKey }),
    stageRule: z.string(),
    dimensions: z.array(
      z.object({
        key: DimensionKey,
        name: z.string(),
        question: z.string(),
        score: z.number().int().min(0).max(100),
        metrics: z.array(
          z.object({
            key: z.string(),
            definition: z.string(),
            unit: z.enum(['share', 'count', 'hours', 'auc']),
            value: z.number().nullable(),
            /** The metric's contribution, 0–1; null leaves it out of the dimension's score. */
            score: z.number().min(0).max(1).nullable(),
            weight: z.number(),
          }),
        ),
        /** The numbers behind the score: they differ per dimension. */
        evidence: z.record(z.string(), z.unknown()),
        fixNext: z.array(z.string()),
      }),
    ),
    topFixes: z.array(z.object({ dimension: DimensionKey, name: z.string(), score: z.number().int(), fix: z.string() })),
  }),
  'the readiness scorecard: eight dimensions scored 0–100, the maturity stage and the top fixes',
);
