import { z } from 'zod';
import { component, IsoTime } from './core.ts';

/** Who a token is: what GET /me and POST /auth/login answer. */
export const PrincipalSchema = component(
  'Principal',
  z.object({ tokenId: z.string().min(1), name: z.string(), role: z.string().min(1) }),
  'who a bearer token is',
);

export const TokenSchema = component(
  'Token',
  z.object({
    id: z.string().min(1),
    name: z.string(),
    role: z.string().min(1),
    createdAt: IsoTime,
    lastUsedAt: IsoTime.nullable(),
    revokedAt: IsoTime.nullable(),
  }),
  'an API token, never its secret',
);
export const TokenListSchema = z.object({ data: z.array(TokenSchema) });

export const CreatedTokenSchema = component(
  'CreatedToken',
  z.object({ id: z.string().min(1), token: z.string().min(1), role: z.string().min(1), name: z.string() }),
  'a new token with its secret, shown this once',
);

export const LedgerEntrySchema = component(
  'LedgerEntry',
  z.object({
    seq: z.number().int().min(1),
    ts: IsoTime,
    type: z.string().min(1),
    actor: z.string().min(1),
    subjectType: z.string().nullable(),
    subjectId: z.string().nullable(),
    data: z.object({}).loose(),
    prevHash: z.string().min(1),
    hash: z.string().min(1),
    /** Who the actor is, for people: an API token's name, an agent, or what part of the system. */
    actorName: z.string().min(1),
    actorKind: z.enum(['person', 'agent', 'system']),
    actorRole: z.string().nullable(),
    /** For an approval's entries: what was approved (or rejected, or expired). Null for other entries. */
    about: z
      .object({
        action: z.string(),
        agentId: z.string(),
        customer: z.object({ customerId: z.string().nullable(), name: z.string().nullable() }).nullable(),
        amountCents: z.number().int().nullable(),
        status: z.string(),
      })
      .nullable(),
  }),
  'one hash-chained ledger entry, with its actor by name and, for an approval, what it was about',
);

/** Ledger pages go by sequence number: `nextBefore` is the `before` of the next page, null on the last. */
export const LedgerPageSchema = z.object({ data: z.array(LedgerEntrySchema), nextBefore: z.number().int().nullable() });

export const LedgerVerifySchema = component(
  'LedgerVerifyReport',
  z.object({
    ok: z.boolean(),
    entries: z.number().int().min(0),
    head: z.string().min(1),
    firstBadSeq: z.number().int().nullable(),
    problem: z.string().optional(),
    checkpoints: z.number().int().min(0),
    lag: z.object({ pending: z.number().int().min(0), oldestSeconds: z.number().nullable() }),
  }),
  'the result of recomputing the hash chain and checking the signed checkpoints; `lag` counts entries written since, not chained yet',
);

export const LedgerCheckpointSchema = component(
  'LedgerCheckpoint',
  z.object({
    checkpoint: z
      .object({ seq: z.number().int().min(1), hash: z.string().min(1), at: z.string(), signature: z.string().min(1) })
      .nullable(),
  }),
  'the signed checkpoint of the ledger head (the last one when the head has not moved; null on an empty ledger)',
);
