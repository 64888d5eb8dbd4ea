/**
 * learn: measuring and learning from outcomes. Holdout assignment, uplift statistics, KPIs, bandit posteriors,
 * track records (earned autonomy), readiness, drift, model training, the model registry and its scheduled retrain on live outcomes. Owns tables bandit_arms
 * and bandit_pulls (learn.repo.ts) and the model registry's models, model_versions, model_drift_checks and
 * model_retrains (registry.repo.ts); what it reads of other modules comes through src/views.
 */
export { holdoutPoint, inHoldout, leadHoldoutKey } from './holdout.ts';
export {
  achievedPower,
  baseRate,
  minimumDetectableEffect,
  normalCdf,
  normalQuantile,
  powerReport,
  requiredSampleSize,
  twoProportionPValue,
  upliftReport,
  wilsonInterval,
  ALPHA,
  TARGET_POWER,
  type GroupCounts,
  type PowerReport,
  type UpliftReport,
} from './uplift.ts';
export {
  agentStats,
  agentUplift,
  compare,
  DEFAULT_DENY,
  kpis,
  measuresOf,
  type ActionUplift,
  type AgentMeasure,
  type AgentStats,
  type AgentUplift,
  type Comparison,
  type Kpis,
  type RegisteredAgent,
} from './kpis.ts';
export { dayRange, type DayRange } from './day-range.ts';
export { KPI_DEFINITIONS, kpiMetrics, SLA_HOURS, type Kpi, type KpiKey, type KpiMetrics } from './metrics.ts';
export {
  banditReport,
  DEFAULT_BANDIT_SEED,
  loadPosteriors,
  posteriorKey,
  OUTCOME_HORIZON_DAYS,
  OUTCOME_REWARD,
  recordPulls,
  sampleBeta,
  subscribeBanditUpdates,
  thompson,
  updateFromOutcomes,
  type BanditArmReport,
  type Posterior,
  type Posteriors,
  type Pull,
} from './bandit.ts';
export { TRACK_WINDOW_DAYS, trackContext, trackKey, trackRecords, type TrackRecord } from './track-record.ts';
export {
  getModel,
  listModels,
  ModelSettingsInput,
  promoteVersion,
  rollbackModel,
  runDriftCheck,
  runDueDriftChecks,
  saveModelSettings,
  servingChurn,
  TrainInput,
  trainAndRegister,
  type DriftCheckView,
  type ModelSummary,
  type VersionView,
} from './registry.ts';
export {
  fitUplift,
  inFitSplit,
  loadUpliftEstimator,
  rankingQuality,
  shrunk,
  upliftEstimator,
  upliftModelReport,
  UPLIFT_FIT_SHARE,
  UPLIFT_HORIZON_DAYS,
  UPLIFT_PRIOR_K,
  UPLIFT_WINDOW_DAYS,
  type AgentUpliftModel,
  type RankedUnit,
  type RankingQuality,
  type SegmentFit,
  type UpliftFit,
  type UpliftModelReport,
} from './uplift-model.ts';
export {
  BOOTSTRAP_RESAMPLES,
  BOOTSTRAP_SEED,
  HELD_OUT_SHARE,
  isHeldOut,
  listRetrains,
  pairedAucDifference,
  retrainModel,
  RETRAIN_ACTOR,
  runDueRetrains,
  runModelUpkeep,
  type RetrainView,
  type UpkeepEntry,
} from './retrain.ts';
export { readiness, type Readiness, type ReadinessMetric } from './readiness.ts';
export { modelUsage } from './model-usage.ts';
export { readCsvTable, trainModel, type CandidateResult } from './models/index.ts';
export * from './registry.repo.ts';
export * from './learn.repo.ts';
export { CALIBRATION_BOUNDS, CALIBRATION_PRIOR_EVENTS, fitChurnCalibration, loadChurnCalibration } from './churn-calibration.ts';
