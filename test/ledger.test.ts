import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendToLedger, canonicalJson, GENESIS_HASH, verifyLedger } from '../src/ledger/index.ts';
import type { Db, Queryable } from '../src/store/index.ts';
import { openTestDb } from './helpers.ts';

let db: Db;
beforeAll(async () => {
  db = await openTestDb();
  await db.transaction((tx) =>
    appendToLedger(
      tx,
      Array.from({ length: 12 }, (_, i) => ({
        type: 'test.event',
        actor: 'test',
        subjectType: 'thing',
        subjectId: `t${i + 1}`,
        data: { n: i + 1 },
        at: new Date(),
      })),
    ),
  );
});
afterAll(async () => db.close());

/** Tampering goes around the append-only trigger the way a superuser would: by switching triggers off. */
async function tamper(fn: (tx: Queryable) => Promise<unknown>): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    await fn(tx);
  });
}

/** Runs a tampering step, verifies, then puts the ledger back exactly as it was. */
async function verifyAfter(fn: (tx: Queryable) => Promise<unknown>) {
  const snapshot = await db.query<Record<string, unknown>>('SELECT * FROM ledger ORDER BY seq');
  await tamper(fn);
  const report = await verifyLedger(db);
  await tamper(async (tx) => {
    await tx.query('DELETE FROM ledger');
    await tx.query(`INSERT INTO ledger SELECT * FROM jsonb_populate_recordset(NULL::ledger, $1::jsonb)`, [JSON.stringify(snapshot)]);
  });
  expect((await verifyLedger(db)).ok).toBe(true);
  return report;
}

describe('canonical JSON', () => {
  it('sorts keys at every depth and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[1,{"y":2,"z":1}]},"b":1}');
  });
  it('refuses non-finite numbers', () => {
    expect(() => canonicalJson({ x: Number.NaN })).toThrow(/non-finite/);
  });
});

describe('ledger', () => {
  it('chains from the genesis hash and verifies', async () => {
    const report = await verifyLedger(db);
    expect(report).toMatchObject({ ok: true, entries: 12, firstBadSeq: null });
    const [first] = await db.query<{ prev_hash: string }>('SELECT prev_hash FROM ledger WHERE seq = 1');
    expect(first!.prev_hash).toBe(GENESIS_HASH);
    const [last] = await db.query<{ hash: string }>('SELECT hash FROM ledger WHERE seq = 12');
    expect(report.head).toBe(last!.hash);
  });

  it('the database refuses UPDATE, DELETE and TRUNCATE on ledger rows', async () => {
    await expect(db.query("UPDATE ledger SET actor = 'mallory' WHERE seq = 3")).rejects.toThrow(/append-only/);
    await expect(db.query('DELETE FROM ledger WHERE seq = 3')).rejects.toThrow(/append-only/);
    await expect(db.query('TRUNCATE ledger')).rejects.toThrow(/append-only/);
    expect((await verifyLedger(db)).entries).toBe(12);
  });

  it('names the entry whose body had one byte flipped', async () => {
    const report = await verifyAfter((tx) =>
      tx.query(
        `UPDATE ledger SET body = overlay(body placing (CASE WHEN substr(body, 20, 1) = 'x' THEN 'y' ELSE 'x' END) from 20 for 1) WHERE seq = 5`,
      ),
    );
    expect(report).toMatchObject({ ok: false, firstBadSeq: 5, entries: 4 });
    expect(report.problem).toMatch(/entry 5/);
  });

  it('names an entry whose stored hash was rewritten', async () => {
    const report = await verifyAfter((tx) => tx.query(`UPDATE ledger SET hash = repeat('a', 64) WHERE seq = 7`));
    expect(report).toMatchObject({ ok: false, firstBadSeq: 7 });
  });

  it('finds a deleted entry and names the gap', async () => {
    const report = await verifyAfter((tx) => tx.query('DELETE FROM ledger WHERE seq = 4'));
    expect(report).toMatchObject({ ok: false, firstBadSeq: 4 });
    expect(report.problem).toMatch(/missing/);
  });

  it('finds two entries swapped in order', async () => {
    const report = await verifyAfter(async (tx) => {
      await tx.query('UPDATE ledger SET seq = -1 WHERE seq = 8');
      await tx.query('UPDATE ledger SET seq = 8 WHERE seq = 9');
      await tx.query('UPDATE ledger SET seq = 9 WHERE seq = -1');
    });
    expect(report).toMatchObject({ ok: false, firstBadSeq: 8 });
  });

  it('finds a changed column that the hash does not cover directly', async () => {
    const report = await verifyAfter((tx) => tx.query(`UPDATE ledger SET subject_id = 'someone-else' WHERE seq = 2`));
    expect(report).toMatchObject({ ok: false, firstBadSeq: 2 });
  });

  it('keeps sequence numbers gap-free under concurrent appenders', async () => {
    await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        db.transaction((tx) =>
          appendToLedger(tx, [
            { type: 'test.concurrent', actor: `w${i}`, at: new Date() },
            { type: 'test.concurrent', actor: `w${i}`, at: new Date() },
          ]),
        ),
      ),
    );
    const report = await verifyLedger(db);
    expect(report).toMatchObject({ ok: true, entries: 28 });
  });

  it('an entry appended in a rolled-back transaction leaves no trace', async () => {
    await expect(
      db.transaction(async (tx) => {
        await appendToLedger(tx, [{ type: 'test.rolledback', actor: 'test', at: new Date() }]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const rows = await db.query("SELECT 1 FROM ledger WHERE type = 'test.rolledback'");
    expect(rows).toHaveLength(0);
    expect((await verifyLedger(db)).ok).toBe(true);
  });
});
