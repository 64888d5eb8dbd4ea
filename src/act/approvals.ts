import { z } from 'zod';
import type { PolicyGate, PolicyRequestInput } from '../assure/index.ts';
import { AppError } from '../errors.ts';
import { appendToLedger } from '../ledger/index.ts';
import { normalizeContactPoint } from '../contracts/index.ts';
import { outreachConsent, recipientChoices } from '../sense/index.ts';
import type { Db, Tx } from '../store/index.ts';
import { readApprovalForDecision, readApprovalsForBulk } from '../views/index.ts';
import { expirePendingApprovals, lockApproval, markApprovalApproved, markApprovalRejected, noteApprovalRunError } from './act.repo.ts';
import { creditBudgetLeft } from './credit-budget.ts';
import { executeInTransaction, type ExecutionResult } from './execute.ts';
import { isToolAction, TOOLS, type AgentStopReason } from './tools.ts';

interface PendingApproval {
  id: string;
  decision_id: string;
  status: string;
  expires_at: Date;
  action: string;
  request: PolicyRequestInput;
  agent_id: string;
  account_id: string | null;
  lead_id: string | null;
  stopped: AgentStopReason | null;
}

/**
 * The idempotency key of the action an approval lets run. Whoever runs it (the approve route, a play
 * waiting on the approval, a simulated reviewer) uses this key, so the effect happens once.
 */
export const approvalExecutionKey = (approvalId: string) => `approval:${approvalId}`;

/** Locks an approval that can still be decided; an expired one is marked so and refused. */
async function lockPending(tx: Tx, id: string, now: Date): Promise<PendingApproval> {
  await lockApproval(tx, id);
  const row = await readApprovalForDecision<PendingApproval>(tx, id);
  if (!row) throw new AppError('approval.not_found', `no approval ${id}`);
  if (row.status !== 'pending') throw new AppError('approval.already_decided', `approval ${id} was already ${row.status}`);
  if (new Date(row.expires_at) <= now)
    throw new AppError('approval.expired', `approval ${id} expired at ${new Date(row.expires_at).toISOString()}`);
  return row;
}

/**
 * Approves, optionally with edited parameters. An edit must fit the action's schema and is decided by
 * policy again with the new amount (and, for a message, the consent in effect now for where it would go); an
 * edit policy would deny is refused. Whatever was approved, a message's tool checks its consent again when it
 * runs: one withdrawn while the approval waited is refused then (ExecutionResult status `refused`).
 */
export async function approve(
  db: Db,
  gate: PolicyGate,
  id: string,
  opts: { actor: string; editedParams?: unknown; now?: Date },
): Promise<ApprovalOutcome> {
  return db.transaction((tx) => approveInTransaction(tx, gate, id, opts));
}

type ApprovalOutcome = { approvalId: string; decisionId: string; edited: boolean };

async function approveInTransaction(
  tx: Tx,
  gate: PolicyGate,
  id: string,
  opts: { actor: string; editedParams?: unknown; now?: Date },
): Promise<ApprovalOutcome> {
  const now = opts.now ?? new Date();
  const pending = await lockPending(tx, id, now);
  // Rejecting stays possible while an agent is stopped; approving would let it act.
  if (pending.stopped === 'kill_switch') {
    throw new AppError(
      'kill_switch.on',
      'the kill switch is engaged: no proposal can be approved until an admin releases it (rejecting still works)',
    );
  }
  if (pending.stopped === 'paused')
    throw new AppError('agent.paused', `agent ${pending.agent_id} is paused: resume it before approving its proposals, or reject this one`);
  const edited = opts.editedParams === undefined ? null : await checkEdit(tx, gate, pending, opts.editedParams, now);
  await markApprovalApproved(tx, id, {
    actor: opts.actor,
    decidedAt: now.toISOString(),
    editedParams: edited ? JSON.stringify(edited) : null,
  });
  await appendToLedger(tx, [
    {
      type: 'approval.approved',
      actor: opts.actor,
      subjectType: 'approvals',
      subjectId: id,
      data: { decisionId: pending.decision_id, edited: edited !== null },
      at: now,
    },
  ]);
  return { approvalId: id, decisionId: pending.decision_id, edited: edited !== null };
}

/**
 * An approver's edit, checked as approving it would: it must fit the action's schema, keep within the limits the
 * draft was held to, and be allowed by policy with the new amount (and, for a message, the consent in effect now for
 * where it would go). Returns the parsed parameters; throws the refusal, naming the field or the limit.
 */
