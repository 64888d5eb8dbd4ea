import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendToLedger,
  CHECKPOINT_FILE,
  ledgerLag,
  listLedger,
  readCheckpoints,
  sequenceLedger,
  SEQUENCE_BATCH,
  SIGNING_KEY_FILE,
  startLedgerSequencer,
  verifyChain,
  verifyLedger,
  writeCheckpoint,
  type LedgerEvent,
} from '../src/ledger/index.ts';
import { openDatabase } from '../src/server.ts';
import { openPostgres, type Db } from '../src/store/index.ts';
import { openTestDb } from './helpers.ts';

const events = (type: string, n: number): LedgerEvent[] =>
  Array.from({ length: n }, (_, i) => ({
    type,
    actor: 'test',
    subjectType: 'thing',
    subjectId: `${type}-${i}`,
    data: { i },
    at: new Date(),
  }));

/** Goes around the append-only trigger the way a superuser would: with triggers switched off. */
const asSuperuserWithoutTriggers = (db: Db, sql: string) =>
  db.transaction(async (tx) => {
    await tx.query('SET LOCAL session_replication_role = replica');
    await tx.query(sql);
  });

describe('the ledger sequencer', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openTestDb();
  });
  afterAll(async () => db.close());

  it('writers append unchained; the sequencer chains in append order, once, and reports its lag', async () => {
    await db.transaction((tx) => appendToLedger(tx, events('seq.a', 3)));
    await db.transaction((tx) => appendToLedger(tx, events('seq.b', 2)));
    const waiting = await db.query<{ seq: number | null }>("SELECT seq FROM ledger WHERE type LIKE 'seq.%'");
    expect(waiting.map((r) => r.seq)).toEqual([null, null, null, null, null]);
    expect((await ledgerLag(db)).pending).toBe(5);
    expect((await ledgerLag(db)).oldestSeconds).toBeGreaterThanOrEqual(0);

    expect(await sequenceLedger(db)).toBe(5);
    expect(await sequenceLedger(db)).toBe(0);
    expect(await ledgerLag(db)).toEqual({ pending: 0, oldestSeconds: null });
    const chained = await db.query<{ seq: number; subject_id: string }>(
      "SELECT seq, subject_id FROM ledger WHERE type LIKE 'seq.%' ORDER BY seq",
    );
    expect(chained.map((r) => r.subject_id)).toEqual(['seq.a-0', 'seq.a-1', 'seq.a-2', 'seq.b-0', 'seq.b-1']);
    expect(chained.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(await verifyChain(db)).toMatchObject({ ok: true, entries: 5 });
  });

  it('chains a backlog larger than one round in bounded rounds', async () => {
    await db.transaction((tx) => appendToLedger(tx, events('seq.bulk', SEQUENCE_BATCH + 5)));
    expect(await sequenceLedger(db, { maxRounds: 1 })).toBe(SEQUENCE_BATCH);
    expect((await ledgerLag(db)).pending).toBe(5);
    expect(await sequenceLedger(db)).toBe(5);
    expect((await verifyLedger(db)).ok).toBe(true);
  });

  it('reads see what was committed before them, with sequence numbers', async () => {
    await db.transaction((tx) => appendToLedger(tx, [{ type: 'seq.read', actor: 'test', subjectId: 'r1', at: new Date() }]));
    const [entry] = await listLedger(db, { limit: 1, type: 'seq.read' });
    expect(entry).toMatchObject({ type: 'seq.read', subjectId: 'r1' });
    expect(entry!.seq).toBeGreaterThan(0);
  });

  it('the database lets the sequencer chain an entry once and refuses any other change to it', async () => {
    await db.transaction((tx) => appendToLedger(tx, [{ type: 'seq.guard', actor: 'test', data: { n: 1 }, at: new Date() }]));
    // Unchained, what it records still cannot change: only its place in the chain may be filled in.
    await expect(db.query(`UPDATE ledger SET actor = 'mallory' WHERE type = 'seq.guard'`)).rejects.toThrow(/append-only/);
    await expect(
      db.query(
        `UPDATE ledger SET seq = 999999, prev_hash = 'x', hash = 'y', body = replace(body, '"n":1', '"n":2') WHERE type = 'seq.guard'`,
      ),
    ).rejects.toThrow(/append-only/);
    await expect(db.query(`DELETE FROM ledger WHERE type = 'seq.guard'`)).rejects.toThrow(/append-only/);
    await sequenceLedger(db);
    await expect(db.query(`UPDATE ledger SET hash = repeat('a', 64) WHERE type = 'seq.guard'`)).rejects.toThrow(/append-only/);
    expect((await verifyLedger(db)).ok).toBe(true);
  });

  it('a round that fails part-way chains nothing, so the chain stays whole, and the next round chains everything', async () => {
    const before = await verifyChain(db);
    await db.transaction((tx) => appendToLedger(tx, events('seq.crash', 3)));
    // An entry written around the app whose body does not parse: the round throws after chaining the first three in memory.
    await db.query(`INSERT INTO ledger (ts, type, actor, body) VALUES (now(), 'seq.poison', 'test', 'not json')`);
    await expect(sequenceLedger(db)).rejects.toThrow();
    expect(await verifyChain(db)).toMatchObject({ ok: true, entries: before.entries });
    expect((await ledgerLag(db)).pending).toBe(4);
    await asSuperuserWithoutTriggers(db, `DELETE FROM ledger WHERE type = 'seq.poison'`);
    expect(await sequenceLedger(db)).toBe(3);
    expect(await verifyChain(db)).toMatchObject({ ok: true, entries: before.entries + 3 });
  });

  it('the timer chains new entries on its own and calls `after` each pass; stopping runs a last pass', async () => {
    let passes = 0;
    const sequencer = startLedgerSequencer(db, {
      intervalMs: 20,
      after: async () => void passes++,
      onError: (err) => expect(err).toBeUndefined(),
    });
    await db.transaction((tx) => appendToLedger(tx, events('seq.timer', 2)));
    for (let i = 0; i < 250 && (await ledgerLag(db)).pending > 0; i++) await new Promise((r) => setTimeout(r, 20));
    expect((await ledgerLag(db)).pending).toBe(0);
    await db.transaction((tx) => appendToLedger(tx, events('seq.timer.last', 1)));
    const before = passes;
    await sequencer.stop();
    expect(passes).toBeGreaterThan(before);
    expect((await ledgerLag(db)).pending).toBe(0);
    expect((await verifyChain(db)).ok).toBe(true);
  });
});

