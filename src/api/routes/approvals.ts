import { z } from 'zod';
import { approveAndRun, bulkApprove, checkApprovalEdit, reject, REJECTION_CATEGORIES } from '../../act/index.ts';
import { ApprovalPageSchema, ApprovedRunSchema, BulkApprovalSchema, EditCheckSchema } from '../../contracts/api/index.ts';
import { toFieldIssues } from '../../contracts/index.ts';
import { RISKS } from '../../assure/index.ts';
import { AppError } from '../../errors.ts';
import { recipientChoices, type RecipientChoice } from '../../sense/index.ts';
import type { Queryable } from '../../store/index.ts';
import { approvalMessage, CONTEXT_DAYS, listApprovalQueue } from '../../views/index.ts';
import type { ApiDeps } from '../deps.ts';
import { parseQuery, readJson, readOptionalJson } from '../http.ts';
import { decodeCursor, PageQuery, pageOf } from '../pagination.ts';
import { actorOf, answers, type RouteDef } from '../router.ts';

const ApprovalQuery = PageQuery.extend({
  // `decided` is approved and rejected together: the queue's "decided" tab.
  status: z.enum(['pending', 'approved', 'rejected', 'expired', 'decided']).default('pending'),
  agent: z.string().trim().min(1).max(100).optional(),
  action: z.string().trim().min(1).max(100).optional(),
  risk: z.enum(RISKS).optional(),
  expiresWithinHours: z.coerce.number().positive().max(8760).optional(),
  sort: z.enum(['ev', 'expiry', 'newest']).default('ev'),
}).strict();
// The queue's order (expected value, expiry) has no unique key to resume from, so its cursor is a position.
const offsetCursor = decodeCursor('offset');
const ApproveBody = z.strictObject({ params: z.record(z.string(), z.unknown()).optional() });
const CheckEditBody = z.strictObject({ params: z.record(z.string(), z.unknown()) });
// The category says what the agent got wrong (optional: `other` when left out); the reason says it in words.
const RejectBody = z.strictObject({ reason: z.string().trim().min(1).max(500), category: z.enum(REJECTION_CATEGORIES).optional() });
const BulkApproveBody = z.strictObject({
  ids: z
    .array(z.string().min(1).max(100))
    .min(1)
    .max(100)
    .superRefine((ids, ctx) => {
      ids.forEach((id, i) => {
        if (ids.indexOf(id) !== i) ctx.addIssue({ code: 'custom', path: [i], message: `duplicate of ids.${ids.indexOf(id)}` });
      });
    }),
});

/**
 * Where each pending message of a page could go: the customer's contact points for its channel, each with whether
 * consent for its channel and purpose (and brand) is in effect now. Keyed by approval id.
 */
async function recipientsOf(db: Queryable, rows: Record<string, unknown>[], now: Date): Promise<Map<string, RecipientChoice[]>> {
  const out = new Map<string, RecipientChoice[]>();
  for (const r of rows) {
    if (r.action !== 'send_message' || r.status !== 'pending' || !r.channel || !r.purpose) continue;
    const params = { ...((r.params ?? {}) as Record<string, unknown>), ...((r.edited_params ?? {}) as Record<string, unknown>) };
    const subject = { accountId: (r.account_id as string | null) ?? null, leadId: (r.lead_id as string | null) ?? null };
    const req = { channel: String(r.channel), purpose: String(r.purpose), brand: (params.brand as string | undefined) ?? null };
    out.set(String(r.id), await recipientChoices(db, subject, req, now));
  }
  return out;
}

/** The message's recipient as chosen (an edit's, else the draft's), or null: the first consented point when it is sent. */
const recipientOf = (r: Record<string, unknown>): string | null => {
  const edited = (r.edited_params ?? {}) as Record<string, unknown>;
  const params = (r.params ?? {}) as Record<string, unknown>;
  const to = edited.to ?? params.to;
  return typeof to === 'string' ? to : null;
};

/** The card's message with where it goes: the recipient chosen and, while pending, the choices with their consent. */
function withRecipients(message: ReturnType<typeof approvalMessage>, r: Record<string, unknown>, choices: RecipientChoice[] | undefined) {
  return message && { ...message, to: recipientOf(r), recipients: choices ?? [] };
}

