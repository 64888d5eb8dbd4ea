import { z } from 'zod';
import { AppError } from '../errors.ts';
import { appendToLedger } from '../ledger/index.ts';
import type { ChurnModelInput, RegisteredScorer, ServedModels } from '../reason/index.ts';
import { newId, type Db, type Queryable, type Tx } from '../store/index.ts';
import { churnRow, MODEL_DATASETS } from './datasets.ts';
import { DEFAULT_PSI_THRESHOLD, driftReport, referenceProfile, type DriftReport, type DriftStatus } from './drift.ts';
import { loadModel, trainModel, type Model } from './models/index.ts';
import type { Family, RawRow, SerializedModel } from './models/types.ts';
import {
  AUTO_DEMOTE_MODES,
  clearModelRules,
  findChampionReference,
  findModelServing,
  findModelSettingsRow,
  findModelVersion,
  findModelVersionAtStage,
  findVersionModelJson,
  insertDriftCheck,
  insertModelVersion,
  listChurnServingRows,
  listDriftCheckRows,
  listModelRowNames,
  listModelsDueForDriftCheck,
  listModelVersionBriefs,
  listModelVersionRows,
  lockModelRow,
  MODEL_STAGES,
  modelRowExists,
  nextModelVersionNumber,
  reinstateVersionChampion,
  restoreVersionChampion,
  setModelRules,
  setVersionCandidate,
  setVersionChallenger,
  setVersionChampion,
  setVersionRetired,
  updateModelSettings,
  type AutoDemoteMode,
  type ModelStage,
  type ModelVersionRow,
} from './registry.repo.ts';

/**
 * The model registry: every version of a named model (churn, ...) with its training data fingerprint, metrics,
 * feature schema, the serialized model and a reference profile for drift. One version is the champion (it
 * serves), one may be the challenger (shadow-scored beside it), the rest are candidates or retired. Every change
 * of stage is in the ledger. Drift checks compare the live population with the champion's training reference.
 */

export const STAGES = MODEL_STAGES;
export type Stage = ModelStage;
export const AUTO_DEMOTE = AUTO_DEMOTE_MODES;
export type AutoDemote = AutoDemoteMode;

/** Fewest labelled rows, and of each outcome, the registry trains on: below that a model would be noise. */
export const MIN_TRAINING_ROWS = 50;
export const MIN_PER_OUTCOME = 10;
/** Most live rows one drift check reads (the newest accounts): enough for stable shares, bounded work. */
export const DRIFT_POPULATION_LIMIT = 50_000;

export const ModelSettingsInput = z.strictObject({
  psiThreshold: z.number().gt(0).max(10).default(DEFAULT_PSI_THRESHOLD),
  autoDemote: z.enum(AUTO_DEMOTE).default('off'),
  /** How often the scheduled check runs for the champion, on the server's clock. */
  driftCheckHours: z
    .number()
    .gt(0)
    .max(24 * 366)
    .default(24),
  /**
   * How often the scheduled retrain on outcomes recorded in ACS runs once a champion serves (days, on the server's
   * clock), or null for never. On by default: promotion still needs the challenger to beat the champion by the margin.
   */
  retrainEveryDays: z.number().gt(0).max(366).nullable().default(7),
  /** The label window: a customer at risk at the snapshot (now − window) is a positive if a churned outcome is recorded within it. */
  labelWindowDays: z.number().int().min(1).max(366).default(30),
  /** The AUC gain the 95% CI's lower bound must exceed for the challenger to be promoted. */
  promoteMargin: z.number().min(0).lt(1).default(0.01),
});
export type ModelSettings = z.output<typeof ModelSettingsInput>;

export const TrainInput = z.strictObject({
  families: z
    .array(z.enum(['logistic', 'gbdt']))
    .min(1)
    .optional(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 31)
    .optional(),
  testFraction: z.number().gt(0).lt(1).optional(),
  folds: z.number().int().min(2).max(20).optional(),
});
export type TrainInput = z.output<typeof TrainInput>;

export interface VersionView {
  name: string;
  version: number;
  stage: Stage;
  modelId: string;
  family: string;
  dataFingerprint: string;
  trainingRows: number;
  trainedAt: string;
  metrics: SerializedModel['metrics'];
  featureSchema: SerializedModel['featureSchema'];
  registeredBy: string;
  registeredAt: string;
  promotedBy: string | null;
  promotedAt: string | null;
  promotionReason: string | null;
  /** The champion this version replaced: where a rollback from it goes. */
  replacedVersion: number | null;
  retiredAt: string | null;
  retiredReason: string | null;
  demotedForDrift: boolean;
}

