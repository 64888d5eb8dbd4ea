import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { PLAY_STATUSES, type ActGauges } from '../act/index.ts';
import type { BusMessage, OutboxStats } from '../bus/index.ts';
import type { LedgerLag } from '../ledger/index.ts';
import { SIGNALS_ACCEPTED, type SignalsAcceptedEvent } from '../sense/index.ts';

/** Readers of the gauges /metrics reads at scrape time; each one left out leaves its gauges out. */
export interface GaugeSources {
  /** The outbox's backlog, oldest pending age and parked count. */
  outbox?: () => Promise<OutboxStats>;
  /** Plays by status, pending approvals and queued messages (src/act). */
  act?: () => Promise<ActGauges>;
  /** The message stream's backlog by consumer (the NATS bus: messages not yet acknowledged by each stage). */
  streamBacklog?: () => Promise<Record<string, number>>;
  /** The ledger sequencer's lag (src/ledger, when entries are chained off the hot path). */
  ledgerLag?: () => Promise<LedgerLag>;
}

/**
 * The service's Prometheus metrics, on a registry of its own so several apps can live in one process. The gauges of
 * `sources` (outbox, act, stream backlog, ledger lag) are read from their owners on each scrape.
 */
export function createMetrics(sources: GaugeSources = {}) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'acs_' });
  if (sources.outbox) registerOutboxGauges(registry, sources.outbox);
  if (sources.act) registerActGauges(registry, sources.act);
  if (sources.streamBacklog) registerStreamGauge(registry, sources.streamBacklog);
  if (sources.ledgerLag) registerLedgerGauges(registry, sources.ledgerLag);
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

/** One read shared by the gauges of one scrape (they are collected at once), and a gauge factory over it. */
function sharedRead<T>(registry: Registry, read: () => Promise<T>) {
  let current: Promise<T> | null = null;
  const stats = () => (current ??= read().finally(() => (current = null)));
  return (name: string, help: string, pick: (s: T) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      // An unreachable database reads as NaN (unknown) rather than failing the whole scrape.
      async collect() {
        this.set(await stats().then(pick, () => NaN));
      },
    });
}

function registerOutboxGauges(registry: Registry, read: () => Promise<OutboxStats>): void {
  const gauge = sharedRead(registry, read);
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

function registerActGauges(registry: Registry, read: () => Promise<ActGauges>): void {
  const gauge = sharedRead(registry, read);
  new Gauge({
    name: 'acs_plays',
    help: 'Durable plays by status (running, waiting, done, refused, gave_up)',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      const stats = await read().catch(() => null);
      // Every status is a series, 0 included, so a dashboard sees a status empty rather than missing.
      for (const status of PLAY_STATUSES) this.set({ status }, stats ? (stats.playsByStatus[status] ?? 0) : NaN);
    },
  });
  gauge('acs_approvals_pending', 'Approvals waiting for a human decision', (s) => s.pendingApprovals);
  gauge('acs_messages_queued', 'Outbound messages queued and not yet handed to the transport', (s) => s.queuedMessages);
}

function registerStreamGauge(registry: Registry, read: () => Promise<Record<string, number>>): void {
  new Gauge({
    name: 'acs_stream_backlog_messages',
    help: 'Messages in the stream not yet acknowledged, by consumer (the NATS bus)',
    labelNames: ['consumer'],
    registers: [registry],
    async collect() {
      this.reset();
      const backlog = await read().catch(() => null);
      if (backlog) for (const [consumer, n] of Object.entries(backlog)) this.set({ consumer }, n);
    },
  });
}

function registerLedgerGauges(registry: Registry, read: () => Promise<LedgerLag>): void {
  const gauge = sharedRead(registry, read);
  gauge('acs_ledger_unsequenced_entries', 'Ledger entries committed but not chained by the sequencer yet', (s) => s.pending);
  gauge(
    'acs_ledger_sequencer_lag_seconds',
    'Age of the oldest ledger entry the sequencer has not chained yet; 0 when none is',
    (s) => s.oldestSeconds ?? 0,
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
