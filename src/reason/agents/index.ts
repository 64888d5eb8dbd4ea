export { AGENTS, agentById } from './registry.ts';
export {
  EXTERNAL_ACTIONS,
  EXTERNAL_DEFAULT_AUTONOMY,
  EXTERNAL_PREFIX,
  externalAgent,
  externalAgentId,
  isExternalAgentId,
  type ExternalAction,
} from './external.ts';
export { retentionAgent, SAVE_CALL_TITLE, scoreChurn } from './retention.ts';
export { upliftSegmentOf } from './segments.ts';
export { serviceRecoveryAgent } from './service-recovery.ts';
export { leadNurturingAgent, companyFromEmail, leadScore, ROUTE_SCORE } from './lead-nurturing.ts';
export { dataStewardshipAgent, recordProblems } from './data-stewardship.ts';
export { expectedValue, firedTriggers, RISK_PENALTY_SHARE } from './ev.ts';
export type {
  Agent,
  AgentManifest,
  AgentAction,
  AutonomyLevel,
  ChurnCalibration,
  ChurnScore,
  CustomerContext,
  EligibilityRule,
  ExpectedValue,
  FeatureTrigger,
  OutcomeKind,
  ProposalDraft,
  ProposeOptions,
  RegisteredScorer,
  Risk,
  ServedModels,
  Term,
  UpliftEstimator,
} from './types.ts';
export { BANDITS, chooseOffer, DEFAULT_OFFER, MESSAGE_CHANNELS, onChosenChannel, RETENTION_OFFERS, segmentOf } from './bandit.ts';
export type { BanditArm, BanditChoice, BanditChooser } from './types.ts';
