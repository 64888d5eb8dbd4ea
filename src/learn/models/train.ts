import { createHash } from 'node:crypto';
import { AppError } from '../../errors.ts';
import { canonicalJson } from '../../ledger/index.ts';
import { fitIsotonic, fitPlatt } from './calibration.ts';
import { checkTarget, FeatureEncoder, fingerprintTable, inferSchema, targetLabels, type SchemaOptions } from './features.ts';
import { binEdges, binRows, gbdtParams, gbdtScores, trainGbdt, type GbdtFit } from './gbdt.ts';
import { designMatrix, fitLogistic, logisticDesign, logisticScores, toParams, type LogisticFitResult } from './logistic.ts';
import { auc, brier, calibrationTable, logLoss, mean, sd, sigmoid } from './metrics.ts';
import { Model } from './model.ts';
import { stratifiedFolds, stratifiedSplit } from './split.ts';
import type {
  Calibration,
  CandidateResult,
  Family,
  FeatureImportance,
  FeatureSchema,
  GbdtConfig,
  GbdtParams,
  LogisticParams,
  RawRow,
  SerializedModel,
} from './types.ts';

/**
 * Trains a binary classifier on a raw table: infers the features, cross-validates each family's small fixed grid
 * on the training split, keeps the configuration with the best mean ROC AUC, refits it on the whole training
 * split, calibrates it on its out-of-fold scores, and reports on the held-out split. One configuration for every
 * dataset: nothing here is tuned per table.
 */

/** Penalties tried for the logistic family (on standardized inputs, summed log loss). */
export const DEFAULT_L2_GRID = [0.1, 1, 10, 100];

/** The tree configurations tried; rounds is the most, the number kept is chosen by cross-validation. */
export const DEFAULT_GBDT_GRID: GbdtConfig[] = [
  { rounds: 300, learningRate: 0.1, maxDepth: 3, minLeaf: 20, l2: 1, subsample: 0.8, maxBins: 64 },
  { rounds: 300, learningRate: 0.1, maxDepth: 5, minLeaf: 40, l2: 1, subsample: 0.8, maxBins: 64 },
];

export interface TrainOptions {
  target: string;
  /** The value of the target column that counts as the positive outcome (compared as a trimmed string). */
  positive: string;
  seed?: number;
  /** Share of the labelled rows held out for the report (stratified). Default 0.3. */
  testFraction?: number;
  /** Cross-validation folds on the training split. Default 5. */
  folds?: number;
  families?: Family[];
  l2Grid?: number[];
  gbdtGrid?: GbdtConfig[];
  calibration?: Calibration['method'];
  /** Also fit the best configuration of the family not chosen, to report its held-out AUC. */
  compareFamilies?: boolean;
  schema?: SchemaOptions;
  /** Recorded as `trainedAt` (default: now). */
  trainedAt?: Date | string;
  topFeatures?: number;
  onProgress?: (message: string) => void;
}

export interface TrainResult {
  model: Model;
  /** Labelled rows used; rows whose target was missing are left out. */
  unlabeled: number;
  timings: { features: number; crossValidation: number; fit: number; evaluate: number; total: number };
}

interface Candidate {
  result: CandidateResult;
  /** Out-of-fold raw scores over the training split. */
  oof: Float64Array;
  l2?: number;
  gbdt?: GbdtConfig;
}

