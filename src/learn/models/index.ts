/**
 * Model training inside ACS: binary outcomes (churn, conversion, offer acceptance) from a raw table, with
 * automatic features, two model families written here (L2 logistic regression, gradient-boosted trees),
 * cross-validated selection, calibration, a held-out report, and a serializable model (`SerializedModel`).
 */
export { calibrate, fitIsotonic, fitPlatt } from './calibration.ts';
export { readCsvTable } from './csv.ts';
export {
  cellNumber,
  cellText,
  checkTarget,
  DEFAULT_MISSING_TOKENS,
  FeatureEncoder,
  fingerprintTable,
  inferSchema,
  tableColumns,
  targetLabels,
  valueCounts,
  type SchemaOptions,
} from './features.ts';
export { binEdges, binRows, CompiledForest, gbdtParams, gbdtScores, trainGbdt, type BinEdges, type Binned, type GbdtFit } from './gbdt.ts';
export { designMatrix, fitLogistic, logisticDesign, logisticScores, type LogisticDesign, type LogisticFitResult } from './logistic.ts';
export { auc, brier, calibrationTable, logLoss, sigmoid } from './metrics.ts';
export { loadModel, Model } from './model.ts';
export { stratifiedFolds, stratifiedSplit } from './split.ts';
export { DEFAULT_GBDT_GRID, DEFAULT_L2_GRID, trainModel, type TrainOptions, type TrainResult } from './train.ts';
export type * from './types.ts';
