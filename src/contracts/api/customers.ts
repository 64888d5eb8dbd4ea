import { z } from 'zod';
import { ChurnScoreSchema, component, IsoTime } from './core.ts';
import { UnifiedFieldsSchema } from './identity.ts';
import { ConsentRecordSchema, StoredRecordSchema } from './stored.ts';

const TimelineItemSchema = z.object({
  at: IsoTime,
  kind: z.enum(['signal', 'outcome', 'interaction', 'proposal', 'decision', 'action']),
  id: z.string().min(1),
  type: z.string(),
  summary: z.object({}).loose(),
});

export const ProfileSchema = component(
  'CustomerProfile',
  z.object({
    account: StoredRecordSchema,
    identities: z.array(z.object({ kind: z.string().min(1), value: z.string(), source: z.string() })),
    contacts: z.array(StoredRecordSchema),
    consents: z.array(ConsentRecordSchema),
    subscriptions: z.array(StoredRecordSchema),
    openCases: z.array(StoredRecordSchema),
    features: z.object({ asOf: IsoTime, values: z.object({}).loose() }).nullable(),
    unified: UnifiedFieldsSchema,
    timeline: z.array(TimelineItemSchema),
    churn: z.object({
      /** The score the customer's latest decision used, as its approval shows it. */
      decided: ChurnScoreSchema.extend({ proposalId: z.string().min(1), decisionId: z.string().nullable() }).nullable(),
      /** A fresh score now, by the model serving now; labelled, never shown as the decided one. */
      current: ChurnScoreSchema.extend({
        fresh: z.literal(true),
        /** Whether the same model version scored the decided one; null when nothing was decided yet. */
        sameModelAsDecided: z.boolean().nullable(),
        label: z.string().min(1),
      }).nullable(),
    }),
  }),
  'the unified customer: account, identities, contacts, consents, subscriptions, open cases, features, unified person fields, timeline and churn score (decided and fresh)',
);

/** What consent allows now for one contact point (null for push), channel, purpose and brand. */
export const EffectiveConsentSchema = component(
  'EffectiveConsent',
  z.object({
    contactPoint: z.string().nullable(),
    channel: z.string().min(1),
    purpose: z.string().min(1),
    brand: z.string().nullable(),
    status: z.string().min(1),
    grants: z.boolean(),
    consentId: z.string().min(1),
    contactId: z.string().min(1),
    capturedAt: IsoTime,
  }),
  'what consent allows now for one contact point, channel, purpose and brand, and the record that decides',
);

export const ConsentOverviewSchema = component(
  'ConsentOverview',
  z.object({
    effective: z.array(EffectiveConsentSchema),
    data: z.array(
      ConsentRecordSchema.extend({
        contactId: z.string().min(1),
        inEffect: z.boolean(),
        state: z.enum(['in_effect', 'superseded', 'awaiting_confirmation', 'scheduled', 'expired']),
      }),
    ),
  }),
  'a customer\u2019s consent: what is in effect, and every record behind it with its state now',
);

export const ContactConsentsSchema = z.object({ data: z.array(ConsentRecordSchema) });

const Counts = z.record(z.string(), z.number().int().min(0));

export const SubjectExportSchema = component(
  'SubjectExport',
  z.object({
    format: z.string().min(1),
    exportedAt: IsoTime,
    subject: z.object({ accountId: z.string().min(1), customerId: z.string().nullable() }),
    counts: Counts,
    // Rows of many tables, each with its own columns.
    data: z.record(z.string(), z.array(z.object({}).loose())),
    ledger: z.array(
      z.object({
        seq: z.number().int(),
        ts: IsoTime,
        type: z.string(),
        actor: z.string(),
        subjectType: z.string().nullable(),
        subjectId: z.string().nullable(),
      }),
    ),
  }),
  'everything held about one customer, machine-readable, with the ledger entries about it',
);

export const ErasureResultSchema = component(
  'ErasureResult',
  z.object({
    erasureId: z.string().min(1),
    subject: z.object({ accountId: z.string().min(1), customerId: z.string().min(1) }),
    erasedAt: IsoTime,
    alreadyErased: z.boolean(),
    reasonGiven: z.boolean(),
    counts: Counts,
    leadIds: z.array(z.string()),
    otherProfiles: z.array(z.string()),
  }),
  'what an erasure destroyed, per table',
);

export const CompactionResultSchema = component(
  'CompactionResult',
  z.object({
    erasureIds: z.array(z.string().min(1)),
    tables: z.array(z.string().min(1)),
    steps: z.array(z.object({ step: z.enum(['rewrite', 'statistics', 'wal']), done: z.boolean(), detail: z.string().min(1) })),
    complete: z.boolean(),
  }),
  'what a compaction after erasure rewrote, step by step, and whether every step was done',
);

export const FeatureHistorySchema = component(
  'FeatureHistory',
  z.object({
    data: z.array(
      z.object({
        asOf: IsoTime,
        features: z.object({}).loose(),
        churn: z.object({ probability: z.number().min(0).max(1), modelId: z.string().min(1), modelVersion: z.string() }).nullable(),
      }),
    ),
    notes: z.record(z.string(), z.string()),
  }),
  'the customer\u2019s features at points in time, with the churn score when a model is trained',
);

/** GET /api/v1/search: the text to find and how many customers to answer with. */
export const CustomerSearchQuery = z.strictObject({
  /** A name, email, phone number or customer or account id, whole or in part, any case; 1 to 200 characters. */
  q: z.string().trim().min(1, 'give the text to search for').max(200, 'at most 200 characters'),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const CustomerSearchSchema = component(
  'CustomerSearch',
  z.object({
    query: z.string(),
    limit: z.number().int(),
    /** What the query was matched against: personal fields too, or ids only (a role that sees personal data masked). */
    fields: z.enum(['all', 'ids']),
    /** How names were compared by similarity: pg_trgm in the database, or not at all where it is not installed. */
    similarity: z.enum(['pg_trgm', 'none']),
    data: z.array(
      z.object({
        accountId: z.string().min(1),
        customerId: z.string().min(1),
        name: z.string(),
        kind: z.string().nullable(),
        matchedOn: z.enum(['customerId', 'accountId', 'email', 'phone', 'name']),
        match: z.enum(['exact', 'prefix', 'contains', 'similar']),
        similarity: z.number(),
        contact: z
          .object({
            id: z.string().min(1),
            firstName: z.string().nullable(),
            lastName: z.string().nullable(),
            email: z.string().nullable(),
            phone: z.string().nullable(),
          })
          .nullable(),
      }),
    ),
  }),
  'customers found by name, email, phone or id, best first: exact matches, then prefix, then contains, then similar names',
);
