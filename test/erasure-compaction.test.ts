import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { FileTransport, runDuePlays, startMaintenance } from '../src/act/index.ts';
import { compactErasures } from '../src/privacy/index.ts';
import { migrate, openPglite, openPostgres, type Db } from '../src/store/index.ts';
import { cliEnv, openCliDb, runAcs } from './cli-helpers.ts';
import { createTestApp, daysAgo, ticketTrouble, type ResponseBody, type TestApp } from './helpers.ts';

/**
 * Erasure leaves no readable copy: the person's strings are searched for, byte by byte, in every file of the
 * database's data directory (heap, indexes, TOAST, pg_statistic, WAL), after erasure and compaction. They must be
 * there before (so the search can fail), gone after, and a customer who was not erased must still be there.
 */

const tag = randomBytes(5).toString('hex');
const digits = String(1000 + (parseInt(tag.slice(0, 4), 16) % 9000));
/** Strings only the erased person's data holds; the phone as its digits, which its written and normalized forms share. */
const ERASED = {
  email: `zq${tag}.mail@example.org`,
  name: `Zqlastname${tag}`,
  phone: `555010${digits}`,
  ticket: `zqticket${tag} the router is on fire`,
  case: `zqcase${tag} refund please`,
  note: `zqnote${tag} called about the bill`,
};
const CONTROL = { email: `zq${tag}.control@example.org`, name: `Zqcontrol${tag}` };

/** The agents on, with no holdout: the service-recovery play writes to the erased person. */
const LOOP = { holdoutFraction: 0 };

/** Occurrences of each needle in every file under `dir`, recursively, binary-safe: `{ needle: { relativePath: n } }`. */
function grepDir(dir: string, needles: string[]): Record<string, Record<string, number>> {
  const hits: Record<string, Record<string, number>> = Object.fromEntries(needles.map((n) => [n, {}]));
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile()) {
        const bytes = readFileSync(path);
        for (const needle of needles) {
          let n = 0;
          for (let i = bytes.indexOf(needle); i >= 0; i = bytes.indexOf(needle, i + 1)) n++;
          if (n) hits[needle]![path.slice(dir.length + 1)] = n;
        }
      }
    }
  };
  walk(dir);
  return hits;
}
const total = (hits: Record<string, Record<string, number>>) =>
  Object.values(hits).reduce((sum, files) => sum + Object.values(files).reduce((a, b) => a + b, 0), 0);

/** The erased person and a control customer, their strings in records, signals, cases, interactions and a message the loop queued, through the API. */
async function populate(t: TestApp) {
  const customer = async (customerId: string, s: { email: string; name: string; phone?: string }) => {
    const acc = await t.call('POST', '/api/v1/accounts', { body: { name: `Customer ${s.name}`, customerId, kind: 'person' } });
    expect(acc.status, acc.text).toBe(201);
    const contact = await t.call('POST', '/api/v1/contacts', {
      body: { accountId: acc.body.id, firstName: 'Zq', lastName: s.name, email: s.email, ...(s.phone ? { phone: `+1${s.phone}` } : {}) },
    });
    expect(contact.status, contact.text).toBe(201);
    return { accountId: acc.body.id as string, contactId: contact.body.id as string };
  };
  const erased = await customer(`CX-${tag}`, ERASED);
  await customer(`CC-${tag}`, CONTROL);
  const sub = await t.call('POST', '/api/v1/subscriptions', {
    body: { accountId: erased.accountId, contract: 'month-to-month', monthlyAmount: 80, tenureMonths: 3 },
  });
  expect(sub.status, sub.text).toBe(201);
  // Consent to service email and three angry tickets: the service-recovery play writes to her, a message to her address.
  const consent = await t.call('POST', '/api/v1/consents', {
    body: {
      contactId: erased.contactId,
      channel: 'email',
      purpose: 'service',
      status: 'granted',
      source: 'signup',
      capturedAt: daysAgo(100),
    },
  });
  expect(consent.status, consent.text).toBe(201);
  const tickets = await t.call('POST', '/api/v1/signals', { role: 'agent', body: ticketTrouble(`CX-${tag}`, 1) });
  expect(tickets.status, tickets.text).toBe(202);
  await t.bus.drain();
  await runDuePlays(t.db, t.plays, { actor: 'test', now: new Date() });
  await t.bus.drain();
  await runDuePlays(t.db, t.plays, { actor: 'test', now: new Date() });
  const messages = await t.db.query<{ contact_point: string | null }>('SELECT contact_point FROM messages WHERE account_id = $1', [
    erased.accountId,
  ]);
  // Her address in a message the loop queued: the messages table holds her too.
  expect(messages.map((m) => m.contact_point)).toContain(ERASED.email);
  const signal = await t.call('POST', '/api/v1/signals', {
    role: 'agent',
    body: {
      type: 'support_ticket',
      occurredAt: daysAgo(1),
      subject: { email: ERASED.email },
      data: { text: ERASED.ticket, priority: 'high' },
    },
  });
  expect(signal.status, signal.text).toBe(202);
  const kase = await t.call('POST', '/api/v1/cases', {
    body: {
      accountId: erased.accountId,
      contactId: erased.contactId,
      subject: ERASED.case,
      description: `${ERASED.case}: ${ERASED.email}`,
    },
  });
  expect(kase.status, kase.text).toBe(201);
  const call = await t.call('POST', '/api/v1/interactions', {
    body: {
      type: 'call',
      accountId: erased.accountId,
      contactId: erased.contactId,
      direction: 'inbound',
      subject: ERASED.note,
      body: ERASED.note,
    },
  });
  expect(call.status, call.text).toBe(201);
  // The planner's samples (pg_statistic) now hold values of these tables, as autovacuum or maintenance would make them.
  await t.db.query('ANALYZE');
  return erased;
}

