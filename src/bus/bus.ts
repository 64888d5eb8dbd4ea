import { withTraceContext } from '../lib/index.ts';
import type { Queryable, Tx } from '../store/index.ts';
import { insertOutboxEvent } from './outbox.repo.ts';

/** One event as delivered to a subscriber. */
export interface BusMessage<T = unknown> {
  id: number;
  topic: string;
  payload: T;
}

/**
 * Handles a batch of messages of one topic. `q` is the transaction that marks them delivered, so
 * what the handler writes commits together with the acknowledgement. Handlers must be idempotent:
 * delivery is at least once.
 */
export type BusHandler = (messages: BusMessage[], q: Tx) => Promise<void>;

/**
 * The event backbone as processing sees it. Both implementations read the Postgres outbox: OutboxBus delivers in
 * process, NatsBus carries the events through NATS JetStream (ACS_NATS_URL).
 */
export interface Bus {
  subscribe(topic: string, handler: BusHandler): void;
  /** Wakes the dispatcher after a commit that published events. */
  notify(): void;
  /** Resolves once every event published so far has been delivered or parked; rejects while an event keeps failing. */
  drain(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Writes an event to the outbox inside the caller's transaction: it exists exactly when the change commits. The
 * same statement NOTIFYs other processes' buses, which PostgreSQL delivers on commit (and never on rollback). When
 * a span is being traced, the payload carries its W3C `traceparent`, so the stages that handle the event later (in
 * another transaction or process) continue the trace.
 */
export async function publish(tx: Queryable, topic: string, payload: unknown): Promise<void> {
  await insertOutboxEvent(tx, topic, withTraceContext(payload));
}
