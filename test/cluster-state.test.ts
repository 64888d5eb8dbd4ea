import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_DIR } from '../src/assure/index.ts';
import { loadConfig } from '../src/config.ts';
import { loadDemoCustomers } from '../src/sense/index.ts';
import { createLogger, startServer, startWorker } from '../src/server.ts';
import { Lease, openPostgres } from '../src/store/index.ts';
import { cliEnv } from './cli-helpers.ts';
import { createTestApp, openTestDb, trouble, troubledCustomer, type TestApp } from './helpers.ts';

// What several processes must agree on, with two service instances (each its own connection pool, as two processes
// have) on one PostgreSQL schema: agent settings and the kill switch are read from the database where they are used,
// never cached, so a change through one instance holds in the other at once; the policy dry-run's "one at a time"
// is a lease, so it holds across instances, and a server that died holding it frees it when the lease lapses.
// (Token revocation across processes: test/revocation.test.ts.)
const url = process.env.DATABASE_URL;

if (url)
  describe('two service instances on one PostgreSQL database', () => {
    let a: TestApp;
    let b: TestApp;
    beforeAll(async () => {
      const db = await openTestDb();
      const [{ schema }] = (await db.query<{ schema: string }>('SELECT current_schema() AS schema')) as [{ schema: string }];
      a = await createTestApp({ db, loop: { holdoutFraction: 0 } });
      b = await createTestApp({ db: await openPostgres(url, { schema, max: 4 }), loop: { holdoutFraction: 0 } });
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
    });

    const drainBoth = async () => {
      await Promise.all([a.bus.drain(), b.bus.drain()]);
      await Promise.all([a.bus.drain(), b.bus.drain()]);
    };

    it('the kill switch engaged through one refuses an approval through the other, and released there, lets it through', async () => {
      await troubledCustomer(b, 'KS-1');
      expect((await b.call('POST', '/api/v1/signals', { role: 'agent', body: trouble('KS-1', 1) })).status).toBe(202);
      await drainBoth();
      const queue = (await b.call('GET', '/api/v1/approvals', { role: 'reviewer' })).body.data as { id: string }[];
      expect(queue).toHaveLength(1);
      const engaged = await a.call('POST', '/api/v1/agents/kill-switch', { body: { engaged: true, reason: 'cluster test' } });
      expect(engaged.status).toBe(200);
      expect((await b.call('GET', '/api/v1/agents')).body.killSwitch.engaged).toBe(true);
      const refused = await b.call('POST', `/api/v1/approvals/${queue[0]!.id}/approve`, { role: 'reviewer', body: {} });
      expect(refused.status).toBe(409);
      expect(refused.body.code).toBe('kill_switch.on');
      expect((await a.call('POST', '/api/v1/agents/kill-switch', { body: { engaged: false } })).status).toBe(200);
      expect((await b.call('POST', `/api/v1/approvals/${queue[0]!.id}/approve`, { role: 'reviewer', body: {} })).status).toBe(200);
    });

    it('an agent paused through one proposes nothing for signals the other takes in', async () => {
      expect((await a.call('PATCH', '/api/v1/agents/retention', { body: { paused: true } })).status).toBe(200);
      const seen = (await b.call('GET', '/api/v1/agents')).body.data as { id: string; paused: boolean }[];
      expect(seen.find((x) => x.id === 'retention')!.paused).toBe(true);
      const accountId = await troubledCustomer(b, 'PAUSE-1');
      expect((await b.call('POST', '/api/v1/signals', { role: 'agent', body: trouble('PAUSE-1', 1) })).status).toBe(202);
      await drainBoth();
      const agents = await b.db.query<{ agent_id: string }>('SELECT DISTINCT agent_id FROM proposals WHERE account_id = $1', [accountId]);
      expect(agents.map((r) => r.agent_id)).toEqual(['service-recovery']);
      expect((await a.call('PATCH', '/api/v1/agents/retention', { body: { paused: false } })).status).toBe(200);
    });

    it('one policy dry-run at a time in the cluster: refused while another server holds the lease, free once it lapses', async () => {
      const files = [{ file: 'default.cedar', text: readFileSync(join(DEFAULT_POLICY_DIR, 'default.cedar'), 'utf8') }];
      const dryRun = () => a.call('POST', '/api/v1/policies/dry-run', { body: { files, days: 1 } });
      // Another server's dry-run, which then dies without letting go.
      const elsewhere = new Lease(b.db, 'policy-dry-run', 1500, 'another server');
      expect(await elsewhere.acquire()).toBe(true);
      const busy = await dryRun();
      expect(busy.status).toBe(429);
      expect(busy.body.code).toBe('policy.dry_run_busy');
      await new Promise((r) => setTimeout(r, 1600));
      expect((await dryRun()).status).toBe(200);
      // And this one let go when it finished.
      expect(await elsewhere.acquire()).toBe(true);
      await elsewhere.release();
    });
  });

if (url)
  describe('the churn model, fitted in each process', () => {
    it('fitted again by an API server after new customers, is fitted again by a worker from the same rows', async () => {
      const cli = await cliEnv();
      const dir = mkdtempSync(join(tmpdir(), 'acs-churn-'));
      const lines: { msg?: string; version?: string; trainedOn?: number }[] = [];
      const capture = new Writable({
        write(chunk: Buffer, _enc, done) {
          for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
          done();
        },
      });
      const config = loadConfig({ ...cli.env, ACS_PORT: '0', ACS_LOG_LEVEL: 'info', ACS_DATA_DIR: dir });
      const worker = await startWorker(config, createLogger(config, capture));
      const server = await startServer(config, createLogger({ logLevel: 'silent' }), { role: 'api' });
      try {
        // 60 labelled customers (the demo file's first rows): enough for a model.
        const csv = join(dir, 'customers.csv');
        writeFileSync(
          csv,
          readFileSync(new URL('../data/telco_churn.csv', import.meta.url), 'utf8')
            .split('\n')
            .slice(0, 61)
            .join('\n') + '\n',
        );
        expect((await loadDemoCustomers(server.db, csv)).status).toBe('loaded');
        const model = await server.trainChurnModel();
        expect(model).toBeDefined();
        const trained = () => lines.find((l) => l.msg === 'churn model trained');
        await expect.poll(trained, { timeout: 30_000 }).toBeDefined();
        expect(trained()).toMatchObject({ version: model!.version, trainedOn: 60 });
      } finally {
        await server.close();
        await worker.close();
        await cli.cleanup();
        rmSync(dir, { recursive: true, force: true });
      }
    }, 60_000);
  });

if (!url)
  describe('on PGlite, one process: the dry-run lease is this server’s own', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp();
    });
    afterAll(() => t.close());

    it('is refused while held, and free once released', async () => {
      const files = [{ file: 'default.cedar', text: readFileSync(join(DEFAULT_POLICY_DIR, 'default.cedar'), 'utf8') }];
      const held = new Lease(t.db, 'policy-dry-run', 60_000, 'a dry-run under way');
      expect(await held.acquire()).toBe(true);
      expect((await t.call('POST', '/api/v1/policies/dry-run', { body: { files, days: 1 } })).status).toBe(429);
      await held.release();
      expect((await t.call('POST', '/api/v1/policies/dry-run', { body: { files, days: 1 } })).status).toBe(200);
    });
  });
