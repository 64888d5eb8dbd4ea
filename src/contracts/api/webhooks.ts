import { z } from 'zod';
import { component, IsoTime, page } from './core.ts';

// Webhooks out (docs/webhooks.md): the endpoints an admin registers and the deliveries made to them.

/**
 * The event types an endpoint may ask for. Each is a ledger entry type (the webhook carries the entry), except
 * `approval.requested`, which a decision that needs a human's approval (`policy.decided` with an approval) also sends.
 */
export const WEBHOOK_EVENT_TYPES = [
  'proposal.created',
  'policy.decided',
  'approval.requested',
  'approval.approved',
  'approval.rejected',
  'approval.expired',
  'approval.withdrawn',
  'approval.run_failed',
  'action.executed',
  'action.refused',
  'action.compensated',
  'signal.quarantined',
  'agent.updated',
  'agent.auto_paused',
  'agents.kill_switch',
  'policy.adopted',
  'model.drift_alert',
  'customer.erased',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

export const WebhookEndpointSchema = component(
  'WebhookEndpoint',
  z.object({
    id: z.string(),
    url: z.string(),
    eventTypes: z.array(z.enum(WEBHOOK_EVENT_TYPES)),
    description: z.string(),
    enabled: z.boolean(),
    createdBy: z.string(),
    createdAt: IsoTime,
    updatedAt: IsoTime,
  }),
  'an endpoint that receives signed webhooks of the event types it asked for',
);

export const WebhookEndpointCreatedSchema = component(
  'WebhookEndpointCreated',
  WebhookEndpointSchema.extend({
    /** The signing secret (`whsec_` and base64): shown here once, never again. */
    secret: z.string(),
  }),
  'a new endpoint with its signing secret, which is shown this once',
);

export const WebhookEndpointPageSchema = page(WebhookEndpointSchema);

export const WebhookDeliverySchema = component(
  'WebhookDelivery',
  z.object({
    /** The `webhook-id` the delivery is sent under, the same on every retry and replay. */
    id: z.string(),
    endpointId: z.string(),
    eventType: z.enum(WEBHOOK_EVENT_TYPES),
    ledgerSeq: z.number().int().positive(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.number().int().min(0),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    lastAttemptAt: IsoTime.nullable(),
    nextAttemptAt: IsoTime.nullable(),
    createdAt: IsoTime,
    deliveredAt: IsoTime.nullable(),
    /** The body as sent: { type, timestamp, data }. */
    payload: z.unknown(),
  }),
  'one event sent to one endpoint: its state, attempts and the last answer',
);

export const WebhookDeliveryPageSchema = page(WebhookDeliverySchema);
