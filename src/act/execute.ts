import { AppError } from '../errors.ts';
import { appendToLedger } from '../ledger/index.ts';
import { inSpan } from '../lib/index.ts';
import type { Db, Tx } from '../store/index.ts';
import { findExecutionByKey, insertExecution, lockExecutionKey, markExecutionCompensated } from './act.repo.ts';
import { ActionRefused, loadGrant, TOOLS, type ToolAction } from './tools.ts';

export interface ExecutionRequest {
  decisionId: string;
  /** Stable for one intended effect: a retry, restart or duplicate delivery uses the same key. */
  idempotencyKey: string;
  actor: string;
  /** When the action takes effect (default: now); a simulation passes its own clock. */
  now?: Date;
  /** The daily credit budget a credit keeps to (PolicyGate.dailyCreditBudgetCents); absent: not checked. */
  dailyCreditBudgetCents?: number;
}

export interface ExecutionResult {
  idempotencyKey: string;
  action: string;
  /** `refused`: the tool would not act any more (its consent was withdrawn since the decision); `result` says why. */
  status: 'succeeded' | 'compensated' | 'refused';
  result: Record<string, unknown>;
  /** True when the key had run before and nothing was done again. */
  replayed: boolean;
}

/**
 * Runs the action a decision allows, exactly once per idempotency key: the effect, the execution row and
 * the ledger entry commit together, and a repeat of the key returns the first result without acting.
 */
export async function executeDecision(db: Db, req: ExecutionRequest): Promise<ExecutionResult> {
  return db.transaction((tx) => executeInTransaction(tx, req));
}

/** executeDecision inside the caller's transaction (a play step commits its effect with its own progress). */
export function executeInTransaction(tx: Tx, req: ExecutionRequest): Promise<ExecutionResult> {
  return inSpan(
    'tool execute',
    { attributes: { 'acs.decision.id': req.decisionId, 'acs.execution.key': req.idempotencyKey } },
    async (span) => {
      const result = await executeUntraced(tx, req);
      span.updateName(`tool ${result.action}`);
      span.setAttributes({ 'acs.tool': result.action, 'acs.execution.status': result.status, 'acs.execution.replayed': result.replayed });
      return result;
    },
  );
}

async function executeUntraced(tx: Tx, req: ExecutionRequest): Promise<ExecutionResult> {
  if (!/^[\w.:-]{1,200}$/.test(req.idempotencyKey)) {
    throw new AppError('validation_failed', 'bad idempotency key', [
      { path: 'idempotencyKey', message: 'letters, digits, _ . : - only, at most 200' },
    ]);
  }
  await lockExecutionKey(tx, req.idempotencyKey);
  const done = await findExecutionByKey(tx, req.idempotencyKey);
  if (done) {
    if (done.decision_id !== req.decisionId)
      throw new AppError('execution.key_reused', `idempotency key ${req.idempotencyKey} was used for decision ${done.decision_id}`);
    return { idempotencyKey: req.idempotencyKey, action: done.action, status: done.status, result: done.result, replayed: true };
  }
  const grant = await loadGrant(tx, req.decisionId);
  if (grant.agentStopped === 'kill_switch')
    throw new AppError('kill_switch.on', "the kill switch is engaged: no agent's action runs until an admin releases it");
  if (grant.agentStopped === 'paused')
    throw new AppError('agent.paused', `agent ${grant.agentId} is paused: nothing it proposed runs until an admin resumes it`);
  const tool = TOOLS[grant.action];
  const params = tool.params.safeParse(grant.params);
  if (!params.success) {
    throw new AppError(
      'validation_failed',
      `parameters do not fit ${grant.action}`,
      params.error.issues.map((i) => ({ path: `params.${i.path.join('.')}`, message: i.message })),
    );
  }
  const at = req.now ?? new Date();
  let status: 'succeeded' | 'refused' = 'succeeded';
  let result: Record<string, unknown>;
  try {
    result = await (tool.run as (tx: Tx, g: typeof req, p: unknown) => Promise<Record<string, unknown>>)(tx, req, params.data);
  } catch (err) {
    // A refusal comes before any effect, so the transaction is still good for recording it; the key is spent.
    if (!(err instanceof ActionRefused)) throw err;
    status = 'refused';
    result = { reason: err.reason, ...err.detail };
  }
  await insertExecution(tx, {
    idempotencyKey: req.idempotencyKey,
    decisionId: req.decisionId,
    action: grant.action,
    params: JSON.stringify(params.data),
    status,
    result: JSON.stringify(result),
    createdAt: at.toISOString(),
  });
  await appendToLedger(tx, [
    {
      type: status === 'succeeded' ? 'action.executed' : 'action.refused',
      actor: req.actor,
      subjectType: 'executions',
      subjectId: req.idempotencyKey,
      data: {
        decisionId: req.decisionId,
        proposalId: grant.proposalId,
        action: grant.action,
        accountId: grant.accountId,
        leadId: grant.leadId,
        result,
      },
      at,
    },
  ]);
  return { idempotencyKey: req.idempotencyKey, action: grant.action, status, result, replayed: false };
}

/**
 * Undoes an execution (a play that gave up). An effect that cannot be undone is recorded as such and
 * the execution stays succeeded; compensating twice is a no-op.
 */
export async function compensateExecution(
  db: Db,
  key: string,
  actor: string,
  reason: string,
  now: Date,
): Promise<{ compensated: boolean }> {
  return db.transaction((tx) => compensateInTransaction(tx, key, actor, reason, now));
}

/** `now` is the business clock's time (the ledger dates the entry by it). */
export async function compensateInTransaction(
  tx: Tx,
  key: string,
  actor: string,
  reason: string,
  now: Date,
): Promise<{ compensated: boolean }> {
  await lockExecutionKey(tx, key);
  const done = await findExecutionByKey(tx, key);
  if (!done) throw new AppError('not_found', `no execution ${key}`);
  // Nothing ran for a refused action: there is nothing to undo.
  if (done.status === 'compensated' || done.status === 'refused') return { compensated: true };
  const tool = TOOLS[done.action as ToolAction];
  const g = { decisionId: done.decision_id, idempotencyKey: key, actor, now };
  if (!tool.canCompensate) {
    await appendToLedger(tx, [
      { type: 'action.not_compensable', actor, subjectType: 'executions', subjectId: key, data: { action: done.action }, at: now },
    ]);
    return { compensated: false };
  }
  await tool.compensate(tx, g, done.result);
  await markExecutionCompensated(tx, key);
  await appendToLedger(tx, [
    {
      type: 'action.compensated',
      actor,
      subjectType: 'executions',
      subjectId: key,
      data: { action: done.action, reasonGiven: reason.length > 0 },
      at: now,
    },
  ]);
  return { compensated: true };
}
