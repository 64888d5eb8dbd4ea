import { z } from 'zod';
import { Attributes, Currency, Email, Money, Phone, ShortText, Timestamp, toFieldIssues, type FieldIssue } from './common.ts';
import { jsonHazards } from './json.ts';
import { Brand, ConsentChannel, ConsentPurpose } from './records.ts';

/**
 * The person a signal is about, as the sender knows them. Identity resolution compares these with the people already
 * known when no identifier names a profile (a typo in an email, a second address, a shop till that only takes names).
 */
export const SubjectPerson = z.strictObject({
  givenName: ShortText.optional(),
  surname: ShortText.optional(),
  dateOfBirth: z.iso.date().optional(),
  streetNumber: z.string().trim().min(1).max(20).optional(),
  address1: ShortText.optional(),
  address2: ShortText.optional(),
  suburb: ShortText.optional(),
  postcode: z.string().trim().min(1).max(20).optional(),
  state: z.string().trim().min(1).max(60).optional(),
});

/** How a signal names its customer: any one identifier is enough; without one, a named person with one more detail. */
export const SignalSubject = z
  .strictObject({
    customerId: z.string().trim().min(1).max(64).optional(),
    email: Email.optional(),
    phone: Phone.optional(),
    externalId: z.string().trim().min(1).max(200).optional(),
    person: SubjectPerson.optional(),
  })
  .refine((s) => s.customerId || s.email || s.phone || s.externalId || namedPerson(s.person), {
    message: 'needs at least one of customerId, email, phone or externalId, or a person with a name and one more detail',
  });

function namedPerson(p: z.infer<typeof SubjectPerson> | undefined): boolean {
  return !!p && !!(p.givenName || p.surname) && Object.values(p).filter(Boolean).length >= 2;
}

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

const LeadFormV2 = LeadFormV1.extend({
  consents: z
    .array(z.strictObject({ channel: ConsentChannel, purpose: ConsentPurpose }))
    .max(12)
    .optional(),
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
    // Version 2 adds the consent boxes the person ticked; each becomes a consent record of the lead, for the form's
    // email address (channel email) or phone number (sms, phone).
    2: LeadFormV2,
    // Version 3 lets a box name the brand it consents to.
    3: LeadFormV2.extend({
      consents: z
        .array(z.strictObject({ channel: ConsentChannel, purpose: ConsentPurpose, brand: Brand.optional() }))
        .max(12)
        .optional(),
    }),
  },
  // What happened to a customer afterwards; holdout reports compare these between treated and held-out customers.
  outcome: {
    1: z.strictObject({
      // offer_accepted / offer_declined: the customer's answer to an offer (name it with actionKey).
      kind: z.enum(['churned', 'renewed', 'converted', 'case_resolved', 'complaint', 'offer_accepted', 'offer_declined']),
      reason: z.string().max(2000).optional(),
      caseId: z.string().max(100).optional(),
      /** The idempotency key of the action this outcome answers, when there is one. */
      actionKey: z.string().max(200).optional(),
    }),
  },
} as const;

export type SignalType = keyof typeof SIGNAL_CONTRACTS;
export const SIGNAL_TYPES = Object.keys(SIGNAL_CONTRACTS) as SignalType[];

type SignalData = Record<string, unknown>;

/** What becomes of a version that is no longer current: upgraded on intake to the next version, or retired (refused, saying what to send instead). */
export type OlderVersion = { upgrade: (data: SignalData) => SignalData } | { retired: string };

/** A type's contract versions and their lifecycle: which one is current, and the fate of every older one. */
export interface SignalContract {
  versions: Record<number, z.ZodType>;
  current: number;
  older: Record<number, OlderVersion>;
}

export type ContractRegistry = Record<string, SignalContract>;

// Types with one version need no entry: that version is current.
const LIFECYCLE: { [T in SignalType]?: Pick<SignalContract, 'current' | 'older'> } = {
  // Version 2 only adds the optional consent boxes: a version 1 form is a version 2 form on which none were ticked.
  // Each version only adds optional fields, so the older data is already valid as the next version.
  lead_form: { current: 3, older: { 1: { upgrade: (data) => data }, 2: { upgrade: (data) => data } } },
};

/**
 * Refuses a registry in which a version below the current one has no declared fate, the current version has no
 * contract, or an upgrade leads into a retired version, so nobody adds a version without deciding about the old one.
 */
export function checkRegistry(registry: ContractRegistry): ContractRegistry {
  for (const [type, c] of Object.entries(registry)) {
    const known = Object.keys(c.versions).map(Number);
    if (!c.versions[c.current] || Math.max(...known) !== c.current)
      throw new Error(`${type}: the current version ${c.current} must be the highest with a contract`);
    for (let v = 1; v < c.current; v++) {
      const fate = c.older[v];
      if (!fate) throw new Error(`${type} version ${v}: declare whether it is upgraded or retired`);
      if ('upgrade' in fate && !c.versions[v]) throw new Error(`${type} version ${v} is upgraded but has no contract to check it against`);
      if ('upgrade' in fate && v + 1 < c.current && !('upgrade' in (c.older[v + 1] ?? {})))
        throw new Error(`${type} version ${v} upgrades into version ${v + 1}, which is retired`);
    }
  }
  return registry;
}

