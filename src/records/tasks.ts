/**
 * Working the tasks executed actions created (a save call, a follow-up): a person assigns one or completes it. Each
 * change is ledgered in the transaction that makes it, under the task's id, with who did it and, for a completion,
 * the note: the tasks table keeps the state, the ledger the history.
 */
import { AppError } from '../errors.ts';
import { appendToLedger } from '../ledger/index.ts';
import type { Db, Tx } from '../store/index.ts';
import { lockTask, markTaskDone, setTaskAssignee } from './records.repo.ts';

/** Locks an open task: 404 when there is none, 409 naming its status when it is no longer open. */
async function lockOpenTask(tx: Tx, id: string, what: string): Promise<{ assignee: string | null }> {
  const row = await lockTask(tx, id);
  if (!row) throw new AppError('task.not_found', `no task ${id}`);
  if (row.status !== 'open')
    throw new AppError('task.not_open', `task ${id} is ${row.status}: only an open task can be ${what}`, [], { status: row.status });
  return row;
}

export async function assignTask(db: Db, id: string, opts: { assignee: string; actor: string; now: Date }): Promise<void> {
  await db.transaction(async (tx) => {
    const before = await lockOpenTask(tx, id, 'assigned');
    await setTaskAssignee(tx, id, opts.assignee);
    await appendToLedger(tx, [
      {
        type: 'task.assigned',
        actor: opts.actor,
        subjectType: 'tasks',
        subjectId: id,
        data: { assignee: opts.assignee, previous: before.assignee, at: opts.now.toISOString() },
        at: opts.now,
      },
    ]);
  });
}

export async function completeTask(db: Db, id: string, opts: { note: string | null; actor: string; now: Date }): Promise<void> {
  await db.transaction(async (tx) => {
    await lockOpenTask(tx, id, 'completed');
    await markTaskDone(tx, id);
    await appendToLedger(tx, [
      {
        type: 'task.completed',
        actor: opts.actor,
        subjectType: 'tasks',
        subjectId: id,
        data: { note: opts.note, at: opts.now.toISOString() },
        at: opts.now,
      },
    ]);
  });
}
