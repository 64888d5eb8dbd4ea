import { z } from 'zod';
import { Attributes, Currency, DateOnly, Email, Money, Phone, ShortText, Timestamp } from './common.ts';
import { normalizeEmail, normalizePhone } from './normalize.ts';

// Input schemas for the CRM records. They are strict: an unknown field is an error that names it.
// Updates take the same fields, all optional. Server-owned fields (id, version, timestamps) never appear here.

const opt = <T extends z.ZodType>(t: T) => t.nullable().optional();

/** A brand of the tenant, as customers, consents and messages name it: a key, compared in lower case. */
export const Brand = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only, at most 64')
  .transform((b) => b.toLowerCase());

/** A pipeline's name: a key like a brand's. */
export const PipelineName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only, at most 64')
  .transform((b) => b.toLowerCase());

/** One stage of a pipeline, as `acs import pipeline-stages` reads it: the outcome tells ACS what reaching it means. */
export const PipelineStageInput = z.strictObject({
  pipeline: PipelineName,
  stage: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only, at most 64'),
  label: ShortText,
  position: z.number().int().min(0).max(10000),
  outcome: z.enum(['open', 'won', 'lost']),
  probability: opt(z.number().min(0).max(1)),
});

export const AccountInput = z.strictObject({
  name: ShortText,
  customerId: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only, at most 64')
    .optional(),
  kind: z.enum(['business', 'person']).optional(),
  industry: opt(ShortText),
  tier: opt(z.enum(['free', 'standard', 'premium', 'enterprise'])),
  owner: opt(ShortText),
  externalId: opt(ShortText),
  /** The brand the customer is with; messages to them go out under it unless they name another. */
  brand: opt(Brand),
  attributes: Attributes.optional(),
});

export const ContactInput = z.strictObject({
  accountId: opt(z.string()),
  firstName: opt(ShortText),
  lastName: opt(ShortText),
  email: opt(Email),
  phone: opt(Phone),
  title: opt(ShortText),
  externalId: opt(ShortText),
  attributes: Attributes.optional(),
});

export const LeadInput = z.strictObject({
  firstName: opt(ShortText),
  lastName: opt(ShortText),
  email: opt(Email),
  phone: opt(Phone),
  company: opt(ShortText),
  source: opt(ShortText),
  status: z.enum(['new', 'working', 'qualified', 'disqualified', 'converted']).optional(),
  score: opt(z.number().min(0).max(100)),
  brand: opt(Brand),
  externalId: opt(ShortText),
  attributes: Attributes.optional(),
});

export const OpportunityInput = z.strictObject({
  accountId: z.string(),
  name: ShortText,
  /** The pipeline the stage belongs to (`acs export pipeline-stages` lists them); default `acs`. */
  pipeline: PipelineName.optional(),
  /** A stage of the pipeline, by its key or its label ("Needs Analysis" reads needs_analysis). */
  stage: ShortText.optional(),
  amount: opt(Money),
  currency: Currency.optional(),
  closeDate: opt(DateOnly),
  /** The chance of winning, as a fraction from 0 to 1. */
  probability: opt(z.number().min(0).max(1)),
  owner: opt(ShortText),
  externalId: opt(ShortText),
  attributes: Attributes.optional(),
});

export const CaseInput = z.strictObject({
  accountId: opt(z.string()),
  contactId: opt(z.string()),
  subject: ShortText,
  description: opt(z.string().max(20000)),
  status: z.enum(['open', 'pending', 'resolved', 'closed']).optional(),
  priority: z.enum(['low', 'normal', 'high', 'urgent']).optional(),
  channel: opt(z.enum(['email', 'phone', 'chat', 'web', 'social'])),
  openedAt: Timestamp.optional(),
  closedAt: opt(Timestamp),
  externalId: opt(ShortText),
  attributes: Attributes.optional(),
});

export const InteractionInput = z.strictObject({
  type: z.enum(['email', 'call', 'chat', 'note']),
  accountId: opt(z.string()),
  contactId: opt(z.string()),
  leadId: opt(z.string()),
  direction: opt(z.enum(['inbound', 'outbound'])),
  subject: opt(z.string().max(500)),
  body: opt(z.string().max(100000)),
  occurredAt: Timestamp.optional(),
});

export const ProductInput = z.strictObject({
  sku: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only, at most 64'),
  name: ShortText,
  description: opt(z.string().max(5000)),
  price: opt(Money),
  currency: Currency.optional(),
  active: z.boolean().optional(),
});

export const SubscriptionInput = z.strictObject({
  accountId: z.string(),
  productId: opt(z.string()),
  status: z.enum(['active', 'paused', 'cancelled']).optional(),
  contract: opt(z.enum(['month-to-month', 'one-year', 'two-year'])),
  paymentMethod: opt(ShortText),
  paperlessBilling: opt(z.boolean()),
  startDate: opt(DateOnly),
  endDate: opt(DateOnly),
  tenureMonths: opt(z.number().int().min(0).max(1200)),
  monthlyAmount: opt(Money),
  totalBilled: opt(Money),
  services: Attributes.optional(),
});

export const PartnerInput = z.strictObject({
  name: ShortText,
  type: z.enum(['reseller', 'referral', 'technology', 'agency', 'distributor']).optional(),
  email: opt(Email),
  website: opt(z.url()),
  status: z.enum(['active', 'inactive', 'prospect']).optional(),
  attributes: Attributes.optional(),
});

