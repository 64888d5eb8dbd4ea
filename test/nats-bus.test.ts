import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NatsBus, natsNames, publish, selectBusIdentity, type BusMessage } from '../src/bus/index.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import type { Db } from '../src/store/index.ts';
import { runAcs } from './cli-helpers.ts';
import { createTestApp, openTestDb, stopTestBus, trouble, troubledCustomer, type TestApp } from './helpers.ts';

const silent = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const n = (m: BusMessage) => (m.payload as { n: number }).n;

describe('ACS_NATS_URL', () => {
  it('must be a nats:// URL; the error names the variable', () => {
    expect(() => loadConfig({ ACS_NATS_URL: 'http://127.0.0.1:4222' })).toThrow(ConfigError);
    expect(() => loadConfig({ ACS_NATS_URL: 'http://127.0.0.1:4222' })).toThrow(/ACS_NATS_URL: must be a nats:\/\/ URL/);
    expect(loadConfig({ ACS_NATS_URL: 'nats://127.0.0.1:4222' }).nats).toEqual({ url: 'nats://127.0.0.1:4222' });
    expect(loadConfig({}).nats).toBeUndefined();
  });

  it('a broker that does not answer stops the bus with an error naming ACS_NATS_URL', async () => {
    const db = await openTestDb();
    const bus = new NatsBus(db, silent, { url: 'nats://127.0.0.1:1' });
    try {
      bus.subscribe('test.unreachable', async () => undefined);
      await publishAll(db, 'test.unreachable', [1]);
      await expect(bus.ready()).rejects.toThrow(/cannot connect to ACS_NATS_URL \(nats:\/\/127\.0\.0\.1:1\)/);
      await expect(bus.drain()).rejects.toThrow(/ACS_NATS_URL/);
      const withSecret = new NatsBus(db, silent, { url: 'nats://acs:s3cret@127.0.0.1:1' });
      await expect(withSecret.ready()).rejects.toThrow(/^cannot connect to ACS_NATS_URL \(nats:\/\/\*\*\*@127\.0\.0\.1:1\)/);
      await withSecret.stop();
    } finally {
      await bus.stop();
      await db.close();
    }
  });
});

describe('acs relay and --no-relay', () => {
  it('need ACS_NATS_URL (and a shared database); each usage error names what is missing', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, ACS_LOG_LEVEL: 'warn' };
    delete env.ACS_NATS_URL;
    delete env.DATABASE_URL;
    const relay = await runAcs(['relay'], env);
    expect(relay.code).toBe(2);
    expect(relay.stderr).toContain('acs relay needs ACS_NATS_URL');
    for (const args of [
      ['worker', '--no-relay'],
      ['serve', '--no-relay'],
    ]) {
      const res = await runAcs(args, env);
      expect(res.code, args.join(' ')).toBe(2);
      expect(res.stderr, args.join(' ')).toContain('--no-relay needs ACS_NATS_URL');
    }
    // With a broker but on the embedded database, no relay could run beside the one process.
    const embedded = await runAcs(['relay'], { ...env, ACS_NATS_URL: 'nats://127.0.0.1:1' });
    expect(embedded.code).toBe(2);
    expect(embedded.stderr).toContain('acs relay needs DATABASE_URL');
    const help = await runAcs(['--help'], env);
    expect(help.stdout).toContain('acs relay');
    expect(help.stdout).toContain('--no-relay');
  }, 60_000);
});

/** Publishes events of `topic` in one transaction; returns their ids. */
async function publishAll(db: Db, topic: string, ns: number[]): Promise<number[]> {
  await db.transaction(async (tx) => {
    for (const k of ns) await publish(tx, topic, { n: k });
  });
  const rows = await db.query<{ id: number }>(`SELECT id FROM outbox WHERE topic = $1 ORDER BY id`, [topic]);
  return rows.map((r) => Number(r.id));
}

/** Drains until nothing is pending, through the rejections of events that fail on the way to being parked. */
async function settle(bus: NatsBus): Promise<void> {
  for (let i = 0; i < 50; i++) {
    try {
      return await bus.drain();
    } catch {
      await sleep(200);
    }
  }
  throw new Error('the bus did not settle');
}

