/**
 * assure: policy. Cedar policies and autonomy levels decide what runs, what waits for a human and what is refused;
 * proposals are recorded here. Owns the policies, and tables proposals and decisions (assure.repo.ts); act records
 * each decision with its approval (which act owns).
 */
export { PolicyGate, DEFAULT_CREDIT_APPROVAL_LIMIT_CENTS, toCedarCall, type PolicyGateOptions } from './gate.ts';
export {
  loadPolicies,
  loadPolicySources,
  checkPolicySources,
  DEFAULT_POLICY_DIR,
  type LoadedPolicies,
  type CheckedPolicies,
  type PolicyInfo,
  type PolicySource,
} from './load.ts';
export {
  describePolicySet,
  validatePolicyCandidate,
  dryRunPolicies,
  checkCandidateOrRefuse,
  type PolicySummary,
  type CandidateValidation,
  type DryRunOptions,
  type DryRunReport,
  type DryRunChange,
  type DryRunImpact,
} from './candidate.ts';
export { PolicyLoadError, PolicyRequestError, type PolicyProblem } from './errors.ts';
export {
  PolicyRequest,
  POLICY_ACTIONS,
  CHANNELS,
  PURPOSES,
  RISKS,
  OUTCOMES,
  type PolicyAction,
  type PolicyRequestInput,
  type Decision,
  type Outcome,
} from './request.ts';
export { recordProposal, recordProposals, type ProposalRecordInput } from './proposals.ts';
export * from './assure.repo.ts';
export {
  effectiveAutonomy,
  replayAutonomyChange,
  type AutonomyCase,
  type AutonomyReplay,
  type AutonomySubject,
  type EffectiveAutonomy,
} from './autonomy.ts';
export {
  adoptPolicies,
  restorePolicyVersion,
  syncPolicyVersion,
  followPolicyVersions,
  listPolicyVersions,
  readPolicyVersion,
  POLICY_ADOPTED_CHANNEL,
  type PolicyVersionSummary,
} from './versions.ts';
