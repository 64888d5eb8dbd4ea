import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntakeQueue } from '../src/sense/index.ts';
import type { Db } from '../src/store/index.ts';
import { openTestDb } from './helpers.ts';

let db: Db;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(async () => db.close());

const nps = (id: string, score: unknown = 7) => ({ value: { id, type: 'nps', subject: { customerId: `Q-${id}` }, data: { score } } });
const ctx = { actor: 'test', source: 'api' };

/** The test database, counting the transactions that reach it; `failNext` makes the next one throw (an injected fault). */
function countingTransactions(inner: Db): Db & { transactions: number; failNext: boolean } {
  const wrapped = {
    ...inner,
    transactions: 0,
    failNext: false,
    transaction: <T>(fn: (tx: Parameters<Parameters<Db['transaction']>[0]>[0]) => Promise<T>): Promise<T> => {
      wrapped.transactions++;
      if (wrapped.failNext) {
        wrapped.failNext = false;
        return Promise.reject(new Error('injected failure of a shared transaction'));
      }
      return inner.transaction(fn);
    },
  };
  return wrapped;
}

describe('intake group commit', () => {
  it('lets concurrent submissions share transactions and gives each its own outcome and indices', async () => {
    const counted = countingTransactions(db);
    const queue = new IntakeQueue(counted);
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, i) => queue.submit([nps(`g${i}a`), nps(`g${i}b`, 'bad')], ctx)));
    // The first runs alone; the other 19 waited for it and went in together.
    expect(counted.transactions).toBe(2);
    outcomes.forEach((o, i) => {
      expect(o.accepted).toMatchObject([{ index: 0, id: `g${i}a` }]);
      expect(o.rejected).toMatchObject([{ index: 1, issues: [{ path: 'data.score' }] }]);
      expect(o.rejected[0]!.quarantineId).toMatch(/^q/);
    });
    expect(await db.query("SELECT 1 FROM signals WHERE id LIKE 'g%'")).toHaveLength(20);
  });

  it('reports a signal id sent twice at once as accepted in one request and a duplicate in the other', async () => {
    const queue = new IntakeQueue(db);
    const [a, b, c] = await Promise.all([
      queue.submit([nps('warm-up')], ctx),
      queue.submit([nps('twice')], ctx),
      queue.submit([nps('twice')], ctx),
    ]);
    expect(a.accepted).toHaveLength(1);
    expect(b.accepted.map((x) => x.id)).toEqual(['twice']);
    expect(c.duplicates).toEqual([{ index: 0, id: 'twice' }]);
  });

  it('keeps different senders in separate transactions', async () => {
    const counted = countingTransactions(db);
    const queue = new IntakeQueue(counted);
    await Promise.all([
      queue.submit([nps('s0')], ctx),
      queue.submit([nps('s1')], { actor: 'other', source: 'api' }),
      queue.submit([nps('s2')], ctx),
    ]);
    expect(counted.transactions).toBe(3);
    const actors = await db.query<{ actor: string; subject_id: string }>(
      "SELECT actor, subject_id FROM ledger WHERE type = 'signal.accepted' AND subject_id IN ('s0', 's1', 's2') ORDER BY subject_id",
    );
    expect(actors.map((r) => r.actor)).toEqual(['test', 'other', 'test']);
  });

  it('retries each submission alone when a shared transaction fails (a failure injected into the database wrapper), so none is lost', async () => {
    const counted = countingTransactions(db);
    const queue = new IntakeQueue(counted);
    const first = queue.submit([nps('f0')], ctx);
    counted.failNext = true; // hits the shared transaction of the three below, once
    const rest = [1, 2, 3].map((i) => queue.submit([nps(`f${i}`)], ctx));
    await first;
    const outcomes = await Promise.all(rest);
    expect(outcomes.map((o) => o.accepted[0]?.id)).toEqual(['f1', 'f2', 'f3']);
    // One alone, one shared that failed, then the three again one by one.
    expect(counted.transactions).toBe(5);
    expect(await db.query("SELECT 1 FROM signals WHERE id IN ('f0', 'f1', 'f2', 'f3')")).toHaveLength(4);
  });
});
