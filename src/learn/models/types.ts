/**
 * The shapes of ACS's trained models. `SerializedModel` is the stored format: plain JSON, everything needed to
 * score a new raw row, and nothing that depends on the process that trained it. A model registry keeps these.
 */

/** One cell of an input table: CSV cells arrive as strings, JSON rows may carry numbers, booleans or null. */
export type RawValue = string | number | boolean | null | undefined;
export type RawRow = Readonly<Record<string, RawValue>>;

/** How one input column becomes features. The order of `columns` and of their features is the feature order. */
export type ColumnSpec =
  | {
      column: string;
      kind: 'numeric';
      /** The training median, used for missing and unparsable values. */
      impute: number;
      /** Whether the column had missing values in training: then a `<column>:missing` 0/1 feature follows it. */
      missingIndicator: boolean;
    }
  | {
      column: string;
      kind: 'categorical';
      /** Levels with a 0/1 feature each, most frequent first (values are trimmed strings). */
      levels: string[];
      /** Whether a `<column>=(other)` feature exists: levels beyond the cap, and levels unseen in training. */
      other: boolean;
      /** Whether a `<column>:missing` feature exists (the column had missing values in training). */
      missingIndicator: boolean;
    };

export type DropReason = 'target' | 'id-like' | 'high-cardinality' | 'constant' | 'empty';

export interface FeatureSchema {
  /** The column predicted, and the value of it that counts as the positive outcome (compared as a trimmed string). */
  target: string;
  positive: string;
  columns: ColumnSpec[];
  /** Names of the encoded features, in order: `tenure`, `tenure:missing`, `contract=Two year`, `contract=(other)`. */
  features: string[];
  /** For each feature, the index of its column in `columns`. */
  featureColumn: number[];
  dropped: { column: string; reason: DropReason }[];
  /** Cell values read as missing (compared trimmed and case-insensitively), besides null, undefined and ''. */
  missingTokens: string[];
}

/** L2-regularised logistic regression on standardized features, plus hinge terms for numeric columns. */
export interface LogisticParams {
  /** Hinge terms max(0, x[feature] − knot), appended after the encoded features: a piecewise-linear fit of each numeric column. */
  hinges: { feature: number; knot: number }[];
  /** Per expanded input (encoded features, then hinges): standardization and weight. */
  mean: number[];
  scale: number[];
  weights: number[];
  intercept: number;
  l2: number;
}

/** One regression tree, as parallel arrays: node 0 is the root; a leaf has feature −1. Go left when x ≤ threshold. */
export interface TreeJson {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  /** Leaf values (already multiplied by the learning rate); 0 for inner nodes. */
  value: number[];
}

export interface GbdtConfig {
  rounds: number;
  learningRate: number;
  maxDepth: number;
  /** Fewest training rows in a leaf. */
  minLeaf: number;
  /** L2 penalty on leaf values. */
  l2: number;
  /** Share of rows each tree sees (without replacement). */
  subsample: number;
  /** Most histogram bins per feature (≤ 256). */
  maxBins: number;
}

/** Gradient-boosted trees on log loss: score = baseScore + Σ trees. */
export interface GbdtParams {
  config: GbdtConfig;
  baseScore: number;
  trees: TreeJson[];
}

/** Maps the family's raw score (log-odds) to a calibrated probability. */
export type Calibration =
  | { method: 'none' }
  /** p = σ(a·score + b), fitted on out-of-fold scores (Platt scaling). */
  | { method: 'platt'; a: number; b: number }
  /** Isotonic (pool-adjacent-violators) on out-of-fold scores: interpolated between the block `x` (scores) and `y` (probabilities). */
  | { method: 'isotonic'; x: number[]; y: number[] };

export type Family = 'logistic' | 'gbdt';

export interface CalibrationBin {
  /** Rows in the decile (by predicted probability), their mean prediction, and how many of them were positive (share). */
  count: number;
  meanPredicted: number;
  observed: number;
}

export interface FeatureImportance {
  feature: string;
  column: string;
  /** Share of the total (gain for trees, |standardized coefficient| for logistic), summing to 1 over all features. */
  importance: number;
}

export interface HeldOutMetrics {
  rows: number;
  positives: number;
  auc: number;
  logLoss: number;
  brier: number;
  /** The same before calibration, to show what calibration did. */
  logLossUncalibrated: number;
  brierUncalibrated: number;
  calibrationTable: CalibrationBin[];
}

export interface CandidateResult {
  family: Family;
  /** The configuration tried: `{ l2 }` for logistic, the tree settings (with rounds chosen by CV) for gbdt. */
  config: Record<string, number>;
  /** Mean over folds of each fold's ROC AUC, and their standard deviation. */
  cvAuc: number;
  cvAucSd: number;
  cvLogLoss: number;
}

export interface ModelMetrics {
  folds: number;
  /** Every configuration tried, in the order tried. */
  candidates: CandidateResult[];
  /** The best configuration of each family by CV AUC. */
  cvAuc: Partial<Record<Family, number>>;
  heldOut: HeldOutMetrics;
  /** With `compareFamilies`: the held-out AUC of the best configuration of each family, each fitted on the training split. */
  heldOutAucByFamily?: Partial<Record<Family, number>>;
  topFeatures: FeatureImportance[];
}

/** The stored model. Everything a scorer or a registry needs; read it back with `loadModel`. */
export interface SerializedModel {
  format: 'acs-model';
  /** Format version of this document (not of the model): bump on incompatible changes. */
  formatVersion: 1;
  /** `mdl_` + 16 hex digits of sha256 over everything in this document but `id`, `version` and `trainedAt`: the same data, seed and code give the same id. */
  id: string;
  /** Free label a registry may set (e.g. `churn-2026-05`); training leaves it unset. */
  version?: string;
  family: Family;
  task: 'binary';
  featureSchema: FeatureSchema;
  params: LogisticParams | GbdtParams;
  calibration: Calibration;
  metrics: ModelMetrics;
  /** ISO timestamp (an option, so a test can fix it). */
  trainedAt: string;
  /** sha256 (hex) of the canonical form of the table given to training, held-out rows included (see `fingerprintTable`). */
  dataFingerprint: string;
  training: {
    seed: number;
    rows: number;
    trainRows: number;
    testRows: number;
    positives: number;
    testFraction: number;
    folds: number;
  };
}
