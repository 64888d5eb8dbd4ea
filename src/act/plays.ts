import { AppError } from '../errors.ts';
import { appendToLedger } from '../ledger/index.ts';
import { newId, type Db, type Tx } from '../store/index.ts';
import {
  claimDuePlay,
  findApprovalStatus,
  finishPlay,
  insertPlay,
  makePlayWait,
  markPlayGaveUp,
  movePlayToStep,
  schedulePlayRetry,
} from './act.repo.ts';

/** What a step decided: go on, finish, check again later (a human decides meanwhile), or stop because policy or a person said no. */
export type StepOutcome<S> =
  { next: string; state: S } | { done: true; state: S } | { wait: number; state: S } | { refuse: string; state: S };

export interface PlayRef {
  id: string;
  accountId: string | null;
  /** The runner's clock: decisions and approvals a step makes are dated by it. */
  now: Date;
}

/**
 * One step of a play, with a stable id (its key in `steps`). `run` works inside the transaction that also
 * records the play's progress, so a step's effect and the play moving past it commit together.
 */
export interface PlayStep<S> {
  run(tx: Tx, play: PlayRef, state: S): Promise<StepOutcome<S>>;
  /** Undoes the step's effect when the play gives up after it; absent when there is nothing to undo. */
  compensate?: (tx: Tx, play: PlayRef, state: S) => Promise<void>;
}

/**
 * A step that waits for a person's decision on the approval `approvalOf` names: approved goes on to `next`, rejected
 * or expired refuses the play, naming `what` was refused; still pending checks again after `pollMs`.
 */
export function awaitApproval<S>(opts: {
  approvalOf: (s: S) => string | null | undefined;
  next: string;
  what: string;
  pollMs: number;
}): PlayStep<S> {
  return {
    run: async (tx, _play, s) => {
      const status = await findApprovalStatus(tx, opts.approvalOf(s));
      if (status === 'pending') return { wait: opts.pollMs, state: s };
      if (status === 'approved') return { next: opts.next, state: s };
      return { refuse: `${opts.what}'s approval was ${status ?? 'missing'}`, state: s };
    },
  };
}

export interface PlayDefinition<S> {
  kind: string;
  first: string;
  steps: Record<string, PlayStep<S>>;
  /** Failed attempts of one step before the play gives up and compensates. */
  maxAttempts?: number;
  /** Delay before retrying after the n-th failure. */
  backoffMs?: (failures: number) => number;
}

interface Stored<S> {
  data: S;
  completed: string[];
}

const DEFAULT_MAX_ATTEMPTS = 5;
const defaultBackoff = (failures: number) => Math.min(3_600_000, 1000 * 2 ** failures);

export interface StartPlayOptions<S> {
  accountId: string | null;
  state: S;
  actor: string;
  now?: Date;
  /** Where to begin when a caller already did the first steps' work (the loop has decided the offer); default `def.first`. */
  step?: string;
}

export async function startPlay<S>(db: Db, def: PlayDefinition<S>, opts: StartPlayOptions<S>): Promise<string> {
  return db.transaction((tx) => startPlayInTransaction(tx, def, opts));
}

/** startPlay inside the caller's transaction: the play exists exactly when the change that started it commits. */
export async function startPlayInTransaction<S>(
  tx: Tx,
  def: Pick<PlayDefinition<S>, 'kind' | 'first'> & { steps: Record<string, unknown> },
  opts: StartPlayOptions<S>,
): Promise<string> {
  const step = opts.step ?? def.first;
  if (!def.steps[step]) throw new Error(`play ${def.kind} has no step ${step}`);
  const id = newId('play');
  const stored: Stored<S> = { data: opts.state, completed: [] };
  const at = opts.now ?? new Date();
  await insertPlay(tx, {
    id,
    kind: def.kind,
    accountId: opts.accountId,
    step,
    state: JSON.stringify(stored),
    nextRunAt: at.toISOString(),
  });
  await appendToLedger(tx, [
    {
      type: 'play.started',
      actor: opts.actor,
      subjectType: 'plays',
      subjectId: id,
      data: { kind: def.kind, accountId: opts.accountId, step },
      at,
    },
  ]);
  return id;
}

interface PlayRow {
  id: string;
  kind: string;
  account_id: string | null;
  step: string;
  status: string;
  state: Stored<unknown>;
  attempts: number;
}

/**
 * Advances due plays, one step per transaction, until none is due or `maxSteps` ran. A play's row is
 * locked while its step runs, so several workers never run one step twice; a failed step rolls back
 * whole and is retried later with backoff.
 */
