import type { Logger } from 'pino';
import type { Db } from '../store/index.ts';
import type { Bus, BusHandler, BusMessage } from './bus.ts';

const BATCH = 500;
const POLL_MS = 1000;
const MAX_BACKOFF_MS = 30_000;

/**
 * Delivers outbox rows to in-process subscribers. Rows are claimed with SKIP LOCKED, so several
 * processes on one PostgreSQL server share the work without double delivery; a failed batch stays
 * in the outbox and is retried with backoff, so nothing is lost.
 */
export class OutboxBus implements Bus {
  private readonly handlers = new Map<string, BusHandler[]>();
  private readonly deliveredListeners: ((messages: BusMessage[]) => void)[] = [];
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private failures = 0;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly log?: Logger,
    private readonly pollMs = POLL_MS,
  ) {}

  subscribe(topic: string, handler: BusHandler): void {
    this.handlers.set(topic, [...(this.handlers.get(topic) ?? []), handler]);
    this.schedule(0);
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
    for (let round = 0; round < 10_000; round++) {
      this.notify();
      await this.running;
      const [pending] = await this.db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM outbox WHERE delivered_at IS NULL AND topic = ANY($1::text[])',
        [[...this.handlers.keys()]],
      );
      if (!pending?.n) return;
      if (this.failures > 0) throw new Error(`outbox delivery is failing; ${pending.n} events pending`);
    }
    throw new Error('outbox did not drain');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.notify(), ms);
    this.timer.unref();
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        while (!this.stopped && (await this.deliverBatch()) === BATCH);
      } while (this.again && !this.stopped);
      this.failures = 0;
      this.schedule(this.pollMs);
    } catch (err) {
      this.failures += 1;
      this.log?.error({ err, failures: this.failures }, 'outbox delivery failed; will retry');
      this.schedule(Math.min(MAX_BACKOFF_MS, 100 * 2 ** this.failures));
    } finally {
      this.running = null;
    }
  }

  /** Delivers one batch; returns how many rows it took. */
  private async deliverBatch(): Promise<number> {
    const delivered = await this.db.transaction(async (tx) => {
      // Only topics someone listens to are claimed, so no event is acknowledged unread.
      const rows = await tx.query<{ id: number; topic: string; payload: unknown }>(
        `SELECT id, topic, payload FROM outbox WHERE delivered_at IS NULL AND topic = ANY($1::text[])
         ORDER BY id LIMIT ${BATCH} FOR UPDATE SKIP LOCKED`,
        [[...this.handlers.keys()]],
      );
      const byTopic = new Map<string, BusMessage[]>();
      for (const r of rows) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
      for (const [topic, messages] of byTopic) {
        for (const handler of this.handlers.get(topic) ?? []) await handler(messages, tx);
      }
      if (rows.length) await tx.query('UPDATE outbox SET delivered_at = now() WHERE id = ANY($1::bigint[])', [rows.map((r) => r.id)]);
      return rows;
    });
    if (delivered.length) for (const listener of this.deliveredListeners) listener(delivered);
    return delivered.length;
  }
}
