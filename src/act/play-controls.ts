/**
 * An admin's controls on a play: retry one that failed, cancel one still under way. Both lock the play's row (a step
 * running on it finishes first), check its state, and ledger the change in the same transaction under the play's id.
 */
import { AppError } from '../errors.ts';
import { appendToLedger } from '../ledger/index.ts';
import type { Db } from '../store/index.ts';
import { cancelPlayRow, lockPlay, rerunPlayNow, withdrawPendingApproval } from './act.repo.ts';

const wrongState = (id: string, status: string, why: string) =>
  new AppError('play.wrong_state', `play ${id} is ${status}: ${why}`, [], { status });

/**
 * Runs a failed play's step again now, with a fresh count of attempts. Allowed for a running play that failed and is
 * waiting for its backoff, and for a play that gave up at its first step (it had nothing to undo, so nothing was
 * undone). A play that gave up after undoing completed steps is not resumed: its later steps would build on work that
 * was reversed (a notice about a credit taken back).
 */
export async function retryPlay(db: Db, id: string, opts: { actor: string; now: Date }): Promise<void> {
  await db.transaction(async (tx) => {
    const row = await lockPlay(tx, id);
    if (!row) throw new AppError('play.not_found', `no play ${id}`);
    const undone = Array.isArray(row.state.completed) ? row.state.completed.map(String) : [];
    if (row.status === 'gave_up' && undone.length > 0)
      throw wrongState(id, row.status, `it undid its completed steps (${undone.join(', ')}) when it gave up; start a new play instead`);
    if (row.status === 'running' && row.attempts === 0) throw wrongState(id, row.status, 'it has not failed, so there is nothing to retry');
    if (row.status !== 'running' && row.status !== 'gave_up')
      throw wrongState(id, row.status, 'only a play that failed (running and backing off, or gave up at its first step) can be retried');
    await rerunPlayNow(tx, id, opts.now.toISOString());
    await appendToLedger(tx, [
      {
        type: 'play.retried',
        actor: opts.actor,
        subjectType: 'plays',
        subjectId: id,
        data: {
          kind: row.kind,
          step: row.step,
          from: row.status,
          attempts: row.attempts,
          lastError: row.last_error,
          at: opts.now.toISOString(),
        },
        at: opts.now,
      },
    ]);
  });
}

/** The approvals a play's state names (a step's `{ decisionId, approvalId }`, e.g. the retention offer or the case). */
function approvalIdsOf(state: Record<string, unknown>): string[] {
  const data = state.data && typeof state.data === 'object' ? (state.data as Record<string, unknown>) : {};
  return Object.values(data).flatMap((v) =>
    v && typeof v === 'object' && typeof (v as { approvalId?: unknown }).approvalId === 'string'
      ? [(v as { approvalId: string }).approvalId]
      : [],
  );
}

/**
 * Stops a running or waiting play before its next step; it ends refused (a person said no), with who cancelled it,
 * when and why in its state. Steps it already completed stay done: a credit it applied stays applied. An approval
 * the play still waits on is withdrawn (it ends expired, with the canceller as its decider), so approving it later
 * cannot run the play's action after all; a withdrawal is not a rejection, so it does not count against the agent.
 */
export async function cancelPlay(db: Db, id: string, opts: { actor: string; reason: string | null; now: Date }): Promise<void> {
  await db.transaction(async (tx) => {
    const row = await lockPlay(tx, id);
    if (!row) throw new AppError('play.not_found', `no play ${id}`);
    if (row.status !== 'running' && row.status !== 'waiting')
      throw wrongState(id, row.status, 'only a running or waiting play can be cancelled');
    const at = opts.now.toISOString();
    await cancelPlayRow(tx, id, JSON.stringify({ by: opts.actor, at, reason: opts.reason }));
    const completed = Array.isArray(row.state.completed) ? row.state.completed.map(String) : [];
    const withdrawn = [];
    for (const approvalId of approvalIdsOf(row.state)) {
      const w = await withdrawPendingApproval(tx, approvalId, { actor: opts.actor, reason: `withdrawn: play ${id} was cancelled`, at });
      if (w) withdrawn.push(w);
    }
    await appendToLedger(tx, [
      {
        type: 'play.cancelled',
        actor: opts.actor,
        subjectType: 'plays',
        subjectId: id,
        data: {
          kind: row.kind,
          step: row.step,
          from: row.status,
          completed,
          reason: opts.reason,
          at,
          withdrawnApprovals: withdrawn.map((w) => w.id),
        },
        at: opts.now,
      },
      ...withdrawn.map((w) => ({
        type: 'approval.withdrawn',
        actor: opts.actor,
        subjectType: 'approvals',
        subjectId: w.id,
        data: { decisionId: w.decision_id, playId: id },
        at: opts.now,
      })),
    ]);
  });
}
