/**
 * loop: the decide stage, the governed loop. For the customers and leads a batch touched (or a daily sweep), agents
 * propose, arbitration ranks, the holdout is held out, policy decides in rank order, and what is allowed runs or
 * starts the retention play. Owns no tables of its own: it writes through reason, assure, learn and act.
 */
export {
  decideFor,
  holdoutKey,
  judgeSubject,
  runScheduledAgents,
  SCHEDULED_AGENTS,
  subscribeDecisionLoop,
  type LoopOptions,
  type LoopSubjects,
  type LoopTally,
  type Verdict,
} from './loop.ts';
export { loadContexts } from './context.ts';
export { proposeExternal, ExternalProposalInput, type ExternalProposalOptions, type ExternalProposalResult } from './external.ts';
export { churnScoreNow } from './churn-score.ts';
