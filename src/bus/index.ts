export { publish } from './bus.ts';
export type { Bus, BusHandler, BusMessage } from './bus.ts';
export { OutboxBus } from './outbox-bus.ts';
