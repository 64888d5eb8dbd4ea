import { z } from 'zod';
import {
  AccountInput,
  CaseInput,
  ConsentChannel,
  ConsentPurpose,
  InteractionInput,
  LeadInput,
  PartnerInput,
  SubscriptionInput,
  type RecordKind,
} from '../records.ts';
import { component, IsoTime, page } from './core.ts';

// A CRM record as the API answers it: every column of its table, camelCased, timestamps and dates as ISO strings
// (src/records/records.ts toApi). The enums are the inputs' own, so a value the API accepts is one it documents.

const text = z.string().nullable();
const num = z.number().nullable();
const time = IsoTime.nullable();
/** jsonb objects: open-ended by design. */
const Attributes = z.record(z.string(), z.unknown());

/** What every record carries beside its own fields. Only live records are served, so deletedAt is always null. */
const stamps = {
  id: z.string(),
  version: z.number().int().min(1),
  createdAt: IsoTime,
  updatedAt: IsoTime,
  deletedAt: z.null(),
};

const record = <T extends z.ZodRawShape>(fields: T) => z.object({ ...stamps, ...fields });

export const AccountRecord = component(
  'Account',
  record({
    customerId: z.string(),
    name: z.string(),
    kind: AccountInput.shape.kind.unwrap(),
    industry: text,
    tier: AccountInput.shape.tier.unwrap(),
    owner: text,
    externalId: text,
    attributes: Attributes,
    brand: text,
    /** The profile this account was merged into by identity resolution. */
    mergedInto: text,
    erasedAt: time,
  }),
  'an account (a customer): a business or a person',
);

export const ContactRecord = component(
  'Contact',
  record({
    accountId: text,
    firstName: text,
    lastName: text,
    email: text,
    phone: text,
    title: text,
    externalId: text,
    attributes: Attributes,
  }),
  'a person at an account',
);

export const LeadRecord = component(
  'Lead',
  record({
    firstName: text,
    lastName: text,
    email: text,
    phone: text,
    company: text,
    source: text,
    status: LeadInput.shape.status.unwrap(),
    score: num,
    attributes: Attributes,
    brand: text,
    externalId: text,
  }),
  'a prospect not yet a customer',
);

export const OpportunityRecord = component(
  'Opportunity',
  record({
    accountId: z.string(),
    name: z.string(),
    /** The pipeline the stage belongs to. */
    pipeline: z.string(),
    /** A stage key of the pipeline. */
    stage: z.string(),
    amount: num,
    currency: z.string(),
    /** A date, served as midnight of that day. */
    closeDate: time,
    probability: num,
    owner: text,
    externalId: text,
    attributes: Attributes,
  }),
  'a deal in the pipeline',
);

export const CaseRecord = component(
  'Case',
  record({
    accountId: text,
    contactId: text,
    subject: z.string(),
    description: text,
    status: CaseInput.shape.status.unwrap(),
    priority: CaseInput.shape.priority.unwrap(),
    channel: CaseInput.shape.channel.unwrap(),
    openedAt: IsoTime,
    closedAt: time,
    externalId: text,
    attributes: Attributes,
  }),
  'a support case',
);

export const InteractionRecord = component(
  'Interaction',
  record({
    type: InteractionInput.shape.type,
    accountId: text,
    contactId: text,
    leadId: text,
    direction: InteractionInput.shape.direction.unwrap(),
    subject: text,
    body: text,
    occurredAt: IsoTime,
  }),
  'an email, call, chat or note',
);

export const ProductRecord = component(
  'Product',
  record({
    sku: z.string(),
    name: z.string(),
    description: text,
    price: num,
    currency: z.string(),
    active: z.boolean(),
  }),
  'a product of the catalogue',
);

export const SubscriptionRecord = component(
  'Subscription',
  record({
    accountId: z.string(),
    productId: text,
    status: SubscriptionInput.shape.status.unwrap(),
    contract: SubscriptionInput.shape.contract.unwrap(),
    paymentMethod: text,
    paperlessBilling: z.boolean().nullable(),
    /** Dates, served as midnight of that day. */
    startDate: time,
    endDate: time,
    tenureMonths: z.number().int().nullable(),
    monthlyAmount: num,
    totalBilled: num,
    services: Attributes,
  }),
  'an account\u2019s subscription to a product',
);

export const PartnerRecord = component(
  'Partner',
  record({
    name: z.string(),
    type: PartnerInput.shape.type.unwrap(),
    email: text,
    website: text,
    status: PartnerInput.shape.status.unwrap(),
    attributes: Attributes,
  }),
  'a reseller, referral, technology, agency or distribution partner',
);

export const ConsentRecord = component(
  'Consent',
  record({
    /** Exactly one of contactId and leadId is set. */
    contactId: text,
    leadId: text,
    channel: ConsentChannel,
    purpose: ConsentPurpose,
    status: z.enum(['granted', 'denied', 'withdrawn']),
    source: z.string(),
    capturedAt: IsoTime,
    effectiveFrom: IsoTime,
    effectiveTo: time,
    contactPoint: text,
    brand: text,
    doubleOptIn: z.boolean(),
    confirmedAt: time,
  }),
  'one consent record: who, for which channel, purpose, contact point and brand, and when',
);

/** Each record kind's answer body, for the record routes. */
export const RECORD_SCHEMAS: Record<RecordKind, z.ZodType> = {
  accounts: AccountRecord,
  contacts: ContactRecord,
  leads: LeadRecord,
  opportunities: OpportunityRecord,
  cases: CaseRecord,
  interactions: InteractionRecord,
  products: ProductRecord,
  subscriptions: SubscriptionRecord,
  partners: PartnerRecord,
  consents: ConsentRecord,
};

const listed = (id: string, item: z.ZodType, kind: RecordKind) => component(id, page(item), `one page of ${kind}, oldest first`);

/** Each record kind's list page. */
export const RECORD_PAGES: Record<RecordKind, z.ZodType> = {
  accounts: listed('AccountPage', AccountRecord, 'accounts'),
  contacts: listed('ContactPage', ContactRecord, 'contacts'),
  leads: listed('LeadPage', LeadRecord, 'leads'),
  opportunities: listed('OpportunityPage', OpportunityRecord, 'opportunities'),
  cases: listed('CasePage', CaseRecord, 'cases'),
  interactions: listed('InteractionPage', InteractionRecord, 'interactions'),
  products: listed('ProductPage', ProductRecord, 'products'),
  subscriptions: listed('SubscriptionPage', SubscriptionRecord, 'subscriptions'),
  partners: listed('PartnerPage', PartnerRecord, 'partners'),
  consents: listed('ConsentPage', ConsentRecord, 'consents'),
};
