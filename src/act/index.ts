/**
 * act: the act stage. Tools that run only for a recorded decision that allows them (once per idempotency key),
 * approvals (policy's decisions are recorded here with the approvals they open), durable plays (the retention play; the service recovery play: a case, then its notice),
 * message transport and the maintenance rounds. Owns tables approvals, executions, plays, messages and credits
 * (act.repo.ts).
 */
export { executeDecision, executeInTransaction, compensateExecution, compensateInTransaction } from './execute.ts';
export type { ExecutionRequest, ExecutionResult } from './execute.ts';
export {
  approve,
  approveAndRun,
  checkApprovalEdit,
  type EditCheck,
  bulkApprove,
  reject,
  expireApprovals,
  approvalExecutionKey,
  REJECTION_CATEGORIES,
  type ApprovedRun,
  type BulkApprovalResult,
  type RejectionCategory,
} from './approvals.ts';
export { TOOLS, TOOL_ACTIONS, isToolAction, type ToolAction, type AgentStopReason } from './tools.ts';
export { FileTransport, deliverQueuedMessages, type MessageTransport, type OutgoingMessage } from './transport.ts';
export {
  startPlay,
  startPlayInTransaction,
  runDuePlays,
  playRegistry,
  type PlayDefinition,
  type PlayStep,
  type StepOutcome,
  type PlayRegistry,
  type StartPlayOptions,
} from './plays.ts';
export {
  draftMessageBody,
  ledgerMessageGeneration,
  messagePurpose,
  withTextVerdict,
  MESSAGE_PASSAGES,
  TEXT_ABSTAINED_POLICY_ID,
  TEXT_GUARDRAILS_POLICY_ID,
  type DraftedMessage,
  type MessageCitation,
  type MessageTextDeps,
} from './message-body.ts';
export { retryPlay, cancelPlay } from './play-controls.ts';
export { retentionPlay, type RetentionPlayState } from './retention-play.ts';
export { serviceRecoveryPlay, type ServiceRecoveryPlayState } from './service-recovery-play.ts';
export { maintenanceTick, startMaintenance, MAINTENANCE_LEASE, DEFAULT_LEASE_TTL_MS, type MaintenanceDeps } from './maintenance.ts';
export { recordDecision, recordDecisions, DEFAULT_APPROVAL_TTL_MS, type DecisionRecordInput } from './decisions.ts';
export { recordJudged, type Judged } from './governed.ts';
export { creditBudgetLeft } from './credit-budget.ts';
export * from './act.repo.ts';
