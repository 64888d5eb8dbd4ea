import { systemClock, type Clock } from '../clock.ts';
import type { Logger } from 'pino';
import { appendToLedger } from '../ledger/index.ts';
import { freshHandle, type Db, type Tx } from '../store/index.ts';
import type { Bus, BusHandler, BusMessage } from './bus.ts';
import {
  lastFailedOutboxEvent,
  markOutboxDelivered,
  OUTBOX_CHANNEL,
  outboxEventSavepoint,
  pendingOutboxSummary,
  recordOutboxFailure,
} from './outbox.repo.ts';

export const DEFAULT_MAX_ATTEMPTS = 5;
/** How often to look for events when nothing wakes the bus: PGlite, or PostgreSQL without LISTEN. */
const POLL_MS = 1000;
/** The safety poll once LISTEN/NOTIFY wakes the bus: only for a notification lost with its connection. */
const LISTENING_POLL_MS = 30_000;
/** An event that failed n times waits base·2^(n-1), at most MAX_EVENT_BACKOFF_MS, before its next attempt. */
const EVENT_BACKOFF_MS = 1000;
const MAX_EVENT_BACKOFF_MS = 5 * 60_000;
const MAX_ERROR_CHARS = 2000;

export interface OutboxBusOptions {
  /** Attempts before an event is parked. Default 5. */
  maxAttempts?: number;
  /** The first retry's delay; each further one doubles it. Default 1 s. */
  backoffMs?: number;
  /** The server's clock, which dates the ledger's entries (parking). Default real time. */
  clock?: Clock;
}

/** A claimed outbox row: the event and the attempts made so far. */
export type ClaimedEvent = BusMessage & { attempts: number };

/** A failed attempt as recorded on the event. */
export interface EventFailure {
  topic: string;
  attempts: number;
  parked: boolean;
  delayMs: number;
  error: string;
}

export const errorText = (err: unknown) =>
  (err instanceof Error ? `${err.name}: ${err.message}` : String(err)).replace(/\u0000/g, '').slice(0, MAX_ERROR_CHARS);
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * What every bus over the outbox shares, whoever carries the events (this process, or NATS JetStream): the
 * subscribers, delivery of a batch or of one event in the transaction that marks it delivered, counting failed
 * attempts with backoff, parking, the LISTEN that wakes the bus, and drain().
 */
export abstract class OutboxDelivery implements Bus {
  protected readonly handlers = new Map<string, BusHandler[]>();
  private readonly deliveredListeners: ((messages: BusMessage[]) => void)[] = [];
  protected readonly maxAttempts: number;
  protected readonly backoffMs: number;
  protected readonly clock: Clock;
  /** Failed deliveries of single events so far; drain() reports those that happen while it waits. */
  protected eventFailures = 0;
  protected stopped = false;
  protected pollMs: number;
  private readonly explicitPoll: boolean;
  protected listening: Promise<(() => Promise<void>) | null> | null = null;

  constructor(
    protected readonly db: Db,
    protected readonly log?: Logger,
    pollMs?: number,
    opts: OutboxBusOptions = {},
  ) {
    this.pollMs = pollMs ?? POLL_MS;
    this.explicitPoll = pollMs !== undefined;
    this.maxAttempts = opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    this.backoffMs = opts.backoffMs ?? EVENT_BACKOFF_MS;
    this.clock = opts.clock ?? systemClock;
  }

  subscribe(topic: string, handler: BusHandler): void {
    this.handlers.set(topic, [...(this.handlers.get(topic) ?? []), handler]);
    this.listening ??= this.listen();
    this.subscribed(topic);
  }

  /** Resolves once the bus LISTENs for other processes' events (PostgreSQL), or at once where it cannot. */
  async ready(): Promise<void> {
    await this.listening;
  }

  /** Called after each delivered batch commits, with its messages (for metrics and measurements; it must not throw). */
  onDelivered(listener: (messages: BusMessage[]) => void): void {
    this.deliveredListeners.push(listener);
  }

  abstract notify(): void;
  abstract stop(): Promise<void>;
  /** A new topic has handlers. */
  protected abstract subscribed(topic: string): void;
  /** Runs (or waits for) one round of this bus's own work. */
  protected abstract round(): Promise<void>;
  /** Why the bus as a whole is failing right now (the database or the broker unreachable, say), if it is. */
  protected abstract failing(): string | null;

  async drain(): Promise<void> {
    const failedBefore = this.eventFailures;
    for (let round = 0; round < 10_000; round++) {
      await this.round();
      const p = await pendingOutboxSummary(this.db, [...this.handlers.keys()]);
      if (!p?.n) return;
      const failing = this.failing();
      if (failing) throw new Error(`${failing}; ${p.n} events pending`);
      if (p.due) {
        await sleep(10); // being delivered, or held by another process for now
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

  protected async unlisten(): Promise<void> {
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

  /**
   * Delivers the events `claim` locks, all in one transaction; returns them. When the handlers fail, nothing is
   * delivered and `failed` holds what was claimed, to be delivered one at a time.
   */
  protected async deliverTogether(claim: (tx: Tx) => Promise<BusMessage[]>): Promise<{ claimed: BusMessage[]; failed: boolean }> {
    let claimed: BusMessage[] = [];
    try {
      const delivered = await this.db.transaction(async (tx) => {
        claimed = await claim(tx);
        await this.handle(claimed, tx);
        await this.acknowledge(tx, claimed);
        return claimed;
      });
      this.delivered(delivered);
      return { claimed: delivered, failed: false };
    } catch (err) {
      if (!claimed.length) throw err; // the claim itself failed: nothing to single out
      this.log?.warn({ err, events: claimed.length }, 'outbox batch failed; delivering its events one at a time');
      return { claimed, failed: true };
    }
  }

  /**
   * Delivers one event in a transaction of its own. The handlers run inside a savepoint, so when they fail their
   * writes are undone while the row stays locked, and the failure is recorded in the same transaction. `lastChance`
   * parks the event if this attempt fails, whatever its count (the broker will not deliver it again).
   * Returns null when `claim` found nothing to deliver (delivered, parked or taken by another process meanwhile).
   */
  protected async deliverOne(
    id: number,
    claim: (tx: Tx) => Promise<ClaimedEvent | undefined>,
    lastChance = false,
  ): Promise<{ delivered?: BusMessage; failed?: EventFailure & { message: BusMessage } } | null> {
    const outcome = await this.db.transaction(async (tx) => {
      const m = await claim(tx);
      if (!m) return null;
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
        return { failed: { ...(await this.recordFailure(tx, m, err, lastChance)), message } };
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
      else
        this.log?.warn(
          { event: id, topic: f.topic, attempts: f.attempts, error: f.error, retryInMs: f.delayMs },
          'outbox event failed; will retry',
        );
    }
    return outcome;
  }

  private async recordFailure(tx: Tx, m: ClaimedEvent, err: unknown, lastChance: boolean): Promise<EventFailure> {
    const attempts = m.attempts + 1;
    const parked = lastChance || attempts >= this.maxAttempts;
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
          at: this.clock.now(),
        },
      ]);
    return { topic: m.topic, attempts, parked, delayMs, error };
  }

  protected async handle(messages: BusMessage[], tx: Tx): Promise<void> {
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
