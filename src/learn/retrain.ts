import { createHash } from 'node:crypto';
import { AppError } from '../errors.ts';
import { appendToLedger } from '../ledger/index.ts';
import { stream } from '../lib/index.ts';
import { newId, type Db, type Tx } from '../store/index.ts';
import { MODEL_DATASETS } from './datasets.ts';
import { trainModel } from './models/index.ts';
import type { Family, RawRow } from './models/types.ts';
import {
  MIN_PER_OUTCOME,
  MIN_TRAINING_ROWS,
  loadModelSettings,
  runDueDriftChecks,
  loadVersionModel,
  promoteInTransaction,
  registerModel,
  requireModel,
} from './registry.ts';
import {
  findModelVersionAtStage,
  insertRetrain,
  listModelsDueForRetrain,
  listRetrainRows,
  lockModelRow,
  type RetrainRow,
} from './registry.repo.ts';

/**
 * Learning from live outcomes: the scheduled retrain of a registry model on outcomes recorded in ACS.
 *
 * Labels. The snapshot is `now − labelWindowDays`. The population is the customers at risk at the snapshot (see
 * churnOutcomeCustomers in src/views/training-data.ts); a customer is a positive if ACS recorded a `churned` outcome
 * signal for them in [snapshot, now), and a negative otherwise. The whole window has been observed for everyone, so
 * no negative is censored; customers who ended outside ACS's record (a cancelled subscription with no churned outcome
 * in the window) and customers already churned before the snapshot are left out. The imported label
 * (`attributes.churned`) is not used: the challenger learns only from what ACS itself recorded.
 *
 * Fresh held-out data. Customers are split by a hash of their id into a training part and a held-out part
 * (HELD_OUT_SHARE). The split is fixed per customer, so no retrain ever trains on a held-out customer. The
 * challenger is trained on the training part only; champion and challenger are both scored on the held-out part.
 *
 * Decision. The AUC difference (challenger − champion) on the held-out part, with a 95% paired, stratified
 * bootstrap percentile interval (BOOTSTRAP_RESAMPLES resamples, fixed seed). The challenger is promoted only when
 * the interval's lower bound exceeds the model's `promoteMargin`. Every run is recorded (model_retrains) and
 * ledgered as `model.retrained`, whatever the decision.
 */

/** Share of customers held out from every retrain, to judge champion and challenger on. */
export const HELD_OUT_SHARE = 0.3;
export const BOOTSTRAP_RESAMPLES = 2000;
export const BOOTSTRAP_SEED = 13;
/** The actor of a promotion made by the retrain rule (the system, not whoever asked for the run). */
export const RETRAIN_ACTOR = 'system:retrain';

export type RetrainDecision = 'promoted' | 'kept_champion' | 'no_champion' | 'skipped';

export interface AucComparison {
  heldOut: { rows: number; positives: number; negatives: number };
  championAuc: number;
  challengerAuc: number;
  difference: number;
  ci95: [number, number];
  method: string;
  resamples: number;
  seed: number;
}

export interface RetrainView {
  id: string;
  name: string;
  ranAt: string;
  ranBy: string;
  decision: RetrainDecision;
  championVersion: number | null;
  challengerVersion: number | null;
  /** Why, in a sentence. */
  reason: string;
  margin: number;
  labels: { snapshot: string; asOf: string; windowDays: number; source: 'acs_outcomes' };
  training: { rows: number; positives: number; negatives: number } | null;
  comparison: AucComparison | null;
}

/** Which part a customer is in: fixed by the id alone, so the held-out customers are the same for every retrain. */
export function isHeldOut(customerId: string): boolean {
  const h = createHash('sha256').update(`acs-retrain-holdout:${customerId}`).digest();
  return h.readUInt32BE(0) / 2 ** 32 < HELD_OUT_SHARE;
}

/** Score order with tie groups, computed once per model so each bootstrap resample's AUC is one linear sweep. */
function tieGroups(scores: ArrayLike<number>): { order: Uint32Array; groupEnd: Uint32Array } {
  const n = scores.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => scores[a]! - scores[b]!);
  const groupEnd = new Uint32Array(n);
  for (let i = 0; i < n;) {
    let j = i;
    while (j < n && scores[order[j]!] === scores[order[i]!]) j++;
    for (let k = i; k < j; k++) groupEnd[k] = j;
    i = j;
  }
  return { order, groupEnd };
}

