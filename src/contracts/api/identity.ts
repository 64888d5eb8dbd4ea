import { z } from 'zod';
import { component, IsoTime } from './core.ts';

/** A person's fields as identity resolution reads them (givenName, surname, email, phone, …). */
const PersonFieldsSchema = z.record(z.string(), z.string().nullable());

/** Why two people may be one: the probability, the deterministic rule that matched if any, and each field's comparison. */
export const PairExplanationSchema = component(
  'PairExplanation',
  z.object({
    probability: z.number().min(0).max(1),
    rule: z.string().nullable(),
    fields: z.array(z.object({ field: z.string().min(1), level: z.string().min(1), weight: z.number() })),
  }),
  'why two person records may be one person',
);

const ReviewSideSchema = z.object({
  accountId: z.string().min(1),
  customerId: z.string().nullable(),
  name: z.string().nullable(),
  personId: z.string().nullable(),
  fields: PersonFieldsSchema.nullable(),
});

export const IdentityReviewSchema = component(
  'IdentityReview',
  z.object({
    id: z.string().min(1),
    status: z.enum(['open', 'merged', 'kept_apart', 'superseded', 'unmerged']),
    score: z.number().min(0).max(1),
    explanation: PairExplanationSchema,
    profile: ReviewSideSchema,
    candidate: ReviewSideSchema,
    createdAt: IsoTime,
    decidedAt: IsoTime.nullable(),
    decidedBy: z.string().nullable(),
    mergeId: z.string().nullable(),
  }),
  'an uncertain match for a data steward: the new profile, the existing one it may be, and why',
);

export const MergeSchema = component(
  'Merge',
  z.object({
    id: z.string().min(1),
    survivorId: z.string().min(1),
    mergedId: z.string().min(1),
    rule: z.string().min(1),
    score: z.number().nullable(),
    reviewId: z.string().nullable(),
    moved: z.record(z.string(), z.number().int().min(0)),
    actor: z.string().min(1),
    createdAt: IsoTime,
    unmergedAt: IsoTime.nullable(),
    unmergedBy: z.string().nullable(),
  }),
  'one profile folded into another, with how many rows it moved per table',
);

const MergeSideSchema = z.object({ accountId: z.string().min(1), customerId: z.string().nullable(), name: z.string().nullable() });

export const MergeHistoryItemSchema = component(
  'MergeHistoryItem',
  z.object({
    id: z.string().min(1),
    survivor: MergeSideSchema,
    merged: MergeSideSchema,
    rule: z.string().min(1),
    automatic: z.boolean(),
    score: z.number().nullable(),
    reviewId: z.string().nullable(),
    decidingFields: z.array(z.object({ field: z.string().min(1), level: z.string().min(1), weight: z.number() })),
    actor: z.string().min(1),
    actorName: z.string().min(1),
    createdAt: IsoTime,
    unmergedAt: IsoTime.nullable(),
    unmergedBy: z.string().nullable(),
    unmergedByName: z.string().nullable(),
    undoable: z.boolean(),
    undoBlockedBy: z.string().nullable(),
    undoBlockedReason: z.string().nullable(),
  }),
  'one merge in the steward\u2019s history: both profiles, who or what merged them, the fields that decided, and whether it can be undone now',
);

export const UnmergeSchema = MergeSchema.extend({ followed: z.number().int().min(0) });

/** The unified person fields, each with the survivorship rule that chose its value. */
export const UnifiedFieldsSchema = z.record(
  z.string(),
  z.object({ value: z.string().nullable(), rule: z.string().min(1), from: z.string().nullable(), alternatives: z.number().int().min(0) }),
);

export const LineageSchema = component(
  'CustomerLineage',
  z.object({
    accountId: z.string().min(1),
    unified: UnifiedFieldsSchema,
    people: z.array(
      z.object({
        id: z.string().min(1),
        sourceKind: z.string().min(1),
        sourceId: z.string().min(1),
        source: z.string(),
        fields: PersonFieldsSchema,
        observedAt: IsoTime,
        matchedBy: z.string(),
        score: z.number().nullable(),
        matchedPerson: z.string().nullable(),
      }),
    ),
    merges: z.array(MergeSchema),
  }),
  'how a profile was assembled: its person records, merges and unified fields',
);

export const MatchResultSchema = z.object({
  candidate: z
    .object({
      personId: z.string().min(1),
      accountId: z.string().nullable(),
      leadId: z.string().nullable(),
      explanation: PairExplanationSchema,
      compared: z.number().int().min(0),
    })
    .nullable(),
  matchThreshold: z.number(),
  reviewThreshold: z.number(),
});

const SettingsShape = {
  matchThreshold: z.number().gt(0).max(1),
  reviewThreshold: z.number().gt(0).max(1),
  rules: z.array(
    z.object({ name: z.string().min(1), criteria: z.array(z.object({ field: z.string().min(1), atLeast: z.string().min(1) })) }),
  ),
  survivorship: z.record(
    z.string(),
    z.object({
      rule: z.enum(['most_recent', 'most_frequent', 'source_priority']),
      sources: z.array(z.string()).optional(),
      ignoreEmpty: z.boolean(),
    }),
  ),
};

export const IdentitySettingsSchema = component(
  'IdentitySettings',
  z.object(SettingsShape),
  'thresholds, deterministic match rules and survivorship per field',
);
/** As read: with when they were last changed (null: never, the defaults). */
export const StoredIdentitySettingsSchema = z.object({ ...SettingsShape, updatedAt: IsoTime.nullable() });

export const IdentityModelFitSchema = z.object({
  records: z.number().int().min(0),
  pairsCompared: z.number().int().min(0),
  lambda: z.number(),
  ms: z.number().min(0),
});
