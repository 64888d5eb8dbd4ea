import { z } from 'zod';
import { discardParked, EVENT_ID, listParked, outboxStats, retryParked } from '../../bus/index.ts';
import { AppError } from '../../errors.ts';
import type { ApiDeps } from '../deps.ts';
import { OutboxEventSchema, ParkedPageSchema } from '../../contracts/api/index.ts';
import { parseBody, parseQuery, readJson } from '../http.ts';
import { decodeCursor, PageQuery, pageOf } from '../pagination.ts';
import { actorOf, answers, type RouteDef } from '../router.ts';

const DiscardBody = z.strictObject({ reason: z.string().trim().min(1).max(500) });

/** An event id from the path: a positive integer, else a 400 naming it. */
function eventId(raw: string | undefined): number {
  if (!raw || !EVENT_ID.test(raw))
    throw new AppError('validation_failed', 'the event id must be a positive integer', [
      { path: 'id', message: `not an event id: '${raw ?? ''}'` },
    ]);
  return Number(raw);
}

const afterEvent = decodeCursor('sequence');

/** The event bus's parked events: what an operator retries or discards. Admins only. */
export function outboxRoutes(deps: ApiDeps): RouteDef[] {
  const { db } = deps;
  return [
    {
      method: 'get',
      path: '/api/v1/outbox/parked',
      tag: 'outbox',
      query: PageQuery,
      summary: 'Events parked after repeated delivery failures, oldest first, with their last error; and the bus backlog',
      responses: {
        200: answers(ParkedPageSchema, '{ data, nextCursor, stats: { pending, oldestPendingAgeSeconds, parked } }'),
        400: 'bad limit or cursor',
      },
      handler: async (c) => {
        const q = parseQuery(c, PageQuery);
        const [rows, stats] = await Promise.all([listParked(db, { afterId: afterEvent(q.cursor), limit: q.limit + 1 }), outboxStats(db)]);
        return c.json({ ...pageOf(rows, q.limit, (last) => last.id), stats });
      },
    },
    {
      method: 'post',
      path: '/api/v1/outbox/parked/:id/retry',
      tag: 'outbox',
      summary: 'Put a parked event back for delivery with a fresh count of attempts; recorded in the ledger',
      responses: { 200: answers(OutboxEventSchema, 'the event, pending again'), 400: 'bad id', 404: 'no such event', 409: 'not parked' },
      handler: async (c) => {
        const id = eventId(c.req.param('id'));
        const event = await retryParked(db, id, actorOf(c), deps.clock.now());
        deps.bus.notify();
        return c.json(event);
      },
    },
    {
      method: 'post',
      path: '/api/v1/outbox/parked/:id/discard',
      tag: 'outbox',
      body: DiscardBody,
      summary: 'Close a parked event without delivering it (kept, with the reason); recorded in the ledger',
      responses: {
        200: answers(OutboxEventSchema, 'the event, discarded'),
        400: 'bad id, or reason missing',
        404: 'no such event',
        409: 'not parked',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const id = eventId(c.req.param('id'));
        const body = parseBody(DiscardBody, await readJson(c, deps.config.maxBodyBytes), 'discard request');
        return c.json(await discardParked(db, id, body.reason, actorOf(c), deps.clock.now()));
      },
    },
  ];
}