/** AUC with each row counted `weights[i]` times (a bootstrap resample): P(score of a positive > a negative), ties half. */
function weightedAuc(g: { order: Uint32Array; groupEnd: Uint32Array }, labels: ArrayLike<number>, weights: ArrayLike<number>): number {
  let negBelow = 0;
  let sum = 0;
  let pos = 0;
  const n = g.order.length;
  for (let i = 0; i < n;) {
    const end = g.groupEnd[i]!;
    let p = 0;
    let q = 0;
    for (let k = i; k < end; k++) {
      const r = g.order[k]!;
      if (labels[r] === 1) p += weights[r]!;
      else q += weights[r]!;
    }
    sum += p * (negBelow + q / 2);
    negBelow += q;
    pos += p;
    i = end;
  }
  return sum / (pos * negBelow);
}

/**
 * The AUC difference b − a of two scorings of the same rows, with a 95% paired bootstrap percentile interval: each
 * resample draws the positives and the negatives with replacement (stratified, so both outcomes are always present)
 * and scores both models on the same draw. Deterministic for a seed.
 */
export function pairedAucDifference(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  labels: ArrayLike<number>,
  options: { resamples?: number; seed?: number } = {},
): { a: number; b: number; difference: number; ci95: [number, number] } {
  const resamples = options.resamples ?? BOOTSTRAP_RESAMPLES;
  const n = labels.length;
  const pos: number[] = [];
  const neg: number[] = [];
  for (let i = 0; i < n; i++) (labels[i] === 1 ? pos : neg).push(i);
  if (pos.length === 0 || neg.length === 0) throw new RangeError('AUC needs both outcomes');
  const ga = tieGroups(a);
  const gb = tieGroups(b);
  const ones = new Float64Array(n).fill(1);
  const aucA = weightedAuc(ga, labels, ones);
  const aucB = weightedAuc(gb, labels, ones);
  const rng = stream(options.seed ?? BOOTSTRAP_SEED, 'paired-auc-bootstrap');
  const diffs = new Float64Array(resamples);
  const w = new Float64Array(n);
  for (let r = 0; r < resamples; r++) {
    w.fill(0);
    for (const part of [pos, neg]) for (let k = 0; k < part.length; k++) w[part[Math.floor(rng.next() * part.length)]!]! += 1;
    diffs[r] = weightedAuc(gb, labels, w) - weightedAuc(ga, labels, w);
  }
  diffs.sort();
  const lo = diffs[Math.floor(0.025 * resamples)]!;
  const hi = diffs[Math.min(resamples - 1, Math.ceil(0.975 * resamples) - 1)]!;
  return { a: aucA, b: aucB, difference: aucB - aucA, ci95: [lo, hi] };
}

const iso = (v: unknown) => new Date(v as string).toISOString();

function toRetrain(r: RetrainRow): RetrainView {
  const d = r.detail as Omit<RetrainView, 'id' | 'name' | 'ranAt' | 'ranBy' | 'decision' | 'championVersion' | 'challengerVersion'>;
  return {
    id: r.id,
    name: r.name,
    ranAt: iso(r.ran_at),
    ranBy: r.ran_by,
    decision: r.decision as RetrainDecision,
    championVersion: r.champion_version,
    challengerVersion: r.challenger_version,
    reason: d.reason,
    margin: d.margin,
    labels: d.labels,
    training: d.training,
    comparison: d.comparison,
  };
}

const count = (rows: readonly RawRow[], target: string, positive: string) => {
  const positives = rows.filter((r) => String(r[target]) === positive).length;
  return { rows: rows.length, positives, negatives: rows.length - positives };
};
const enough = (c: { rows: number; positives: number; negatives: number }, minRows: number) =>
  c.rows >= minRows && c.positives >= MIN_PER_OUTCOME && c.negatives >= MIN_PER_OUTCOME;
const fmt = (x: number) => x.toFixed(3);

/**
 * Retrains `name` on outcomes recorded in ACS, judges the challenger against the champion on held-out customers
 * and promotes it only when the 95% CI of the AUC gain clears the margin. Records and ledgers the decision.
 */
