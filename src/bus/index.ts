/**
 * bus: events between stages. `publish` writes to the outbox in the caller's transaction; the outbox bus delivers
 * them to subscribers at least once, in this process or through NATS JetStream (ACS_NATS_URL). Owns the outbox
 * table (outbox.repo.ts).
 */
export { publish } from './bus.ts';
export type { Bus, BusHandler, BusMessage } from './bus.ts';
export { DEFAULT_MAX_ATTEMPTS, OutboxDelivery, type OutboxBusOptions } from './delivery.ts';
export { OutboxBus } from './outbox-bus.ts';
export { NatsBus, natsNames, type NatsBusOptions } from './nats-bus.ts';
export {
  discardParked,
  EVENT_ID,
  getOutboxEvent,
  listParked,
  outboxStats,
  pruneDelivered,
  retryParked,
  type OutboxEvent,
  type OutboxStats,
} from './parked.ts';
export * from './outbox.repo.ts';
