import { z } from 'zod';
import { Attributes, Currency, Email, Money, Phone, ShortText, Timestamp, toFieldIssues, unstorableText, type FieldIssue } from './common.ts';
import { ConsentChannel, ConsentPurpose } from './records.ts';

/** How a signal names its customer: any one of these is enough. */
export const SignalSubject = z
  .strictObject({
    customerId: z.string().trim().min(1).max(64).optional(),
    email: Email.optional(),
    phone: Phone.optional(),
    externalId: z.string().trim().min(1).max(200).optional(),
  })
  .refine((s) => s.customerId || s.email || s.phone || s.externalId, {
    message: 'needs at least one of customerId, email, phone or externalId',
  });

const LeadFormV1 = z.strictObject({
  firstName: ShortText.optional(),
  lastName: ShortText.optional(),
  email: Email.optional(),
  phone: Phone.optional(),
  company: ShortText.optional(),
  formId: z.string().max(100).optional(),
  interest: z.string().max(500).optional(),
  message: z.string().max(5000).optional(),
});

// Versioned data contracts, one per signal type. A new version is added beside the old one, never edited in place.
export const SIGNAL_CONTRACTS = {
  usage: {
    1: z.strictObject({
      feature: z.string().trim().min(1).max(100).optional(),
      quantity: z.number().finite().min(0),
      unit: z.string().max(40).optional(),
      attributes: Attributes.optional(),
    }),
  },
  payment_failed: {
    1: z.strictObject({
      amount: Money,
      currency: Currency,
      reason: z.string().max(500).optional(),
      invoiceId: z.string().max(100).optional(),
    }),
  },
  billing_dispute: {
    1: z.strictObject({
      amount: Money,
      currency: Currency,
      reason: z.string().min(1).max(2000),
      invoiceId: z.string().max(100).optional(),
    }),
  },
  support_ticket: {
    1: z.strictObject({
      ticketId: z.string().max(100).optional(),
      subject: z.string().max(500).optional(),
      text: z.string().trim().min(1).max(20000),
      priority: z.enum(['low', 'normal', 'high', 'urgent']).optional(),
      channel: z.enum(['email', 'phone', 'chat', 'web', 'social']).optional(),
    }),
  },
  nps: {
    1: z.strictObject({
      score: z.number().int().min(0).max(10),
      comment: z.string().max(5000).optional(),
    }),
  },
  web_visit: {
    1: z.strictObject({
      url: z.url(),
      durationSeconds: z.number().finite().min(0).max(86400).optional(),
      referrer: z.string().max(2000).optional(),
    }),
  },
  email_engagement: {
    1: z.strictObject({
      event: z.enum(['delivered', 'opened', 'clicked', 'bounced', 'unsubscribed', 'replied']),
      campaignId: z.string().max(100).optional(),
      link: z.string().max(2000).optional(),
    }),
  },
  lead_form: {
    1: LeadFormV1,
    // Version 2 adds the consent boxes the person ticked; each becomes a consent record of the lead.
    2: LeadFormV1.extend({
      consents: z.array(z.strictObject({ channel: ConsentChannel, purpose: ConsentPurpose })).max(12).optional(),
    }),
  },
  // What happened to a customer afterwards; holdout reports compare these between treated and held-out customers.
  outcome: {
    1: z.strictObject({
      kind: z.enum(['churned', 'renewed', 'converted', 'case_resolved', 'complaint']),
      reason: z.string().max(2000).optional(),
      caseId: z.string().max(100).optional(),
      /** The idempotency key of the action this outcome answers, when there is one. */
      actionKey: z.string().max(200).optional(),
    }),
  },
} as const;

export type SignalType = keyof typeof SIGNAL_CONTRACTS;
export const SIGNAL_TYPES = Object.keys(SIGNAL_CONTRACTS) as SignalType[];

const Envelope = z.strictObject({
  id: z.string().trim().regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'letters, digits, _ . : - only, at most 128').optional(),
  type: z.string(),
  version: z.number().int().min(1).optional(),
  occurredAt: Timestamp.optional(),
  source: z.string().max(100).optional(),
  subject: SignalSubject,
  data: z.unknown(),
});

export interface Signal {
  id?: string;
  type: SignalType;
  version: number;
  occurredAt?: string;
  source?: string;
  subject: z.infer<typeof SignalSubject>;
  data: Record<string, unknown>;
}

export type SignalParse = { ok: true; signal: Signal } | { ok: false; issues: FieldIssue[] };

/**
 * Validates one signal against its envelope and the data contract of its type and version.
 * Envelope and data problems are reported together, so one round trip shows every bad field.
 */
export function parseSignal(raw: unknown): SignalParse {
  const env = Envelope.safeParse(raw);
  const issues: FieldIssue[] = env.success ? [] : toFieldIssues(env.error);
  const obj = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const type = obj.type;
  const contracts = typeof type === 'string' && Object.hasOwn(SIGNAL_CONTRACTS, type) ? (SIGNAL_CONTRACTS as Record<string, Record<number, z.ZodType>>)[type] : undefined;
  if (typeof type === 'string' && !contracts) {
    issues.push({ path: 'type', message: `unknown signal type '${type.slice(0, 60)}'; expected one of ${SIGNAL_TYPES.join(', ')}` });
  }
  const version = typeof obj.version === 'number' ? obj.version : 1;
  const contract = contracts && Object.hasOwn(contracts, version) ? contracts[version] : undefined;
  if (contracts && !contract && !issues.some((i) => i.path === 'version')) {
    issues.push({ path: 'version', message: `${type} has no contract version ${version}; known: ${Object.keys(contracts).join(', ')}` });
  }
  const data = contract?.safeParse(obj.data);
  if (data && !data.success) issues.push(...toFieldIssues(data.error, 'data'));
  issues.push(...unstorableText(raw));
  if (!env.success || !data?.success || issues.length) return { ok: false, issues };
  return { ok: true, signal: { ...env.data, type: type as SignalType, version, data: data.data as Record<string, unknown> } };
}

/** Every signal type and version as one schema, for documentation (OpenAPI); parseSignal does the validating. */
export const SignalDocument = z.union(
  Object.entries(SIGNAL_CONTRACTS).flatMap(([type, versions]) =>
    Object.entries(versions).map(([version, data]) =>
      // Only version 1 may be left out: it is the default.
      Envelope.extend({ type: z.literal(type), version: version === '1' ? z.literal(1).optional() : z.literal(Number(version)), data: data as z.ZodType }),
    ),
  ) as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]],
);
