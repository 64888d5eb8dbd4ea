import { z } from 'zod';
import { ChurnScoreSchema, component, IsoTime, page } from './core.ts';

export const ApprovalSchema = component(
  'Approval',
  z.object({
    id: z.string().min(1),
    status: z.enum(['pending', 'approved', 'rejected', 'expired']),
    expiresAt: IsoTime,
    decidedBy: z.string().nullable(),
    /** When a person approved or rejected it (or it lapsed); null while it is pending. */
    decidedAt: IsoTime.nullable(),
    reason: z.string().nullable(),
    reasonCategory: z.string().nullable(),
    editedParams: z.object({}).loose().nullable(),
    /** Set when the last approval's action failed: nothing ran, and the approval is still pending. */
    lastError: z.object({ code: z.string().min(1), message: z.string(), at: IsoTime }).nullable(),
    proposal: z.object({
      id: z.string().min(1),
      agentId: z.string().min(1),
      action: z.string().min(1),
      params: z.object({}).loose(),
      channel: z.string().nullable(),
      purpose: z.string().nullable(),
      risk: z.string().min(1),
      ev: z.object({}).loose(),
      reason: z.string(),
      /** The churn score the proposal was decided with (`ev.churn`), as the Customer 360 shows it; null when none was used. */
      churn: ChurnScoreSchema.nullable(),
      /**
       * What a send_message proposal would send: the body generated from the knowledge base and the customer's facts
       * (exactly what the customer gets: no citation markers), its sentences that cite evidence with their markers, the
       * passages the markers name (`1` is the first; `C` the customer's facts), whether generation abstained and which
       * guardrail checks held it for a person. Null for an action that sends nothing.
       */
      message: z
        .object({
          body: z.string().nullable(),
          sentences: z.array(z.object({ text: z.string(), markers: z.array(z.string()) })),
          citations: z.array(
            z.object({
              marker: z.string(),
              chunkId: z.string(),
              path: z.string().nullable(),
              headingPath: z.array(z.string()),
            }),
          ),
          abstained: z.boolean(),
          blocked: z.array(z.string()),
          /** The recipient an approver or the agent chose; null: the customer's first point whose consent grants, when it is sent. */
          to: z.string().nullable(),
          /**
           * While pending: the customer's contact points for the message's channel, each with whether consent for its
           * channel and purpose (and brand) is in effect now, and why not when it is not. An edit's `to` must be a
           * consented one. Empty for a decided approval and for push (no point).
           */
          recipients: z.array(z.object({ to: z.string(), consented: z.boolean(), why: z.string().nullable() })),
        })
        .nullable(),
    }),
    decision: z.object({
      id: z.string().min(1),
      outcome: z.enum(['execute', 'approval', 'deny']),
      policyIds: z.array(z.string()),
      reasons: z.array(z.string()),
      autonomy: z.number().int(),
    }),
    customer: z.object({
      accountId: z.string().nullable(),
      customerId: z.string().nullable(),
      leadId: z.string().nullable(),
      features: z.object({}).loose().nullable(),
      /** The customer's live subscription (an active one first, then the latest started); null when they have none. */
      subscription: z
        .object({
          status: z.string(),
          /** The product's name, when the subscription names one. */
          plan: z.string().nullable(),
          contract: z.string().nullable(),
          tenureMonths: z.number().int().nullable(),
          monthlyAmount: z.number().nullable(),
        })
        .nullable(),
      /** What was done for the customer in the last `days` days (of the world's clock): credits applied and messages sent or queued. */
      recent: z.object({
        days: z.number().int(),
        credits: z.object({ count: z.number().int(), amountCents: z.number().int() }),
        messages: z.object({ count: z.number().int(), lastAt: IsoTime.nullable() }),
      }),
    }),
  }),
  'an item of the approval queue: the proposal, what policy decided and the customer\u2019s context',
);
export const ApprovalPageSchema = page(ApprovalSchema);

export const ExecutionResultSchema = component(
  'ExecutionResult',
  z.object({
    idempotencyKey: z.string().min(1),
    action: z.string().min(1),
    status: z.enum(['succeeded', 'compensated', 'refused']),
    result: z.object({}).loose(),
    replayed: z.boolean(),
  }),
  'what ran, once per idempotency key',
);

export const ApprovedRunSchema = z.object({
  approval: z.object({ approvalId: z.string().min(1), decisionId: z.string().min(1), edited: z.boolean() }),
  execution: ExecutionResultSchema,
});

export const EditCheckSchema = z.object({
  ok: z.boolean(),
  refusal: z
    .object({
      code: z.string().min(1),
      message: z.string(),
      issues: z.array(z.object({ path: z.string(), message: z.string() })),
    })
    .nullable(),
  limits: z.object({ creditApprovalLimitCents: z.number().int(), creditBudgetLeftCents: z.number().int() }).nullable(),
});

export const BulkApprovalSchema = z.object({
  results: z.array(
    z.union([
      z.object({ id: z.string().min(1), ok: z.literal(true), execution: ExecutionResultSchema }),
      z.object({ id: z.string().min(1), ok: z.literal(false), error: z.object({ code: z.string().min(1), message: z.string() }) }),
    ]),
  ),
});