export async function retrainModel(db: Db, name: string, actor: string, now: Date): Promise<RetrainView> {
  await requireModel(db, name);
  const dataset = MODEL_DATASETS[name];
  if (!dataset?.loadOutcomeLabelled)
    throw new AppError('model.not_ready', `model '${name}' has no labels from outcomes recorded in ACS; only churn can be retrained`);
  const settings = await loadModelSettings(db, name);
  const snapshot = new Date(now.getTime() - settings.labelWindowDays * 86_400_000);
  const labels = {
    snapshot: snapshot.toISOString(),
    asOf: now.toISOString(),
    windowDays: settings.labelWindowDays,
    source: 'acs_outcomes' as const,
  };
  const champion = await findModelVersionAtStage(db, name, 'champion');
  const labelled = await dataset.loadOutcomeLabelled(db, snapshot, now);
  const train = labelled.filter((l) => !isHeldOut(l.customerId)).map((l) => l.row);
  const held = labelled.filter((l) => isHeldOut(l.customerId)).map((l) => l.row);
  const trainCount = count(train, dataset.target, dataset.positive);
  const heldCount = count(held, dataset.target, dataset.positive);
  const base = { margin: settings.promoteMargin, labels, training: trainCount };

  const record = (
    decision: RetrainDecision,
    reason: string,
    extra: { challengerVersion?: number | null; comparison?: AucComparison | null },
    work?: (tx: Tx) => Promise<number | null>,
  ) =>
    db.transaction(async (tx) => {
      await lockModelRow(tx, name);
      const current = await findModelVersionAtStage(tx, name, 'champion');
      if ((current?.id ?? null) !== (champion?.id ?? null))
        throw new AppError('model.stage_conflict', `the ${name} champion changed while the retrain ran; run it again`);
      const challengerVersion = work ? await work(tx) : (extra.challengerVersion ?? null);
      const detail = { reason, ...base, comparison: extra.comparison ?? null };
      const id = newId('mretrain');
      const row = await insertRetrain(tx, {
        id,
        name,
        ranAt: now,
        ranBy: actor,
        decision,
        championVersion: champion?.version ?? null,
        challengerVersion,
        detail,
      });
      await appendToLedger(tx, [
        {
          type: 'model.retrained',
          actor,
          subjectType: 'model_retrains',
          subjectId: id,
          at: now,
          data: { name, decision, champion: champion?.version ?? null, challenger: challengerVersion, ...detail },
        },
      ]);
      return toRetrain(row);
    });

  if (!enough(trainCount, MIN_TRAINING_ROWS) || !enough(heldCount, 2 * MIN_PER_OUTCOME)) {
    return record(
      'skipped',
      `too few outcomes recorded in ACS to retrain ${name}: ${trainCount.rows} training customers (${trainCount.positives} churned) and ` +
        `${heldCount.rows} held out (${heldCount.positives} churned) in the ${settings.labelWindowDays}-day window; need ${MIN_TRAINING_ROWS} ` +
        `and ${2 * MIN_PER_OUTCOME} rows with ${MIN_PER_OUTCOME} of each outcome in each part`,
      {},
    );
  }
  // Like for like: the challenger is of the champion's family (logistic when there is none), trained with a fixed seed.
  const family = ((champion?.family as Family | undefined) ?? 'logistic') satisfies Family;
  const { model } = trainModel(train, {
    target: dataset.target,
    positive: dataset.positive,
    families: [family],
    seed: BOOTSTRAP_SEED,
    trainedAt: now,
  });
  const json = model.toJSON();
  const registerChallenger = async (tx: Tx) => (await registerModel(tx, { name, model: json, rows: train, actor, now })).version;

  if (!champion) {
    return record(
      'no_champion',
      `${name} has no champion to beat: the challenger is registered as a candidate, and an admin promotes the first champion`,
      {},
      registerChallenger,
    );
  }
  const championModel = await loadVersionModel(db, champion.id);
  const y = held.map((r) => (String(r[dataset.target]) === dataset.positive ? 1 : 0));
  const cmp = pairedAucDifference(championModel.predictMany(held), model.predictMany(held), y);
  const comparison: AucComparison = {
    heldOut: heldCount,
    championAuc: cmp.a,
    challengerAuc: cmp.b,
    difference: cmp.difference,
    ci95: cmp.ci95,
    method: `paired stratified bootstrap, percentile interval, ${BOOTSTRAP_RESAMPLES} resamples, seed ${BOOTSTRAP_SEED}`,
    resamples: BOOTSTRAP_RESAMPLES,
    seed: BOOTSTRAP_SEED,
  };
  const summary =
    `challenger AUC ${fmt(cmp.b)} vs champion v${champion.version} ${fmt(cmp.a)} on ${heldCount.rows} held-out customers: ` +
    `difference ${fmt(cmp.difference)}, 95% CI [${fmt(cmp.ci95[0])}, ${fmt(cmp.ci95[1])}]`;
  const promote = cmp.ci95[0] > settings.promoteMargin;
  if (promote) {
    const reason = `${summary}; lower bound above the margin ${settings.promoteMargin}`;
    return record('promoted', reason, { comparison }, async (tx) => {
      const version = await registerChallenger(tx);
      await promoteInTransaction(tx, { name, version, stage: 'champion', reason: `retrain: ${reason}`, actor: RETRAIN_ACTOR, now });
      return version;
    });
  }
  return record(
    'kept_champion',
    `${summary}; lower bound not above the margin ${settings.promoteMargin}`,
    { comparison },
    registerChallenger,
  );
}

