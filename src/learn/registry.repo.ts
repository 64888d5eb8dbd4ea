import type { Db, Queryable, Tx } from '../store/index.ts';
import type { ReferenceProfile } from './drift.ts';
import type { SerializedModel } from './models/types.ts';

// The model registry's tables: models (one row per named model: its drift settings, and whether rules stand in),
// model_versions (every trained version with its stage) and model_drift_checks. The registry's rules are in
// registry.ts; here is only its SQL.

/** The stages a version's row can hold. */
export const MODEL_STAGES = ['candidate', 'champion', 'challenger', 'retired'] as const;
export type ModelStage = (typeof MODEL_STAGES)[number];
/** What a model's `auto_demote` setting can be. */
export const AUTO_DEMOTE_MODES = ['off', 'last_good', 'rules'] as const;
export type AutoDemoteMode = (typeof AUTO_DEMOTE_MODES)[number];

export type ModelVersionRow = Record<string, unknown> & {
  id: string;
  name: string;
  version: number;
  stage: ModelStage;
  replaced_version: number | null;
  drift_demoted: boolean;
};

export interface ModelLockRow {
  psi_threshold: number;
  auto_demote: AutoDemoteMode;
  rules_since: Date | null;
  rules_replaced: number | null;
}

const VERSION_COLUMNS = `id, name, version, stage, model_id, family, data_fingerprint, training_rows, trained_at, metrics, feature_schema, registered_by, registered_at,
  promoted_by, promoted_at, promotion_reason, replaced_version, retired_at, retired_reason, drift_demoted`;

/** Whether a model row of this name exists. */
export async function modelRowExists(q: Queryable, name: string): Promise<boolean> {
  const [row] = await q.query('SELECT 1 FROM models WHERE name = $1', [name]);
  return row !== undefined;
}

export async function listModelRowNames(q: Queryable): Promise<string[]> {
  const rows = await q.query<{ name: string }>('SELECT name FROM models');
  return rows.map((r) => r.name);
}

/** Locks the model's row for the rest of the transaction (creating it with default settings), so stage changes are serial. */
export async function lockModelRow(tx: Tx, name: string): Promise<ModelLockRow> {
  await tx.query('INSERT INTO models (name) VALUES ($1) ON CONFLICT (name) DO NOTHING', [name]);
  const [row] = await tx.query<ModelLockRow>(
    'SELECT psi_threshold, auto_demote, rules_since, rules_replaced FROM models WHERE name = $1 FOR UPDATE',
    [name],
  );
  return row!;
}

export async function findModelVersion(q: Queryable, name: string, version: number): Promise<ModelVersionRow | undefined> {
  const [row] = await q.query<ModelVersionRow>(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE name = $1 AND version = $2`, [
    name,
    version,
  ]);
  return row;
}

export async function findModelVersionAtStage(
  q: Queryable,
  name: string,
  stage: 'champion' | 'challenger',
): Promise<ModelVersionRow | undefined> {
  const [row] = await q.query<ModelVersionRow>(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE name = $1 AND stage = $2`, [
    name,
    stage,
  ]);
  return row;
}

/** Every version of a model, newest first. */
export async function listModelVersionRows(q: Queryable, name: string): Promise<Record<string, unknown>[]> {
  return q.query(`SELECT ${VERSION_COLUMNS} FROM model_versions WHERE name = $1 ORDER BY version DESC`, [name]);
}

export async function nextModelVersionNumber(tx: Tx, name: string): Promise<number> {
  const [{ next }] = (await tx.query<{ next: number }>('SELECT coalesce(max(version), 0) + 1 AS next FROM model_versions WHERE name = $1', [
    name,
  ])) as [{ next: number }, ...unknown[]];
  return next;
}

export async function insertModelVersion(
  tx: Tx,
  v: {
    id: string;
    name: string;
    version: number;
    model: SerializedModel;
    reference: ReferenceProfile;
    registeredBy: string;
    registeredAt: Date;
  },
): Promise<ModelVersionRow> {
  const json = v.model;
  const [row] = await tx.query<ModelVersionRow>(
    `INSERT INTO model_versions (id, name, version, model_id, family, data_fingerprint, training_rows, trained_at, metrics, feature_schema, model, reference, registered_by, registered_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING ${VERSION_COLUMNS}`,
    [
      v.id,
      v.name,
      v.version,
      json.id,
      json.family,
      json.dataFingerprint,
      json.training.rows,
      json.trainedAt,
      JSON.stringify(json.metrics),
      JSON.stringify(json.featureSchema),
      JSON.stringify(json),
      JSON.stringify(v.reference),
      v.registeredBy,
      v.registeredAt.toISOString(),
    ],
  );
  return row!;
}

