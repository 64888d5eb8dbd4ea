import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BusMessage, OutboxStats } from '../bus/index.ts';
import { SIGNALS_ACCEPTED, type SignalsAcceptedEvent } from '../sense/index.ts';

/**
 * The service's Prometheus metrics, on a registry of its own so several apps can live in one process. With
 * `outbox`, the event bus's backlog, oldest pending age and parked count are read from the database on each scrape.
 */
export function createMetrics(opts: { outbox?: () => Promise<OutboxStats> } = {}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'acs_' });
  if (opts.outbox) registerOutboxGauges(registry, opts.outbox);
  return {
    registry,
    httpRequests: new Counter({
      name: 'acs_http_requests_total',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'acs_http_request_duration_seconds',
      help: 'HTTP request duration',
      labelNames: ['method', 'route'],
      registers: [registry],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    }),
    autoPauses: new Counter({
      name: 'acs_agent_auto_pauses_total',
      help: 'Agents the supervisor paused, by agent and trigger',
      labelNames: ['agent', 'trigger'],
      registers: [registry],
    }),
    signals: new Counter({ name: 'acs_signals_total', help: 'Signals by outcome', labelNames: ['outcome'], registers: [registry] }),
    signalToDecision: new Histogram({
      name: 'acs_signal_to_decision_seconds',
      help: 'From a signal batch taken in to its features and agent decisions committed, per signal',
      registers: [registry],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

function registerOutboxGauges(registry: Registry, read: () => Promise<OutboxStats>): void {
  // A scrape collects every gauge at once: they share one query.
  let current: Promise<OutboxStats> | null = null;
  const stats = () => (current ??= read().finally(() => (current = null)));
  const gauge = (name: string, help: string, pick: (s: OutboxStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      // An unreachable database reads as NaN (unknown) rather than failing the whole scrape.
      async collect() {
        this.set(await stats().then(pick, () => NaN));
      },
    });
  gauge(
    'acs_outbox_pending_events',
    'Outbox events waiting for delivery (the backlog), including those waiting to retry',
    (s) => s.pending,
  );
  gauge(
    'acs_outbox_oldest_pending_age_seconds',
    'Age of the oldest outbox event waiting for delivery; 0 when none is',
    (s) => s.oldestPendingAgeSeconds,
  );
  gauge(
    'acs_outbox_parked_events',
    'Outbox events parked after repeated failures, waiting for an operator to retry or discard them',
    (s) => s.parked,
  );
}

/** A bus listener: for every signal in a committed `signals.accepted` delivery, the time since its batch was taken in. */
export function observeSignalToDecision(metrics: Metrics): (messages: BusMessage[]) => void {
  return (messages) => {
    const done = Date.now();
    for (const m of messages) {
      const e = m.topic === SIGNALS_ACCEPTED ? (m.payload as SignalsAcceptedEvent) : null;
      if (e?.receivedAt)
        for (let i = 0; i < e.signalIds.length; i++) metrics.signalToDecision.observe((done - Date.parse(e.receivedAt)) / 1000);
    }
  };
}
