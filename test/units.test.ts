import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboxBus, publish } from '../src/bus/index.ts';
import { appendToLedger } from '../src/ledger/index.ts';
import { identityKeys, normalizeEmail, normalizePhone } from '../src/contracts/index.ts';
import { scoreSentiment } from '../src/sense/index.ts';
import { loadMigrations, migrate, newId, type Db } from '../src/store/index.ts';
import { splitSql } from '../src/store/migrate.ts';
import { openTestDb } from './helpers.ts';

describe('identity normalization', () => {
  it('folds case and space in emails', () => {
    expect(normalizeEmail('  Ann.Lee@Example.COM ')).toBe('ann.lee@example.com');
  });
  it('reduces phones to digits, reading 10 digits as +1 and dropping a 00 prefix', () => {
    expect(normalizePhone('(555) 010-2030')).toBe('15550102030');
    expect(normalizePhone('+1 555.010.2030')).toBe('15550102030');
    expect(normalizePhone('0044 20 7946 0000')).toBe('442079460000');
    expect(normalizePhone('+44 20 7946 0000')).toBe('442079460000');
  });
  it('orders keys strongest first and skips empty ones', () => {
    expect(identityKeys({ email: 'A@B.co', customerId: 'C1', phone: '', externalId: 'x-1' }).map((k) => k.kind)).toEqual([
      'customer_id',
      'external_id',
      'email',
    ]);
  });
});

describe('ticket sentiment', () => {
  it('scores angry text negative and grateful text positive, within [-1, 1]', () => {
    const angry = scoreSentiment('This is terrible, the service is broken and I am furious. I will cancel.');
    const happy = scoreSentiment('Thanks, the fix works great and support was really helpful!');
    expect(angry.score).toBeLessThan(-0.5);
    expect(happy.score).toBeGreaterThan(0.5);
    for (const s of [angry, happy]) expect(Math.abs(s.score)).toBeLessThanOrEqual(1);
    expect(angry.matched).toContain('terrible');
  });
  it('flips a term after a negator and is neutral without lexicon words', () => {
    expect(scoreSentiment('not happy').score).toBeLessThan(0);
    expect(scoreSentiment('please update my postal address').score).toBe(0);
  });
});

describe('ids', () => {
  it('are prefixed, unique and sort in creation order even within one millisecond', () => {
    const ids = Array.from({ length: 2000 }, () => newId('acc'));
    expect(new Set(ids).size).toBe(ids.length);
    expect([...ids].sort()).toEqual(ids);
    expect(ids[0]).toMatch(/^acc_[0-9A-HJKMNP-TV-Z]{26}$/);
  });
});

describe('migrations', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openTestDb();
  });
  afterAll(async () => db.close());

  it('are tracked and a second run applies nothing', async () => {
    const rows = await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.name)).toEqual(loadMigrations().map((m) => m.name));
    expect(await migrate(db)).toEqual([]);
  });

  it('refuse to run when an applied migration file was edited', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'acs-mig-'));
    const edited = loadMigrations().map((m, i) => (i === 0 ? { ...m, checksum: 'changed' } : m));
    await expect(migrate(db, edited)).rejects.toThrow(/was changed after it was applied/);
    writeFileSync(join(dir, '001_x.sql'), 'SELECT 1;');
    expect(loadMigrations(dir + '/')).toHaveLength(1);
  });

  it('split scripts into statements, keeping function bodies whole', () => {
    const parts = splitSql(
      `-- note\nCREATE TABLE a (x int);\nCREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  RAISE EXCEPTION 'no; never';\nEND $$;\nSELECT 1;`,
    );
    expect(parts).toHaveLength(3);
    expect(parts[1]).toContain("RAISE EXCEPTION 'no; never';");
  });

  it('split at semicolons only outside tagged dollar quotes, strings, identifiers and comments', () => {
    expect(
      splitSql('CREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS $body$\nBEGIN\n  PERFORM 1;\n  RETURN 2;\nEND;\n$body$;\nSELECT 2;'),
    ).toEqual(['CREATE FUNCTION g() RETURNS int LANGUAGE plpgsql AS $body$\nBEGIN\n  PERFORM 1;\n  RETURN 2;\nEND;\n$body$;', 'SELECT 2;']);
    // A $$ inside a tagged body does not end it.
    expect(splitSql('SELECT $q$ a $$; b $q$;\nSELECT 3;')).toEqual(['SELECT $q$ a $$; b $q$;', 'SELECT 3;']);
    expect(splitSql("INSERT INTO t VALUES ('it''s\nline two;\n-- not a comment;\nend');\nSELECT 1;")).toEqual([
      "INSERT INTO t VALUES ('it''s\nline two;\n-- not a comment;\nend');",
      'SELECT 1;',
    ]);
    expect(splitSql("SELECT E'it\\'s;\n', 1;\nSELECT 2;")).toEqual(["SELECT E'it\\'s;\n', 1;", 'SELECT 2;']);
    expect(splitSql('SELECT 1 AS "odd;\nname";\nSELECT 2;')).toEqual(['SELECT 1 AS "odd;\nname";', 'SELECT 2;']);
    expect(splitSql('SELECT 1; -- trailing; note\nSELECT 2 /* a;\n /* nested; */ b; */ + 1;\n-- the end;')).toEqual([
      'SELECT 1;',
      'SELECT 2   + 1;',
    ]);
    // $1 is a parameter and a$b$ an identifier, not dollar quotes.
    expect(splitSql('SELECT $1;\nSELECT a$b$ FROM t;\nSELECT 3;')).toHaveLength(3);
  });

  it('split scripts whose statements then run on the database as written', async () => {
    const script = [
      'CREATE TEMP TABLE split_probe (note text); -- a comment; with semicolons',
      'CREATE FUNCTION pg_temp.split_probe_fn() RETURNS text LANGUAGE plpgsql AS $fn$',
      'BEGIN',
      "  RETURN 'semi;colon';",
      'END;',
      '$fn$;',
      "INSERT INTO split_probe VALUES ('first line;",
      "it''s the second;'), (pg_temp.split_probe_fn()); /* closing; */",
    ].join('\n');
    const statements = splitSql(script);
    expect(statements).toHaveLength(3);
    const notes = await db.transaction(async (tx) => {
      for (const s of statements) await tx.query(s);
      const rows = await tx.query<{ note: string }>('SELECT note FROM split_probe ORDER BY note');
      await tx.query('DROP TABLE split_probe');
      return rows.map((r) => r.note);
    });
    expect(notes).toEqual(["first line;\nit's the second;", 'semi;colon']);
  });
});

