// The act step: approvals, and tools that run only for a recorded decision that allows them, once per idempotency key.
export { executeDecision, executeInTransaction, compensateExecution, compensateInTransaction } from './execute.ts';
export type { ExecutionRequest, ExecutionResult } from './execute.ts';
export { approve, reject, expireApprovals } from './approvals.ts';
export { TOOLS, TOOL_ACTIONS, isToolAction, type ToolAction } from './tools.ts';
export { FileTransport, deliverQueuedMessages, type MessageTransport, type OutgoingMessage } from './transport.ts';
export { startPlay, runDuePlays, playRegistry, type PlayDefinition, type PlayStep, type StepOutcome, type PlayRegistry } from './plays.ts';
export { retentionPlay, type RetentionPlayState } from './retention-play.ts';
export { maintenanceTick, startMaintenance } from './maintenance.ts';
