import type { WebhookEventType } from '../contracts/api/index.ts';
import { AppError } from '../errors.ts';
import { appendToLedger, readLedgerHead } from '../ledger/index.ts';
import { newId, type Db, type Queryable } from '../store/index.ts';
import { newSigningSecret } from './signing.ts';
import {
  deleteEndpoint as deleteEndpointRow,
  insertEndpoint,
  resetDelivery,
  selectDeliveries,
  selectDelivery,
  selectEndpoint,
  selectEndpoints,
  startCursor,
  updateEndpoint as updateEndpointRow,
  type DeliveryRow,
  type EndpointRow,
} from './webhooks.repo.ts';

export interface WebhookEndpoint {
  id: string;
  url: string;
  eventTypes: WebhookEventType[];
  description: string;
  enabled: boolean;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookDelivery {
  id: string;
  endpointId: string;
  eventType: WebhookEventType;
  ledgerSeq: number;
  status: DeliveryRow['status'];
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: string | null;
  nextAttemptAt: string | null;
  createdAt: string;
  deliveredAt: string | null;
  payload: unknown;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : null);

function endpointOf(r: EndpointRow): WebhookEndpoint {
  return {
    id: r.id,
    url: r.url,
    eventTypes: r.event_types as WebhookEventType[],
    description: r.description,
    enabled: r.enabled,
    createdBy: r.created_by,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
  };
}

export function deliveryOf(r: DeliveryRow): WebhookDelivery {
  return {
    id: r.id,
    endpointId: r.endpoint_id,
    eventType: r.event_type as WebhookEventType,
    ledgerSeq: r.ledger_seq,
    status: r.status,
    attempts: r.attempts,
    lastStatusCode: r.last_status_code,
    lastError: r.last_error,
    lastAttemptAt: iso(r.last_attempt_at),
    nextAttemptAt: r.status === 'pending' ? iso(r.next_attempt_at) : null,
    createdAt: iso(r.created_at)!,
    deliveredAt: iso(r.delivered_at),
    payload: JSON.parse(r.body) as unknown,
  };
}

/** What the ledger says of an endpoint's URL: its origin only, since a path or query may carry a token. */
const originOf = (url: string) => new URL(url).origin;

const notFound = (id: string) => new AppError('webhook.not_found', `no webhook endpoint '${id}'`);

/**
 * Registers an endpoint, with a new signing secret, returned this once. It receives the events recorded after it was
 * made. Recorded in the ledger (without the secret, and with the URL's origin only).
 */
export async function createEndpoint(
  db: Db,
  input: { url: string; eventTypes: WebhookEventType[]; description?: string },
  actor: string,
  now: Date,
): Promise<WebhookEndpoint & { secret: string }> {
  const secret = newSigningSecret();
  const row = await db.transaction(async (tx) => {
    const head = (await readLedgerHead(tx))?.seq ?? 0;
    // The first endpoint starts the ledger reader at the head: webhooks carry what happens from now on.
    await startCursor(tx, head);
    const created = await insertEndpoint(tx, {
      id: newId('whe'),
      url: input.url,
      event_types: [...new Set(input.eventTypes)],
      description: input.description ?? '',
      secret,
      enabled: true,
      from_seq: head,
      created_by: actor,
      created_at: now,
    });
    await appendToLedger(tx, [
      {
        type: 'webhook.created',
        actor,
        subjectType: 'webhook_endpoints',
        subjectId: created.id,
        data: { origin: originOf(created.url), eventTypes: created.event_types },
        at: now,
      },
    ]);
    return created;
  });
  return { ...endpointOf(row), secret };
}

export async function listEndpoints(db: Queryable, opts: { afterId?: string; limit: number }): Promise<WebhookEndpoint[]> {
  return (await selectEndpoints(db, opts)).map(endpointOf);
}

export async function getEndpoint(db: Queryable, id: string): Promise<WebhookEndpoint> {
  const row = await selectEndpoint(db, id);
  if (!row) throw notFound(id);
  return endpointOf(row);
}

/** Changes an endpoint's URL, event types, description, or pauses it (`enabled: false`); recorded in the ledger. */
export async function updateEndpoint(
  db: Db,
  id: string,
  change: { url?: string; eventTypes?: WebhookEventType[]; description?: string; enabled?: boolean },
  actor: string,
  now: Date,
): Promise<WebhookEndpoint> {
  return db.transaction(async (tx) => {
    const row = await updateEndpointRow(
      tx,
      id,
      {
        ...(change.url !== undefined ? { url: change.url } : {}),
        ...(change.eventTypes !== undefined ? { event_types: [...new Set(change.eventTypes)] } : {}),
        ...(change.description !== undefined ? { description: change.description } : {}),
        ...(change.enabled !== undefined ? { enabled: change.enabled } : {}),
      },
      now,
    );
    if (!row) throw notFound(id);
    await appendToLedger(tx, [
      {
        type: 'webhook.updated',
        actor,
        subjectType: 'webhook_endpoints',
        subjectId: id,
        data: { origin: originOf(row.url), eventTypes: row.event_types, enabled: row.enabled, changed: Object.keys(change).sort() },
        at: now,
      },
    ]);
    return endpointOf(row);
  });
}

/** Deletes an endpoint and its delivery log; recorded in the ledger. */
export async function deleteEndpoint(db: Db, id: string, actor: string, now: Date): Promise<void> {
  await db.transaction(async (tx) => {
    const row = await selectEndpoint(tx, id, true);
    if (!row || !(await deleteEndpointRow(tx, id))) throw notFound(id);
    await appendToLedger(tx, [
      { type: 'webhook.deleted', actor, subjectType: 'webhook_endpoints', subjectId: id, data: { origin: originOf(row.url) }, at: now },
    ]);
  });
}

/** An endpoint's delivery log, newest first. */
export async function listDeliveries(
  db: Queryable,
  endpointId: string,
  opts: { beforeId?: string; limit: number },
): Promise<WebhookDelivery[]> {
  if (!(await selectEndpoint(db, endpointId))) throw notFound(endpointId);
  return (await selectDeliveries(db, endpointId, opts)).map(deliveryOf);
}

/**
 * Sends a delivery again, whatever its state: the same body under the same webhook-id (receivers deduplicate by it),
 * with a fresh count of attempts, at the next pass of the sender. Recorded in the ledger.
 */
export async function replayDelivery(db: Db, endpointId: string, deliveryId: string, actor: string, now: Date): Promise<WebhookDelivery> {
  return db.transaction(async (tx) => {
    if (!(await selectEndpoint(tx, endpointId))) throw notFound(endpointId);
    const before = await selectDelivery(tx, endpointId, deliveryId);
    if (!before) throw new AppError('webhook.delivery_not_found', `endpoint '${endpointId}' has no delivery '${deliveryId}'`);
    const row = (await resetDelivery(tx, endpointId, deliveryId, now))!;
    await appendToLedger(tx, [
      {
        type: 'webhook.replayed',
        actor,
        subjectType: 'webhook_deliveries',
        subjectId: deliveryId,
        data: { endpointId, eventType: row.event_type, ledgerSeq: row.ledger_seq, previousStatus: before.status },
        at: now,
      },
    ]);
    return deliveryOf(row);
  });
}