export function trainModel(rows: readonly RawRow[], options: TrainOptions): TrainResult {
  const t0 = performance.now();
  const { target, positive } = options;
  const seed = options.seed ?? 0;
  const testFraction = options.testFraction ?? 0.3;
  const k = options.folds ?? 5;
  const families = options.families ?? ['logistic', 'gbdt'];
  const progress = options.onProgress ?? (() => undefined);
  if (!(testFraction > 0 && testFraction < 1))
    throw new AppError('validation_failed', 'testFraction must be between 0 and 1', [
      { path: 'testFraction', message: String(testFraction) },
    ]);
  if (!(Number.isInteger(k) && k >= 2 && k <= 20))
    throw new AppError('validation_failed', 'folds must be an integer from 2 to 20', [{ path: 'folds', message: String(k) }]);
  if (!Number.isSafeInteger(seed))
    throw new AppError('validation_failed', 'seed must be an integer', [{ path: 'seed', message: String(seed) }]);
  checkTarget(rows, target, positive);

  const yAll = targetLabels(rows, target, positive);
  const labeled: number[] = [];
  for (let i = 0; i < rows.length; i++) if (!Number.isNaN(yAll[i]!)) labeled.push(i);
  const split = stratifiedSplit(yAll, labeled, testFraction, seed);
  const count = (idx: Uint32Array, cls: number) => idx.reduce((s, i) => s + (yAll[i] === cls ? 1 : 0), 0);
  const need = Math.max(k, 2);
  for (const cls of [1, 0]) {
    if (count(split.train, cls) < need || count(split.test, cls) < 1) {
      throw new AppError(
        'validation_failed',
        `too few ${cls ? 'positive' : 'negative'} rows to train and test: ${count(split.train, cls) + count(split.test, cls)}`,
        [
          {
            path: 'target',
            message: `each outcome needs at least ${Math.ceil(need / (1 - testFraction)) + 1} rows for ${k}-fold cross-validation and a held-out split`,
          },
        ],
      );
    }
  }
  const trainRows = Array.from(split.train, (i) => rows[i]!);
  const testRows = Array.from(split.test, (i) => rows[i]!);
  const y = Float64Array.from(split.train, (i) => yAll[i]!);
  const yTest = Float64Array.from(split.test, (i) => yAll[i]!);

  // The schema (levels, medians) comes from the training split alone, so the held-out rows stay unseen.
  const schema = inferSchema(trainRows, target, positive, options.schema);
  const encoder = new FeatureEncoder(schema);
  const width = encoder.width;
  if (width === 0) {
    throw new AppError('validation_failed', 'no column is usable as a feature', [
      {
        path: 'csv',
        message:
          schema.dropped
            .filter((d) => d.reason !== 'target')
            .map((d) => `${d.column}: ${d.reason}`)
            .join(', ') || 'the table has only the target column',
      },
    ]);
  }
  const x = encoder.encode(trainRows);
  const n = trainRows.length;
  progress(`${n} training rows, ${testRows.length} held out, ${width} features`);
  const t1 = performance.now();

  const fold = stratifiedFolds(y, k, seed);
  const foldRows = Array.from({ length: k }, (_, f) => {
    const fit: number[] = [];
    const valid: number[] = [];
    for (let i = 0; i < n; i++) (fold[i] === f ? valid : fit).push(i);
    return { fit: Uint32Array.from(fit), valid: Uint32Array.from(valid) };
  });
  const candidates: Candidate[] = [];
  if (families.includes('logistic')) candidates.push(...cvLogistic(x, width, y, schema, foldRows, options.l2Grid ?? DEFAULT_L2_GRID));
  progress('logistic cross-validated');
  if (families.includes('gbdt')) {
    for (const config of options.gbdtGrid ?? DEFAULT_GBDT_GRID) candidates.push(cvGbdt(x, width, y, foldRows, config, seed));
  }
  progress('trees cross-validated');
  if (candidates.length === 0)
    throw new AppError('validation_failed', 'no model family to train', [{ path: 'families', message: 'logistic, gbdt' }]);
  const bestOf = (family: Family) =>
    candidates
      .filter((c) => c.result.family === family)
      .reduce<Candidate | null>((b, c) => (!b || c.result.cvAuc > b.result.cvAuc ? c : b), null);
  // Ties go to the logistic regression: the simpler, more transparent model.
  const chosen = [bestOf('logistic'), bestOf('gbdt')]
    .filter((c): c is Candidate => c !== null)
    .reduce((b, c) => (c.result.cvAuc > b.result.cvAuc ? c : b));
  const t2 = performance.now();

  const method = options.calibration ?? 'platt';
  const calibration: Calibration =
    method === 'platt' ? fitPlatt(chosen.oof, y) : method === 'isotonic' ? fitIsotonic(chosen.oof, y) : { method: 'none' };
  const all = Uint32Array.from({ length: n }, (_, i) => i);
  const fitted = fitCandidate(chosen, x, width, y, schema, all, seed);
  const t3 = performance.now();

  const trainedAt = options.trainedAt === undefined ? new Date().toISOString() : new Date(options.trainedAt).toISOString();
  const dataFingerprint = fingerprintTable(rows);
  const topN = options.topFeatures ?? 15;
  const draft: Omit<SerializedModel, 'id' | 'metrics'> = {
    format: 'acs-model',
    formatVersion: 1,
    family: chosen.result.family,
    task: 'binary',
    featureSchema: schema,
    params: fitted.params,
    calibration,
    trainedAt,
    dataFingerprint,
    training: {
      seed,
      rows: labeled.length,
      trainRows: n,
      testRows: testRows.length,
      positives: count(split.train, 1) + count(split.test, 1),
      testFraction,
      folds: k,
    },
  };
  // Score the held-out rows through the stored form, exactly as a consumer of the JSON will.
  const provisional = new Model({ ...draft, id: '', metrics: emptyMetrics(k) });
  const raw = Float64Array.from(testRows, (r) => provisional.rawScore(r));
  const calibrated = provisional.predictMany(testRows);
  const uncalibrated = raw.map(sigmoid);
  const heldOutAucByFamily: Partial<Record<Family, number>> = { [chosen.result.family]: auc(raw, yTest) };
  if (options.compareFamilies) {
    for (const family of ['logistic', 'gbdt'] as const) {
      const other = bestOf(family);
      if (!other || family === chosen.result.family) continue;
      const m = new Model({
        ...draft,
        family,
        params: fitCandidate(other, x, width, y, schema, all, seed).params,
        id: '',
        metrics: emptyMetrics(k),
      });
      heldOutAucByFamily[family] = auc(
        Float64Array.from(testRows, (r) => m.rawScore(r)),
        yTest,
      );
    }
  }
  const metrics: SerializedModel['metrics'] = {
    folds: k,
    candidates: candidates.map((c) => c.result),
    cvAuc: Object.fromEntries((['logistic', 'gbdt'] as const).flatMap((f) => (bestOf(f) ? [[f, bestOf(f)!.result.cvAuc]] : []))),
    heldOut: {
      rows: testRows.length,
      positives: count(split.test, 1),
      auc: auc(calibrated, yTest),
      logLoss: logLoss(calibrated, yTest),
      brier: brier(calibrated, yTest),
      logLossUncalibrated: logLoss(uncalibrated, yTest),
      brierUncalibrated: brier(uncalibrated, yTest),
      calibrationTable: calibrationTable(calibrated, yTest),
    },
    ...(options.compareFamilies ? { heldOutAucByFamily } : {}),
    topFeatures: fitted.importance.slice(0, topN),
  };
  // Content-addressed: the same data, options and code give the same id whenever they run, so trainedAt is left out.
  const { trainedAt: _when, ...content } = draft;
  const id = `mdl_${createHash('sha256')
    .update(canonicalJson({ ...content, metrics }))
    .digest('hex')
    .slice(0, 16)}`;
  const model = new Model({ ...draft, id, metrics } as SerializedModel);
  const t4 = performance.now();
  return {
    model,
    unlabeled: rows.length - labeled.length,
    timings: { features: t1 - t0, crossValidation: t2 - t1, fit: t3 - t2, evaluate: t4 - t3, total: t4 - t0 },
  };
}