const toApproval = (r: Record<string, unknown>, recipients = new Map<string, RecipientChoice[]>()) => ({
  id: r.id,
  status: r.status,
  expiresAt: new Date(r.expires_at as string).toISOString(),
  decidedBy: r.decided_by ?? null,
  decidedAt: r.decided_at ? new Date(r.decided_at as string).toISOString() : null,
  reason: r.reason ?? null,
  reasonCategory: r.reason_category ?? null,
  editedParams: r.edited_params ?? null,
  // Why the last attempt to approve and run failed; the approval stayed pending and can be approved again.
  lastError: r.last_error ?? null,
  proposal: {
    id: r.proposal_id,
    agentId: r.agent_id,
    action: r.action,
    params: r.params,
    channel: r.channel,
    purpose: r.purpose,
    risk: r.risk,
    ev: r.ev,
    reason: r.proposal_reason,
    // The score it was decided with, the same field the Customer 360 shows (src/views/customer-360.ts).
    churn: (r.ev as { churn?: unknown } | null)?.churn ?? null,
    // The body a message would send, with the passages it cites; null for an action that sends nothing.
    message: withRecipients(approvalMessage(r), r, recipients.get(String(r.id))),
  },
  decision: { id: r.decision_id, outcome: r.outcome, policyIds: r.policy_ids, reasons: r.reasons, autonomy: r.autonomy },
  customer: {
    accountId: r.account_id,
    customerId: r.customer_id ?? null,
    leadId: r.lead_id,
    features: r.features ?? null,
    // The live subscription (an active one first, then the latest started); null for a lead or a customer without one.
    subscription:
      r.sub_status == null
        ? null
        : {
            status: r.sub_status,
            plan: r.sub_plan ?? null,
            contract: r.sub_contract ?? null,
            tenureMonths: r.sub_tenure_months ?? null,
            monthlyAmount: r.sub_monthly_amount == null ? null : Number(r.sub_monthly_amount),
          },
    recent: {
      days: CONTEXT_DAYS,
      credits: { count: Number(r.credits_n ?? 0), amountCents: Number(r.credits_cents ?? 0) },
      messages: {
        count: Number(r.messages_n ?? 0),
        lastAt: r.messages_last_at ? new Date(r.messages_last_at as string).toISOString() : null,
      },
    },
  },
});

