import { z } from 'zod';
import { component, IsoTime } from './core.ts';

export const OutboxEventSchema = component(
  'OutboxEvent',
  z.object({
    id: z.number().int().positive(),
    topic: z.string(),
    payload: z.unknown(),
    state: z.enum(['pending', 'delivered', 'parked', 'discarded']),
    attempts: z.number().int().min(0),
    lastError: z.string().nullable(),
    createdAt: IsoTime,
    lastAttemptAt: IsoTime.nullable(),
    nextAttemptAt: IsoTime.nullable(),
    parkedAt: IsoTime.nullable(),
    deliveredAt: IsoTime.nullable(),
    discardedAt: IsoTime.nullable(),
    discardedBy: z.string().nullable(),
    discardReason: z.string().nullable(),
  }),
  'an event of the bus outbox, with its delivery attempts and state',
);

export const OutboxStatsSchema = component(
  'OutboxStats',
  z.object({ pending: z.number().int().min(0), oldestPendingAgeSeconds: z.number().min(0), parked: z.number().int().min(0) }),
  'the bus backlog: events waiting, the age of the oldest, and how many are parked',
);

export const ParkedPageSchema = z.object({ data: z.array(OutboxEventSchema), nextCursor: z.string().nullable(), stats: OutboxStatsSchema });