const NEEDLES = [...Object.values(ERASED), CONTROL.email, CONTROL.name];
/** Every string, the erased person's and the control's, is in the files: the search can find them. Returns the hits. */
function expectAllPresent(dir: string): number {
  const hits = grepDir(dir, NEEDLES);
  for (const needle of NEEDLES) expect(Object.keys(hits[needle]!), `${needle} before`).not.toHaveLength(0);
  return total(hits);
}
/** None of the erased person's strings is in the files; the control customer's still are. Returns the hits left (0). */
function expectOnlyControlLeft(dir: string): number {
  const hits = grepDir(dir, NEEDLES);
  const left = Object.fromEntries(Object.values(ERASED).map((n) => [n, hits[n]!]));
  expect(left, 'erased strings still readable in the data directory').toEqual(
    Object.fromEntries(Object.values(ERASED).map((n) => [n, {}])),
  );
  expect(Object.keys(hits[CONTROL.email]!)).not.toHaveLength(0);
  expect(Object.keys(hits[CONTROL.name]!)).not.toHaveLength(0);
  return total(left);
}
/** A compaction of exactly this erasure with every step done. */
function expectComplete(result: ResponseBody, erasureId: string) {
  expect(result.erasureIds).toEqual([erasureId]);
  expect(result.steps.map((s: { step: string; done: boolean }) => [s.step, s.done])).toEqual([
    ['rewrite', true],
    ['statistics', true],
    ['wal', true],
  ]);
  expect(result.complete).toBe(true);
}

const erase = async (t: TestApp) => {
  const res = await t.call('POST', `/api/v1/customers/CX-${tag}/erase`, { body: { confirm: `CX-${tag}` } });
  expect(res.status, res.text).toBe(200);
  return res.body.erasureId as string;
};
const compact = async (t: TestApp, body?: unknown) => {
  const res = await t.call('POST', '/api/v1/privacy/compact', { body: body ?? {} });
  expect(res.status, res.text).toBe(200);
  return res.body;
};

describe('erasure compaction on the embedded database: no copy left in the data directory', () => {
  let dir: string;
  let t: TestApp;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'acs-compaction-'));
    const db = await openPglite(dir);
    await migrate(db);
    t = await createTestApp({ db, loop: LOOP });
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('the strings are in the files before, none is after erasure and compaction, the control customer is still there', async () => {
    const erased = await populate(t);
    const before = expectAllPresent(dir);

    const erasureId = await erase(t);
    const bad = await t.call('POST', '/api/v1/privacy/compact', { body: { retryIncomplete: 'yes' } });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: { path: string }) => i.path)).toEqual(['retryIncomplete']);
    expect((await t.call('POST', '/api/v1/privacy/compact', { body: {}, role: 'analyst' })).status).toBe(403);

    const result = await compact(t);
    expectComplete(result, erasureId);
    expect(result.tables).toEqual(expect.arrayContaining(['accounts', 'contacts', 'signals', 'cases', 'interactions', 'identities']));
    // Nothing is due any more.
    expect(await compact(t)).toEqual({ erasureIds: [], tables: [], steps: [], complete: true });
    const ledger = (await t.call('GET', `/api/v1/ledger?type=erasure.compacted&subjectId=${erasureId}`)).body.data;
    expect(ledger).toHaveLength(1);
    expect(JSON.stringify(ledger)).not.toContain(tag);
    // The live rows still hang together: the erased profile's cases (ours, and the one its ticket opened) are there, their text gone.
    const cases = await t.db.query<{ subject: string }>('SELECT subject FROM cases WHERE account_id = $1', [erased.accountId]);
    expect(cases.length).toBeGreaterThan(0);
    expect(cases.every((c) => c.subject === '[erased]')).toBe(true);

    await t.close(); // flushes and closes the files
    const after = expectOnlyControlLeft(dir);
    console.log(`pglite: ${before} hits before, ${after} after`);
  });
});