export interface DriftCheckView extends DriftReport {
  id: string;
  name: string;
  version: number;
  checkedAt: string;
  checkedBy: string;
  /** What auto-demotion did: `demoted to v2`, `demoted to rules`, or null. */
  action: string | null;
}

/** What serves a named model now: a registry champion, rules on purpose (after a demotion), or nothing registered. */
export type Serving =
  { source: 'registry'; version: number; modelId: string } | { source: 'rules'; since: string; reason: string } | { source: 'none' };

const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);

export function toVersion(r: Record<string, unknown>): VersionView {
  return {
    name: r.name as string,
    version: r.version as number,
    stage: r.stage as Stage,
    modelId: r.model_id as string,
    family: r.family as string,
    dataFingerprint: r.data_fingerprint as string,
    trainingRows: r.training_rows as number,
    trainedAt: iso(r.trained_at)!,
    metrics: r.metrics as VersionView['metrics'],
    featureSchema: r.feature_schema as VersionView['featureSchema'],
    registeredBy: r.registered_by as string,
    registeredAt: iso(r.registered_at)!,
    promotedBy: (r.promoted_by as string) ?? null,
    promotedAt: iso(r.promoted_at),
    promotionReason: (r.promotion_reason as string) ?? null,
    replacedVersion: (r.replaced_version as number) ?? null,
    retiredAt: iso(r.retired_at),
    retiredReason: (r.retired_reason as string) ?? null,
    demotedForDrift: r.drift_demoted === true,
  };
}

function toCheck(r: Record<string, unknown>): DriftCheckView {
  return {
    id: r.id as string,
    name: r.name as string,
    version: r.version as number,
    checkedAt: iso(r.checked_at)!,
    checkedBy: r.checked_by as string,
    population: r.population as number,
    threshold: r.threshold as number,
    maxPsi: r.max_psi as number,
    worst: r.worst as string,
    status: r.status as DriftStatus,
    score: r.score as DriftReport['score'],
    features: r.features as DriftReport['features'],
    action: (r.action as string) ?? null,
  };
}

const NAME = /^[a-z][a-z0-9_-]{0,63}$/;

/** A model name must be a known dataset or already have versions; otherwise a 404 that lists what exists. */
export async function requireModel(q: Queryable, name: string): Promise<void> {
  if (MODEL_DATASETS[name]) return;
  if (!(NAME.test(name) && (await modelRowExists(q, name)))) {
    const known = await modelNames(q);
    throw new AppError('model.not_found', `no model '${name}'; known: ${known.join(', ')}`);
  }
}

async function modelNames(q: Queryable): Promise<string[]> {
  const names = await listModelRowNames(q);
  return [...new Set([...Object.keys(MODEL_DATASETS), ...names])].sort();
}

const ledgerVersion = (
  type: string,
  actor: string,
  row: { id: string; name: string; version: number },
  data: Record<string, unknown>,
  now: Date,
) => ({
  type,
  actor,
  subjectType: 'model_versions',
  subjectId: row.id,
  data: { name: row.name, version: row.version, ...data },
  at: now,
});

/**
 * Registers a trained model as a new candidate version. `rows` are the rows it was trained on (the whole table
 * given to training): their profile, and the model's scores of them, are the reference drift is measured against.
 */
export async function registerModel(
  tx: Tx,
  input: { name: string; model: SerializedModel; rows: readonly RawRow[]; actor: string; now: Date },
): Promise<VersionView> {
  const { name, actor, now } = input;
  if (!NAME.test(name))
    throw new AppError('validation_failed', `bad model name '${name}'`, [
      { path: 'name', message: 'lower-case letters, digits, - and _, starting with a letter' },
    ]);
  if (input.rows.length === 0)
    throw new AppError('validation_failed', 'a model is registered with the rows it was trained on', [
      { path: 'rows', message: 'none given' },
    ]);
  const model = loadModel(input.model);
  const reference = referenceProfile(model.json.featureSchema, input.rows, model.predictMany(input.rows));
  await lockModelRow(tx, name);
  const next = await nextModelVersionNumber(tx, name);
  const json: SerializedModel = { ...model.json, version: `${name}-v${next}` };
  const id = newId('mver');
  const row = await insertModelVersion(tx, { id, name, version: next, model: json, reference, registeredBy: actor, registeredAt: now });
  await appendToLedger(tx, [
    ledgerVersion(
      'model.registered',
      actor,
      row,
      {
        modelId: json.id,
        family: json.family,
        dataFingerprint: json.dataFingerprint,
        trainingRows: json.training.rows,
        heldOutAuc: json.metrics.heldOut.auc,
      },
      now,
    ),
  ]);
  return toVersion(row);
}

