import { z } from 'zod';
import { discardParked, EVENT_ID, listParked, outboxStats, retryParked } from '../../bus/index.ts';
import { AppError } from '../../errors.ts';
import type { ApiDeps } from '../deps.ts';
import { PageQuery, parseBody, parseQuery, readJson } from '../http.ts';
import { actorOf, type RouteDef } from '../router.ts';

const DiscardBody = z.strictObject({ reason: z.string().trim().min(1).max(500) });

/** An event id from the path: a positive integer, else a 400 naming it. */
function eventId(raw: string | undefined): number {
  if (!raw || !EVENT_ID.test(raw)) throw new AppError('validation_failed', 'the event id must be a positive integer', [{ path: 'id', message: `not an event id: '${raw ?? ''}'` }]);
  return Number(raw);
}

/** The cursor is the last id of the previous page, opaque to clients. */
function afterIdOf(cursor: string | undefined): number | undefined {
  if (cursor === undefined) return undefined;
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!EVENT_ID.test(id)) throw new AppError('validation_failed', 'invalid query parameters', [{ path: 'query.cursor', message: 'not a cursor this list gave out' }]);
  return Number(id);
}

/** The event bus's parked events: what an operator retries or discards. Admins only. */
export function outboxRoutes(deps: ApiDeps): RouteDef[] {
  const { db } = deps;
  return [
    {
      method: 'get', path: '/api/v1/outbox/parked', tag: 'outbox', query: PageQuery,
      summary: 'Events parked after repeated delivery failures, oldest first, with their last error; and the bus backlog',
      responses: { 200: '{ data, nextCursor, stats: { pending, oldestPendingAgeSeconds, parked } }' },
      handler: async (c) => {
        const q = parseQuery(c, PageQuery);
        const [page, stats] = await Promise.all([listParked(db, { afterId: afterIdOf(q.cursor), limit: q.limit }), outboxStats(db)]);
        const last = page.data[page.data.length - 1];
        return c.json({ data: page.data, nextCursor: page.more && last ? Buffer.from(String(last.id)).toString('base64url') : null, stats });
      },
    },
    {
      method: 'post', path: '/api/v1/outbox/parked/:id/retry', tag: 'outbox',
      summary: 'Put a parked event back for delivery with a fresh count of attempts; recorded in the ledger',
      responses: { 200: 'the event, pending again', 400: 'bad id', 404: 'no such event', 409: 'not parked' },
      handler: async (c) => {
        const id = eventId(c.req.param('id'));
        const event = await db.transaction((tx) => retryParked(tx, id, actorOf(c)));
        deps.bus.notify();
        return c.json(event);
      },
    },
    {
      method: 'post', path: '/api/v1/outbox/parked/:id/discard', tag: 'outbox', body: DiscardBody,
      summary: 'Close a parked event without delivering it (kept, with the reason); recorded in the ledger',
      responses: { 200: 'the event, discarded', 400: 'bad id, or reason missing', 404: 'no such event', 409: 'not parked' },
      handler: async (c) => {
        const id = eventId(c.req.param('id'));
        const body = parseBody(DiscardBody, await readJson(c, deps.config.maxBodyBytes), 'discard request');
        return c.json(await db.transaction((tx) => discardParked(tx, id, body.reason, actorOf(c))));
      },
    },
  ];
}
