import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxBus, publish, type BusMessage } from '../src/bus/index.ts';
import type { Db } from '../src/store/index.ts';
import { openTestDb } from './helpers.ts';

const silent = pino({ level: 'silent' });
const n = (m: BusMessage) => (m.payload as { n: number }).n;

describe('a failing event does not stop the others', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openTestDb();
  });
  afterAll(async () => db.close());

  it('delivers the good events after a bad one', async () => {
    const bus = new OutboxBus(db, silent, 50);
    const seen: number[] = [];
    bus.subscribe('test.poison', async (messages) => {
      if (messages.some((m) => n(m) === 1)) throw new Error('cannot handle 1');
      seen.push(...messages.map(n));
    });
    await db.transaction(async (tx) => {
      for (const k of [1, 2, 3]) await publish(tx, 'test.poison', { n: k });
    });
    await bus.drain().catch(() => undefined);
    expect(seen).toEqual([2, 3]);
    await bus.stop();
  });
});