/** A promotion to champion by a person: remembers the champion it replaced, and clears any drift demotion and retirement. */
export async function setVersionChampion(
  tx: Tx,
  id: string,
  by: { actor: string; at: Date; reason: string | null; replacedVersion: number | null },
): Promise<void> {
  await tx.query(
    `UPDATE model_versions SET stage = 'champion', promoted_by = $2, promoted_at = $3, promotion_reason = $4, replaced_version = $5, drift_demoted = false, retired_at = NULL, retired_reason = NULL
       WHERE id = $1`,
    [id, by.actor, by.at.toISOString(), by.reason, by.replacedVersion],
  );
}

/** A rollback's champion: keeps the version it once replaced, clears any drift demotion and retirement. */
export async function restoreVersionChampion(tx: Tx, id: string, by: { actor: string; at: Date; reason: string }): Promise<void> {
  await tx.query(
    "UPDATE model_versions SET stage = 'champion', promoted_by = $2, promoted_at = $3, promotion_reason = $4, drift_demoted = false, retired_at = NULL, retired_reason = NULL WHERE id = $1",
    [id, by.actor, by.at.toISOString(), by.reason],
  );
}

/** Auto-demotion's champion, the last good version: its record of drift demotion stays. */
export async function reinstateVersionChampion(tx: Tx, id: string, by: { actor: string; at: Date; reason: string }): Promise<void> {
  await tx.query(
    "UPDATE model_versions SET stage = 'champion', promoted_by = $2, promoted_at = $3, promotion_reason = $4, retired_at = NULL, retired_reason = NULL WHERE id = $1",
    [id, by.actor, by.at.toISOString(), by.reason],
  );
}

export async function setVersionChallenger(tx: Tx, id: string, by: { actor: string; at: Date; reason: string | null }): Promise<void> {
  await tx.query(
    "UPDATE model_versions SET stage = 'challenger', promoted_by = $2, promoted_at = $3, promotion_reason = $4, retired_at = NULL, retired_reason = NULL WHERE id = $1",
    [id, by.actor, by.at.toISOString(), by.reason],
  );
}

export async function setVersionCandidate(tx: Tx, id: string): Promise<void> {
  await tx.query("UPDATE model_versions SET stage = 'candidate' WHERE id = $1", [id]);
}

export async function setVersionRetired(tx: Tx, id: string, reason: string, forDrift: boolean, at: Date): Promise<void> {
  await tx.query("UPDATE model_versions SET stage = 'retired', retired_at = $2, retired_reason = $3, drift_demoted = $4 WHERE id = $1", [
    id,
    at.toISOString(),
    reason,
    forDrift,
  ]);
}

/** A champion again: rules no longer stand in for a demoted one. */
export async function clearModelRules(tx: Tx, name: string): Promise<void> {
  await tx.query('UPDATE models SET rules_since = NULL, rules_reason = NULL, rules_replaced = NULL WHERE name = $1', [name]);
}

/** Rules stand in from `since`, for the demoted champion `replaced`. */
export async function setModelRules(tx: Tx, name: string, since: Date, reason: string, replaced: number): Promise<void> {
  await tx.query('UPDATE models SET rules_since = $2, rules_reason = $3, rules_replaced = $4 WHERE name = $1', [
    name,
    since.toISOString(),
    reason,
    replaced,
  ]);
}

export interface ModelSettingsRow {
  psi_threshold: number;
  auto_demote: AutoDemoteMode;
  drift_check_hours: number;
  retrain_every_days: number | null;
  label_window_days: number;
  promote_margin: number;
}

export async function findModelSettingsRow(q: Queryable, name: string): Promise<ModelSettingsRow | undefined> {
  const [row] = await q.query<ModelSettingsRow>(
    'SELECT psi_threshold, auto_demote, drift_check_hours, retrain_every_days, label_window_days, promote_margin FROM models WHERE name = $1',
    [name],
  );
  return row;
}

