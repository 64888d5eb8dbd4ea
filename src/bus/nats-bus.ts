import {
  AckPolicy,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
} from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { Db } from '../store/index.ts';
import type { BusMessage } from './bus.ts';
import { errorText, OutboxDelivery, sleep, type EventFailure, type OutboxBusOptions } from './delivery.ts';
import { claimUnpublishedOutboxEvents, lockPendingOutboxEvents, markOutboxPublished, selectBusIdentity } from './outbox.repo.ts';

/** Events a consumer takes in one pull and delivers in one transaction. */
const BATCH = 500;
/** Events a consumer holds unacknowledged at most (the broker's max_ack_pending): the in-flight limit. */
const MAX_IN_FLIGHT = 1000;
/** Events the relay hands over per transaction. */
const RELAY_BATCH = 500;
/** How long the broker waits for an ack before it delivers again (a process that died with the event). */
const ACK_WAIT_MS = 60_000;
/** Nats-Msg-Id deduplication window: a relay that died between publishing and noting it republishes within it. */
const DUPLICATE_WINDOW_MS = 2 * 60_000;
/** A pending event the broker should have delivered by now is handed over again (the broker lost it, say). */
const STALE_SECONDS = 300;
const MAX_BACKOFF_MS = 30_000;
/** How long stop() lets the relay and the consumers finish before it closes the connection under them. */
const STOP_GRACE_MS = 5_000;
const ms = (n: number) => n * 1_000_000; // the JetStream API counts durations in nanoseconds

export interface NatsBusOptions extends OutboxBusOptions {
  /** The NATS server (ACS_NATS_URL). */
  url: string;
  /** Events per pull and per delivery transaction. Default 500. */
  batch?: number;
  /** Unacknowledged events per consumer at most. Default 1000. */
  maxInFlight?: number;
  /** How often the relay looks for events when nothing wakes it; default as the embedded bus. */
  pollMs?: number;
  /**
   * Whether this process runs the outbox relay; default yes. Off (`--no-relay`) when `acs relay` processes hand the
   * events over. Several relays may run at once: each claims rows with FOR UPDATE SKIP LOCKED, and a row published
   * twice (a relay died before noting it) carries the same message id, which the stream drops.
   */
  relay?: boolean;
  /** Whether this process's subscribers consume from the broker; default yes. Off in `acs relay`, which only hands events over. */
  consume?: boolean;
}

/** The stream, subjects and consumers of one database on the broker. */
export function natsNames(identity: string) {
  const stream = `ACS_${identity}`;
  return {
    stream,
    deadLetters: `${stream}_DLQ`,
    subject: (topic: string) => `${stream}.${topic}`,
    deadLetterSubject: (topic: string) => `${stream}_DLQ.${topic}`,
    consumer: (topic: string) => topic.replace(/[^A-Za-z0-9_-]/g, '_'),
  };
}

interface Broker {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  names: ReturnType<typeof natsNames>;
}

/** What the relay puts on the broker; the consumer reads the event itself from the outbox (the source of truth). */
interface Envelope {
  id: number;
  topic: string;
  payload: unknown;
}

/**
 * The outbox carried by NATS JetStream. A relay hands committed outbox rows to a stream, each with a message id
 * (Nats-Msg-Id) the stream deduplicates on; one durable pull consumer per topic delivers them. The outbox stays the
 * record: an event is delivered in the transaction that marks its row delivered, and only if the row is still
 * pending, so a message the broker delivers twice is handled once. Failures, backoff and parking are the embedded
 * bus's (OutboxDelivery); a parked event also goes to the dead-letter stream.
 */
export class NatsBus extends OutboxDelivery {
  private readonly url: string;
  private readonly shownUrl: string;
  private readonly batch: number;
  private readonly maxInFlight: number;
  private readonly relays: boolean;
  private readonly consumes: boolean;
  private broker: Promise<Broker> | null = null;
  private readonly consumers = new Map<string, Promise<void>>();
  private readonly pulls = new Set<ConsumerMessages>();
  private relaying: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private relayError: string | null = null;
  private relayFailures = 0;
  private halt!: () => void;
  private readonly halted = new Promise<void>((resolve) => (this.halt = resolve));

  constructor(db: Db, log: Logger | undefined, opts: NatsBusOptions) {
    super(db, log, opts.pollMs, opts);
    this.url = opts.url;
    this.shownUrl = opts.url.replace(/\/\/[^@/]*@/, '//***@'); // errors never show credentials
    this.batch = opts.batch ?? BATCH;
    this.maxInFlight = Math.max(opts.maxInFlight ?? MAX_IN_FLIGHT, 1);
    this.relays = opts.relay ?? true;
    this.consumes = opts.consume ?? true;
  }

  /** Resolves once connected to the broker with its streams in place (and LISTENing on PostgreSQL). */
  override async ready(): Promise<void> {
    await super.ready();
    await this.connected();
  }

  notify(): void {
    if (this.stopped || !this.relays) return;
    if (this.relaying) this.again = true;
    else this.relaying = this.relay();
  }