if (process.env.DATABASE_URL) {
  describe('the sequencer on PostgreSQL, beside open transactions', () => {
    let db: Db;
    beforeAll(async () => {
      db = await openTestDb();
    });
    afterAll(async () => db.close());

    it('chains only committed entries: an open writer blocks no one, and its entries follow once it commits', async () => {
      let commit!: () => void;
      const held = new Promise<void>((resolve) => (commit = resolve));
      let appended!: () => void;
      const inside = new Promise<void>((resolve) => (appended = resolve));
      const open = db.transaction(async (tx) => {
        await appendToLedger(tx, events('open.slow', 2));
        appended();
        await held;
      });
      await inside;
      // Another writer commits while the first is open: it does not wait, and its entries are chained at once.
      await db.transaction((tx) => appendToLedger(tx, events('open.fast', 1)));
      expect(await sequenceLedger(db)).toBe(1);
      commit();
      await open;
      expect(await sequenceLedger(db)).toBe(2);
      const order = await db.query<{ type: string }>("SELECT type FROM ledger WHERE type LIKE 'open.%' ORDER BY seq");
      expect(order.map((r) => r.type)).toEqual(['open.fast', 'open.slow', 'open.slow']);
      expect((await verifyLedger(db)).ok).toBe(true);
    });
  });
}

