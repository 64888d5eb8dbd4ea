import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { verifyLedger } from '../src/ledger/index.ts';
import { loadMigrations, migrate, openPglite, openPostgres, publicTableCount, restoreDump, type Db } from '../src/store/index.ts';
import { runAcs } from './cli-helpers.ts';
import { createTestApp, trouble, troubledCustomer } from './helpers.ts';

// The dump always comes from the embedded database; with DATABASE_URL set it is also loaded into a new PostgreSQL database.
const url = process.env.DATABASE_URL;
const tmp = mkdtempSync(join(tmpdir(), 'acs-dump-'));
const source = join(tmp, 'source');
const dumpFile = join(tmp, 'backup.sql');
const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => {
  const e: NodeJS.ProcessEnv = { ...process.env, ACS_LOG_LEVEL: 'warn', ACS_ADMIN_TOKEN: '', ...extra };
  if (!extra.DATABASE_URL) delete e.DATABASE_URL;
  return e;
};

/** Every table in schema public, each as its rows' JSON sorted: the whole database, comparable across backends. */
async function contents(db: Db): Promise<Record<string, string[]>> {
  await db.query(`SET TimeZone = 'UTC'`);
  const tables = await db.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
  const out: Record<string, string[]> = {};
  for (const { name } of tables) {
    out[name] = (await db.query<{ r: string }>(`SELECT to_jsonb(t)::text AS r FROM public.${name} t ORDER BY 1`)).map((x) => x.r);
  }
  return out;
}

let before: Record<string, string[]>;
let head: string;

