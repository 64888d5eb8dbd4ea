/**
 * reason: agents and what they reason with. The agent registry and manifests, expected value, bandit choices,
 * arbitration, the churn model, agent settings and the kill switch (what agents propose is recorded by assure). Owns
 * tables agent_settings and agent_kill_switch (reason.repo.ts).
 */
export { ChurnModel, CHURN_FEATURES, churnFeatureVector, fitLogistic, rocAuc } from './churn-model.ts';
export type { ChurnModelInput, ChurnPrediction, ChurnModelSummary, LogisticFit } from './churn-model.ts';
export { loadChurnExamples, trainingFingerprint } from './churn-training.ts';
export type { ChurnExample } from './churn-training.ts';
export * from './agents/index.ts';
export {
  arbitrate,
  conflictReason,
  followUpLimit,
  DEFAULT_RULES,
  type Arbitration,
  type ArbitrationRules,
  type RecentAction,
} from './orchestrator.ts';
export {
  autonomyInForce,
  listAgents,
  listAutonomyChanges,
  loadAgentSettings,
  updateAgent,
  updateInTransaction as updateAgentInTransaction,
  type AgentChange,
  loadKillSwitch,
  registerExternalAgent,
  setKillSwitch,
  stoppedAgents,
  type AgentSettings,
  type AgentView,
  type KillSwitch,
} from './settings.ts';
export { ineligibility } from './eligibility.ts';
export { EU_MEMBER_STATES, regionOf, regionOfAttributes, regionOfCountry } from './region.ts';
export * from './reason.repo.ts';