async function checkEdit(
  tx: Tx,
  gate: PolicyGate,
  pending: PendingApproval,
  editedParams: unknown,
  now: Date,
): Promise<Record<string, unknown>> {
  if (!isToolAction(pending.action)) throw new AppError('bad_request', `unknown action ${pending.action}`);
  const parsed = (TOOLS[pending.action].params as z.ZodType).safeParse(editedParams);
  if (!parsed.success) {
    throw new AppError(
      'validation_failed',
      `edited parameters do not fit ${pending.action}`,
      parsed.error.issues.map((i) => ({ path: `params.${i.path.join('.')}`, message: i.message })),
    );
  }
  const edited = parsed.data as Record<string, unknown>;
  const amountCents = typeof edited.amountCents === 'number' ? edited.amountCents : (pending.request.context.amountCents ?? 0);
  await checkEditWithinLimits(tx, gate, pending, amountCents, now);
  // An edited message (another address or brand) is decided on the consent in effect now for where it would go.
  const { channel, purpose } = pending.request.context;
  if (typeof edited.to === 'string' && channel && purpose) await checkRecipient(tx, pending, { channel, purpose, edited }, now);
  const consent =
    channel && purpose
      ? await outreachConsent(
          tx,
          { accountId: pending.account_id, leadId: pending.lead_id },
          { channel, purpose, to: edited.to as string | undefined, brand: edited.brand as string | undefined },
          now,
        )
      : null;
  const hasConsent = consent ? consent.granted : pending.request.context.hasConsent;
  const doubleOptIn = consent ? consent.doubleOptIn : pending.request.context.doubleOptIn;
  const recheck = gate.decide({ ...pending.request, context: { ...pending.request.context, amountCents, hasConsent, doubleOptIn } });
  if (recheck.outcome === 'deny') {
    throw new AppError('policy.denied', `policy refuses the edited parameters: ${recheck.reasons.join('; ')}`, [], {
      policyIds: recheck.policyIds,
    });
  }
  return edited;
}

/**
 * A message's recipient, when an approver names one, must be one of the customer's own contact points for the channel
 * whose consent is in effect now for the message's purpose and brand: the choices the approval card offers
 * (`recipientChoices`). Anything else is refused, naming `params.to`.
 */
async function checkRecipient(
  tx: Tx,
  pending: PendingApproval,
  m: { channel: string; purpose: string; edited: Record<string, unknown> },
  now: Date,
): Promise<void> {
  const choices = await recipientChoices(
    tx,
    { accountId: pending.account_id, leadId: pending.lead_id },
    { channel: m.channel, purpose: m.purpose, brand: (m.edited.brand as string | undefined) ?? null },
    now,
  );
  const to = normalizeContactPoint(m.channel, m.edited.to as string);
  const choice = choices.find((c) => c.to === to);
  if (choice?.consented) return;
  const message = choice
    ? `one of the customer's ${m.channel} contact points, but ${choice.why}: choose a consented one`
    : `not one of the customer's ${m.channel} contact points: choose one of theirs with consent for ${m.channel} for ${m.purpose}`;
  throw new AppError('approval.recipient_not_consented', "the edited recipient is not one of the customer's consented contact points", [
    { path: 'params.to', message },
  ]);
}

/** What an edit would meet if approved now: the console checks it as the reviewer types, before `approve`. */
export interface EditCheck {
  ok: boolean;
  /** The refusal approving would give (its problem code, message and fields), when not ok. */
  refusal: { code: string; message: string; issues: { path: string; message: string }[] } | null;
  /** For a credit: the most an approver may give, and what today's credit budget has left (this offer's own draft aside). */
  limits: { creditApprovalLimitCents: number; creditBudgetLeftCents: number } | null;
}

/**
 * Checks an edit as approving it would, and changes nothing: the transaction is rolled back whatever the outcome.
 * A pending approval's own problems (expired, decided, agent stopped) are thrown as `approve` throws them.
 */
export async function checkApprovalEdit(db: Db, gate: PolicyGate, id: string, editedParams: unknown, now = new Date()): Promise<EditCheck> {
  const rollback = new Error('check only');
  let result: EditCheck | undefined;
  try {
    await db.transaction(async (tx) => {
      const pending = await lockPending(tx, id, now);
      const limits =
        pending.action === 'offer_credit'
          ? {
              creditApprovalLimitCents: Math.max(pending.request.context.amountCents ?? 0, gate.creditApprovalLimitCents),
              creditBudgetLeftCents: Math.max(
                0,
                await creditBudgetLeft(tx, gate.dailyCreditBudgetCents, now, { exceptApprovalId: pending.id }),
              ),
            }
          : null;
      try {
        await checkEdit(tx, gate, pending, editedParams, now);
        result = { ok: true, refusal: null, limits };
      } catch (err) {
        if (!(err instanceof AppError)) throw err;
        result = { ok: false, refusal: { code: err.code, message: err.message, issues: err.issues ?? [] }, limits };
      }
      throw rollback;
    });
  } catch (err) {
    if (err !== rollback) throw err;
  }
  return result!;
}

