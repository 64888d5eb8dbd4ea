import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listLedger } from '../src/ledger/index.ts';
import type { Db } from '../src/store/index.ts';
import { cliEnv, openCliDb, runAcs, type CliEnv } from './cli-helpers.ts';
import { createTestApp, type TestApp } from './helpers.ts';

/** Parks an event as the bus would after its last failed attempt; returns its id. */
async function parkEvent(db: Db, topic: string, error: string): Promise<number> {
  const [row] = await db.query<{ id: number }>(
    `INSERT INTO outbox (topic, payload, state, attempts, last_error, last_attempt_at, parked_at)
     VALUES ($1, '{"n":1}', 'parked', 5, $2, now(), now()) RETURNING id`,
    [topic, error],
  );
  return row!.id;
}

describe('acs outbox on the database (no server running)', () => {
  let cli: CliEnv;
  beforeAll(async () => {
    cli = await cliEnv();
  });
  afterAll(async () => {
    await cli.cleanup();
    rmSync(cli.dataDir, { recursive: true, force: true });
  });

  /** The test opens the database only between CLI runs: an embedded database has one user at a time. */
  async function withDb<T>(fn: (db: Db) => Promise<T>): Promise<T> {
    const db = await openCliDb(cli);
    try {
      return await fn(db);
    } finally {
      await db.close();
    }
  }

  it('lists, retries and discards parked events as the cli actor, and names usage mistakes', async () => {
    const [first, second] = await withDb(async (db) => [
      await parkEvent(db, 'signals.accepted', 'TypeError: boom\n    at handler'),
      await parkEvent(db, 'cases.changed', 'Error: nope'),
    ]);

    const json = await runAcs(['outbox', 'list', '--json'], cli.env);
    expect(json.code, json.stderr).toBe(0);
    const listed = JSON.parse(json.stdout);
    expect(listed.stats).toEqual({ pending: 0, oldestPendingAgeSeconds: 0, parked: 2 });
    expect(listed.data.map((e: { id: number; lastError: string }) => [e.id, e.lastError])).toEqual([
      [first, 'TypeError: boom\n    at handler'],
      [second, 'Error: nope'],
    ]);
    const text = await runAcs(['outbox', 'list'], cli.env);
    expect(text.stdout).toMatch(/^outbox: 0 pending, 2 parked$/m);
    expect(text.stdout).toMatch(new RegExp(`^ +${first} +signals\\.accepted +5 attempts, parked .*: TypeError: boom$`, 'm'));

    const retry = await runAcs(['outbox', 'retry', String(first)], cli.env);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stdout).toMatch(new RegExp(`^event ${first} \\(signals\\.accepted\\) is pending again`, 'm'));
    const noReason = await runAcs(['outbox', 'discard', String(second)], cli.env);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/outbox discard needs --reason TEXT/);
    const discard = await runAcs(['outbox', 'discard', String(second), '--reason', 'obsolete', '--json'], cli.env);
    expect(discard.code, discard.stderr).toBe(0);
    expect(JSON.parse(discard.stdout)).toMatchObject({ id: second, state: 'discarded', discardedBy: 'cli', discardReason: 'obsolete' });

    const again = await runAcs(['outbox', 'retry', String(second)], cli.env);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(`outbox event ${second} is discarded, not parked`);
    expect((await runAcs(['outbox', 'retry', 'x1'], cli.env)).stderr).toMatch(/ID must be an event id \(a positive integer\), not 'x1'/);
    expect((await runAcs(['outbox', 'purge'], cli.env)).stderr).toMatch(/unknown outbox command 'purge'/);

    await withDb(async (db) => {
      const [row] = await db.query<{ state: string; attempts: number }>('SELECT state, attempts FROM outbox WHERE id = $1', [first]);
      expect(row).toEqual({ state: 'pending', attempts: 0 });
      const ledger = await listLedger(db, { limit: 10 });
      expect(ledger.filter((e) => e.type.startsWith('outbox.')).map((e) => [e.type, e.actor, e.subjectId])).toEqual([
        ['outbox.discarded', 'cli', String(second)],
        ['outbox.retried', 'cli', String(first)],
      ]);
    });
  }, 240_000);
});

describe('acs outbox through a running server', () => {
  let t: TestApp;
  let server: ServerType;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  const seen: string[] = [];
  beforeAll(async () => {
    t = await createTestApp();
    t.bus.subscribe('test.cli', async (messages) => {
      seen.push(...messages.map((m) => String(m.id)));
    });
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    const address = server.address() as { port: number };
    // What a server holding the embedded database advertises; the CLI talks to it instead of opening the files.
    dataDir = mkdtempSync(join(tmpdir(), 'acs-outbox-cli-'));
    writeFileSync(join(dataDir, 'server.json'), JSON.stringify({ pid: process.pid, url: `http://127.0.0.1:${address.port}` }));
    env = { ...process.env, ACS_DATA_DIR: dataDir, ACS_ADMIN_TOKEN: t.tokens.admin, ACS_LOG_LEVEL: 'warn' };
    delete env.DATABASE_URL;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await t.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('lists through the API, and a retry there is delivered by the server at once', async () => {
    const id = await parkEvent(t.db, 'test.cli', 'Error: was broken');
    const list = await runAcs(['outbox', 'list', '--json'], env);
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).data).toEqual([expect.objectContaining({ id, topic: 'test.cli', state: 'parked' })]);
    const retry = await runAcs(['outbox', 'retry', String(id)], env);
    expect(retry.code, retry.stderr).toBe(0);
    expect(retry.stdout).toMatch(/the server delivers it now/);
    await t.bus.drain();
    expect(seen).toEqual([String(id)]);
    const [entry] = await listLedger(t.db, { type: 'outbox.retried', limit: 1 });
    expect(entry).toMatchObject({ actor: expect.stringMatching(/^token:/), subjectId: String(id) });
    const discard = await runAcs(['outbox', 'discard', String(id), '--reason', 'late'], env);
    expect(discard.code).toBe(2);
    expect(discard.stderr).toMatch(`outbox event ${id} is delivered, not parked`);
  }, 120_000);
});
