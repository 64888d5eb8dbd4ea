import { z } from 'zod';
import { Brand, ConsentChannel, ConsentPurpose, RECORD_INPUTS, ShortText } from '../contracts/index.ts';
import { AppError } from '../errors.ts';
import { cancelOpenTask, findOpenCaseIds, insertExecutedTask, insertRecord, patchRecord } from '../records/index.ts';
import { outreachConsent } from '../sense/index.ts';
import { newId, type Tx } from '../store/index.ts';
import { readDecisionGrant } from '../views/index.ts';
import {
  cancelQueuedMessage,
  insertCredit,
  insertMessage,
  lockCreditBudget,
  reverseAppliedCredit,
  sumCreditsAppliedOn,
} from './act.repo.ts';

/** Who a tool acts for and under which execution; tools never see a request without these. */
export interface ToolContext {
  accountId: string | null;
  leadId: string | null;
  idempotencyKey: string;
  actor: string;
  /** When the action takes effect: the caller's clock (a simulation's day), so budgets and due dates follow it. */
  now: Date;
  /** The daily credit budget the credit tool keeps to (PolicyGate.dailyCreditBudgetCents); absent: not checked. */
  dailyCreditBudgetCents?: number;
}

/** What a guarded tool is called with: the decision that allows it, which the tool checks again itself. */
export interface GrantedContext {
  decisionId: string;
  idempotencyKey: string;
  actor: string;
  now?: Date;
  /** The daily credit budget a credit keeps to (PolicyGate.dailyCreditBudgetCents); absent: not checked. */
  dailyCreditBudgetCents?: number;
}

/**
 * One side-effecting step: its parameters, what it does, and how to undo it (beside it, so a play that
 * gives up can compensate what already ran). Results name created rows by id.
 */
export interface Tool<P> {
  params: z.ZodType<P>;
  run(tx: Tx, ctx: ToolContext, params: P): Promise<Record<string, unknown>>;
  /** Undoes `run`; null when the effect cannot be undone (a sent message), which the caller records. */
  compensate: ((tx: Tx, ctx: ToolContext, result: Record<string, unknown>) => Promise<void>) | null;
}

/**
 * Thrown by a tool that will not act on an allowing decision any more, before it has done anything (a message whose
 * consent was withdrawn since it was decided): the execution is recorded as refused, with `reason` and `detail`.
 */
export class ActionRefused extends Error {
  constructor(
    readonly reason: string,
    readonly detail: Record<string, unknown> = {},
  ) {
    super(reason);
  }
}

const need = (id: string | null, what: string): string => {
  if (!id) throw new AppError('validation_failed', `this action needs ${what}`, [{ path: what, message: 'missing' }]);
  return id;
};

const CreateCase = z.strictObject({
  subject: ShortText,
  description: z.string().max(5000).optional(),
  priority: z.enum(['low', 'normal', 'high', 'urgent']).optional(),
});
const CreateTask = z.strictObject({
  title: ShortText,
  details: z.string().max(5000).optional(),
  assignee: ShortText.optional(),
  dueInDays: z.number().int().min(0).max(365).optional(),
});
const PriorityRouting = z.strictObject({ priority: z.enum(['high', 'urgent']), caseId: z.string().optional() });
const RouteLead = z.strictObject({ owner: ShortText });
const UpdateRecord = z.strictObject({
  kind: z.enum(['accounts', 'contacts', 'leads']),
  id: z.string(),
  fields: z.record(z.string(), z.unknown()),
});
const Credit = z.strictObject({
  amountCents: z.number().int().min(1).max(10_000_000),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .default('USD'),
  reason: z.string().max(500).optional(),
});
const SendMessage = z.strictObject({
  channel: ConsentChannel,
  purpose: ConsentPurpose,
  template: ShortText,
  body: z.string().max(20_000).optional(),
  /** What the generated body cites (src/act/message-body.ts): each marker's chunk id, document path and heading path. */
  citations: z
    .array(
      z.strictObject({
        marker: z.string().max(16),
        chunkId: z.string().max(300),
        path: z.string().max(1000).optional(),
        headingPath: z.array(z.string().max(500)).max(20).optional(),
      }),
    )
    .max(50)
    .optional(),
  /** The body's sentences that cite evidence, each with its markers: what the reviewer checks; never sent. */
  sentences: z
    .array(z.strictObject({ text: z.string().max(5000), markers: z.array(z.string().max(16)).max(50) }))
    .max(200)
    .optional(),
  /** The generation that wrote the body: its id (ledgered as generation.created), whether it abstained, why it was held. */
  generation: z
    .strictObject({ id: z.string().max(100), abstained: z.boolean(), blocked: z.array(z.string().max(2000)).max(50) })
    .optional(),
  /** The email address or phone number it goes to; absent: the customer's first point whose consent grants. */
  to: z.string().trim().min(1).max(254).optional(),
  /** The brand it goes out under; absent: the customer's. */
  brand: Brand.optional(),
});