export interface ApprovedRun {
  approval: ApprovalOutcome;
  execution: ExecutionResult;
}

/** Wraps what the action threw, to tell it from a refusal of the approval itself (expired, already decided, ...). */
class ActionFailed {
  constructor(readonly cause: unknown) {}
}

/**
 * Approves (as `approve`) and runs the action once, in one transaction: the approval commits only with its execution.
 * The run is keyed by the approval (`approvalExecutionKey`), so a retried request, or a play waiting on this approval,
 * never runs it twice. When the action fails, nothing of the attempt stays: the approval is still pending, with the
 * error as `last_error`, and can be approved again. What a reviewer's approval does, one or many.
 */
/**
 * An approver's edit keeps to the limits the agent's draft was held to: a credit no larger than the approval limit
 * (or the drafted amount, when that was already above it), and within what the day's credit budget has left
 * (offers waiting for approval count, this one's own drafted amount aside).
 */
async function checkEditWithinLimits(tx: Tx, gate: PolicyGate, pending: PendingApproval, amountCents: number, now: Date): Promise<void> {
  if (pending.action !== 'offer_credit') return;
  const drafted = pending.request.context.amountCents ?? 0;
  const ceiling = Math.max(drafted, gate.creditApprovalLimitCents);
  if (amountCents > ceiling) {
    throw new AppError('approval.edit_over_limit', `the edited credit of ${amountCents} cents is above the credit approval limit`, [
      { path: 'params.amountCents', message: `credit approval limit: at most ${ceiling} cents` },
    ]);
  }
  const left = await creditBudgetLeft(tx, gate.dailyCreditBudgetCents, now, { exceptApprovalId: pending.id });
  if (amountCents > left) {
    throw new AppError(
      'approval.edit_over_limit',
      `the edited credit of ${amountCents} cents is more than today's credit budget has left`,
      [{ path: 'params.amountCents', message: `daily credit budget: ${Math.max(0, left)} of ${gate.dailyCreditBudgetCents} cents left` }],
    );
  }
}

export async function approveAndRun(
  db: Db,
  gate: PolicyGate,
  id: string,
  opts: { actor: string; editedParams?: unknown; now: Date },
): Promise<ApprovedRun> {
  try {
    return await db.transaction(async (tx) => {
      const approval = await approveInTransaction(tx, gate, id, opts);
      const execution = await executeInTransaction(tx, {
        decisionId: approval.decisionId,
        idempotencyKey: approvalExecutionKey(id),
        actor: opts.actor,
        now: opts.now,
        dailyCreditBudgetCents: gate.dailyCreditBudgetCents,
      }).catch((err: unknown) => Promise.reject(new ActionFailed(err)));
      return { approval, execution };
    });
  } catch (err) {
    if (!(err instanceof ActionFailed)) throw err;
    await recordRunFailure(db, id, err.cause, opts);
    throw err.cause;
  }
}

/** Notes on a still-pending approval why its action failed; the ledger gets the code only (messages may hold personal data). */
async function recordRunFailure(db: Db, id: string, cause: unknown, opts: { actor: string; now: Date }): Promise<void> {
  const code = cause instanceof AppError ? cause.code : 'internal';
  const message = (cause instanceof Error ? cause.message : String(cause)).slice(0, 1000);
  await db.transaction(async (tx) => {
    const stillPending = await noteApprovalRunError(tx, id, JSON.stringify({ code, message, at: opts.now.toISOString() }));
    if (stillPending)
      await appendToLedger(tx, [
        { type: 'approval.run_failed', actor: opts.actor, subjectType: 'approvals', subjectId: id, data: { code }, at: opts.now },
      ]);
  });
}

export type BulkApprovalResult =
  { id: string; ok: true; execution: ExecutionResult } | { id: string; ok: false; error: { code: string; message: string } };

/**
 * Approves many like items at once: every id must be a pending, unexpired approval of a low-risk proposal, all of the
 * same agent and action; otherwise a `validation_failed` names each offending id (`ids.<index>`) and nothing is
 * approved. Then each is approved and run as `approveAndRun`, independently: one failing does not stop the others.
 * `onUnexpected` hears about failures that are not `AppError`s (reported to the caller as `internal`).
 */