export async function updateModelSettings(
  tx: Tx,
  name: string,
  settings: {
    psiThreshold: number;
    autoDemote: AutoDemoteMode;
    driftCheckHours: number;
    retrainEveryDays: number | null;
    labelWindowDays: number;
    promoteMargin: number;
  },
  actor: string,
): Promise<void> {
  await tx.query(
    `UPDATE models SET psi_threshold = $2, auto_demote = $3, drift_check_hours = $4, retrain_every_days = $5, label_window_days = $6,
       promote_margin = $7, updated_by = $8, updated_at = now() WHERE name = $1`,
    [
      name,
      settings.psiThreshold,
      settings.autoDemote,
      settings.driftCheckHours,
      settings.retrainEveryDays,
      settings.labelWindowDays,
      settings.promoteMargin,
      actor,
    ],
  );
}

/** The model's row with its champion, if any. */
export async function findModelServing(
  q: Queryable,
  name: string,
): Promise<{ rules_since: Date | null; rules_reason: string | null; version: number | null; model_id: string | null } | undefined> {
  const [row] = await q.query<{ rules_since: Date | null; rules_reason: string | null; version: number | null; model_id: string | null }>(
    `SELECT m.rules_since, m.rules_reason, v.version, v.model_id FROM models m LEFT JOIN model_versions v ON v.name = m.name AND v.stage = 'champion' WHERE m.name = $1`,
    [name],
  );
  return row;
}

/** The churn model's row with its champion and challenger (one row each; one row of nulls when neither); none when never registered. */
export async function listChurnServingRows(
  q: Queryable,
): Promise<
  { rules_since: Date | null; rules_reason: string | null; id: string | null; version: number | null; stage: ModelStage | null }[]
> {
  return q.query(
    `SELECT m.rules_since, m.rules_reason, v.id, v.version, v.stage FROM models m
     LEFT JOIN model_versions v ON v.name = m.name AND v.stage IN ('champion', 'challenger') WHERE m.name = 'churn'`,
  );
}

/** Every version of every model, briefly, by name and version. */
export async function listModelVersionBriefs(
  q: Queryable,
): Promise<{ name: string; version: number; stage: ModelStage; model_id: string; family: string; auc: number | null }[]> {
  return q.query(
    `SELECT name, version, stage, model_id, family, (metrics->'heldOut'->>'auc')::float8 AS auc FROM model_versions ORDER BY name, version`,
  );
}

export async function findVersionModelJson(q: Queryable, id: string): Promise<SerializedModel> {
  const [row] = await q.query<{ model: SerializedModel }>('SELECT model FROM model_versions WHERE id = $1', [id]);
  return row!.model;
}

export async function findChampionReference(
  q: Queryable,
  name: string,
): Promise<{ id: string; version: number; reference: ReferenceProfile } | undefined> {
  const [row] = await q.query<{ id: string; version: number; reference: ReferenceProfile }>(
    "SELECT id, version, reference FROM model_versions WHERE name = $1 AND stage = 'champion'",
    [name],
  );
  return row;
}

/** The newest `limit` drift checks of a model, newest first. */
export async function listDriftCheckRows(q: Queryable, name: string, limit: number): Promise<Record<string, unknown>[]> {
  return q.query('SELECT * FROM model_drift_checks WHERE name = $1 ORDER BY checked_at DESC, id DESC LIMIT $2', [name, limit]);
}

export async function insertDriftCheck(
  tx: Tx,
  c: {
    id: string;
    name: string;
    version: number;
    checkedAt: Date;
    checkedBy: string;
    population: number;
    threshold: number;
    maxPsi: number;
    worst: string;
    status: string;
    score: unknown;
    features: unknown;
    action: string | null;
  },
): Promise<Record<string, unknown>> {
  const [row] = await tx.query(
    `INSERT INTO model_drift_checks (id, name, version, checked_at, checked_by, population, threshold, max_psi, worst, status, score, features, action)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *`,
    [
      c.id,
      c.name,
      c.version,
      c.checkedAt.toISOString(),
      c.checkedBy,
      c.population,
      c.threshold,
      c.maxPsi,
      c.worst,
      c.status,
      JSON.stringify(c.score),
      JSON.stringify(c.features),
      c.action,
    ],
  );
  return row!;
}