const creditTool: Tool<z.infer<typeof Credit>> = {
  params: Credit,
  run: async (tx, ctx, p) => {
    if (ctx.dailyCreditBudgetCents !== undefined) {
      // The hard line, where credits are written: serialised, so concurrent credits near the budget never pass it.
      await lockCreditBudget(tx);
      const applied = await sumCreditsAppliedOn(tx, ctx.now.toISOString());
      if (applied + p.amountCents > ctx.dailyCreditBudgetCents) {
        throw new ActionRefused(
          `not applied: the daily credit budget of ${ctx.dailyCreditBudgetCents} cents has ${Math.max(0, ctx.dailyCreditBudgetCents - applied)} left, less than ${p.amountCents}`,
          { cause: 'credit_budget', budgetCents: ctx.dailyCreditBudgetCents, appliedCents: applied },
        );
      }
    }
    const id = newId('cred');
    await insertCredit(tx, {
      id,
      accountId: need(ctx.accountId, 'accountId'),
      amountCents: p.amountCents,
      currency: p.currency,
      reason: p.reason ?? null,
      executionKey: ctx.idempotencyKey,
      createdAt: ctx.now.toISOString(),
    });
    return { creditId: id, amountCents: p.amountCents };
  },
  compensate: async (tx, _ctx, result) => {
    await reverseAppliedCredit(tx, result.creditId);
  },
};

const DEFINITIONS = {
  create_case: {
    params: CreateCase,
    run: async (tx, ctx, p) => {
      const record = await insertRecord(
        tx,
        'cases',
        {
          accountId: need(ctx.accountId, 'accountId'),
          subject: p.subject,
          description: p.description,
          priority: p.priority,
          channel: 'web',
          openedAt: ctx.now.toISOString(),
        },
        ctx.actor,
        ctx.now,
      );
      return { caseId: record.id };
    },
    compensate: async (tx, ctx, result) => {
      await patchRecord(tx, 'cases', String(result.caseId), { status: 'closed' }, ctx.actor, undefined, ctx.now);
    },
  } satisfies Tool<z.infer<typeof CreateCase>>,
  create_task: {
    params: CreateTask,
    run: async (tx, ctx, p) => {
      const id = newId('task');
      await insertExecutedTask(tx, {
        id,
        accountId: ctx.accountId,
        leadId: ctx.leadId,
        title: p.title,
        details: p.details ?? null,
        assignee: p.assignee ?? null,
        dueInDays: p.dueInDays ?? null,
        executionKey: ctx.idempotencyKey,
        createdAt: ctx.now.toISOString(),
      });
      return { taskId: id };
    },
    compensate: async (tx, _ctx, result) => {
      await cancelOpenTask(tx, result.taskId);
    },
  } satisfies Tool<z.infer<typeof CreateTask>>,
  priority_routing: {
    params: PriorityRouting,
    run: async (tx, ctx, p) => {
      const rows = await findOpenCaseIds(tx, need(ctx.accountId, 'accountId'), p.caseId ?? null);
      for (const r of rows) await patchRecord(tx, 'cases', r.id, { priority: p.priority }, ctx.actor, undefined, ctx.now);
      return { caseIds: rows.map((r) => r.id) };
    },
    compensate: null,
  } satisfies Tool<z.infer<typeof PriorityRouting>>,
  route_lead: {
    params: RouteLead,
    run: async (tx, ctx, p) => {
      const lead = await patchRecord(
        tx,
        'leads',
        need(ctx.leadId, 'leadId'),
        { status: 'working', attributes: { owner: p.owner } },
        ctx.actor,
        undefined,
        ctx.now,
      );
      return { leadId: lead.id, owner: p.owner };
    },
    compensate: null,
  } satisfies Tool<z.infer<typeof RouteLead>>,
  update_record: {
    params: UpdateRecord,
    run: async (tx, ctx, p) => {
      const fields = RECORD_INPUTS[p.kind].update.safeParse(p.fields);
      if (!fields.success)
        throw new AppError(
          'validation_failed',
          `invalid fields for ${p.kind}`,
          fields.error.issues.map((i) => ({ path: `fields.${i.path.join('.')}`, message: i.message })),
        );
      const record = await patchRecord(tx, p.kind, p.id, fields.data as Record<string, unknown>, ctx.actor, undefined, ctx.now);
      return { kind: p.kind, id: record.id, version: record.version };
    },
    compensate: null,
  } satisfies Tool<z.infer<typeof UpdateRecord>>,
  offer_credit: creditTool,
  apply_credit: creditTool,
  send_message: {
    params: SendMessage,
    run: async (tx, ctx, p) => {
      // Consent is read again as the message is queued, as it is in effect now: one withdrawn since the decision
      // (while it waited for approval, say) stops it. No address goes into the reason: it reaches the ledger.
      const consent = await outreachConsent(
        tx,
        { accountId: ctx.accountId, leadId: ctx.leadId },
        { channel: p.channel, purpose: p.purpose, to: p.to, brand: p.brand },
        ctx.now,
      );
      if (!consent.granted) {
        const scope = `${p.channel}/${p.purpose}${consent.brand ? ` under brand ${consent.brand}` : ''}`;
        const why = consent.consent
          ? `consent ${consent.consent.id} (${consent.consent.status}) decides`
          : consent.to === null && p.channel !== 'push'
            ? 'the customer has no contact point for the channel'
            : 'no consent speaks for it';
        throw new ActionRefused(`not sent: no consent in effect for ${scope} to the message's contact point; ${why}`, {
          cause: 'consent',
          consentId: consent.consent?.id ?? null,
        });
      }
      const id = newId('msg');
      await insertMessage(tx, {
        id,
        accountId: ctx.accountId,
        leadId: ctx.leadId,
        channel: p.channel,
        purpose: p.purpose,
        template: p.template,
        body: p.body ?? null,
        executionKey: ctx.idempotencyKey,
        createdAt: ctx.now.toISOString(),
        contactPoint: consent.to,
        brand: consent.brand,
        consentId: consent.consent?.id ?? null,
      });
      return { messageId: id };
    },
    // A queued message can still be cancelled; once a transport sent it, it cannot be taken back.
    compensate: async (tx, _ctx, result) => {
      await cancelQueuedMessage(tx, result.messageId);
    },
  } satisfies Tool<z.infer<typeof SendMessage>>,
} as const;