/**
 * Trains a named model on the labelled records in the store (for `churn`: the customers with a recorded churn
 * outcome) with the training library, and registers it as a candidate. Training runs outside any transaction.
 */
export async function trainAndRegister(db: Db, name: string, options: TrainInput, actor: string, now: Date): Promise<VersionView> {
  await requireModel(db, name);
  const dataset = MODEL_DATASETS[name];
  if (!dataset)
    throw new AppError(
      'model.not_ready',
      `model '${name}' has no training data definition in ACS; only ${Object.keys(MODEL_DATASETS).join(', ')} can be trained here`,
    );
  const rows = await dataset.loadTraining(db);
  const positives = rows.filter((r) => String(r[dataset.target]) === dataset.positive).length;
  const negatives = rows.length - positives;
  if (rows.length < MIN_TRAINING_ROWS || positives < MIN_PER_OUTCOME || negatives < MIN_PER_OUTCOME) {
    throw new AppError(
      'model.not_ready',
      `too few examples to train ${name}: found ${rows.length} ${dataset.describe} (${positives} ${dataset.target}, ${negatives} not); ` +
        `need at least ${MIN_TRAINING_ROWS}, with ${MIN_PER_OUTCOME} of each outcome`,
      [],
      { examples: rows.length, positives, negatives, minimum: { rows: MIN_TRAINING_ROWS, perOutcome: MIN_PER_OUTCOME } },
    );
  }
  const families: Family[] | undefined = options.families;
  const { model } = trainModel(rows, {
    target: dataset.target,
    positive: dataset.positive,
    trainedAt: now,
    ...(families ? { families } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.testFraction !== undefined ? { testFraction: options.testFraction } : {}),
    ...(options.folds !== undefined ? { folds: options.folds } : {}),
  });
  return db.transaction((tx) => registerModel(tx, { name, model: model.toJSON(), rows, actor, now }));
}

/** Moves a version to champion or challenger. A new champion retires the old one (and remembers it, for rollback). */
export async function promoteVersion(db: Db, input: Parameters<typeof promoteInTransaction>[1]): Promise<VersionView> {
  return db.transaction((tx) => promoteInTransaction(tx, input));
}

export async function promoteInTransaction(
  tx: Tx,
  input: { name: string; version: number; stage: 'champion' | 'challenger'; reason?: string; actor: string; now: Date },
): Promise<VersionView> {
  const { name, version, stage, actor, now } = input;
  await requireModel(tx, name);
  await lockModelRow(tx, name);
  const target = await findModelVersion(tx, name, version);
  if (!target) throw new AppError('model.not_found', `model ${name} has no version ${version}`);
  if (target.stage === stage) throw new AppError('model.stage_conflict', `${name} v${version} is already the ${stage}`);
  if (stage === 'challenger' && target.stage === 'champion') {
    throw new AppError(
      'model.stage_conflict',
      `${name} v${version} is the champion; promote another version to champion, or roll back, first`,
    );
  }
  const events = [];
  const reason = input.reason ?? null;
  if (stage === 'champion') {
    const current = await findModelVersionAtStage(tx, name, 'champion');
    if (current) {
      await retire(tx, current, `replaced by v${version}`, false, now);
      events.push(
        ledgerVersion('model.demoted', actor, current, { from: 'champion', to: 'retired', reason: `replaced by v${version}` }, now),
      );
    }
    await setVersionChampion(tx, target.id, { actor, at: now, reason, replacedVersion: current?.version ?? null });
    // A champion again: rules no longer stand in for a demoted one.
    await clearModelRules(tx, name);
    events.push(
      ledgerVersion(
        'model.promoted',
        actor,
        target,
        { from: target.stage, to: 'champion', replaced: current?.version ?? null, reason },
        now,
      ),
    );
  } else {
    const current = await findModelVersionAtStage(tx, name, 'challenger');
    if (current) {
      await setVersionCandidate(tx, current.id);
      events.push(
        ledgerVersion(
          'model.demoted',
          actor,
          current,
          { from: 'challenger', to: 'candidate', reason: `replaced as challenger by v${version}` },
          now,
        ),
      );
    }
    await setVersionChallenger(tx, target.id, { actor, at: now, reason });
    events.push(ledgerVersion('model.promoted', actor, target, { from: target.stage, to: 'challenger', reason }, now));
  }
  await appendToLedger(tx, events);
  return toVersion((await findModelVersion(tx, name, version))!);
}