if (process.env.ACS_NATS_URL) {
  const url = process.env.ACS_NATS_URL;
  describe('the bus on NATS JetStream', () => {
    let nc: NatsConnection;
    let jsm: JetStreamManager;
    let t: TestApp | undefined;
    beforeAll(async () => {
      nc = await connect({ servers: url });
      jsm = await jetstreamManager(nc);
    });
    afterEach(async () => {
      await t?.close();
      t = undefined;
    });
    afterAll(async () => nc.close());

    it('carries signals through intake, features and the agents to a decision', async () => {
      t = await createTestApp({ loop: { holdoutFraction: 0 } });
      expect(t.bus).toBeInstanceOf(NatsBus);
      const accountId = await troubledCustomer(t, 'NATS-1');
      expect((await t.call('POST', '/api/v1/signals', { body: trouble('NATS-1', 1), role: 'agent' })).status).toBe(202);
      await t.bus.drain();

      const decided = await t.db.query("SELECT 1 FROM proposals WHERE account_id = $1 AND status = 'decided'", [accountId]);
      expect(decided).toHaveLength(1);
      // Every event went through the broker: published by the relay, delivered by a consumer, none left over.
      const rows = await t.db.query<{ state: string; published: boolean; topic: string }>(
        'SELECT state, published_at IS NOT NULL AS published, topic FROM outbox',
      );
      expect(rows.length).toBeGreaterThan(0);
      expect(rows.every((r) => r.state === 'delivered' && r.published)).toBe(true);
      const names = natsNames(await selectBusIdentity(t.db));
      const stream = await jsm.streams.info(names.stream);
      expect(stream.state.last_seq).toBe(rows.length);
      for (const topic of new Set(rows.map((r) => r.topic))) {
        const consumer = await jsm.consumers.info(names.stream, names.consumer(topic));
        expect(consumer.num_ack_pending + consumer.num_pending).toBe(0);
        expect(consumer.delivered.stream_seq).toBeGreaterThan(0);
      }
      expect((await t.call('GET', '/api/v1/ledger/verify')).body.ok).toBe(true);
    });

    it('parks an event whose handler keeps failing, in the outbox and the dead-letter stream; the others flow; a retry delivers it', async () => {
      t = await createTestApp({ outbox: { maxAttempts: 2, retentionHours: 1 } });
      const seen: number[] = [];
      let broken = true;
      t.bus.subscribe('test.nats.bad', async (messages) => {
        for (const m of messages) {
          if (broken && n(m) === 2) throw new Error('cannot handle two');
          seen.push(n(m));
        }
      });
      const [, bad] = await publishAll(t.db, 'test.nats.bad', [1, 2, 3]);
      t.bus.notify();
      await settle(t.bus as NatsBus);
      expect(seen.sort()).toEqual([1, 3]);
      const [row] = await t.db.query<{ state: string; attempts: number; last_error: string }>(
        'SELECT state, attempts, last_error FROM outbox WHERE id = $1',
        [bad],
      );
      expect(row).toMatchObject({ state: 'parked', attempts: 2, last_error: 'Error: cannot handle two' });
      expect(await t.db.query("SELECT 1 FROM ledger WHERE type = 'outbox.parked' AND subject_id = $1", [String(bad)])).toHaveLength(1);
      const names = natsNames(await selectBusIdentity(t.db));
      const dead = await jsm.streams.getMessage(names.deadLetters, { last_by_subj: names.deadLetterSubject('test.nats.bad') });
      expect(dead?.json()).toMatchObject({
        id: bad,
        topic: 'test.nats.bad',
        payload: { n: 2 },
        attempts: 2,
        error: 'Error: cannot handle two',
      });

      broken = false;
      expect((await t.call('POST', `/api/v1/outbox/parked/${bad}/retry`)).status).toBe(200);
      await t.bus.drain();
      expect(seen.sort()).toEqual([1, 2, 3]);
      const [after] = await t.db.query<{ state: string; publications: number }>('SELECT state, publications FROM outbox WHERE id = $1', [
        bad,
      ]);
      // Handed to the broker a second time, under a new message id.
      expect(after).toEqual({ state: 'delivered', publications: 2 });
    });
  });

  describe('the relay and consumers on NATS JetStream', () => {
    let db: Db;
    let nc: NatsConnection;
    let jsm: JetStreamManager;
    beforeAll(async () => {
      db = await openTestDb();
      nc = await connect({ servers: url });
      jsm = await jetstreamManager(nc);
    });
    afterAll(async () => {
      await nc.close();
      await db.close();
    });

    it('an event published twice (the relay died between publishing and noting it) is handled once', async () => {
      const bus = new NatsBus(db, silent, { url, pollMs: 3_600_000 });
      try {
        bus.subscribe('test.nats.other', async () => undefined);
        await bus.ready();
        const [id] = await publishAll(db, 'test.nats.dup', [1]);
        const names = natsNames(await selectBusIdentity(db));
        const envelope = JSON.stringify({ id, topic: 'test.nats.dup', payload: { n: 1 } });
        const js = jetstream(nc);
        // What a relay that died before its commit left on the broker; and a copy from after the dedup window.
        await js.publish(names.subject('test.nats.dup'), envelope, { msgID: `${id}.0` });
        await js.publish(names.subject('test.nats.dup'), envelope, { msgID: `${id}.late` });
        const handled: number[] = [];
        bus.subscribe('test.nats.dup', async (messages) => {
          handled.push(...messages.map((m) => m.id));
        });
        await bus.drain();
        const consumer = names.consumer('test.nats.dup');
        for (let i = 0; i < 50; i++) {
          const info = await jsm.consumers.info(names.stream, consumer);
          if (info.num_pending + info.num_ack_pending === 0) break;
          await sleep(100);
        }
        expect(handled).toEqual([id]);
        // The relay's own publication was the stream's duplicate: two messages stored, not three.
        const stream = await jsm.streams.info(names.stream);
        expect(stream.state.last_seq).toBe(2);
        expect(stream.state.messages).toBe(0); // both acknowledged
      } finally {
        await stopTestBus(bus);
      }
    });

    it('relays apart from the consumers, two at once: each event is handed over once and delivered once', async () => {
      const topic = 'test.nats.relays';
      const handled: number[] = [];
      // Consumes only (as `acs worker --no-relay`): it hands nothing over itself.
      const consumer = new NatsBus(db, silent, { url, relay: false, pollMs: 3_600_000 });
      const relays = [0, 1].map(() => new NatsBus(db, silent, { url, consume: false, pollMs: 3_600_000 }));
      try {
        consumer.subscribe(topic, async (messages) => {
          handled.push(...messages.map((m) => m.id));
        });
        await consumer.ready();
        const names = natsNames(await selectBusIdentity(db));
        const before = (await jsm.streams.info(names.stream)).state.last_seq;
        const ids = await publishAll(
          db,
          topic,
          Array.from({ length: 1200 }, (_, i) => i),
        );
        consumer.notify();
        await sleep(300);
        const unpublished = async () =>
          (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM outbox WHERE topic = $1 AND published_at IS NULL', [topic]))[0]!.n;
        expect(await unpublished()).toBe(ids.length);
        expect(handled).toEqual([]);
        // The relays never consume: their handlers would throw if they ran.
        for (const relay of relays)
          relay.subscribe(topic, async () => {
            throw new Error('a relay consumed');
          });
        await Promise.all(relays.map((r) => r.ready()));
        for (const relay of relays) relay.notify();
        await consumer.drain();
        expect(await unpublished()).toBe(0);
        expect([...handled].sort((a, b) => a - b)).toEqual(ids);
        // Neither relay took a row the other held: each was published once, and the stream stored each once.
        const [row] = await db.query<{ once: number }>(
          'SELECT count(*) FILTER (WHERE publications = 1)::int AS once FROM outbox WHERE topic = $1',
          [topic],
        );
        expect(row!.once).toBe(ids.length);
        expect((await jsm.streams.info(names.stream)).state.last_seq - before).toBe(ids.length);
      } finally {
        for (const relay of relays) await relay.stop();
        await stopTestBus(consumer);
      }
    });

    it('backpressure: a slow stage holds at most its in-flight limit while the backlog waits in the stream', async () => {
      const maxInFlight = 20;
      const bus = new NatsBus(db, silent, { url, batch: 10, maxInFlight, pollMs: 3_600_000 });
      try {
        let slow = true;
        let delivered = 0;
        bus.subscribe('test.nats.slow', async (messages) => {
          if (slow) await sleep(100);
          delivered += messages.length;
        });
        await bus.ready();
        const total = 600;
        await publishAll(
          db,
          'test.nats.slow',
          Array.from({ length: total }, (_, i) => i),
        );
        bus.notify();
        const names = natsNames(await selectBusIdentity(db));
        const samples: { ackPending: number; pending: number }[] = [];
        for (let i = 0; i < 15; i++) {
          await sleep(100);
          const info = await jsm.consumers.info(names.stream, names.consumer('test.nats.slow'));
          samples.push({ ackPending: info.num_ack_pending, pending: info.num_pending });
        }
        // The consumer never held more than its limit, while hundreds waited on the broker, not in this process.
        expect(Math.max(...samples.map((s) => s.ackPending))).toBeLessThanOrEqual(maxInFlight);
        expect(Math.max(...samples.map((s) => s.ackPending))).toBeGreaterThan(0);
        expect(Math.max(...samples.map((s) => s.pending))).toBeGreaterThan(total / 2);
        expect(delivered).toBeLessThan(total);
        const [backlog] = await bus.streamBacklog();
        expect(backlog!.topic).toBe('test.nats.slow');
        expect(backlog!.pending).toBeGreaterThan(0);
        expect(backlog!.inFlight).toBeLessThanOrEqual(maxInFlight);
        slow = false;
        await bus.drain();
        expect(delivered).toBe(total);
      } finally {
        await stopTestBus(bus);
      }
    });
  });
}