export const ConsentChannel = z.enum(['email', 'sms', 'phone', 'push']);
export const ConsentPurpose = z.enum(['marketing', 'service', 'sales']);

const ConsentFields = z.strictObject({
  /** Who consented: a contact, or a lead not yet converted (exactly one of the two). */
  contactId: z.string().optional(),
  leadId: z.string().optional(),
  channel: ConsentChannel,
  purpose: ConsentPurpose,
  status: z.enum(['granted', 'denied', 'withdrawn']),
  /** Where the consent was captured (a form, a call, an import): kept as given. */
  source: ShortText,
  capturedAt: Timestamp,
  effectiveFrom: Timestamp.optional(),
  effectiveTo: opt(Timestamp),
  /** The email address (channel email) or phone number (sms, phone) it is about; absent: the holder's own. */
  contactPoint: opt(z.string().trim().min(1).max(254)),
  /** The brand it was given to; absent: every brand of the tenant. */
  brand: opt(Brand),
  /** Given by double opt-in: the grant counts only from `confirmedAt` (POST /api/v1/consents/{id}/confirm). */
  doubleOptIn: z.boolean().optional(),
  /** When the person confirmed a double opt-in; given here only when the confirmation was already captured elsewhere. */
  confirmedAt: opt(Timestamp),
});
// Instants, not strings: offsets make string order meaningless. Without effectiveFrom, capturedAt starts the window.
const windowIsOrdered = (c: { capturedAt?: string; effectiveFrom?: string; effectiveTo?: string | null }) => {
  const from = c.effectiveFrom ?? c.capturedAt;
  return !c.effectiveTo || !from || Date.parse(c.effectiveTo) > Date.parse(from);
};
const windowMessage = { path: ['effectiveTo'], message: 'must be after effectiveFrom (or capturedAt when effectiveFrom is absent)' };
const oneHolder = (c: { contactId?: string; leadId?: string }) => (c.contactId === undefined) !== (c.leadId === undefined);
const holderMessage = { path: ['contactId'], message: 'give exactly one of contactId and leadId' };

/** The contact point as stored and compared: an email in lower case, a phone number as digits (./normalize.ts). */
export function normalizeContactPoint(channel: string, point: string): string {
  return channel === 'email' ? normalizeEmail(point) : normalizePhone(point);
}

/** What a new consent must say beyond its fields' own types: a point that fits the channel, and honest timing. */
function consentRules(c: z.infer<typeof ConsentFields>, ctx: z.RefinementCtx) {
  const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (c.contactPoint != null) {
    if (c.channel === 'push') issue('contactPoint', 'a push consent names no contact point: ACS keeps no device tokens');
    else if (!(c.channel === 'email' ? Email : Phone).safeParse(c.contactPoint).success)
      issue('contactPoint', `must be ${c.channel === 'email' ? 'an email address' : 'a phone number'} for channel ${c.channel}`);
  }
  if (c.doubleOptIn && c.status !== 'granted') issue('doubleOptIn', 'only a grant is given by double opt-in');
  if (c.confirmedAt != null && !c.doubleOptIn) issue('confirmedAt', 'only a double opt-in is confirmed');
  if (c.confirmedAt != null && Date.parse(c.confirmedAt) < Date.parse(c.capturedAt)) issue('confirmedAt', 'must not be before capturedAt');
  // A withdrawal or refusal takes effect when it is captured: it cannot be scheduled for later.
  if (c.status !== 'granted' && c.effectiveFrom && Date.parse(c.effectiveFrom) > Date.parse(c.capturedAt)) {
    issue('effectiveFrom', `a ${c.status} consent takes effect when captured; effectiveFrom cannot be later`);
  }
}

// A consent takes effect when it was captured unless it says otherwise.
export const ConsentInput = ConsentFields.refine(windowIsOrdered, windowMessage)
  .refine(oneHolder, holderMessage)
  .superRefine(consentRules)
  .transform((c) => ({
    ...c,
    effectiveFrom: c.effectiveFrom ?? c.capturedAt,
    ...(c.contactPoint != null ? { contactPoint: normalizeContactPoint(c.channel, c.contactPoint) } : {}),
  }));

const pair = <T extends z.ZodObject>(create: z.ZodType, fields: T) => ({ create, update: fields.partial() });

/** The record kinds served under /api/v1/<kind>: the body a create takes, and the body an update takes. */
export const RECORD_INPUTS = {
  accounts: pair(AccountInput, AccountInput),
  contacts: pair(ContactInput, ContactInput),
  leads: pair(LeadInput, LeadInput),
  opportunities: pair(OpportunityInput, OpportunityInput),
  cases: pair(CaseInput, CaseInput),
  interactions: pair(InteractionInput, InteractionInput),
  products: pair(ProductInput, ProductInput),
  subscriptions: pair(SubscriptionInput, SubscriptionInput),
  partners: pair(PartnerInput, PartnerInput),
  // Whose consent it is, for which point and brand, and how it was given never change: another is a new consent.
  // A double opt-in is confirmed through POST /api/v1/consents/{id}/confirm.
  consents: {
    create: ConsentInput,
    update: ConsentFields.omit({ contactId: true, leadId: true, contactPoint: true, brand: true, doubleOptIn: true, confirmedAt: true })
      .partial()
      .refine(windowIsOrdered, windowMessage),
  },
} as const;

export type RecordKind = keyof typeof RECORD_INPUTS;
export const RECORD_KINDS = Object.keys(RECORD_INPUTS) as RecordKind[];
