import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxBus, publish, type BusMessage } from '../src/bus/index.ts';
import { openPostgres, type Db } from '../src/store/index.ts';
import { openTestDb } from './helpers.ts';

const url = process.env.DATABASE_URL;
const HOUR = 3_600_000;

// LISTEN/NOTIFY is PostgreSQL's: the embedded PGlite has one process, whose bus is notified after each commit and
// otherwise polls. Each backend registers the tests that apply to it, so neither run reports skipped tests.
if (!url) {
  describe('on PGlite, without LISTEN, the bus polls', () => {
    it('has no listen, and delivers an event it was never told about on its next poll', async () => {
      const db = await openTestDb();
      expect(db.listen).toBeUndefined();
      const bus = new OutboxBus(db, pino({ level: 'silent' }), 50);
      const delivered: number[] = [];
      bus.subscribe('test.poll', async (messages) => {
        delivered.push(...messages.map((m) => (m.payload as { n: number }).n));
      });
      await bus.ready();
      await bus.drain();
      // Published without calling bus.notify(): only the poll can find it.
      await db.transaction((tx) => publish(tx, 'test.poll', { n: 7 }));
      for (let i = 0; i < 200 && delivered.length === 0; i++) await new Promise((r) => setTimeout(r, 25));
      expect(delivered).toEqual([7]);
      await bus.stop();
      await db.close();
    });
  });
}

if (url)
  describe('on PostgreSQL, a publish wakes the bus of another process', () => {
    let db: Db;
    let other: Db;
    beforeAll(async () => {
      db = await openTestDb();
      const [{ schema }] = (await db.query<{ schema: string }>('SELECT current_schema() AS schema')) as [{ schema: string }];
      // A second connection pool on the same database and schema stands for another ACS process.
      other = await openPostgres(url!, { schema, max: 2 });
    });
    afterAll(async () => {
      await other.close();
      await db.close();
    });

    it('delivers without waiting for the poll, which is set to an hour', async () => {
      const bus = new OutboxBus(other, pino({ level: 'silent' }), HOUR);
      const delivered: number[][] = [];
      let wake: () => void = () => undefined;
      bus.subscribe('test.wake', async () => undefined);
      // Called once the delivery has committed.
      bus.onDelivered((messages: BusMessage[]) => {
        delivered.push(messages.map((m) => (m.payload as { n: number }).n));
        wake();
      });
      await bus.ready();
      // The first round (on subscribe) is over; the next poll is an hour away.
      await bus.drain();
      for (const n of [1, 2]) {
        const arrived = new Promise<void>((resolve) => (wake = resolve));
        // Published through the first pool, without touching `bus`: only the notification can wake it.
        await db.transaction((tx) => publish(tx, 'test.wake', { n }));
        await arrived;
      }
      expect(delivered).toEqual([[1], [2]]);
      const [row] = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM outbox WHERE topic = 'test.wake' AND state = 'delivered'",
      );
      expect(row!.n).toBe(2);
      await bus.stop();
    });

    it('re-establishes a lost listening connection and catches up on what it missed', async () => {
      const [{ schema }] = (await db.query<{ schema: string }>('SELECT current_schema() AS schema')) as [{ schema: string }];
      const tagged = await openPostgres(`${url}${url!.includes('?') ? '&' : '?'}application_name=acs-listen-lost`, { schema, max: 1 });
      const bus = new OutboxBus(tagged, pino({ level: 'silent' }), HOUR);
      let arrived: () => void = () => undefined;
      const delivered = new Promise<void>((resolve) => (arrived = resolve));
      bus.subscribe('test.lost', async () => undefined);
      bus.onDelivered((messages) => messages.some((m) => m.topic === 'test.lost') && arrived());
      await bus.ready();
      await bus.drain();
      const [killed] = await db.query<{ n: number }>(
        "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = 'acs-listen-lost' AND query = 'LISTEN acs_outbox'",
      );
      expect(killed!.n).toBe(1);
      // Published while the bus may have no connection listening: the reconnection itself wakes the bus.
      await db.transaction((tx) => publish(tx, 'test.lost', { n: 1 }));
      await delivered;
      await bus.stop();
      await tagged.close();
    });

    it('stops listening when the bus stops, and closing the database ends the connection', async () => {
      // A closed connection's server process leaves pg_stat_activity a moment later: ask until it has (bounded).
      const count = async (expected: number) => {
        let n = -1;
        for (let tries = 0; tries < 100 && n !== expected; tries++) {
          if (tries) await new Promise((resolve) => setTimeout(resolve, 50));
          [{ n }] = (await db.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE query = 'LISTEN acs_outbox' AND datname = current_database() AND application_name = 'acs-listen-test'",
          )) as [{ n: number }];
        }
        return n;
      };
      const tagged = await openPostgres(`${url}${url!.includes('?') ? '&' : '?'}application_name=acs-listen-test`, { max: 1 });
      const bus = new OutboxBus(tagged, pino({ level: 'silent' }), HOUR);
      bus.subscribe('test.other', async () => undefined);
      await bus.ready();
      expect(await count(1)).toBe(1);
      await bus.stop();
      expect(await count(0)).toBe(0);
      const again = new OutboxBus(tagged, pino({ level: 'silent' }), HOUR);
      again.subscribe('test.other', async () => undefined);
      await again.ready();
      expect(await count(1)).toBe(1);
      await tagged.close();
      expect(await count(0)).toBe(0);
      await again.stop();
    });
  });
