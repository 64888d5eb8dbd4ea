import { z } from 'zod';
import { AppError } from '../../errors.ts';
import { calibrate } from './calibration.ts';
import { FeatureEncoder } from './features.ts';
import { CompiledForest } from './gbdt.ts';
import { logisticScoreRow } from './logistic.ts';
import type { GbdtParams, LogisticParams, RawRow, SerializedModel } from './types.ts';

const finite = z.number().refine(Number.isFinite, 'must be a finite number');

const columnSpec = z.discriminatedUnion('kind', [
  z.object({ column: z.string(), kind: z.literal('numeric'), impute: finite, missingIndicator: z.boolean() }),
  z.object({
    column: z.string(),
    kind: z.literal('categorical'),
    levels: z.array(z.string()),
    other: z.boolean(),
    missingIndicator: z.boolean(),
  }),
]);

const featureSchema = z.object({
  target: z.string(),
  positive: z.string(),
  columns: z.array(columnSpec),
  features: z.array(z.string()),
  featureColumn: z.array(z.number().int()),
  dropped: z.array(z.object({ column: z.string(), reason: z.enum(['target', 'id-like', 'high-cardinality', 'constant', 'empty']) })),
  missingTokens: z.array(z.string()),
});

const logisticParams = z.object({
  hinges: z.array(z.object({ feature: z.number().int().nonnegative(), knot: finite })),
  mean: z.array(finite),
  scale: z.array(finite),
  weights: z.array(finite),
  intercept: finite,
  l2: finite,
});

const tree = z.object({
  feature: z.array(z.number().int()),
  threshold: z.array(finite),
  left: z.array(z.number().int()),
  right: z.array(z.number().int()),
  value: z.array(finite),
});
const gbdtParams = z.object({
  config: z.object({
    rounds: z.number().int(),
    learningRate: finite,
    maxDepth: z.number().int(),
    minLeaf: z.number().int(),
    l2: finite,
    subsample: finite,
    maxBins: z.number().int(),
  }),
  baseScore: finite,
  trees: z.array(tree),
});

const calibration = z.discriminatedUnion('method', [
  z.object({ method: z.literal('none') }),
  z.object({ method: z.literal('platt'), a: finite, b: finite }),
  z.object({ method: z.literal('isotonic'), x: z.array(finite).min(1), y: z.array(finite).min(1) }),
]);

/** Checks a stored model's shape before it is trusted with scoring (metrics are kept as they are). */
const serializedModel = z.object({
  format: z.literal('acs-model'),
  formatVersion: z.literal(1),
  id: z.string(),
  version: z.string().optional(),
  family: z.enum(['logistic', 'gbdt']),
  task: z.literal('binary'),
  featureSchema,
  params: z.unknown(),
  calibration,
  metrics: z.record(z.string(), z.unknown()),
  trainedAt: z.string(),
  dataFingerprint: z.string().regex(/^[0-9a-f]{64}$/),
  training: z.record(z.string(), z.unknown()),
});

/**
 * A fitted model, ready to score raw rows (the same shape as the training table: strings, numbers, blanks).
 * Build one from its stored JSON with `loadModel`; `toJSON()` gives that JSON back unchanged.
 */
export class Model {
  private readonly encoder: FeatureEncoder;
  private readonly scoreEncoded: (x: Float64Array, at: number) => number;
  private readonly row: Float64Array;

  constructor(readonly json: SerializedModel) {
    this.encoder = new FeatureEncoder(json.featureSchema);
    const width = this.encoder.width;
    if (json.family === 'logistic') {
      const p = json.params as LogisticParams;
      const expanded = width + p.hinges.length;
      if (p.mean.length !== expanded || p.scale.length !== expanded || p.weights.length !== expanded) {
        throw new AppError('validation_failed', 'logistic parameters do not match the feature schema', [
          { path: 'params', message: `expected ${expanded} weights, got ${p.weights.length}` },
        ]);
      }
      this.scoreEncoded = (x, at) => logisticScoreRow(p, width, x, at);
    } else {
      const params = json.params as GbdtParams;
      params.trees.forEach((t, k) => {
        const nodes = t.feature.length;
        const bad =
          [t.threshold, t.left, t.right, t.value].some((a) => a.length !== nodes) ||
          t.feature.some(
            (f, j) => f >= width || (f >= 0 && !(t.left[j]! > j && t.left[j]! < nodes && t.right[j]! > j && t.right[j]! < nodes)),
          );
        // Children come after their parent, so a walk down a tree always ends at a leaf.
        if (bad)
          throw new AppError('validation_failed', 'tree parameters do not match the feature schema', [
            { path: `params.trees.${k}`, message: `features must be below ${width}, children inside the tree and after their parent` },
          ]);
      });
      const forest = new CompiledForest(params);
      this.scoreEncoded = (x, at) => forest.score(x, at);
    }
    this.row = new Float64Array(width);
  }

  get id(): string {
    return this.json.id;
  }

  /** The family's log-odds before calibration. */
  rawScore(row: RawRow): number {
    this.encoder.encodeInto(row, this.row, 0);
    return this.scoreEncoded(this.row, 0);
  }

  /** Calibrated probability that the row's target is the positive value. */
  predict(row: RawRow): number {
    return calibrate(this.json.calibration, this.rawScore(row));
  }

  /** Probabilities for many rows. */
  predictMany(rows: readonly RawRow[]): Float64Array {
    const out = new Float64Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      this.encoder.encodeInto(rows[i]!, this.row, 0);
      out[i] = calibrate(this.json.calibration, this.scoreEncoded(this.row, 0));
    }
    return out;
  }

  toJSON(): SerializedModel {
    return this.json;
  }
}

/** Reads a stored model (an object or its JSON text), checking its shape; errors name the field at fault. */
export function loadModel(input: unknown): Model {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch (err) {
      throw new AppError('validation_failed', `model is not JSON: ${(err as Error).message}`);
    }
  }
  const parsed = serializedModel.safeParse(value);
  if (!parsed.success) {
    throw new AppError(
      'validation_failed',
      'not an ACS model',
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  const params = (parsed.data.family === 'logistic' ? logisticParams : gbdtParams).safeParse(parsed.data.params);
  if (!params.success) {
    throw new AppError(
      'validation_failed',
      `bad ${parsed.data.family} parameters`,
      params.error.issues.map((i) => ({ path: ['params', ...i.path].join('.'), message: i.message })),
    );
  }
  return new Model(value as SerializedModel);
}