export async function bulkApprove(
  db: Db,
  gate: PolicyGate,
  ids: string[],
  opts: { actor: string; now: Date; onUnexpected?: (id: string, err: unknown) => void },
): Promise<BulkApprovalResult[]> {
  const rows = await readApprovalsForBulk(db, ids);
  const byId = new Map(rows.map((r) => [r.id, r]));
  // The kind most ids share (the first seen on a tie) is the batch's; ids of any other kind are the odd ones out.
  const kinds = new Map<string, number>();
  for (const id of ids) {
    const r = byId.get(id);
    if (r) kinds.set(`${r.agent_id}/${r.action}`, (kinds.get(`${r.agent_id}/${r.action}`) ?? 0) + 1);
  }
  const kind = [...kinds.entries()].reduce<[string, number] | null>((best, k) => (!best || k[1] > best[1] ? k : best), null)?.[0];
  const issues = ids.flatMap((id, i) => {
    const r = byId.get(id);
    const path = `ids.${i}`;
    if (!r) return [{ path, message: `no approval ${id}` }];
    if (r.status !== 'pending') return [{ path, message: `approval ${id} was already ${r.status}` }];
    if (new Date(r.expires_at) <= opts.now) return [{ path, message: `approval ${id} expired at ${new Date(r.expires_at).toISOString()}` }];
    if (r.risk !== 'low') return [{ path, message: `approval ${id} is ${r.risk} risk; bulk approval takes low-risk items only` }];
    if (`${r.agent_id}/${r.action}` !== kind)
      return [{ path, message: `approval ${id} is ${r.agent_id}/${r.action}; the others are ${kind}` }];
    return [];
  });
  if (issues.length) {
    throw new AppError(
      'validation_failed',
      'bulk approval takes pending low-risk approvals of one agent and one action; nothing was approved',
      issues,
    );
  }
  const results: BulkApprovalResult[] = [];
  for (const id of ids) {
    try {
      const { execution } = await approveAndRun(db, gate, id, { actor: opts.actor, now: opts.now });
      results.push({ id, ok: true, execution });
    } catch (err) {
      if (err instanceof AppError) {
        results.push({ id, ok: false, error: { code: err.code, message: err.message } });
      } else {
        opts.onUnexpected?.(id, err);
        results.push({ id, ok: false, error: { code: 'internal', message: 'internal error; see the server log' } });
      }
    }
  }
  return results;
}

/**
 * Why a reviewer rejected, beside the free text: what the agent got wrong. Every category counts against the agent's
 * precision (src/learn/track-record.ts); the categories show where.
 */
export const REJECTION_CATEGORIES = [
  'not_needed',
  'wrong_action',
  'wrong_offer',
  'wrong_channel',
  'bad_timing',
  'wrong_data',
  'other',
] as const;
export type RejectionCategory = (typeof REJECTION_CATEGORIES)[number];

/**
 * Rejects with a reason, which is required: it is the agent's feedback. The text stays in the approval row; the
 * category (default `other`) goes to the ledger too, being no personal data.
 */
export async function reject(
  db: Db,
  id: string,
  opts: { actor: string; reason: string; category?: RejectionCategory; now?: Date },
): Promise<void> {
  const reason = opts.reason.trim();
  if (!reason || reason.length > 500)
    throw new AppError('validation_failed', 'a rejection needs a reason', [{ path: 'reason', message: 'required, 1 to 500 characters' }]);
  const category = opts.category ?? 'other';
  if (!REJECTION_CATEGORIES.includes(category)) {
    throw new AppError('validation_failed', 'unknown rejection category', [
      { path: 'category', message: `one of ${REJECTION_CATEGORIES.join(', ')}` },
    ]);
  }
  const now = opts.now ?? new Date();
  await db.transaction(async (tx) => {
    const pending = await lockPending(tx, id, now);
    await markApprovalRejected(tx, id, { actor: opts.actor, decidedAt: now.toISOString(), reason, category });
    await appendToLedger(tx, [
      {
        type: 'approval.rejected',
        actor: opts.actor,
        subjectType: 'approvals',
        subjectId: id,
        data: { decisionId: pending.decision_id, reasonGiven: true, category },
        at: now,
      },
    ]);
  });
}

/** Marks pending approvals past their time as expired; returns how many. */
export async function expireApprovals(db: Db, now = new Date()): Promise<number> {
  return db.transaction(async (tx) => {
    const rows = await expirePendingApprovals(tx, now.toISOString());
    await appendToLedger(
      tx,
      rows.map((r) => ({
        type: 'approval.expired',
        actor: 'system',
        subjectType: 'approvals',
        subjectId: r.id,
        data: { decisionId: r.decision_id },
        at: now,
      })),
    );
    return rows.length;
  });
}