/**
 * The same on the PostgreSQL server, in a database of its own (compaction rewrites tables and pg_statistic with
 * exclusive locks, which other test files must not wait on). The data directory is the server's: the test must be
 * able to read it (CI runs as root on the database host); if it cannot, it fails saying so.
 */
// Registered only on PostgreSQL, so neither backend's run reports a skipped test.
if (process.env.DATABASE_URL)
  describe('erasure compaction on the PostgreSQL server: no copy left in the data directory', () => {
    const url = process.env.DATABASE_URL!;
    const dbName = `acs_compaction_${tag}`;
    let admin: pg.Client;
    let t: TestApp;
    let dataDir: string;
    let recycle: string;
    let dbUrl: string;

    const setRecycle = async (value: 'on' | 'off') => {
      await admin.query(`ALTER SYSTEM SET wal_recycle = ${value}`);
      await admin.query('SELECT pg_reload_conf()');
      // The checkpointer reads the configuration on its own, after the signal; on a busy machine that takes a moment.
      await new Promise((r) => setTimeout(r, 2000));
    };

    beforeAll(async () => {
      admin = new pg.Client({ connectionString: url });
      await admin.connect();
      dataDir = (await admin.query<{ data_directory: string }>('SHOW data_directory')).rows[0]!.data_directory;
      try {
        readdirSync(join(dataDir, 'pg_wal'));
      } catch (err) {
        throw new Error(
          `cannot read the server's data directory ${dataDir} (${(err as Error).message}): this test greps it, so it must run on the database host as a user that can read it`,
        );
      }
      recycle = (await admin.query<{ wal_recycle: string }>('SHOW wal_recycle')).rows[0]!.wal_recycle;
      await admin.query(`CREATE DATABASE ${dbName}`);
      const u = new URL(url);
      u.pathname = `/${dbName}`;
      dbUrl = u.toString();
      const db: Db = await openPostgres(dbUrl, { max: 4 });
      await migrate(db);
      t = await createTestApp({ db, loop: LOOP });
    });
    afterAll(async () => {
      await t?.close();
      await admin.query(`DROP DATABASE IF EXISTS ${dbName}`);
      // The server's setting as the test found it.
      await admin.query(recycle === 'off' ? 'ALTER SYSTEM SET wal_recycle = off' : 'ALTER SYSTEM RESET wal_recycle');
      await admin.query('SELECT pg_reload_conf()');
      await admin.end();
    });

    it('says what is left while the server recycles WAL; with wal_recycle off nothing is, and the control customer is still there', async () => {
      await populate(t);
      const before = expectAllPresent(dataDir);

      // A session that took its snapshot before the erasure and is still open: the old row versions may be visible to
      // it, so VACUUM FULL keeps them, and compaction must say so rather than claim the rewrite.
      const old = new pg.Client({ connectionString: dbUrl });
      await old.connect();
      let erasureId: string;
      try {
        await old.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
        await old.query('SELECT 1'); // a snapshot, and no lock on a table compaction rewrites
        erasureId = await erase(t);
        const blocked = await compactErasures(t.db, { actor: 'test', now: new Date(), retryIncomplete: true, snapshotWaitMs: 300 });
        expect(blocked.complete).toBe(false);
        expect(blocked.steps[0]).toMatchObject({
          step: 'rewrite',
          done: false,
          detail: expect.stringContaining('transactions older than the erasure'),
        });
      } finally {
        await old.query('COMMIT');
        await old.end();
      }
      // As the server is configured by default: compaction rewrites the tables and statistics but says the WAL is not done.
      await setRecycle('on');
      const first = await compact(t);
      expect(first.erasureIds).toEqual([erasureId]);
      expect(first.complete).toBe(false);
      const wal = first.steps.find((s: { step: string }) => s.step === 'wal');
      expect(wal).toMatchObject({ done: false, detail: expect.stringContaining('wal_recycle') });
      expect(first.steps.filter((s: { done: boolean }) => s.done).map((s: { step: string }) => s.step)).toEqual(['rewrite', 'statistics']);
      const mid = grepDir(dataDir, Object.values(ERASED));
      // Whatever is left is WAL only.
      const midFiles = [...new Set(Object.values(mid).flatMap((files) => Object.keys(files)))];
      const notWal = midFiles.filter((f) => !f.startsWith('pg_wal/'));
      const relations = await Promise.all(
        notWal.map(
          async (f) =>
            (await t.db.query<{ r: string | null }>('SELECT pg_filenode_relation(0, $1::oid)::text AS r', [f.split('/').pop()]))[0]?.r ?? f,
        ),
      );
      expect(relations, JSON.stringify(mid)).toEqual([]);

      // The operator turns recycling off; the incomplete erasure is compacted again.
      await setRecycle('off');
      expectComplete(await compact(t, { retryIncomplete: true }), erasureId);

      const after = expectOnlyControlLeft(dataDir);
      console.log(
        `postgres: ${before} hits before, ${total(mid)} after compaction with wal_recycle on (${midFiles.join(', ')}), ${after} after with it off`,
      );
    });
  });

