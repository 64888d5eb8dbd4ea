/**
 * bus: events between stages. `publish` writes to the outbox in the caller's transaction; the outbox bus delivers
 * them to subscribers at least once. Owns the outbox table.
 */
export { publish } from './bus.ts';
export type { Bus, BusHandler, BusMessage } from './bus.ts';
export { OutboxBus } from './outbox-bus.ts';