describe('signed checkpoints of the ledger head', () => {
  let db: Db;
  let dir: string;
  beforeAll(async () => {
    db = await openTestDb();
    dir = mkdtempSync(join(tmpdir(), 'acs-checkpoints-'));
  });
  afterAll(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records the head signed, with a private key only its owner reads, and verifies against it', async () => {
    expect(await writeCheckpoint(db, dir)).toBeNull();
    await db.transaction((tx) => appendToLedger(tx, events('cp.a', 5)));
    const first = await writeCheckpoint(db, dir);
    expect(first).toMatchObject({ seq: 5 });
    expect(statSync(join(dir, SIGNING_KEY_FILE)).mode & 0o777).toBe(0o600);
    // The head has not moved: no second line.
    expect(await writeCheckpoint(db, dir)).toEqual(first);
    await db.transaction((tx) => appendToLedger(tx, events('cp.b', 5)));
    expect(await writeCheckpoint(db, dir)).toMatchObject({ seq: 10 });
    expect(readCheckpoints(dir).map((c) => c.seq)).toEqual([5, 10]);
    expect(await verifyLedger(db, { checkpointDir: dir })).toMatchObject({ ok: true, entries: 10, checkpoints: 2 });
  });

  it('detects the newest entries deleted (trigger disabled), naming the checkpoint that is gone', async () => {
    await asSuperuserWithoutTriggers(db, 'DELETE FROM ledger WHERE seq > 7');
    // The chain alone still verifies: this is what only a published head shows.
    expect(await verifyChain(db)).toMatchObject({ ok: true, entries: 7 });
    const report = await verifyLedger(db, { checkpointDir: dir });
    expect(report).toMatchObject({ ok: false, entries: 7, firstBadSeq: 8, checkpoints: 2 });
    expect(report.problem).toMatch(/recorded entry 10\b/);
  });

  it('detects the newest entries rewritten after the deletion, naming the entry that differs', async () => {
    await db.transaction((tx) => appendToLedger(tx, events('cp.forged', 3)));
    const report = await verifyLedger(db, { checkpointDir: dir });
    expect(report).toMatchObject({ ok: false, firstBadSeq: 10 });
    expect(report.problem).toMatch(/entry 10 is not the entry the checkpoint of/);
  });

  it('refuses a checkpoint file that was edited', async () => {
    const file = join(dir, CHECKPOINT_FILE);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const edited = { ...JSON.parse(lines[1]!), seq: 7 };
    writeFileSync(file, [lines[0], JSON.stringify(edited)].join('\n') + '\n');
    const report = await verifyLedger(db, { checkpointDir: dir });
    expect(report.ok).toBe(false);
    expect(report.problem).toMatch(/bad signature/);
  });
});

if (process.env.DATABASE_URL) {
  describe('two roles on PostgreSQL: the owner migrates, the app cannot rewrite the ledger', () => {
    const url = process.env.DATABASE_URL!;
    const schema = `t_roles_${randomBytes(5).toString('hex')}`;
    const role = `acs_app_${randomBytes(5).toString('hex')}`;
    let owner: Db;
    let app: Db;
    beforeAll(async () => {
      owner = await openPostgres(url, { schema, max: 2 });
      await owner.query(`CREATE ROLE ${role} LOGIN`);
      // Both URLs with the test's schema on the search path (the app role may not create one, as `schema` would).
      const onSchema = (u: URL) => (u.searchParams.set('options', `-c search_path=${schema}`), u.toString());
      const appUrl = new URL(url);
      appUrl.username = role;
      // Start-up with ACS_MIGRATE_DATABASE_URL: migrations as the owner, then DATABASE_URL's role granted DML only.
      app = await openDatabase({ databaseUrl: onSchema(appUrl), migrateDatabaseUrl: onSchema(new URL(url)), dataDir: tmpdir() });
    });
    afterAll(async () => {
      await app?.close();
      await owner.query(`DROP SCHEMA ${schema} CASCADE`);
      await owner.query(`DROP OWNED BY ${role}`);
      await owner.query(`DROP ROLE ${role}`);
      await owner.close();
    });

    it('appends and sequences as the app role; DELETE, UPDATE, TRUNCATE and DISABLE TRIGGER are refused', async () => {
      const [who] = await app.query<{ u: string }>('SELECT current_user AS u');
      expect(who!.u).toBe(role);
      await app.transaction((tx) => appendToLedger(tx, events('role.app', 3)));
      expect(await sequenceLedger(app)).toBe(3);
      expect(await verifyLedger(app)).toMatchObject({ ok: true, entries: 3 });
      // Other tables: ordinary DML.
      await app.query(`INSERT INTO api_tokens (id, name, role, token_hash) VALUES ('tok_role', 'x', 'admin', 'h')`);
      await app.query(`DELETE FROM api_tokens WHERE id = 'tok_role'`);

      await expect(app.query('DELETE FROM ledger WHERE seq = 3')).rejects.toThrow(/permission denied/);
      await expect(app.query(`UPDATE ledger SET actor = 'mallory' WHERE seq = 3`)).rejects.toThrow(/permission denied/);
      await expect(app.query(`UPDATE ledger SET hash = repeat('a', 64) WHERE seq = 3`)).rejects.toThrow(/append-only/);
      await expect(app.query('TRUNCATE ledger')).rejects.toThrow(/permission denied/);
      await expect(app.query('ALTER TABLE ledger DISABLE TRIGGER ledger_no_update')).rejects.toThrow(/must be owner/);
      await expect(app.query('SET session_replication_role = replica')).rejects.toThrow(/permission denied/);
      expect(await verifyLedger(app)).toMatchObject({ ok: true, entries: 3 });
    });
  });
}
