import type { Logger } from 'pino';
import type { Db } from '../store/index.ts';
import { OutboxDelivery, type OutboxBusOptions } from './delivery.ts';
import { claimDueOutboxEvent, claimDueOutboxEvents } from './outbox.repo.ts';

const BATCH = 500;
/** Backoff after a failure of the whole round (the database unreachable, say). */
const MAX_BACKOFF_MS = 30_000;

/**
 * Delivers outbox rows to in-process subscribers. Rows are claimed with SKIP LOCKED, so several processes on one
 * PostgreSQL server share the work without double delivery. A batch is delivered in one transaction; when it
 * fails, each of its events is delivered in a transaction of its own, so one bad event holds up no other. A
 * failing event is retried with backoff and parked after `maxAttempts`, with its last error, for an operator.
 */
export class OutboxBus extends OutboxDelivery {
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  /** When the earliest event this bus saw fail is due again. */
  private retryAt = Infinity;

  constructor(db: Db, log?: Logger, pollMs?: number, opts: OutboxBusOptions = {}) {
    super(db, log, pollMs, opts);
  }

  protected subscribed(): void {
    this.schedule(0);
  }

  notify(): void {
    if (this.stopped) return;
    if (this.running) this.again = true;
    else this.running = this.loop();
  }

  protected async round(): Promise<void> {
    this.notify();
    await this.running;
  }

  protected failing(): string | null {
    return this.failures > 0 ? 'outbox delivery is failing' : null;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    await this.unlisten();
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
    // Only topics someone listens to are claimed, so no event is acknowledged unread.
    const { claimed, failed } = await this.deliverTogether((tx) => claimDueOutboxEvents(tx, [...this.handlers.keys()], BATCH));
    if (failed)
      for (const m of claimed) {
        const outcome = await this.deliverOne(m.id, (tx) => claimDueOutboxEvent(tx, m.id));
        if (outcome?.failed && !outcome.failed.parked) this.retryAt = Math.min(this.retryAt, Date.now() + outcome.failed.delayMs);
      }
    return claimed.length;
  }
}