function emptyMetrics(folds: number): SerializedModel['metrics'] {
  return {
    folds,
    candidates: [],
    cvAuc: {},
    heldOut: { rows: 0, positives: 0, auc: 0, logLoss: 0, brier: 0, logLossUncalibrated: 0, brierUncalibrated: 0, calibrationTable: [] },
    topFeatures: [],
  };
}

type Folds = { fit: Uint32Array; valid: Uint32Array }[];

const pick = (a: ArrayLike<number>, rows: Uint32Array) => Float64Array.from(rows, (i) => a[i]!);

/** Every penalty of the grid on every fold, strongest penalty first so each fit warm-starts the next. */
function cvLogistic(x: Float64Array, width: number, y: Float64Array, schema: FeatureSchema, folds: Folds, grid: number[]): Candidate[] {
  const l2s = [...grid].sort((a, b) => b - a);
  const oof = l2s.map(() => new Float64Array(y.length));
  const aucs = l2s.map(() => [] as number[]);
  const losses = l2s.map(() => [] as number[]);
  for (const { fit, valid } of folds) {
    const design = logisticDesign(x, width, fit, schema);
    const zFit = designMatrix(x, width, fit, design);
    const zValid = designMatrix(x, width, valid, design);
    const yFit = pick(y, fit);
    const yValid = pick(y, valid);
    let start: LogisticFitResult | undefined;
    l2s.forEach((l2, g) => {
      start = fitLogistic(zFit, yFit, l2, start);
      const s = logisticScores(zValid, start);
      valid.forEach((row, j) => (oof[g]![row] = s[j]!));
      aucs[g]!.push(auc(s, yValid));
      losses[g]!.push(logLoss(s.map(sigmoid), yValid));
    });
  }
  return l2s.map((l2, g) => ({
    result: { family: 'logistic', config: { l2 }, cvAuc: mean(aucs[g]!), cvAucSd: sd(aucs[g]!), cvLogLoss: mean(losses[g]!) },
    oof: oof[g]!,
    l2,
  }));
}

