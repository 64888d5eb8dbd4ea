// The act step: approvals, and tools that run only for a recorded decision that allows them, once per idempotency key.
export { executeDecision, compensateExecution } from './execute.ts';
export type { ExecutionRequest, ExecutionResult } from './execute.ts';
export { approve, reject, expireApprovals } from './approvals.ts';
export { TOOLS, TOOL_ACTIONS, isToolAction, type ToolAction } from './tools.ts';
export { FileTransport, deliverQueuedMessages, type MessageTransport, type OutgoingMessage } from './transport.ts';