/** Plays by kind. Each definition keeps its own state type; the runner only moves that state between steps. */
export type PlayRegistry = ReadonlyMap<string, PlayDefinition<unknown>>;

export function playRegistry(...definitions: { kind: string }[]): PlayRegistry {
  // The one place state types are erased: a definition only ever receives the state it produced.
  return new Map(definitions.map((d) => [d.kind, d as unknown as PlayDefinition<unknown>]));
}

export async function runDuePlays(
  db: Db,
  byKind: PlayRegistry,
  opts: { actor: string; now?: Date; maxSteps?: number },
): Promise<{ steps: number; failures: number; gaveUp: number }> {
  const now = opts.now ?? new Date();
  const tally = { steps: 0, failures: 0, gaveUp: 0 };
  const skipped = new Set<string>();
  for (let i = 0; i < (opts.maxSteps ?? 1000); i++) {
    const failure: { row?: PlayRow; error?: string } = {};
    const ran = await db
      .transaction(async (tx) => {
        const row = await claimDuePlay<PlayRow>(tx, now.toISOString(), [...skipped]);
        if (!row) return false;
        const def = byKind.get(row.kind);
        const step = def?.steps[row.step];
        if (!def || !step) throw new AppError('bad_request', `play ${row.id} is at unknown step ${row.kind}/${row.step}`);
        try {
          await advance(tx, def, row, step, now, opts.actor);
        } catch (err) {
          failure.row = row;
          failure.error = (err as Error).message;
          throw err;
        }
        return true;
      })
      .catch((err: unknown) => {
        if (!failure.row) throw err;
        return 'failed' as const;
      });
    if (ran === false) break;
    tally.steps++;
    if (ran === 'failed' && failure.row) {
      tally.failures++;
      // Not again in this run: its retry waits for the backoff.
      skipped.add(failure.row.id);
      if (await recordFailure(db, byKind.get(failure.row.kind)!, failure.row, failure.error ?? 'failed', now, opts.actor)) tally.gaveUp++;
    }
  }
  return tally;
}

async function advance(
  tx: Tx,
  def: PlayDefinition<unknown>,
  row: PlayRow,
  step: PlayStep<unknown>,
  now: Date,
  actor: string,
): Promise<void> {
  const ref = { id: row.id, accountId: row.account_id, now };
  const outcome = await step.run(tx, ref, row.state.data);
  const completed = 'wait' in outcome ? row.state.completed : [...row.state.completed, row.step];
  const stored = JSON.stringify({ data: outcome.state, completed });
  if ('next' in outcome) {
    if (!def.steps[outcome.next]) throw new Error(`play ${def.kind} has no step ${outcome.next}`);
    await movePlayToStep(tx, row.id, outcome.next, stored, now.toISOString());
  } else if ('wait' in outcome) {
    await makePlayWait(tx, row.id, stored, new Date(now.getTime() + outcome.wait).toISOString());
  } else {
    const status = 'done' in outcome ? 'done' : 'refused';
    await finishPlay(tx, row.id, status, stored);
    await appendToLedger(tx, [
      {
        type: `play.${status}`,
        actor,
        subjectType: 'plays',
        subjectId: row.id,
        data: { kind: def.kind, step: row.step, ...('refuse' in outcome ? { why: outcome.refuse } : {}) },
        at: now,
      },
    ]);
  }
}

/** Counts a failed attempt; past the limit, undoes the completed steps in reverse and gives up. Returns true when it gave up. */
async function recordFailure(
  db: Db,
  def: PlayDefinition<unknown>,
  row: PlayRow,
  error: string,
  now: Date,
  actor: string,
): Promise<boolean> {
  const failures = row.attempts + 1;
  return db.transaction(async (tx) => {
    if (failures < (def.maxAttempts ?? DEFAULT_MAX_ATTEMPTS)) {
      const retryAt = new Date(now.getTime() + (def.backoffMs ?? defaultBackoff)(failures));
      await schedulePlayRetry(tx, row.id, failures, retryAt.toISOString(), error.slice(0, 2000));
      return false;
    }
    const ref = { id: row.id, accountId: row.account_id, now };
    for (const done of [...row.state.completed].reverse()) await def.steps[done]?.compensate?.(tx, ref, row.state.data);
    await markPlayGaveUp(tx, row.id, failures, error.slice(0, 2000));
    await appendToLedger(tx, [
      {
        type: 'play.gave_up',
        actor,
        subjectType: 'plays',
        subjectId: row.id,
        data: { kind: def.kind, step: row.step, attempts: failures, compensated: row.state.completed },
        at: now,
      },
    ]);
    return true;
  });
}
