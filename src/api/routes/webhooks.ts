import { z } from 'zod';
import {
  WEBHOOK_EVENT_TYPES,
  WebhookDeliveryPageSchema,
  WebhookDeliverySchema,
  WebhookEndpointCreatedSchema,
  WebhookEndpointPageSchema,
  WebhookEndpointSchema,
} from '../../contracts/api/index.ts';
import {
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  listDeliveries,
  listEndpoints,
  replayDelivery,
  updateEndpoint,
} from '../../webhooks/index.ts';
import type { ApiDeps } from '../deps.ts';
import { parseBody, parseQuery, readJson } from '../http.ts';
import { decodeCursor, PageQuery, pageOf } from '../pagination.ts';
import { actorOf, answers, type RouteDef } from '../router.ts';

/** An http(s) URL with a host; anything else is refused, naming `url`. */
const Url = z
  .string()
  .trim()
  .max(2000)
  .refine((raw) => {
    try {
      const u = new URL(raw);
      return (u.protocol === 'https:' || u.protocol === 'http:') && u.hostname !== '' && !u.username && !u.password;
    } catch {
      return false;
    }
  }, 'must be an http or https URL, without credentials in it');

const EventTypes = z
  .array(z.enum(WEBHOOK_EVENT_TYPES, { message: `each event type must be one of: ${WEBHOOK_EVENT_TYPES.join(', ')}` }))
  .min(1, 'ask for at least one event type')
  .max(WEBHOOK_EVENT_TYPES.length * 2);

const CreateBody = z.strictObject({ url: Url, eventTypes: EventTypes, description: z.string().trim().max(500).optional() });
const PatchBody = z
  .strictObject({
    url: Url.optional(),
    eventTypes: EventTypes.optional(),
    description: z.string().trim().max(500).optional(),
    enabled: z.boolean().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'give at least one of url, eventTypes, description, enabled');

const afterEndpoint = decodeCursor('whe');
const beforeDelivery = decodeCursor('msg');

/** Webhooks out (docs/webhooks.md): endpoints, their delivery logs and replay. Admins only. */
export function webhookRoutes(deps: ApiDeps): RouteDef[] {
  const { db } = deps;
  const bodyErrors = { 400: 'invalid field (named)', 413: 'body too large', 415: 'not JSON' };
  return [
    {
      method: 'get',
      path: '/api/v1/webhooks',
      tag: 'webhooks',
      query: PageQuery,
      summary: 'Webhook endpoints, oldest first (without their secrets)',
      responses: { 200: answers(WebhookEndpointPageSchema, '{ data, nextCursor }'), 400: 'bad limit or cursor' },
      handler: async (c) => {
        const q = parseQuery(c, PageQuery);
        const rows = await listEndpoints(db, { afterId: afterEndpoint(q.cursor), limit: q.limit + 1 });
        return c.json(pageOf(rows, q.limit, (last) => last.id));
      },
    },
    {
      method: 'post',
      path: '/api/v1/webhooks',
      tag: 'webhooks',
      body: CreateBody,
      summary:
        'Register an endpoint for the event types given; the answer holds its signing secret, shown this once; recorded in the ledger',
      responses: { 201: answers(WebhookEndpointCreatedSchema, 'the endpoint and its secret'), ...bodyErrors },
      handler: async (c) => {
        const body = parseBody(CreateBody, await readJson(c, deps.config.maxBodyBytes), 'webhook endpoint');
        return c.json(await createEndpoint(db, body, actorOf(c), deps.clock.now()), 201);
      },
    },
    {
      method: 'get',
      path: '/api/v1/webhooks/:id',
      tag: 'webhooks',
      summary: 'One webhook endpoint (without its secret)',
      responses: { 200: answers(WebhookEndpointSchema, 'the endpoint'), 404: 'no such endpoint' },
      handler: async (c) => c.json(await getEndpoint(db, c.req.param('id')!)),
    },
    {
      method: 'patch',
      path: '/api/v1/webhooks/:id',
      tag: 'webhooks',
      body: PatchBody,
      summary: 'Change an endpoint’s URL, event types or description, or pause it (enabled: false); recorded in the ledger',
      responses: { 200: answers(WebhookEndpointSchema, 'the endpoint as changed'), 404: 'no such endpoint', ...bodyErrors },
      handler: async (c) => {
        const body = parseBody(PatchBody, await readJson(c, deps.config.maxBodyBytes), 'webhook endpoint change');
        return c.json(await updateEndpoint(db, c.req.param('id')!, body, actorOf(c), deps.clock.now()));
      },
    },
    {
      method: 'delete',
      path: '/api/v1/webhooks/:id',
      tag: 'webhooks',
      summary: 'Delete an endpoint and its delivery log; recorded in the ledger',
      responses: { 204: 'deleted', 404: 'no such endpoint' },
      handler: async (c) => {
        await deleteEndpoint(db, c.req.param('id')!, actorOf(c), deps.clock.now());
        return c.body(null, 204);
      },
    },
    {
      method: 'get',
      path: '/api/v1/webhooks/:id/deliveries',
      tag: 'webhooks',
      query: PageQuery,
      summary: 'An endpoint’s delivery log, newest first: status, attempts, last response code and error, next attempt, and the body sent',
      responses: { 200: answers(WebhookDeliveryPageSchema, '{ data, nextCursor }'), 400: 'bad limit or cursor', 404: 'no such endpoint' },
      handler: async (c) => {
        const q = parseQuery(c, PageQuery);
        const rows = await listDeliveries(db, c.req.param('id')!, { beforeId: beforeDelivery(q.cursor), limit: q.limit + 1 });
        return c.json(pageOf(rows, q.limit, (last) => last.id));
      },
    },
    {
      method: 'post',
      path: '/api/v1/webhooks/:id/deliveries/:deliveryId/replay',
      tag: 'webhooks',
      summary:
        'Send a delivery again (whatever its state) under the same webhook-id, with a fresh count of attempts; recorded in the ledger',
      responses: { 200: answers(WebhookDeliverySchema, 'the delivery, pending again'), 404: 'no such endpoint or delivery' },
      handler: async (c) => c.json(await replayDelivery(db, c.req.param('id')!, c.req.param('deliveryId')!, actorOf(c), deps.clock.now())),
    },
  ];
}
