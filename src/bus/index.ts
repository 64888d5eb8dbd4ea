/**
 * bus: events between stages. `publish` writes to the outbox in the caller's transaction; the outbox bus delivers
 * them to subscribers at least once. Owns the outbox table (outbox.repo.ts).
 */
export { publish } from './bus.ts';
export type { Bus, BusHandler, BusMessage } from './bus.ts';
export { DEFAULT_MAX_ATTEMPTS, OutboxBus, type OutboxBusOptions } from './outbox-bus.ts';
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