/** A scheduled retrain that failed, stored and ledgered as skipped with the error. */
async function recordFailure(db: Db, name: string, now: Date, err: unknown): Promise<RetrainView> {
  const settings = await loadModelSettings(db, name);
  const reason = `the retrain failed: ${err instanceof Error ? err.message : String(err)}; the next one runs after the interval`;
  const detail = {
    reason,
    margin: settings.promoteMargin,
    labels: {
      snapshot: new Date(now.getTime() - settings.labelWindowDays * 86_400_000).toISOString(),
      asOf: now.toISOString(),
      windowDays: settings.labelWindowDays,
      source: 'acs_outcomes' as const,
    },
    training: null,
    comparison: null,
  };
  return db.transaction(async (tx) => {
    await lockModelRow(tx, name);
    const champion = await findModelVersionAtStage(tx, name, 'champion');
    const id = newId('mretrain');
    const row = await insertRetrain(tx, {
      id,
      name,
      ranAt: now,
      ranBy: RETRAIN_ACTOR,
      decision: 'skipped',
      championVersion: champion?.version ?? null,
      challengerVersion: null,
      detail,
    });
    await appendToLedger(tx, [
      {
        type: 'model.retrained',
        actor: RETRAIN_ACTOR,
        subjectType: 'model_retrains',
        subjectId: id,
        at: now,
        data: { name, decision: 'skipped', champion: champion?.version ?? null, challenger: null, ...detail },
      },
    ]);
    return toRetrain(row);
  });
}

/** The recent retrains of a model, newest first. */
export async function listRetrains(db: Db, name: string, limit = 10): Promise<RetrainView[]> {
  await requireModel(db, name);
  return (await listRetrainRows(db, name, limit)).map(toRetrain);
}

/**
 * The scheduled part, asked every maintenance round beside the drift checks: retrains each model whose schedule is
 * due (see listModelsDueForRetrain). A failing model is reported and the others still run.
 */
export async function runDueRetrains(db: Db, now: Date, onError?: (name: string, err: unknown) => void): Promise<RetrainView[]> {
  const due = await listModelsDueForRetrain(db, now);
  const out: RetrainView[] = [];
  for (const name of due) {
    if (!MODEL_DATASETS[name]?.loadOutcomeLabelled) continue;
    try {
      out.push(await retrainModel(db, name, RETRAIN_ACTOR, now));
    } catch (err) {
      onError?.(name, err);
      // Recorded as a skipped run, so the schedule waits one interval instead of training again every round.
      const failed = await recordFailure(db, name, now, err).catch(() => null);
      if (failed) out.push(failed);
    }
  }
  return out;
}

/** What one round of model upkeep did, for the maintenance log. */
export type UpkeepEntry =
  | { name: string; version: number; status: string; maxPsi: number; worst: string; action: string | null }
  | { name: string; retrain: RetrainDecision; champion: number | null; challenger: number | null; reason: string };

/**
 * One round of model upkeep, as maintenance runs it (src/act/maintenance.ts `models`): the due drift checks, then
 * the due retrains. Each decides itself what is due.
 */
export async function runModelUpkeep(
  db: Db,
  now: Date,
  onError?: (name: string, what: 'drift' | 'retrain', err: unknown) => void,
): Promise<UpkeepEntry[]> {
  const checks = await runDueDriftChecks(db, now, (name, err) => onError?.(name, 'drift', err));
  const retrains = await runDueRetrains(db, now, (name, err) => onError?.(name, 'retrain', err));
  return [
    ...checks.map((c) => ({ name: c.name, version: c.version, status: c.status, maxPsi: c.maxPsi, worst: c.worst, action: c.action })),
    ...retrains.map((r) => ({
      name: r.name,
      retrain: r.decision,
      champion: r.championVersion,
      challenger: r.challengerVersion,
      reason: r.reason,
    })),
  ];
}