/** Models whose champion has no drift check within the model's interval before `now` (a new champion has none). */
export async function listModelsDueForDriftCheck(db: Db, now: Date): Promise<string[]> {
  const due = await db.query<{ name: string }>(
    `SELECT m.name FROM models m JOIN model_versions v ON v.name = m.name AND v.stage = 'champion'
     WHERE NOT EXISTS (
       SELECT 1 FROM model_drift_checks c WHERE c.name = m.name AND c.version = v.version
         AND c.checked_at > $1::timestamptz - make_interval(secs => m.drift_check_hours * 3600)
     ) ORDER BY m.name`,
    [now.toISOString()],
  );
  return due.map((r) => r.name);
}

export interface RetrainRow {
  id: string;
  name: string;
  ran_at: Date | string;
  ran_by: string;
  decision: string;
  champion_version: number | null;
  challenger_version: number | null;
  detail: Record<string, unknown>;
}

export async function insertRetrain(
  tx: Tx,
  r: {
    id: string;
    name: string;
    ranAt: Date;
    ranBy: string;
    decision: string;
    championVersion: number | null;
    challengerVersion: number | null;
    detail: unknown;
  },
): Promise<RetrainRow> {
  const [row] = await tx.query<RetrainRow>(
    `INSERT INTO model_retrains (id, name, ran_at, ran_by, decision, champion_version, challenger_version, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
    [r.id, r.name, r.ranAt.toISOString(), r.ranBy, r.decision, r.championVersion, r.challengerVersion, JSON.stringify(r.detail)],
  );
  return row!;
}

/** The newest `limit` retrains of a model, newest first. */
export async function listRetrainRows(q: Queryable, name: string, limit: number): Promise<RetrainRow[]> {
  return q.query<RetrainRow>('SELECT * FROM model_retrains WHERE name = $1 ORDER BY ran_at DESC, id DESC LIMIT $2', [name, limit]);
}

/**
 * Models whose retrain is due at `now`: a schedule is set, a champion serves, and neither the champion's promotion
 * nor the latest retrain is within the interval (a new champion first serves one full interval).
 */
export async function listModelsDueForRetrain(db: Db, now: Date): Promise<string[]> {
  const due = await db.query<{ name: string }>(
    `SELECT m.name FROM models m JOIN model_versions v ON v.name = m.name AND v.stage = 'champion'
     WHERE m.retrain_every_days IS NOT NULL
       AND coalesce(v.promoted_at, v.registered_at) <= $1::timestamptz - make_interval(secs => m.retrain_every_days * 86400)
       AND NOT EXISTS (
         SELECT 1 FROM model_retrains r WHERE r.name = m.name
           AND r.ran_at > $1::timestamptz - make_interval(secs => m.retrain_every_days * 86400)
       ) ORDER BY m.name`,
    [now.toISOString()],
  );
  return due.map((r) => r.name);
}

export interface ReadinessRegistryRow {
  name: string;
  champion: number | null;
  auc: number | null;
  fingerprint: string | null;
  trained_at: Date | null;
  versions: number;
  rules_since: Date | null;
  drift_status: string | null;
  drift_at: Date | null;
  max_psi: number | null;
}

/**
 * The registry's champions and their latest drift check, for the readiness scorecard; `available` false when the
 * registry's tables are not there.
 */
export async function readinessRegistryRows(q: Queryable): Promise<{
  available: boolean;
  rows: ReadinessRegistryRow[];
}> {
  const [present] = await q.query<{ models: boolean; checks: boolean }>(
    "SELECT to_regclass('model_versions') IS NOT NULL AS models, to_regclass('model_drift_checks') IS NOT NULL AS checks",
  );
  if (!present!.models) return { available: false, rows: [] };
  const rows = await q.query<ReadinessRegistryRow>(
    `SELECT m.name, c.version AS champion, (c.metrics->'heldOut'->>'auc')::float8 AS auc, c.data_fingerprint AS fingerprint, c.trained_at,
            (SELECT count(*) FROM model_versions v WHERE v.name = m.name)::int AS versions, m.rules_since,
            ${present!.checks ? 'd.status' : 'NULL'} AS drift_status, ${present!.checks ? 'd.checked_at' : 'NULL'} AS drift_at, ${present!.checks ? 'd.max_psi' : 'NULL'} AS max_psi
     FROM models m
     LEFT JOIN model_versions c ON c.name = m.name AND c.stage = 'champion'
     ${present!.checks ? `LEFT JOIN LATERAL (SELECT status, checked_at, max_psi FROM model_drift_checks k WHERE k.name = m.name AND k.version = c.version ORDER BY checked_at DESC LIMIT 1) d ON true` : ''}
     ORDER BY m.name`,
  );
  return { available: true, rows };
}
