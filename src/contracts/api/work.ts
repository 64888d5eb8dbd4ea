import { z } from 'zod';
import { component, IsoTime, page } from './core.ts';

export const WorkOriginSchema = component(
  'WorkOrigin',
  z.object({
    executionKey: z.string().nullable(),
    decisionId: z.string().nullable(),
    proposalId: z.string().nullable(),
    agentId: z.string().nullable(),
    action: z.string().nullable(),
  }),
  'what produced a work item: the execution (ledgered as action.executed under this key), its decision and proposal, the agent and the action',
);

export const TaskSchema = component(
  'Task',
  z.object({
    id: z.string().min(1),
    title: z.string(),
    details: z.string().nullable(),
    assignee: z.string().nullable(),
    status: z.enum(['open', 'done', 'cancelled']),
    dueAt: IsoTime.nullable(),
    createdAt: IsoTime,
    accountId: z.string().nullable(),
    customerId: z.string().nullable(),
    leadId: z.string().nullable(),
    origin: WorkOriginSchema,
  }),
  'a task an agent\u2019s action created (a save call, a follow-up); assigning and completing it are ledgered under its id',
);
export const TaskPageSchema = page(TaskSchema);

export const MessageSchema = component(
  'Message',
  z.object({
    id: z.string().min(1),
    channel: z.string(),
    purpose: z.string(),
    template: z.string(),
    body: z.string().nullable(),
    contactPoint: z.string().nullable(),
    brand: z.string().nullable(),
    status: z.enum(['queued', 'sent', 'failed', 'cancelled']),
    transport: z.string().nullable(),
    sentAt: IsoTime.nullable(),
    consentId: z.string().nullable(),
    createdAt: IsoTime,
    accountId: z.string().nullable(),
    customerId: z.string().nullable(),
    leadId: z.string().nullable(),
    origin: WorkOriginSchema,
  }),
  'an outbound message: its body, recipient, the consent that allowed it and its delivery state',
);
export const MessagePageSchema = page(MessageSchema);

export const CreditSchema = component(
  'Credit',
  z.object({
    id: z.string().min(1),
    amountCents: z.number().int().positive(),
    currency: z.string(),
    reason: z.string().nullable(),
    status: z.enum(['applied', 'reversed']),
    createdAt: IsoTime,
    reversedAt: IsoTime.nullable(),
    accountId: z.string(),
    customerId: z.string().nullable(),
    origin: WorkOriginSchema,
  }),
  'a credit applied to a customer\u2019s account, and whether it was reversed',
);
export const CreditPageSchema = page(CreditSchema);

export const PlaySchema = component(
  'Play',
  z.object({
    id: z.string().min(1),
    kind: z.string(),
    step: z.string(),
    status: z.enum(['running', 'waiting', 'done', 'refused', 'gave_up']),
    attempts: z.number().int().min(0),
    lastError: z.string().nullable(),
    nextRunAt: IsoTime,
    createdAt: IsoTime,
    updatedAt: IsoTime,
    completed: z.array(z.string()),
    cancelled: z.object({ by: z.string(), at: IsoTime, reason: z.string().nullable() }).nullable(),
    accountId: z.string().nullable(),
    customerId: z.string().nullable(),
    agentId: z.string().nullable(),
    decisionIds: z.array(z.string()),
  }),
  'a durable multi-step play (retention, service recovery): its step, state and failures; ledgered under its id',
);
export const PlayPageSchema = page(PlaySchema);