async function retire(tx: Tx, row: { id: string }, reason: string, forDrift: boolean, now: Date): Promise<void> {
  await setVersionRetired(tx, row.id, reason, forDrift, now);
}

/**
 * Back to the previous champion: the one the current champion replaced, or, when rules stand in after a drift
 * demotion, the champion that was demoted. The current champion is retired.
 */
export async function rollbackModel(
  db: Db,
  input: { name: string; reason?: string; actor: string; now: Date },
): Promise<{ name: string; from: number | 'rules'; to: VersionView }> {
  return db.transaction((tx) => rollbackInTransaction(tx, input));
}

async function rollbackInTransaction(
  tx: Tx,
  input: { name: string; reason?: string; actor: string; now: Date },
): Promise<{ name: string; from: number | 'rules'; to: VersionView }> {
  const { name, actor, now } = input;
  await requireModel(tx, name);
  const model = await lockModelRow(tx, name);
  const current = await findModelVersionAtStage(tx, name, 'champion');
  const previous = current ? current.replaced_version : model.rules_since ? model.rules_replaced : null;
  if (previous === null) {
    throw new AppError(
      'model.stage_conflict',
      current
        ? `${name} v${current.version} replaced no earlier champion: there is nothing to roll back to`
        : `${name} has no champion to roll back from`,
    );
  }
  const target = (await findModelVersion(tx, name, previous))!;
  const reason = input.reason ?? null;
  if (current) await retire(tx, current, `rolled back to v${previous}`, false, now);
  await restoreVersionChampion(tx, target.id, {
    actor,
    at: now,
    reason: reason ?? (current ? `rollback from v${current.version}` : 'rollback from rules'),
  });
  await clearModelRules(tx, name);
  const from = current ? current.version : ('rules' as const);
  await appendToLedger(tx, [
    { type: 'model.rolled_back', actor, subjectType: 'models', subjectId: name, data: { name, from, to: previous, reason }, at: now },
  ]);
  return { name, from, to: toVersion((await findModelVersion(tx, name, previous))!) };
}

export async function loadModelSettings(q: Queryable, name: string): Promise<ModelSettings> {
  const row = await findModelSettingsRow(q, name);
  return row
    ? {
        psiThreshold: row.psi_threshold,
        autoDemote: row.auto_demote,
        driftCheckHours: row.drift_check_hours,
        retrainEveryDays: row.retrain_every_days === null ? null : Number(row.retrain_every_days),
        labelWindowDays: row.label_window_days,
        promoteMargin: Number(row.promote_margin),
      }
    : ModelSettingsInput.parse({});
}

/** Replaces a model's drift and retrain settings (fields left out take their defaults); ledgered. */
export async function saveModelSettings(db: Db, name: string, settings: ModelSettings, actor: string, now: Date): Promise<ModelSettings> {
  return db.transaction((tx) => saveSettingsInTransaction(tx, name, settings, actor, now));
}

async function saveSettingsInTransaction(tx: Tx, name: string, settings: ModelSettings, actor: string, now: Date): Promise<ModelSettings> {
  await requireModel(tx, name);
  await lockModelRow(tx, name);
  await updateModelSettings(tx, name, settings, actor);
  await appendToLedger(tx, [
    { type: 'model.settings_changed', actor, subjectType: 'models', subjectId: name, data: { name, ...settings }, at: now },
  ]);
  return settings;
}

async function servingOf(q: Queryable, name: string): Promise<Serving> {
  const row = await findModelServing(q, name);
  if (row?.version) return { source: 'registry', version: row.version, modelId: row.model_id! };
  if (row?.rules_since) return { source: 'rules', since: iso(row.rules_since)!, reason: row.rules_reason ?? '' };
  return { source: 'none' };
}

async function latestCheck(q: Queryable, name: string): Promise<DriftCheckView | null> {
  const [row] = await listDriftCheckRows(q, name, 1);
  return row ? toCheck(row) : null;
}