describe('maintenance compacts the erasures that are due', () => {
  it('a round compacts a new erasure, records it on the erasure, and leaves it alone after', async () => {
    // The embedded database in memory, whatever the backend: this checks the scheduling, the tests above the files.
    const db = await openPglite();
    await migrate(db);
    const t = await createTestApp({ db, loop: LOOP });
    const dir = mkdtempSync(join(tmpdir(), 'acs-compaction-maintenance-'));
    try {
      await populate(t);
      const erasureId = await erase(t);
      const runs: { erasureIds: string[]; complete: boolean }[] = [];
      const maintenance = startMaintenance(
        t.db,
        {
          transport: new FileTransport(join(dir, 'outbox.jsonl')),
          plays: t.plays,
          compact: async (now) => {
            const run = await compactErasures(t.db, { actor: 'system:maintenance', now, retryIncomplete: false });
            runs.push(run);
            return run;
          },
        },
        pino({ level: 'silent' }),
        20,
      );
      try {
        for (let i = 0; i < 600 && runs.length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        await maintenance.stop();
      }
      expect(runs[0]).toMatchObject({ erasureIds: [erasureId], complete: true });
      expect(runs.slice(1).map((r) => r.erasureIds)).toEqual(runs.slice(1).map(() => []));
      const [row] = await t.db.query<{ compacted_at: Date | null; compaction: unknown }>(
        'SELECT compacted_at, compaction FROM erasures WHERE id = $1',
        [erasureId],
      );
      expect(row!.compacted_at).not.toBeNull();
      expect(row!.compaction).toEqual({
        complete: true,
        steps: [
          { step: 'rewrite', done: true },
          { step: 'statistics', done: true },
          { step: 'wal', done: true },
        ],
      });
      const ledger = (await t.call('GET', `/api/v1/ledger?type=erasure.compacted&subjectId=${erasureId}`)).body.data;
      expect(ledger).toMatchObject([{ actor: 'system:maintenance' }]);
    } finally {
      await t.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('acs privacy compact (no server running)', () => {
  it('compacts the erasures due, says what it could not do with exit 1, and nothing is due after', async () => {
    const cli = await cliEnv();
    try {
      const t = await createTestApp({ db: await openCliDb(cli), loop: LOOP });
      let recycle = '';
      try {
        await populate(t);
        await erase(t);
        recycle = (await t.db.query<{ wal_recycle: string }>('SHOW wal_recycle'))[0]!.wal_recycle;
      } finally {
        await t.close(); // the embedded database has one user at a time
      }
      const run = await runAcs(['privacy', 'compact', '--json'], cli.env, 180_000);
      const result = JSON.parse(run.stdout);
      expect(result.erasureIds).toHaveLength(1);
      expect(result.steps.map((s: { step: string }) => s.step)).toEqual(['rewrite', 'statistics', 'wal']);
      // The embedded database checkpoints in the command's own process; a server recycling WAL is reported, exit 1.
      const walDone = !cli.env.DATABASE_URL || recycle === 'off';
      expect(result.steps.find((s: { step: string }) => s.step === 'wal').done).toBe(walDone);
      expect(result.complete).toBe(walDone);
      expect(run.code, run.stderr).toBe(walDone ? 0 : 1);

      const again = await runAcs(['privacy', 'compact', '--only-new'], cli.env);
      expect(again.code, again.stderr).toBe(0);
      expect(again.stdout.trim()).toBe('no erasure is due for compaction');
      const usage = await runAcs(['privacy', 'compact', 'now'], cli.env);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toContain("unexpected argument 'now'");
    } finally {
      await cli.cleanup();
      rmSync(cli.dataDir, { recursive: true, force: true });
    }
  });
});
