import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { refreshFeatures } from '../src/sense/index.ts';
import type { Db } from '../src/store/index.ts';
import { openTestDb } from './helpers.ts';

// Two workers refresh the features of overlapping customers, each in its delivery's order. On PostgreSQL (the only
// backend with concurrent transactions) the refresh must lock rows in one order, or the two deadlock and one
// delivery fails (seen in bench:scale's scale-out part: 5 deadlocks in two rounds, two workers slower than one).
describe('feature refresh of many customers at once', () => {
  let db: Db;
  const ids = Array.from({ length: 400 }, (_, i) => `acc_lock_${String(i).padStart(4, '0')}`);

  beforeAll(async () => {
    db = await openTestDb();
    await db.query(`INSERT INTO accounts (id, name) SELECT id, 'Lock order ' || id FROM unnest($1::text[]) AS a(id)`, [ids]);
    await refreshFeatures(db, ids, new Date());
  });
  afterAll(async () => db?.close());

  it('stores the same features whatever order the customers come in', async () => {
    const asOf = new Date();
    const read = async () =>
      db.query<{ account_id: string; features: unknown }>(
        'SELECT account_id, features FROM customer_features WHERE account_id = ANY($1) ORDER BY account_id',
        [ids],
      );
    await refreshFeatures(db, [...ids].reverse(), asOf);
    const reversed = await read();
    await refreshFeatures(db, ids, asOf);
    expect(reversed).toHaveLength(ids.length);
    expect(await read()).toEqual(reversed);
  });

  if (process.env.DATABASE_URL)
    it('two transactions refreshing the same customers in opposite orders never deadlock', async () => {
      const shuffled = (seed: number) => {
        const out = [...ids];
        let x = seed;
        for (let i = out.length - 1; i > 0; i--) {
          x = (x * 1103515245 + 12345) % 2 ** 31;
          const j = x % (i + 1);
          [out[i], out[j]] = [out[j]!, out[i]!];
        }
        return out;
      };
      const errors: string[] = [];
      for (let round = 0; round < 15; round++) {
        const orders = [shuffled(round * 2 + 1), [...ids].reverse()];
        const results = await Promise.allSettled(
          orders.map((order) =>
            db.transaction(async (tx) => {
              await refreshFeatures(tx, order, new Date());
              await tx.query('SELECT pg_sleep(0.01)');
            }),
          ),
        );
        for (const r of results) if (r.status === 'rejected') errors.push(String(r.reason));
      }
      expect(errors).toEqual([]);
      const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM customer_features WHERE account_id = ANY($1)', [ids]);
      expect(row!.n).toBe(ids.length);
    });
});
