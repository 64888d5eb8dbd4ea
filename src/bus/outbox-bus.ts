import type { Logger } from 'pino';
import { appendToLedger } from '../ledger/index.ts';
import { freshHandle, type Db, type Tx } from '../store/index.ts';
import type { Bus, BusHandler, BusMessage } from './bus.ts';
import {
  claimDueOutboxEvent,
  claimDueOutboxEvents,
  lastFailedOutboxEvent,
  markOutboxDelivered,
  OUTBOX_CHANNEL,
  outboxEventSavepoint,
  pendingOutboxSummary,
  recordOutboxFailure,
} from './outbox.repo.ts';

const BATCH = 500;
/** How often to look for events when nothing wakes the bus: PGlite, or PostgreSQL without LISTEN. */
const POLL_MS = 1000;
/** The safety poll once LISTEN/NOTIFY wakes the bus: only for a notification lost with its connection. */
const LISTENING_POLL_MS = 30_000;
/** Backoff after a failure of the whole round (the database unreachable, say). */
const MAX_BACKOFF_MS = 30_000;
export const DEFAULT_MAX_ATTEMPTS = 5;
/** An event that failed n times waits base·2^(n-1), at most MAX_EVENT_BACKOFF_MS, before its next attempt. */
const EVENT_BACKOFF_MS = 1000;
const MAX_EVENT_BACKOFF_MS = 5 * 60_000;
const MAX_ERROR_CHARS = 2000;

export interface OutboxBusOptions {
  /** Attempts before an event is parked. Default 5. */
  maxAttempts?: number;
  /** The first retry's delay; each further one doubles it. Default 1 s. */
  backoffMs?: number;
}

const errorText = (err: unknown) =>
  (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).replace(/\u0000/g, '').slice(0, MAX_ERROR_CHARS);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Delivers outbox rows to in-process subscribers. Rows are claimed with SKIP LOCKED, so several processes on one
 * PostgreSQL server share the work without double delivery. A batch is delivered in one transaction; when it
 * fails, each of its events is delivered in a transaction of its own, so one bad event holds up no other. A
 * failing event is retried with backoff and parked after `maxAttempts`, with its last error, for an operator.
 */
export class OutboxBus implements Bus {
  private readonly handlers = new Map<string, BusHandler[]>();
  private readonly deliveredListeners: ((messages: BusMessage[]) => void)[] = [];
  private readonly maxAttempts: number;
  private readonly backoffMs: number;
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  /** Failed deliveries of single events so far; drain() reports those that happen while it waits. */
  private eventFailures = 0;
  /** When the earliest event this bus saw fail is due again. */
  private retryAt = Infinity;
  private stopped = false;
  private listening: Promise<(() => Promise<void>) | null> | null = null;
  private pollMs: number;
  private readonly explicitPoll: boolean;

  constructor(
    private readonly db: Db,
    private readonly log?: Logger,
    pollMs?: number,
    opts: OutboxBusOptions = {},
  ) {
    this.pollMs = pollMs ?? POLL_MS;
    this.explicitPoll = pollMs !== undefined;
    this.maxAttempts = opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.backoffMs = opts.backoffMs ?? EVENT_BACKOFF_MS;
  }

  subscribe(topic: string, handler: BusHandler): void {
    this.handlers.set(topic, [...(this.handlers.get(topic) ?? []), handler]);
    this.listening ??= this.listen();
    this.schedule(0);
  }

  /** Resolves once the bus LISTENs for other processes' events (PostgreSQL), or at once where it cannot. */
  async ready(): Promise<void> {
    await this.listening;
  }

  /** Called after each delivered batch commits, with its messages (for metrics and measurements; it must not throw). */
  onDelivered(listener: (messages: BusMessage[]) => void): void {
    this.deliveredListeners.push(listener);
  }

  notify(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.running = this.loop();
  }

  async drain(): Promise<void> {
    const failedBefore = this.eventFailures;
    for (let round = 0; round < 10_000; round++) {
      this.notify();
      await this.running;
      const p = await pendingOutboxSummary(this.db, [...this.handlers.keys()]);
      if (!p?.n) return;
      if (this.failures > 0) throw new Error(`outbox delivery is failing; ${p.n} events pending`);
      if (p.due) {
        await sleep(10); // held by another process for now
        continue;
      }
      // Only events waiting to retry are left. Those that failed during this drain are reported; those that failed
      // before it are waited for, so a drain after a fix delivers them.
      if (this.eventFailures > failedBefore) {
        const last = await lastFailedOutboxEvent(this.db);
        throw new Error(
          `outbox delivery is failing; ${p.n} events pending` +
            (last ? `; event ${last.id} (${last.topic}) failed ${last.attempts} of ${this.maxAttempts} attempts: ${last.last_error}` : ''),
        );
      }
      await sleep(Math.max(10, p.wait ?? 0));
    }
    throw new Error('outbox did not drain');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    const unlisten = await this.listening;
    await unlisten?.();
  }