  protected subscribed(topic: string): void {
    if (this.consumes && !this.consumers.has(topic)) this.consumers.set(topic, this.consume(topic));
    this.schedule(0);
  }

  protected async round(): Promise<void> {
    this.notify();
    await this.relaying;
  }

  protected failing(): string | null {
    return this.relayError;
  }

  /** Per topic, the events waiting on the broker and those handed out but not yet acknowledged (for gauges). */
  async streamBacklog(): Promise<{ topic: string; pending: number; inFlight: number }[]> {
    const { jsm, names } = await this.connected();
    return Promise.all(
      [...this.consumers.keys()].map(async (topic) => {
        const info = await jsm.consumers.info(names.stream, names.consumer(topic)).catch(() => null);
        return { topic, pending: info?.num_pending ?? 0, inFlight: info?.num_ack_pending ?? 0 };
      }),
    );
  }

  /** Stops pulling, lets the batches in hand finish, closes the connection. `deleteStreams`: for databases that go too (tests). */
  async stop(opts: { deleteStreams?: boolean } = {}): Promise<void> {
    this.stopped = true;
    this.halt();
    if (this.timer) clearTimeout(this.timer);
    // A relay or a consumer can be left waiting on the broker (a pull, a publish's ack), which made a stop hang now and
    // then. Past the grace, closing the connection ends those waits. Cutting a delivery short is safe: each commits
    // before its ack, and an event redelivered after it took effect is only acknowledged.
    const finished = (async () => {
      await this.relaying;
      for (const pull of this.pulls) await pull.close().catch(() => undefined);
      await Promise.all(this.consumers.values());
    })();
    await Promise.race([finished, sleep(STOP_GRACE_MS)]);
    const broker = await this.broker?.catch(() => null);
    if (broker) {
      if (opts.deleteStreams)
        for (const name of [broker.names.stream, broker.names.deadLetters]) await broker.jsm.streams.delete(name).catch(() => false);
      await Promise.race([broker.nc.close(), sleep(STOP_GRACE_MS)]);
    }
    await this.unlisten();
  }

  /** Connects once; every later call gets the same broker. A failed attempt is reported to its callers, and the next call tries again. */
  private connected(): Promise<Broker> {
    if (!this.broker) {
      const broker = this.open();
      this.broker = broker;
      broker.catch(() => {
        if (this.broker === broker) this.broker = null;
      });
    }
    return this.broker;
  }

  /** Waits, or less once the bus stops. */
  private pause(delay: number): Promise<void> {
    return Promise.race([sleep(delay), this.halted]).then(() => undefined);
  }

