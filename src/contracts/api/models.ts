import { z } from 'zod';
import { component, IsoTime } from './core.ts';

// The model registry's answers: models, versions and their stages, drift checks and settings.

const Stage = z.enum(['candidate', 'champion', 'challenger', 'retired']);
const DriftStatus = z.enum(['ok', 'watch', 'drift']);
const Count = z.number().int().min(0);

/** What serves a model now: a registry champion, the model trained at start (churn), or rules. */
const Serving = z.discriminatedUnion('source', [
  z.object({ source: z.literal('registry'), version: z.number().int(), modelId: z.string() }),
  z.object({ source: z.literal('builtin'), id: z.string(), version: z.string() }),
  /** With `since` and `reason` when a drifted champion was demoted to rules; without when nothing was ever served. */
  z.object({ source: z.literal('rules'), since: IsoTime.optional(), reason: z.string().optional() }),
]);

export const ModelSettingsSchema = component(
  'ModelSettings',
  z.object({
    psiThreshold: z.number(),
    autoDemote: z.enum(['off', 'last_good', 'rules']),
    driftCheckHours: z.number(),
    /** Days between scheduled retrains on outcomes recorded in ACS; null when off. */
    retrainEveryDays: z.number().nullable(),
    /** Label window after the snapshot, in days. */
    labelWindowDays: z.number().int(),
    /** AUC gain the 95% CI's lower bound must exceed for promotion. */
    promoteMargin: z.number(),
  }),
  'a model\u2019s drift and retrain settings',
);

const Outcomes = z.object({ rows: Count, positives: Count, negatives: Count });

export const RetrainSchema = component(
  'ModelRetrain',
  z.object({
    id: z.string(),
    name: z.string(),
    ranAt: IsoTime,
    ranBy: z.string(),
    decision: z.enum(['promoted', 'kept_champion', 'no_champion', 'skipped']),
    championVersion: z.number().int().nullable(),
    challengerVersion: z.number().int().nullable(),
    reason: z.string(),
    margin: z.number(),
    labels: z.object({ snapshot: IsoTime, asOf: IsoTime, windowDays: z.number().int(), source: z.literal('acs_outcomes') }),
    training: Outcomes.nullable(),
    comparison: z
      .object({
        heldOut: Outcomes,
        championAuc: z.number(),
        challengerAuc: z.number(),
        difference: z.number(),
        ci95: z.tuple([z.number(), z.number()]),
        method: z.string(),
        resamples: Count,
        seed: z.number().int(),
      })
      .nullable(),
  }),
  'one retrain on outcomes recorded in ACS and its decision: both AUCs on held-out customers, the 95% CI of the difference and the margin',
);

const BinComparison = {
  psi: z.number(),
  status: DriftStatus,
  bins: z.array(z.object({ label: z.string(), expected: z.number(), actual: z.number() })),
};

const driftBrief = {
  id: z.string(),
  name: z.string(),
  version: z.number().int(),
  checkedAt: IsoTime,
  checkedBy: z.string(),
  population: Count,
  threshold: z.number(),
  maxPsi: z.number(),
  /** Where the largest PSI was: `score` or a column. */
  worst: z.string(),
  status: DriftStatus,
  /** What auto-demotion did: `demoted to v2`, `demoted to rules`, or null. */
  action: z.string().nullable(),
};

export const DriftCheckSchema = component(
  'DriftCheck',
  z.object({
    ...driftBrief,
    score: z.object(BinComparison),
    /** Per column, largest PSI first. */
    features: z.array(z.object({ column: z.string(), ...BinComparison })),
  }),
  'one drift check of a champion: PSI of the score and of each input column against the training reference',
);

export const ModelVersionSchema = component(
  'ModelVersion',
  z.object({
    name: z.string(),
    version: z.number().int().min(1),
    stage: Stage,
    modelId: z.string(),
    family: z.string(),
    dataFingerprint: z.string(),
    trainingRows: Count,
    trainedAt: IsoTime,
    /** Cross-validation and held-out metrics; the full set differs per family. */
    metrics: z.object({ folds: z.number().int(), heldOut: z.object({ rows: Count, positives: Count, auc: z.number() }).loose() }).loose(),
    /** The columns and encoded features the model reads. */
    featureSchema: z
      .object({
        target: z.string(),
        positive: z.string(),
        columns: z.array(z.object({ column: z.string(), kind: z.enum(['numeric', 'categorical']) }).loose()),
        features: z.array(z.string()),
      })
      .loose(),
    registeredBy: z.string(),
    registeredAt: IsoTime,
    promotedBy: z.string().nullable(),
    promotedAt: IsoTime.nullable(),
    promotionReason: z.string().nullable(),
    /** The champion this version replaced: where a rollback from it goes. */
    replacedVersion: z.number().int().nullable(),
    retiredAt: IsoTime.nullable(),
    retiredReason: z.string().nullable(),
    demotedForDrift: z.boolean(),
  }),
  'one registered version of a model',
);

const VersionBrief = z
  .object({ version: z.number().int(), modelId: z.string(), family: z.string(), heldOutAuc: z.number().nullable() })
  .nullable();

export const ModelSummarySchema = component(
  'ModelSummary',
  z.object({
    name: z.string(),
    /** ACS knows how to train it from the store. */
    trainable: z.boolean(),
    versions: Count,
    champion: VersionBrief,
    challenger: VersionBrief,
    serving: Serving,
    settings: ModelSettingsSchema,
    latestDrift: z
      .object({
        status: DriftStatus,
        maxPsi: z.number(),
        worst: z.string(),
        version: z.number().int(),
        checkedAt: IsoTime,
        action: z.string().nullable(),
      })
      .nullable(),
  }),
  'a named model: its champion and challenger, what serves, the settings and the latest drift check',
);

export const ModelListSchema = component('ModelList', z.object({ data: z.array(ModelSummarySchema) }), 'every named model');

export const ModelDetailSchema = component(
  'ModelDetail',
  z.object({
    name: z.string(),
    trainable: z.boolean(),
    serving: Serving,
    settings: ModelSettingsSchema,
    /** Newest first. */
    versions: z.array(ModelVersionSchema),
    latestDrift: DriftCheckSchema.nullable(),
    /** The ten most recent checks, newest first, without their bins. */
    driftChecks: z.array(z.object(driftBrief)),
    /** The ten most recent retrains on live outcomes, newest first. */
    retrains: z.array(RetrainSchema),
  }),
  'one model: its versions, what serves, the settings and the recent drift checks',
);

export const ModelRollbackSchema = component(
  'ModelRollback',
  z.object({
    name: z.string(),
    /** The champion rolled back from, or `rules` when rules stood in. */
    from: z.union([z.number().int(), z.literal('rules')]),
    to: ModelVersionSchema,
  }),
  'a rollback: from which champion (or rules) to which version',
);