/** Rounds a fold keeps training after its best validation loss, before it stops. */
const GBDT_PATIENCE = 40;

/** One tree configuration on every fold; the number of rounds kept is the one with the least mean validation log loss. */
function cvGbdt(x: Float64Array, width: number, y: Float64Array, folds: Folds, config: GbdtConfig, seed: number): Candidate {
  const fits: { fit: GbdtFit; valid: ReturnType<typeof binRows>; rows: Uint32Array }[] = [];
  folds.forEach(({ fit, valid }, f) => {
    const edges = binEdges(x, width, fit, config.maxBins);
    const data = binRows(x, width, fit, edges);
    const validData = binRows(x, width, valid, edges);
    const result = trainGbdt(data, pick(y, fit), edges, config, seed + 7919 * (f + 1), {
      data: validData,
      y: pick(y, valid),
      patience: GBDT_PATIENCE,
    });
    fits.push({ fit: result, valid: validData, rows: valid });
  });
  // The mean validation curve, as far as every fold went (each went at least GBDT_PATIENCE past its own best).
  const length = Math.min(...fits.map((f) => f.fit.validLoss!.length));
  const curve = new Float64Array(length);
  for (const { fit } of fits) for (let r = 0; r < length; r++) curve[r]! += fit.validLoss![r]! / fits.length;
  let rounds = 1;
  for (let r = 1; r < length; r++) if (curve[r]! < curve[rounds - 1]!) rounds = r + 1;
  const oof = new Float64Array(y.length);
  const aucs: number[] = [];
  for (const { fit, valid, rows } of fits) {
    const s = gbdtScores(fit, valid, rounds);
    rows.forEach((row, j) => (oof[row] = s[j]!));
    aucs.push(auc(s, pick(y, rows)));
  }
  const chosen = { ...config, rounds };
  return {
    result: { family: 'gbdt', config: { ...chosen }, cvAuc: mean(aucs), cvAucSd: sd(aucs), cvLogLoss: curve[rounds - 1]! },
    oof,
    gbdt: chosen,
  };
}

/** Fits a candidate's configuration on the given rows; returns the stored parameters and feature importances. */
function fitCandidate(
  c: Candidate,
  x: Float64Array,
  width: number,
  y: Float64Array,
  schema: FeatureSchema,
  rows: Uint32Array,
  seed: number,
): { params: LogisticParams | GbdtParams; importance: FeatureImportance[] } {
  const yRows = pick(y, rows);
  if (c.result.family === 'logistic') {
    const design = logisticDesign(x, width, rows, schema);
    const fit = fitLogistic(designMatrix(x, width, rows, design), yRows, c.l2!);
    const params = toParams(design, fit, c.l2!);
    // A hinge's weight counts toward the feature it bends.
    const raw = new Float64Array(width);
    fit.weights.forEach((w, j) => (raw[j < width ? j : design.hinges[j - width]!.feature]! += Math.abs(w)));
    return { params, importance: importances(raw, schema) };
  }
  const config = c.gbdt!;
  const edges = binEdges(x, width, rows, config.maxBins);
  const fit = trainGbdt(binRows(x, width, rows, edges), yRows, edges, config, seed);
  return { params: gbdtParams(fit, edges, config), importance: importances(fit.gains, schema) };
}

function importances(raw: ArrayLike<number>, schema: FeatureSchema): FeatureImportance[] {
  let total = 0;
  for (let j = 0; j < raw.length; j++) total += raw[j]!;
  return schema.features
    .map((feature, j) => ({
      feature,
      column: schema.columns[schema.featureColumn[j]!]!.column,
      importance: total > 0 ? raw[j]! / total : 0,
    }))
    .sort((a, b) => b.importance - a.importance || (a.feature < b.feature ? -1 : 1));
}