  private async open(): Promise<Broker> {
    const names = natsNames(await selectBusIdentity(this.db));
    let nc: NatsConnection;
    try {
      nc = await connect({ servers: this.url, name: 'acs', maxReconnectAttempts: -1 });
    } catch (err) {
      throw new Error(`cannot connect to ACS_NATS_URL (${this.shownUrl}): ${errorText(err)}`);
    }
    try {
      const jsm = await jetstreamManager(nc);
      await ensureStream(jsm, {
        name: names.stream,
        subjects: [`${names.stream}.>`],
        // An event leaves the stream once acknowledged: the outbox keeps the history.
        retention: RetentionPolicy.Workqueue,
        storage: StorageType.File,
        duplicate_window: ms(DUPLICATE_WINDOW_MS),
      });
      await ensureStream(jsm, {
        name: names.deadLetters,
        subjects: [`${names.deadLetters}.>`],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
      });
      return { nc, js: jetstream(nc), jsm, names };
    } catch (err) {
      await nc.close();
      throw new Error(`ACS_NATS_URL (${this.shownUrl}): cannot set up JetStream streams: ${errorText(err)}`);
    }
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.notify(), delay);
    this.timer.unref();
  }

  /** Hands committed events to the broker until none is left, then sleeps until woken or the poll. */
  private async relay(): Promise<void> {
    try {
      const broker = await this.connected();
      do {
        this.again = false;
        while (!this.stopped && (await this.relayBatch(broker)) === RELAY_BATCH);
      } while (this.again && !this.stopped);
      this.relayError = null;
      this.relayFailures = 0;
      this.schedule(this.pollMs);
    } catch (err) {
      this.relayFailures += 1;
      this.relayError = `outbox relay to NATS is failing: ${errorText(err)}`;
      this.log?.error({ err, failures: this.relayFailures }, 'outbox relay to NATS failed; will retry');
      this.schedule(Math.min(MAX_BACKOFF_MS, 100 * 2 ** this.relayFailures));
    } finally {
      this.relaying = null;
    }
  }

  /**
   * Publishes a batch of committed events and notes them published in the same transaction, after the broker
   * acknowledged them. A crash in between publishes them again under the same message ids: the stream drops the
   * duplicates (and a consumer skips any event already delivered).
   */
  private async relayBatch({ js, names }: Broker): Promise<number> {
    return this.db.transaction(async (tx) => {
      const rows = await claimUnpublishedOutboxEvents(tx, [...this.handlers.keys()], RELAY_BATCH, STALE_SECONDS);
      await Promise.all(
        rows.map((r) =>
          js.publish(names.subject(r.topic), JSON.stringify({ id: Number(r.id), topic: r.topic, payload: r.payload } satisfies Envelope), {
            msgID: `${r.id}.${r.publications}`,
          }),
        ),
      );
      if (rows.length)
        await markOutboxPublished(
          tx,
          rows.map((r) => r.id),
        );
      return rows.length;
    });
  }

  /**
   * Pulls one topic's events in bounded batches. The broker hands out at most `maxInFlight` unacknowledged events
   * and the pull stops reading while a batch waits for the one being delivered, so a slow stage slows its intake.
   */
  private async consume(topic: string): Promise<void> {
    for (let failures = 0; !this.stopped; failures++) {
      try {
        const { js, jsm, names } = await this.connected();
        const durable = names.consumer(topic);
        const config = {
          durable_name: durable,
          filter_subject: names.subject(topic),
          ack_policy: AckPolicy.Explicit,
          max_deliver: this.maxAttempts,
          max_ack_pending: this.maxInFlight,
          ack_wait: ms(ACK_WAIT_MS),
        };
        await jsm.consumers.add(names.stream, config).catch(() => jsm.consumers.update(names.stream, durable, config));
        if (this.stopped) return;
        const pull = await (
          await js.consumers.get(names.stream, durable)
        ).consume({ max_messages: Math.min(this.batch, this.maxInFlight) });
        this.pulls.add(pull);
        if (this.stopped) await pull.close(); // stop() went by meanwhile
        const queue: JsMsg[] = [];
        let working: Promise<void> | null = null;
        const work = async () => {
          while (queue.length)
            await this.deliver(queue.splice(0, this.batch)).catch((err) => this.log?.error({ err, topic }, 'NATS delivery failed'));
          working = null;
        };
        for await (const m of pull) {
          queue.push(m);
          working ??= work();
          if (queue.length >= this.batch) await working;
        }
        await working;
        this.pulls.delete(pull);
        return;
      } catch (err) {
        if (this.stopped) return;
        this.log?.error({ err, topic }, 'NATS consumer failed; will retry');
        await this.pause(Math.min(MAX_BACKOFF_MS, 100 * 2 ** failures));
      }
    }
  }

  /** Delivers a pulled batch in one transaction, acknowledged after commit; on failure one event at a time. */
  private async deliver(msgs: JsMsg[]): Promise<void> {
    const ids = msgs.map((m) => m.json<Envelope>().id);
    try {
      // Rows no longer pending were delivered (or parked, or discarded) already: acknowledged without their handlers.
      const { failed } = await this.deliverTogether((tx) => lockPendingOutboxEvents(tx, ids));
      if (!failed) {
        for (const m of msgs) answer(m, 'ack');
        return;
      }
    } catch (err) {
      this.log?.warn({ err, events: msgs.length }, 'NATS batch failed; delivering its events one at a time');
    }
    for (const [i, m] of msgs.entries()) await this.deliverMessage(m, ids[i]!);
  }

  private async deliverMessage(m: JsMsg, id: number): Promise<void> {
    try {
      // The broker will not deliver it again after its last delivery, so a failure then parks it.
      const lastChance = m.info.deliveryCount >= this.maxAttempts;
      const outcome = await this.deliverOne(id, async (tx) => (await lockPendingOutboxEvents(tx, [id]))[0], lastChance);
      const failed = outcome?.failed;
      if (!failed) answer(m, 'ack');
      else if (!failed.parked) answer(m, 'nak', failed.delayMs);
      else {
        await this.deadLetter(failed.message, failed);
        answer(m, 'term');
      }
    } catch (err) {
      // The database failed, not the handlers: no attempt counted; the broker delivers it again.
      this.log?.error({ err, event: id }, 'NATS delivery failed; will retry');
      answer(m, 'nak', this.backoffMs);
    }
  }

  /** The dead-letter stream holds each parked event with its last error, for tools that watch the broker. */
  private async deadLetter(message: BusMessage, f: EventFailure): Promise<void> {
    try {
      const { js, names } = await this.connected();
      await js.publish(names.deadLetterSubject(message.topic), JSON.stringify({ ...message, attempts: f.attempts, error: f.error }));
    } catch (err) {
      this.log?.error({ err, event: message.id }, 'could not publish a parked event to the dead-letter stream; it is parked in the outbox');
    }
  }
}

/**
 * Acknowledges a message, or asks for it again after `delay`, or ends its deliveries. With the connection gone this
 * throws; the broker then delivers the message again after its ack wait, and the outbox row says whether it was done.
 */
function answer(m: JsMsg, how: 'ack' | 'nak' | 'term', delay?: number): void {
  try {
    if (how === 'ack') m.ack();
    else if (how === 'nak') m.nak(delay);
    else m.term('parked');
  } catch {
    // nothing to do: see above
  }
}

/** Creates the stream, or brings an existing one to this configuration. */
async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.add(config);
  } catch {
    const { name, ...rest } = config;
    await jsm.streams.update(name, rest);
  }
}