export interface ModelSummary {
  name: string;
  trainable: boolean;
  versions: number;
  champion: { version: number; modelId: string; family: string; heldOutAuc: number | null } | null;
  challenger: { version: number; modelId: string; family: string; heldOutAuc: number | null } | null;
  serving: Serving;
  settings: ModelSettings;
  latestDrift: { status: DriftStatus; maxPsi: number; worst: string; version: number; checkedAt: string; action: string | null } | null;
}

/** Every named model: the known datasets and anything registered. */
export async function listModels(q: Queryable): Promise<ModelSummary[]> {
  const names = await modelNames(q);
  const versions = await listModelVersionBriefs(q);
  const out: ModelSummary[] = [];
  for (const name of names) {
    const mine = versions.filter((v) => v.name === name);
    const brief = (stage: Stage) => {
      const v = mine.find((x) => x.stage === stage);
      return v ? { version: v.version, modelId: v.model_id, family: v.family, heldOutAuc: v.auc } : null;
    };
    const check = await latestCheck(q, name);
    out.push({
      name,
      trainable: name in MODEL_DATASETS,
      versions: mine.length,
      champion: brief('champion'),
      challenger: brief('challenger'),
      serving: await servingOf(q, name),
      settings: await loadModelSettings(q, name),
      latestDrift: check
        ? {
            status: check.status,
            maxPsi: check.maxPsi,
            worst: check.worst,
            version: check.version,
            checkedAt: check.checkedAt,
            action: check.action,
          }
        : null,
    });
  }
  return out;
}

/** One model: every version (newest first) with its stage and metrics, what serves, the settings and the recent drift checks. */
export async function getModel(q: Queryable, name: string) {
  await requireModel(q, name);
  const rows = await listModelVersionRows(q, name);
  const checks = await listDriftCheckRows(q, name, 10);
  const recent = checks.map(toCheck);
  return {
    name,
    trainable: name in MODEL_DATASETS,
    serving: await servingOf(q, name),
    settings: await loadModelSettings(q, name),
    versions: rows.map(toVersion),
    latestDrift: recent[0] ?? null,
    driftChecks: recent.map(({ score: _s, features: _f, ...brief }) => brief),
  };
}

// Loaded models by version row id: the loop asks for the serving models on every batch, and parsing a stored
// forest each time would cost more than the scoring. Ids are unique across databases, so one cache serves all.
const loaded = new Map<string, Model>();
const LOADED_MAX = 32;

export async function loadVersionModel(q: Queryable, id: string): Promise<Model> {
  let model = loaded.get(id);
  if (!model) {
    model = loadModel(await findVersionModelJson(q, id));
    if (loaded.size >= LOADED_MAX) loaded.delete(loaded.keys().next().value!);
    loaded.set(id, model);
  }
  return model;
}

/**
 * What the registry serves for `churn`, ready for the agents: the champion and challenger as customer scorers,
 * or why rules stand in. Undefined when nothing was ever registered (agents then use the start-up model or rules).
 */
export async function servingChurn(q: Queryable): Promise<ServedModels | undefined> {
  const rows = await listChurnServingRows(q);
  if (rows.length === 0) return undefined;
  const scorer = async (stage: Stage): Promise<RegisteredScorer | null> => {
    const row = rows.find((r) => r.stage === stage);
    if (!row) return null;
    const model = await loadVersionModel(q, row.id!);
    return { name: 'churn', version: row.version!, predict: (input: ChurnModelInput) => model.predict(churnRow(input)) };
  };
  const champion = await scorer('champion');
  const rules = !champion && rows[0]!.rules_since ? (rows[0]!.rules_reason ?? 'the churn champion was demoted to rules') : null;
  return { champion, challenger: await scorer('challenger'), rules };
}

/**
 * Checks the champion of `name` for drift now: bins the live population (and the champion's scores of it) as the
 * training reference was binned, stores the check, raises `model.drift_alert` when the largest PSI reaches the
 * threshold, and, with auto-demotion on, demotes the drifted champion to the last good version or to rules.
 */