export type ToolAction = keyof typeof DEFINITIONS;
export const TOOL_ACTIONS = Object.keys(DEFINITIONS) as ToolAction[];
export const isToolAction = (a: string): a is ToolAction => Object.hasOwn(DEFINITIONS, a);

/** An allowing decision, as read back from the database. */
export interface Grant {
  decisionId: string;
  proposalId: string;
  action: ToolAction;
  params: unknown;
  accountId: string | null;
  leadId: string | null;
  agentId: string;
  /**
   * Why the proposing agent may not act now: the kill switch is engaged, or an admin paused it (SQL's
   * `agent_stop_reason()`); null when it may. Nothing it proposed runs meanwhile.
   */
  agentStopped: AgentStopReason | null;
}

/** Why an agent may not act now, as SQL's `agent_stop_reason()` says. */
export type AgentStopReason = 'kill_switch' | 'paused';

/**
 * Reads the decision and refuses unless it allows execution: outcome `execute`, or `approval` with the
 * approval granted. Edited parameters from the approval replace the proposal's.
 */
export async function loadGrant(tx: Tx, decisionId: string): Promise<Grant> {
  const row = await readDecisionGrant(tx, decisionId);
  if (!row) throw new AppError('policy.denied', `no recorded policy decision ${decisionId}: nothing runs without one`);
  const allowed = row.outcome === 'execute' || (row.outcome === 'approval' && row.approval_status === 'approved');
  if (!allowed || row.proposal_status === 'held_out') {
    const why =
      row.proposal_status === 'held_out'
        ? 'the customer is in the holdout'
        : row.outcome === 'approval'
          ? `its approval is ${row.approval_status ?? 'missing'}`
          : `the policy outcome was ${row.outcome}`;
    throw new AppError('policy.denied', `decision ${decisionId} does not allow execution: ${why}`);
  }
  if (!isToolAction(row.action)) throw new AppError('bad_request', `unknown action ${row.action}`);
  return {
    decisionId,
    proposalId: row.proposal_id,
    action: row.action,
    params: row.edited_params ?? row.params,
    accountId: row.account_id,
    leadId: row.lead_id,
    agentId: row.agent_id,
    agentStopped: (row.stopped as AgentStopReason | null) ?? null,
  };
}

function guarded<P>(action: ToolAction, tool: Tool<P>) {
  const context = (grant: Grant, g: GrantedContext): ToolContext => ({
    accountId: grant.accountId,
    leadId: grant.leadId,
    idempotencyKey: g.idempotencyKey,
    actor: g.actor,
    now: g.now ?? new Date(),
    ...(g.dailyCreditBudgetCents !== undefined ? { dailyCreditBudgetCents: g.dailyCreditBudgetCents } : {}),
  });
  return {
    params: tool.params,
    canCompensate: tool.compensate !== null,
    /** Runs the tool for an allowing decision of this very action; anything else is refused before any effect. */
    run: async (tx: Tx, g: GrantedContext, params: P) => {
      const grant = await loadGrant(tx, g.decisionId);
      if (grant.action !== action) throw new AppError('policy.denied', `decision ${g.decisionId} allows ${grant.action}, not ${action}`);
      return tool.run(tx, context(grant, g), params);
    },
    compensate: async (tx: Tx, g: GrantedContext, result: Record<string, unknown>) => {
      const grant = await loadGrant(tx, g.decisionId);
      await tool.compensate?.(tx, context(grant, g), result);
    },
  };
}

/** The only way to the tools: every entry checks for an allowing decision itself. */
export const TOOLS = Object.fromEntries(TOOL_ACTIONS.map((action) => [action, guarded(action, DEFINITIONS[action] as Tool<unknown>)])) as {
  [A in ToolAction]: ReturnType<typeof guarded<z.infer<(typeof DEFINITIONS)[A]['params']>>>;
};
