/**
 * webhooks: signed webhooks out (docs/webhooks.md). Admins register endpoints with the event types they want; a
 * reader turns ledger entries of those types into deliveries (an outbox, written with the reader's cursor in one
 * transaction), and a sender posts them signed per the Standard Webhooks spec, with retries and backoff, a delivery
 * log and replay. Owns the webhook_endpoints, webhook_deliveries and webhook_cursor tables (webhooks.repo.ts).
 */
export {
  createEndpoint,
  deleteEndpoint,
  getEndpoint,
  listDeliveries,
  listEndpoints,
  replayDelivery,
  updateEndpoint,
  type WebhookDelivery,
  type WebhookEndpoint,
} from './endpoints.ts';
export {
  backoffMs,
  DEFAULT_DELIVERY_OPTIONS,
  readLedgerRound,
  sendRound,
  startWebhookWorker,
  webhookPass,
  type DeliveryOptions,
  type SendTally,
} from './delivery.ts';
export { newSigningSecret, sign, signedHeaders, SECRET_PREFIX } from './signing.ts';