export const SIGNAL_REGISTRY: ContractRegistry = checkRegistry(
  Object.fromEntries(
    SIGNAL_TYPES.map((type) => [
      type,
      { versions: SIGNAL_CONTRACTS[type] as Record<number, z.ZodType>, ...(LIFECYCLE[type] ?? { current: 1, older: {} }) },
    ]),
  ),
);

const Envelope = z.strictObject({
  id: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_.:-]{1,128}$/, 'letters, digits, _ . : - only, at most 128')
    .optional(),
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
  /** The version the sender declared, when intake upgraded the signal to `version`, the current one. */
  upgradedFrom?: number;
}

export type SignalParse = { ok: true; signal: Signal } | { ok: false; issues: FieldIssue[] };

/**
 * Validates one signal against its envelope and the data contract of its type and declared version, then upgrades
 * an older version to the current one. Envelope and data problems are reported together, so one round trip shows
 * every bad field. A retired version is refused with what to send instead.
 */
export function parseSignal(raw: unknown, registry: ContractRegistry = SIGNAL_REGISTRY): SignalParse {
  // First, and alone: a value too deep or holding text the store refuses is not safe to validate further.
  const hazards = jsonHazards(raw);
  if (hazards.length) return { ok: false, issues: hazards };
  const env = Envelope.safeParse(raw);
  const issues: FieldIssue[] = env.success ? [] : toFieldIssues(env.error);
  const obj = raw !== null && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const type = obj.type;
  const entry = typeof type === 'string' && Object.hasOwn(registry, type) ? registry[type] : undefined;
  if (typeof type === 'string' && !entry) {
    issues.push({
      path: 'type',
      message: `unknown signal type '${type.slice(0, 60)}'; expected one of ${Object.keys(registry).join(', ')}`,
    });
  }
  const version = typeof obj.version === 'number' ? obj.version : 1;
  const fate = entry && version < entry.current ? entry.older[version] : undefined;
  if (entry && fate && 'retired' in fate) {
    issues.push({
      path: 'version',
      message: `${type} version ${version} is retired; the current version is ${entry.current}: ${fate.retired}`,
    });
  }
  const contract = entry && !(fate && 'retired' in fate) && Object.hasOwn(entry.versions, version) ? entry.versions[version] : undefined;
  if (entry && !contract && !issues.some((i) => i.path === 'version')) {
    issues.push({
      path: 'version',
      message: `${type} has no contract version ${version}; known: ${Object.keys(entry.versions).join(', ')}`,
    });
  }
  const data = contract?.safeParse(obj.data);
  if (data && !data.success) issues.push(...toFieldIssues(data.error, 'data'));
  if (!env.success || !data?.success || issues.length) return { ok: false, issues };
  const upgraded = upgrade(entry!, version, data.data as SignalData);
  if (!upgraded.ok)
    return {
      ok: false,
      issues: [{ path: 'version', message: `${type} version ${version} could not be upgraded to ${entry!.current}: ${upgraded.message}` }],
    };
  return {
    ok: true,
    signal: {
      ...env.data,
      type: type as SignalType,
      version: entry!.current,
      data: upgraded.data,
      ...(version < entry!.current ? { upgradedFrom: version } : {}),
    },
  };
}

/** Steps valid data of `version` up to the current version, checking the result against the current contract. */
function upgrade(
  entry: SignalContract,
  version: number,
  data: SignalData,
): { ok: true; data: SignalData } | { ok: false; message: string } {
  if (version === entry.current) return { ok: true, data };
  let out = data;
  for (let v = version; v < entry.current; v++) out = (entry.older[v] as { upgrade: (d: SignalData) => SignalData }).upgrade(out);
  const checked = entry.versions[entry.current]!.safeParse(out);
  return checked.success
    ? { ok: true, data: checked.data as SignalData }
    : {
        ok: false,
        message: toFieldIssues(checked.error, 'data')
          .map((i) => `${i.path} ${i.message}`)
          .join('; '),
      };
}

/**
 * Every signal type and accepted version as one schema, for documentation (OpenAPI); parseSignal does the
 * validating. Older versions that are upgraded on intake are marked deprecated; retired ones are left out.
 */
export const SignalDocument = z.union(
  Object.entries(SIGNAL_REGISTRY).flatMap(([type, c]) =>
    Object.entries(c.versions)
      .filter(([version]) => !(c.older[Number(version)] && 'retired' in c.older[Number(version)]!))
      .map(([version, data]) => {
        // Only version 1 may be left out: it is the default.
        const doc = Envelope.extend({
          type: z.literal(type),
          version: version === '1' ? z.literal(1).optional() : z.literal(Number(version)),
          data,
        });
        return Number(version) < c.current
          ? doc.meta({
              deprecated: true,
              description: `${type} version ${version}: accepted and upgraded to version ${c.current} on intake`,
            })
          : doc;
      }),
  ) as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]],
);