describe('transactions', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openTestDb();
  });
  afterAll(async () => db.close());

  it('are a type of their own: a ledger append takes a transaction, and the pool does not compile there', async () => {
    // Never called: the directive fails the type check (npx tsc --noEmit) if the pool were accepted as a Tx.
    // @ts-expect-error the pool is not a Tx
    const _poolRefused = () => appendToLedger(db, []);
    void _poolRefused;
    const { ids } = await db.transaction((tx) => appendToLedger(tx, [{ type: 'test.tx_type', actor: 'test', at: new Date() }]));
    const [row] = await db.query<{ id: number }>("SELECT id FROM ledger WHERE type = 'test.tx_type'");
    expect(row?.id).toBe(ids[0]);
  });
});

describe('outbox bus', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openTestDb();
  });
  afterAll(async () => db.close());

  it('delivers each published event and marks it delivered', async () => {
    const bus = new OutboxBus(db, pino({ level: 'silent' }), 50);
    const seen: number[] = [];
    bus.subscribe('test.topic', async (messages) => {
      seen.push(...messages.map((m) => (m.payload as { n: number }).n));
    });
    await db.transaction(async (tx) => {
      for (let n = 1; n <= 5; n++) await publish(tx, 'test.topic', { n });
    });
    await bus.drain();
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    const pending = await db.query("SELECT 1 FROM outbox WHERE topic = 'test.topic' AND delivered_at IS NULL");
    expect(pending).toHaveLength(0);
    await bus.stop();
  });

  it('keeps events when a handler fails and delivers them on retry', async () => {
    const bus = new OutboxBus(db, pino({ level: 'silent' }), 50);
    let fail = true;
    const seen: number[] = [];
    bus.subscribe('test.flaky', async (messages) => {
      if (fail) throw new Error('downstream unavailable');
      seen.push(...messages.map((m) => (m.payload as { n: number }).n));
    });
    await db.transaction((tx) => publish(tx, 'test.flaky', { n: 42 }));
    await expect(bus.drain()).rejects.toThrow(/delivery is failing/);
    expect(await db.query("SELECT 1 FROM outbox WHERE topic = 'test.flaky' AND delivered_at IS NULL")).toHaveLength(1);
    fail = false;
    await bus.drain();
    expect(seen).toEqual([42]);
    await bus.stop();
  });

  it('does not acknowledge events of a topic nobody listens to', async () => {
    const bus = new OutboxBus(db, pino({ level: 'silent' }), 50);
    bus.subscribe('test.other', async () => undefined);
    await db.transaction((tx) => publish(tx, 'test.unheard', { n: 1 }));
    await bus.drain();
    expect(await db.query("SELECT 1 FROM outbox WHERE topic = 'test.unheard' AND delivered_at IS NULL")).toHaveLength(1);
    await bus.stop();
  });
});