/** The approval queue: the proposal, its explanation (EV terms, policies) and the customer's context. */
export function approvalRoutes(deps: ApiDeps): RouteDef[] {
  const { db, gate } = deps;
  return [
    {
      method: 'get',
      path: '/api/v1/approvals',
      tag: 'approvals',
      query: ApprovalQuery,
      summary:
        'The approval queue: one tab (`status`: pending, decided, expired, approved or rejected), filtered by `agent`, `action`, `risk` and `expiresWithinHours`, in `sort` order (`ev`: highest expected value first, then soonest to expire; `expiry`: soonest first; `newest`: most recently opened first); each item carries the customer\u2019s subscription and their credits and messages of the last 90 days, and a pending message the customer\u2019s contact points for its channel with whether consent for it is in effect',
      responses: {
        200: answers(ApprovalPageSchema, '{ data, nextCursor }'),
        400: 'bad status, filter, sort, limit or cursor (the issue names the query parameter)',
      },
      handler: async (c) => {
        const q = parseQuery(c, ApprovalQuery);
        const offset = offsetCursor(q.cursor);
        const now = deps.clock.now();
        const rows = await listApprovalQueue(db, {
          status: q.status,
          agent: q.agent,
          action: q.action,
          risk: q.risk,
          expiresWithinHours: q.expiresWithinHours,
          sort: q.sort,
          now,
          offset,
          limit: q.limit + 1,
        });
        const recipients = await recipientsOf(db, rows.slice(0, q.limit), now);
        return c.json(
          pageOf(
            rows,
            q.limit,
            () => offset + q.limit,
            (r) => toApproval(r, recipients),
          ),
        );
      },
    },
    {
      method: 'post',
      path: '/api/v1/approvals/:id/approve',
      tag: 'approvals',
      body: ApproveBody,
      summary: 'Approve, optionally with edited parameters (validated, then re-checked by policy); the action then runs once',
      responses: {
        200: answers(ApprovedRunSchema, '{ approval, execution }'),
        400: 'edited parameters do not fit the action',
        403: 'policy refuses the edit',
        404: 'no such approval',
        409: 'already decided or expired, the agent paused or the kill switch engaged',
        413: 'body too large',
        415: 'not JSON',
        422: 'an edited message recipient (params.to) is not one of the customer\u2019s contact points with consent for the message',
        500: 'the action failed and nothing ran: the approval stays pending with its lastError, and approving again retries it',
      },
      handler: async (c) => {
        const body = ApproveBody.safeParse(await readOptionalJson(c, deps.config.maxBodyBytes));
        if (!body.success) throw new AppError('validation_failed', 'invalid approval', toFieldIssues(body.error));
        // The run is keyed by the approval, so a retried request (or a play waiting on this approval) never runs the action twice.
        return c.json(
          await approveAndRun(db, gate, c.req.param('id')!, { actor: actorOf(c), editedParams: body.data.params, now: deps.clock.now() }),
        );
      },
    },
    {
      method: 'post',
      path: '/api/v1/approvals/:id/check-edit',
      tag: 'approvals',
      body: CheckEditBody,
      summary:
        'Check edited parameters as approving them would (schema, the credit approval limit and the day\u2019s credit budget, policy), changing nothing: { ok, refusal, limits }',
      responses: {
        200: answers(
          EditCheckSchema,
          '{ ok, refusal: { code, message, issues } | null, limits: { creditApprovalLimitCents, creditBudgetLeftCents } | null }',
        ),
        400: 'no params object',
        404: 'no such approval',
        409: 'already decided or expired, the agent paused or the kill switch engaged',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const body = CheckEditBody.safeParse(await readJson(c, deps.config.maxBodyBytes));
        if (!body.success) throw new AppError('validation_failed', 'invalid edit check', toFieldIssues(body.error));
        return c.json(await checkApprovalEdit(db, gate, c.req.param('id')!, body.data.params, deps.clock.now()));
      },
    },
    {
      method: 'post',
      path: '/api/v1/approvals/bulk-approve',
      tag: 'approvals',
      body: BulkApproveBody,
      summary: 'Approve up to 100 pending low-risk approvals of one agent and one action; each then runs once, independently of the others',
      responses: {
        200: answers(BulkApprovalSchema, '{ results: [{ id, ok: true, execution } | { id, ok: false, error: { code, message } }] }'),
        400: 'an id that is not a pending low-risk approval of the same agent and action as the others (issues name ids.<index>); nothing approved',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const body = BulkApproveBody.safeParse(await readJson(c, deps.config.maxBodyBytes));
        if (!body.success) throw new AppError('validation_failed', 'invalid bulk approval', toFieldIssues(body.error));
        const results = await bulkApprove(db, gate, body.data.ids, {
          actor: actorOf(c),
          now: deps.clock.now(),
          onUnexpected: (id, err) => c.get('log').error({ err, approvalId: id }, 'bulk approval failed'),
        });
        return c.json({ results });
      },
    },
    {
      method: 'post',
      path: '/api/v1/approvals/:id/reject',
      tag: 'approvals',
      body: RejectBody,
      summary:
        'Reject with a reason (required: it is the agent\u2019s feedback) and optionally its category; rejections lower the agent\u2019s precision for the action',
      responses: {
        204: 'rejected',
        400: 'reason missing',
        404: 'no such approval',
        409: 'already decided or expired',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const body = RejectBody.safeParse(await readJson(c, deps.config.maxBodyBytes));
        if (!body.success) throw new AppError('validation_failed', 'a rejection needs a reason', toFieldIssues(body.error));
        await reject(db, c.req.param('id')!, {
          actor: actorOf(c),
          reason: body.data.reason,
          category: body.data.category,
          now: deps.clock.now(),
        });
        return c.body(null, 204);
      },
    },
  ];
}
