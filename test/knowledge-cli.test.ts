import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listLedger } from '../src/ledger/index.ts';
import { cliEnv, openCliDb, runAcs, type CliEnv } from './cli-helpers.ts';
import { createTestApp, type TestApp } from './helpers.ts';

/** A small folder of documents: Markdown at the top, HTML in a subfolder, text, and a file import skips. */
function writeKb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'acs-kb-'));
  mkdirSync(join(dir, 'guides'));
  writeFileSync(
    join(dir, 'plans.md'),
    '# Plans\n\n## Fiber 500 (FIBER-500)\n\nFiber costs $70 per month.\n\n## DSL (DSL-25)\n\nDSL costs $25 per month.\n',
  );
  writeFileSync(
    join(dir, 'guides', 'outage.html'),
    '<h1>Outages</h1><h2>Restarting the router</h2><p>Unplug the router for 30 seconds.</p>',
  );
  writeFileSync(join(dir, 'notes.txt'), 'Opening hours are 8am to 8pm.');
  writeFileSync(join(dir, 'logo.png'), 'not really an image');
  return dir;
}

describe('acs kb on the database (no server running)', () => {
  let cli: CliEnv;
  let kb: string;
  beforeAll(async () => {
    cli = await cliEnv();
    kb = writeKb();
  });
  afterAll(async () => {
    await cli.cleanup();
    rmSync(cli.dataDir, { recursive: true, force: true });
    rmSync(kb, { recursive: true, force: true });
  });

  it('imports one document per file with its path relative to DIR, and searches', async () => {
    const imported = await runAcs(['kb', 'import', kb, '--json'], cli.env);
    expect(imported.code, imported.stderr).toBe(0);
    const report = JSON.parse(imported.stdout);
    expect(report.documents.map((d: { path: string; status: string }) => [d.path, d.status])).toEqual([
      ['guides/outage.html', 'created'],
      ['notes.txt', 'created'],
      ['plans.md', 'created'],
    ]);
    expect(report.skipped).toEqual([{ path: 'logo.png', reason: expect.stringMatching(/not \.md/) }]);
    expect(report.source).toMatchObject({ name: basename(kb), state: 'approved', audience: 'customer', documents: 3 });

    const found = await runAcs(['kb', 'search', 'how much is fiber per month', '--k', '2', '--json'], cli.env);
    expect(found.code, found.stderr).toBe(0);
    const body = JSON.parse(found.stdout);
    expect(body.results).toHaveLength(2);
    expect(body.results[0]).toMatchObject({
      path: 'plans.md',
      headingPath: ['Plans', 'Fiber 500 (FIBER-500)'],
      text: 'Fiber costs $70 per month.',
    });
    expect(typeof body.results[0].score).toBe('number');

    const text = await runAcs(['kb', 'search', 'restart router'], cli.env);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^1\. guides\/outage\.html › Outages › Restarting the router {2}\(score 0\.\d+, /m);

    // Re-importing one file of the folder keeps it one document, unchanged.
    const single = await runAcs(['kb', 'import', join(kb, 'plans.md'), '--source', basename(kb), '--json'], cli.env);
    expect(single.code, single.stderr).toBe(0);
    expect(JSON.parse(single.stdout).documents).toEqual([expect.objectContaining({ path: 'plans.md', status: 'unchanged' })]);

    const docs = await runAcs(['kb', 'documents', basename(kb), '--json'], cli.env);
    expect(docs.code, docs.stderr).toBe(0);
    expect(JSON.parse(docs.stdout).data.map((d: { path: string; chunks: number }) => [d.path, d.chunks])).toEqual([
      ['guides/outage.html', 1],
      ['notes.txt', 1],
      ['plans.md', 2],
    ]);
    expect((await runAcs(['kb', 'documents', 'no-such-source'], cli.env)).stderr).toMatch(/no knowledge source 'no-such-source'/);

    const badK = await runAcs(['kb', 'search', 'fiber', '--k', '0'], cli.env);
    expect(badK.code).toBe(2);
    expect(badK.stderr).toMatch(/^ {2}k: /m);
    const missing = await runAcs(['kb', 'import', join(kb, 'nope')], cli.env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such file or folder/);
    const usage = await runAcs(['kb', 'search'], cli.env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/kb search needs a question/);

    const db = await openCliDb(cli);
    try {
      const ledger = await listLedger(db, { limit: 20 });
      expect(ledger.filter((e) => e.type.startsWith('knowledge.')).map((e) => [e.type, e.actor])).toEqual(
        expect.arrayContaining([
          ['knowledge.source_created', 'cli'],
          ['knowledge.document_imported', 'cli'],
          ['knowledge.source_approved', 'cli'],
        ]),
      );
    } finally {
      await db.close();
    }
  }, 240_000);
});

describe('acs kb through a running server', () => {
  let t: TestApp;
  let server: ServerType;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  let kb: string;
  beforeAll(async () => {
    t = await createTestApp();
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    const address = server.address() as { port: number };
    dataDir = mkdtempSync(join(tmpdir(), 'acs-kb-cli-'));
    writeFileSync(join(dataDir, 'server.json'), JSON.stringify({ pid: process.pid, url: `http://127.0.0.1:${address.port}` }));
    env = { ...process.env, ACS_DATA_DIR: dataDir, ACS_ADMIN_TOKEN: t.tokens.admin, ACS_LOG_LEVEL: 'warn' };
    delete env.DATABASE_URL;
    kb = writeKb();
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await t.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(kb, { recursive: true, force: true });
  });

  it('imports and searches through the API, approving the source once', async () => {
    const imported = await runAcs(['kb', 'import', kb, '--source', 'cli-kb', '--owner', 'Care'], env);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/^imported 3 documents into 'cli-kb': 3 new, 0 updated, 0 unchanged; 4 chunks$/m);
    const found = await runAcs(['kb', 'search', 'DSL-25', '--json'], env);
    expect(found.code, found.stderr).toBe(0);
    expect(JSON.parse(found.stdout).results[0]).toMatchObject({ path: 'plans.md', headingPath: ['Plans', 'DSL (DSL-25)'] });
    const approvals = await listLedger(t.db, { type: 'knowledge.source_approved', limit: 10 });
    expect(approvals).toHaveLength(1);
    expect(approvals[0]!.actor).toMatch(/^token:/);
    const sources = await runAcs(['kb', 'sources'], env);
    expect(sources.stdout).toMatch(/^cli-kb {2}approved v1, customer, owner Care, no review date; 3 documents, 4 chunks$/m);
    const docs = await runAcs(['kb', 'documents', 'cli-kb'], env);
    expect(docs.code, docs.stderr).toBe(0);
    expect(docs.stdout).toMatch(/^plans\.md +v1 +2 chunks +\d{4}-\d{2}-\d{2}T[\d:.]+Z +Plans$/m);
  }, 120_000);
});