beforeAll(async () => {
  // Real data through the app: records by HTTP, signals through intake, the agents' decisions and the ledger.
  mkdirSync(source);
  const db = await openPglite(join(source, 'pgdata'));
  await migrate(db);
  const app = await createTestApp({ db, loop: { holdoutFraction: 0 } });
  for (const id of ['DUMP-1', 'DUMP-2', 'DUMP-3']) {
    await troubledCustomer(app, id);
    expect((await app.call('POST', '/api/v1/signals', { body: trouble(id, 1), role: 'agent' })).status).toBe(202);
  }
  // Text with quotes, a backslash, a newline and non-ASCII, which a SQL dump must carry exactly.
  const lead = await app.call('POST', '/api/v1/leads', {
    body: { firstName: 'O\'Brien \\ "Zoë"', lastName: 'Ünal\nsecond line', email: 'zoe@example.com' },
  });
  expect(lead.status).toBe(201);
  await app.bus.drain();
  // Verification chains the entries still waiting for the sequencer first, so the contents are taken after it.
  const report = await verifyLedger(db);
  expect(report.ok).toBe(true);
  head = report.head;
  before = await contents(db);
  await app.close();
}, 120_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('acs dump and acs restore', () => {
  it('dumps the embedded database to a SQL file, says where and how big, and will not overwrite it without --force', async () => {
    const dumped = await runAcs(['dump', '--out', dumpFile], env({ ACS_DATA_DIR: source }));
    expect(dumped.stderr).not.toMatch(/acs:/);
    expect(dumped.code).toBe(0);
    expect(dumped.stdout).toMatch(
      new RegExp(
        `wrote ${dumpFile.replace(/[.]/g, '\\.')}: \\d+\\.\\d MB in [\\d.]+ s, schema at migration ${loadMigrations().at(-1)!.name}`,
      ),
    );
    const sql = readFileSync(dumpFile, 'utf8');
    expect(sql).toMatch(/^-- ACS dump of the embedded database/);
    expect(sql).toContain('CREATE TABLE public.ledger');
    // Loadable as anyone: no owners, no grants.
    expect(sql).not.toMatch(/OWNER TO|^GRANT /m);

    const again = await runAcs(['dump', '--out', dumpFile], env({ ACS_DATA_DIR: source }));
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`${dumpFile} already exists; pass --force to overwrite it`);
    expect(readFileSync(dumpFile, 'utf8')).toBe(sql);

    // --out -: the dump on stdout, what the command says on stderr; the same dump but for the time in its first line.
    const piped = await runAcs(['dump', '--out', '-'], env({ ACS_DATA_DIR: source }));
    expect(piped.code).toBe(0);
    expect(piped.stderr).toMatch(/wrote the dump to standard output: \d+\.\d MB/);
    const afterFirstLine = (text: string) => text.slice(text.indexOf('\n'));
    expect(afterFirstLine(piped.stdout)).toBe(afterFirstLine(sql));
  }, 60_000);

  it('restores into a fresh data dir: every table, the signals, the records and the ledger head the same, and the ledger verifies', async () => {
    const target = join(tmp, 'restored');
    const restored = await runAcs(['restore', dumpFile], env({ ACS_DATA_DIR: target }));
    expect(restored.stderr).toBe('');
    expect(restored.code).toBe(0);
    expect(restored.stdout).toMatch(/restored .*backup\.sql \(\d+\.\d MB, \d+ statements\) in [\d.]+ s: schema at migration/);

    const db = await openPglite(join(target, 'pgdata'));
    try {
      // Nothing left to migrate: the migrations table came with the dump.
      expect(await migrate(db)).toEqual([]);
      const after = await contents(db);
      expect(after).toEqual(before);
      expect(before.signals!.length).toBeGreaterThanOrEqual(9);
      expect(before.accounts!.length).toBe(3);
      expect(before.leads!.join()).toContain('Zo\u00eb');
      const report = await verifyLedger(db);
      expect(report).toMatchObject({ ok: true, head });
      expect(report.entries).toBe(before.ledger!.length);
      expect(report.entries).toBeGreaterThan(10);
    } finally {
      await db.close();
    }
  }, 60_000);

  it('refuses to restore over an ACS database; --force moves it aside and keeps it', async () => {
    const target = join(tmp, 'restored');
    const refused = await runAcs(['restore', dumpFile], env({ ACS_DATA_DIR: target }));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`acs: ${target} already holds an ACS database (schema at migration`);
    expect(refused.stderr).toContain('pass --force');

    const forced = await runAcs(['restore', dumpFile, '--force'], env({ ACS_DATA_DIR: target }));
    expect(forced.code).toBe(0);
    const aside = readdirSync(target).filter((f) => f.startsWith('pgdata.before-restore-'));
    expect(aside).toHaveLength(1);
    expect(forced.stdout).toContain(`moved the current database aside to ${join(target, aside[0]!)}`);
    const kept = await openPglite(join(target, aside[0]!));
    try {
      expect((await verifyLedger(kept)).head).toBe(head);
    } finally {
      await kept.close();
    }
  }, 60_000);

  it('names a missing dump file, refuses a file that is not a dump, and will not run while a server holds the data dir', async () => {
    const missing = join(tmp, 'nope.sql');
    const noFile = await runAcs(['restore', missing], env({ ACS_DATA_DIR: join(tmp, 'x') }));
    expect(noFile.code).toBe(2);
    expect(noFile.stderr).toContain(`acs: no such dump file: ${missing}`);
    expect(existsSync(join(tmp, 'x'))).toBe(false);

    const notDump = join(tmp, 'not-a-dump.sql');
    writeFileSync(notDump, 'DROP TABLE accounts;\n');
    const refused = await runAcs(['restore', notDump], env({ ACS_DATA_DIR: join(tmp, 'x') }));
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('is not a PostgreSQL plain-SQL dump');

    // A live pid in the lock file is what a running server leaves: this test process stands in for it.
    const lock = join(source, 'server.json');
    writeFileSync(lock, JSON.stringify({ pid: process.pid, url: 'http://127.0.0.1:1' }));
    try {
      const busy = await runAcs(['dump', '--out', join(tmp, 'busy.sql')], env({ ACS_DATA_DIR: source }));
      expect(busy.code).toBe(1);
      expect(busy.stderr).toContain(
        `an ACS server (pid ${process.pid}, http://127.0.0.1:1) holds the embedded database in ${source}; stop it`,
      );
      expect(existsSync(join(tmp, 'busy.sql'))).toBe(false);
    } finally {
      rmSync(lock);
    }

    const empty = await runAcs(['dump'], env({ ACS_DATA_DIR: join(tmp, 'empty') }));
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain(`no embedded database in ${join(tmp, 'empty')}`);
  }, 60_000);

  it('restores all or nothing: a dump from a newer ACS leaves the target empty', async () => {
    const db = await openPglite();
    try {
      const older = loadMigrations().slice(0, -1);
      await expect(restoreDump(db, readFileSync(dumpFile, 'utf8'), undefined, older)).rejects.toThrow(
        /the dump is from a newer ACS \(migration \S+ is unknown here\)/,
      );
      expect(await publicTableCount(db)).toBe(0);
    } finally {
      await db.close();
    }
  }, 60_000);

  // PostgreSQL-only tests are registered only on that backend, so neither run reports skipped tests.
  if (url)
    it('loads into a new PostgreSQL database through acs restore, the same as the source, and refuses a second time', async () => {
      await withNewDatabase(async (target) => {
        // A URL whose search_path puts ACS in another schema would not see tables restored into public.
        const c = new pg.Client({ connectionString: target });
        await c.connect();
        await c.query('CREATE SCHEMA elsewhere');
        await c.end();
        const elsewhere = `${target}?options=${encodeURIComponent('-c search_path=elsewhere')}`;
        const wrongSchema = await runAcs(['restore', dumpFile], env({ DATABASE_URL: elsewhere }));
        expect(wrongSchema.code).toBe(2);
        expect(wrongSchema.stderr).toContain(
          "the dump restores into schema public, but DATABASE_URL's search_path puts ACS in 'elsewhere'",
        );

        const restored = await runAcs(['restore', dumpFile], env({ DATABASE_URL: target }));
        expect(restored.stderr).toBe('');
        expect(restored.code).toBe(0);
        await expectSameAsSource(target);
        const again = await runAcs(['restore', dumpFile], env({ DATABASE_URL: target }));
        expect(again.code).toBe(2);
        expect(again.stderr).toContain('the database in DATABASE_URL already holds an ACS database');
      });
    }, 120_000);

  // The file is plain SQL for PostgreSQL's own tools too: psql in one transaction, stopping at the first error.
  // psql comes with the PostgreSQL server the suite runs against; without it this test fails rather than hides.
  if (url)
    it('loads into PostgreSQL with psql -1 -v ON_ERROR_STOP=1', async () => {
      await withNewDatabase(async (target) => {
        const psql = spawnSync('psql', ['-q', '-1', '-v', 'ON_ERROR_STOP=1', '-f', dumpFile, target], { encoding: 'utf8' });
        expect(psql.stderr).toBe('');
        expect(psql.status).toBe(0);
        await expectSameAsSource(target);
      });
    }, 120_000);
});

/** A new, empty PostgreSQL database on DATABASE_URL's server for `fn`, dropped afterwards. */
async function withNewDatabase(fn: (url: string) => Promise<void>): Promise<void> {
  const name = `acs_restore_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const target = new URL(url!);
  target.pathname = `/${name}`;
  try {
    await fn(target.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

async function expectSameAsSource(target: string): Promise<void> {
  const db = await openPostgres(target, { max: 1 });
  try {
    expect(await migrate(db)).toEqual([]);
    expect(await contents(db)).toEqual(before);
    expect(await verifyLedger(db)).toMatchObject({ ok: true, head });
  } finally {
    await db.close();
  }
}