export async function runDriftCheck(db: Db, name: string, actor: string, now: Date): Promise<DriftCheckView> {
  await requireModel(db, name);
  const dataset = MODEL_DATASETS[name];
  if (!dataset)
    throw new AppError(
      'model.not_ready',
      `model '${name}' has no live population defined in ACS; only ${Object.keys(MODEL_DATASETS).join(', ')} can be checked`,
    );
  const champion = await findChampionReference(db, name);
  if (!champion) throw new AppError('model.not_ready', `${name} has no champion: nothing serves, so there is nothing to check for drift`);
  const model = await loadVersionModel(db, champion.id);
  const live = await dataset.loadLive(db, DRIFT_POPULATION_LIMIT);
  if (live.length === 0) throw new AppError('model.not_ready', `${name} has no live population to compare with its training reference`);
  const settings = await loadModelSettings(db, name);
  const report = driftReport(champion.reference, model.json.featureSchema, live, model.predictMany(live), settings.psiThreshold);

  return db.transaction(async (tx) => {
    const m = await lockModelRow(tx, name);
    const id = newId('mdrift');
    const events = [];
    let action: string | null = null;
    // The champion may have changed while the population was read: the check still stands, demotion does not.
    const still = await findModelVersionAtStage(tx, name, 'champion');
    if (report.status === 'drift') {
      events.push({
        type: 'model.drift_alert',
        actor,
        subjectType: 'model_drift_checks',
        subjectId: id,
        at: now,
        data: {
          name,
          version: champion.version,
          maxPsi: report.maxPsi,
          worst: report.worst,
          threshold: report.threshold,
          scorePsi: report.score.psi,
          population: report.population,
        },
      });
      // Demotion follows the model's setting, not the wish of whoever ran the check: the system does it.
      const system = 'system:drift';
      if (m.auto_demote !== 'off' && still?.id === champion.id) {
        const why = `drift: PSI ${report.maxPsi.toFixed(3)} on ${report.worst} ≥ ${report.threshold}`;
        const good = m.auto_demote === 'last_good' ? await lastGood(tx, name, still) : null;
        await retire(tx, still, why, true, now);
        if (good) {
          await reinstateVersionChampion(tx, good.id, {
            actor: system,
            at: now,
            reason: `last good version after v${still.version} drifted`,
          });
          action = `demoted to v${good.version}`;
          events.push(
            ledgerVersion('model.demoted', system, still, { from: 'champion', to: 'retired', reason: why, replacedBy: good.version }, now),
          );
          events.push(
            ledgerVersion(
              'model.promoted',
              system,
              good,
              { from: good.stage, to: 'champion', reason: `last good version after v${still.version} drifted` },
              now,
            ),
          );
        } else {
          const rulesWhy = `${name} v${still.version} was demoted for ${why}${m.auto_demote === 'last_good' ? ' and no earlier good version exists' : ''}`;
          await setModelRules(tx, name, now, rulesWhy, still.version);
          action = 'demoted to rules';
          events.push(ledgerVersion('model.demoted', system, still, { from: 'champion', to: 'rules', reason: why }, now));
        }
      }
    }
    const row = await insertDriftCheck(tx, {
      id,
      name,
      version: champion.version,
      checkedAt: now,
      checkedBy: actor,
      population: report.population,
      threshold: report.threshold,
      maxPsi: report.maxPsi,
      worst: report.worst,
      status: report.status,
      score: report.score,
      features: report.features,
      action,
    });
    await appendToLedger(tx, events);
    return toCheck(row);
  });
}

/** The champion's line of predecessors (what it replaced, and so on), first one not itself demoted for drift. */
async function lastGood(tx: Tx, name: string, from: ModelVersionRow): Promise<ModelVersionRow | null> {
  const seen = new Set([from.version]);
  let next = from.replaced_version;
  while (next !== null && !seen.has(next)) {
    seen.add(next);
    const row = await findModelVersion(tx, name, next);
    if (!row) return null;
    if (!row.drift_demoted) return row;
    next = row.replaced_version;
  }
  return null;
}

/**
 * The scheduled part: checks each champion whose last check is older than its model's interval (a new champion
 * is checked at once). Called every maintenance round; a failing model is reported and the others still run.
 */
export async function runDueDriftChecks(db: Db, now: Date, onError?: (name: string, err: unknown) => void): Promise<DriftCheckView[]> {
  const due = await listModelsDueForDriftCheck(db, now);
  const checks: DriftCheckView[] = [];
  for (const name of due) {
    if (!MODEL_DATASETS[name]) continue;
    try {
      checks.push(await runDriftCheck(db, name, 'system:drift', now));
    } catch (err) {
      onError?.(name, err);
    }
  }
  return checks;
}