  /** On PostgreSQL, a notification from any process's publish wakes this bus; the poll becomes a slow safety net. */
  private async listen(): Promise<(() => Promise<void>) | null> {
    if (!this.db.listen) return null;
    try {
      const unlisten = await this.db.listen(OUTBOX_CHANNEL, () => this.notify());
      if (!this.explicitPoll) this.pollMs = LISTENING_POLL_MS;
      return unlisten;
    } catch (err) {
      this.log?.warn({ err }, 'outbox: cannot LISTEN; polling instead');
      return null;
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.notify(), ms);
    this.timer.unref();
  }

  private async loop(): Promise<void> {
    const started = Date.now();
    try {
      do {
        this.again = false;
        while (!this.stopped && (await this.deliverBatch()) === BATCH);
      } while (this.again && !this.stopped);
      this.failures = 0;
      // Retries that were due when this round began were claimed by it (or by another process).
      if (this.retryAt <= started) this.retryAt = Infinity;
      this.schedule(Math.max(0, Math.min(this.pollMs, this.retryAt - Date.now())));
    } catch (err) {
      this.failures += 1;
      this.log?.error({ err, failures: this.failures }, 'outbox delivery failed; will retry');
      this.schedule(Math.min(MAX_BACKOFF_MS, 100 * 2 ** this.failures));
    } finally {
      this.running = null;
    }
  }

  /** Delivers one batch of due events; returns how many rows it claimed. */
  private async deliverBatch(): Promise<number> {
    let claimed: BusMessage[] = [];
    try {
      const delivered = await this.db.transaction(async (tx) => {
        // Only topics someone listens to are claimed, so no event is acknowledged unread.
        claimed = await claimDueOutboxEvents(tx, [...this.handlers.keys()], BATCH);
        await this.handle(claimed, tx);
        await this.acknowledge(tx, claimed);
        return claimed;
      });
      this.delivered(delivered);
      return delivered.length;
    } catch (err) {
      if (!claimed.length) throw err; // the claim itself failed: nothing to single out
      this.log?.warn({ err, events: claimed.length }, 'outbox batch failed; delivering its events one at a time');
    }
    for (const m of claimed) await this.deliverOne(m.id);
    return claimed.length;
  }

  /**
   * Delivers one event in a transaction of its own. The handlers run inside a savepoint, so when they fail their
   * writes are undone while the row stays locked, and the failure is recorded in the same transaction.
   */
  private async deliverOne(id: number): Promise<void> {
    const outcome = await this.db.transaction(async (tx) => {
      const m = await claimDueOutboxEvent(tx, id);
      if (!m) return null; // delivered, parked or taken by another process meanwhile
      const message: BusMessage = { id: m.id, topic: m.topic, payload: m.payload };
      await outboxEventSavepoint(tx, 'open');
      try {
        // A handle of its own: what the handlers cached about this transaction (the ledger's head) goes with the savepoint.
        await this.handle([message], freshHandle(tx));
        await outboxEventSavepoint(tx, 'release');
        await this.acknowledge(tx, [message]);
        return { delivered: message };
      } catch (err) {
        await outboxEventSavepoint(tx, 'rollback');
        return { failed: await this.recordFailure(tx, m, err) };
      }
    });
    if (outcome?.delivered) this.delivered([outcome.delivered]);
    if (outcome?.failed) {
      this.eventFailures += 1;
      const f = outcome.failed;
      if (f.parked)
        this.log?.error(
          { event: id, topic: f.topic, attempts: f.attempts, error: f.error },
          'outbox event parked after repeated failures; retry or discard it (acs outbox)',
        );
      else {
        this.retryAt = Math.min(this.retryAt, Date.now() + f.delayMs);
        this.log?.warn(
          { event: id, topic: f.topic, attempts: f.attempts, error: f.error, retryInMs: f.delayMs },
          'outbox event failed; will retry',
        );
      }
    }
  }

  private async recordFailure(tx: Tx, m: BusMessage & { attempts: number }, err: unknown) {
    const attempts = m.attempts + 1;
    const parked = attempts >= this.maxAttempts;
    const delayMs = Math.min(MAX_EVENT_BACKOFF_MS, this.backoffMs * 2 ** (attempts - 1));
    const error = errorText(err);
    await recordOutboxFailure(tx, { id: m.id, attempts, error, parked, delayMs });
    // Parking is an operator's business from now on, so it is on the record (the error text is not: it is free text).
    if (parked)
      await appendToLedger(tx, [
        {
          type: 'outbox.parked',
          actor: 'system:bus',
          subjectType: 'outbox_event',
          subjectId: String(m.id),
          data: { topic: m.topic, attempts },
        },
      ]);
    return { topic: m.topic, attempts, parked, delayMs, error };
  }

  private async handle(messages: BusMessage[], tx: Tx): Promise<void> {
    const byTopic = new Map<string, BusMessage[]>();
    for (const m of messages) byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), m]);
    for (const [topic, batch] of byTopic) {
      for (const handler of this.handlers.get(topic) ?? []) await handler(batch, tx);
    }
  }

  private async acknowledge(tx: Tx, messages: BusMessage[]): Promise<void> {
    if (messages.length)
      await markOutboxDelivered(
        tx,
        messages.map((m) => m.id),
      );
  }

  private delivered(messages: BusMessage[]): void {
    if (messages.length) for (const listener of this.deliveredListeners) listener(messages);
  }
}
