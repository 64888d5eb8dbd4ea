import { z } from 'zod';
import { component, FieldIssueSchema, IsoTime } from './core.ts';

/** What identity resolution did with a new profile's person. */
const PlacementSchema = z.discriminatedUnion('outcome', [
  z.object({ outcome: z.literal('merged'), survivorId: z.string(), mergeId: z.string(), probability: z.number(), rule: z.string() }),
  z.object({ outcome: z.literal('review'), reviewId: z.string(), candidateId: z.string(), probability: z.number() }),
  z.object({ outcome: z.literal('new'), probability: z.number().nullable() }),
]);

/** What intake did with each item of a request, by its index in the request. */
const IntakeOutcomeShape = {
  accepted: z.array(
    z.object({
      index: z.number().int().min(0),
      id: z.string().min(1),
      type: z.string().min(1),
      accountId: z.string().nullable(),
      leadId: z.string().nullable(),
      created: z.enum(['account', 'lead']).optional(),
      identity: PlacementSchema.optional(),
    }),
  ),
  duplicates: z.array(z.object({ index: z.number().int().min(0), id: z.string().min(1) })),
  rejected: z.array(z.object({ index: z.number().int().min(0), issues: z.array(FieldIssueSchema), quarantineId: z.string().nullable() })),
};

export const IntakeResultSchema = component(
  'IntakeResult',
  z.object({
    counts: z.object({ accepted: z.number().int().min(0), duplicates: z.number().int().min(0), rejected: z.number().int().min(0) }),
    ...IntakeOutcomeShape,
  }),
  'per item of the request: accepted (with the profile it reached), a duplicate of an accepted signal, or rejected (with the issues and the quarantine id)',
);

export const ResubmitResultSchema = z.object({ quarantineId: z.string().min(1), ...IntakeOutcomeShape });

/** What the trust layer found in a signal's free text at intake (docs/trust.md, "Prompt injection"). */
export const SignalTrustSchema = component(
  'SignalTrust',
  z
    .object({
      injection: z
        .object({
          flagged: z.boolean(),
          score: z.number().min(0).max(1),
          rules: z.array(z.string()),
          classifierScore: z.number().min(0).max(1),
          fields: z.array(z.string()),
          scannedChars: z.number().int().min(0),
        })
        .optional(),
    })
    .loose(),
  "the trust layer's findings on the signal's free text: injection (flagged, score, the rules that matched, the classifier's score, the flagged fields)",
);

export const StoredSignalSchema = component(
  'StoredSignal',
  z.object({
    id: z.string().min(1),
    type: z.string().min(1),
    schemaVersion: z.number().int(),
    occurredAt: IsoTime,
    receivedAt: IsoTime,
    accountId: z.string().nullable(),
    leadId: z.string().nullable(),
    subject: z.object({}).loose(),
    data: z.object({}).loose(),
    metric: z.number().nullable(),
    source: z.string().nullable(),
    /** Null when the signal has no free text to scan (or was stored before the trust layer). */
    trust: SignalTrustSchema.nullable(),
  }),
  'an accepted signal as stored',
);

export const QuarantineItemSchema = component(
  'QuarantineItem',
  z.object({
    id: z.string().min(1),
    source: z.string().min(1),
    reason: z.string(),
    issues: z.array(FieldIssueSchema),
    raw: z.string(),
    /** False when `raw` is not an exact copy of what was received; `rawBase64` then holds the exact bytes. */
    rawExact: z.boolean(),
    rawBase64: z.string().optional(),
    status: z.enum(['open', 'resubmitted', 'discarded']),
    receivedAt: IsoTime,
    resolvedAt: IsoTime.nullable(),
    resolution: z.object({}).loose().nullable(),
  }),
  'refused input, kept whole with the reasons it was refused',
);
