import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAINTENANCE_LEASE } from '../src/act/index.ts';
import { leaseHolder, migrate, openPostgres, type Db } from '../src/store/index.ts';
import { trouble, troubledCustomer } from './helpers.ts';
import { freshDatabase, ready, remoteApp, sleep, spawnAcs, stop, until, type AcsProcess } from './processes.ts';

// Two `acs worker` and two `acs serve --no-worker` processes on one fresh PostgreSQL database: signals sent to both
// servers are processed once, every once-per-cluster job runs in one process only (counted in the logs of all four
// and in the database), and after a kill -9 of the lease holder the other worker takes the jobs over.
const url = process.env.DATABASE_URL;

/**
 * Rounds every 200 ms, a lease that lapses 4 s after its holder's last renewal (short, yet long enough that a holder
 * busy on a loaded machine keeps it), approvals that expire after 2 s.
 */
const SETTINGS = { ACS_MAINTENANCE_INTERVAL_MS: '200', ACS_LEASE_TTL_MS: '4000', ACS_APPROVAL_TTL_HOURS: String(2 / 3600) };

type Proc = AcsProcess & { dataDir: string };

const TOOK_LEASE = 'took the maintenance lease: this process runs the once-per-cluster jobs';
if (url)
  describe('a cluster: two acs worker and two acs serve --no-worker processes on one PostgreSQL', () => {
    let database: Awaited<ReturnType<typeof freshDatabase>>;
    const admin = `admin-${randomBytes(12).toString('hex')}`;
    const procs: Proc[] = [];
    let db: Db;

    function start(name: string, args: string[]): Proc {
      const dataDir = mkdtempSync(join(tmpdir(), `acs-${name}-`));
      const proc = Object.assign(
        spawnAcs(name, args, {
          ...process.env,
          ...SETTINGS,
          DATABASE_URL: database.url,
          ACS_DATA_DIR: dataDir,
          ACS_ADMIN_TOKEN: admin,
          ACS_PORT: '0',
          ACS_HOST: '127.0.0.1',
          ACS_LOG_LEVEL: 'info',
          ACS_AGENTS: 'on',
          ACS_HOLDOUT_FRACTION: '0',
        }),
        { dataDir },
      );
      procs.push(proc);
      return proc;
    }

    const logged = (p: Proc, msg: string) => p.lines.filter((l) => l.msg === msg);
    const allLogged = (msg: string): Record<string, unknown>[] => procs.flatMap((p) => logged(p, msg).map((l) => ({ ...l, proc: p.name })));
    const tail = () => procs.map((p) => `${p.name}: ${JSON.stringify(p.lines.slice(-5))}`).join('\n');

    /** Makes the customers on `server` and sends their signals there; returns their account ids. */
    async function troubleOn(server: Proc, ids: string[]): Promise<string[]> {
      const app = remoteApp(() => server.url!, admin);
      const accounts: string[] = [];
      for (const id of ids) {
        accounts.push(await troubledCustomer(app, id));
        const sent = await app.call('POST', '/api/v1/signals', { body: trouble(id, 1) });
        expect(sent.status, sent.text).toBe(202);
      }
      return accounts;
    }

    /** Once every signal event is delivered, the approvals those accounts' decisions opened, once all have expired. */
    async function expiredApprovals(accounts: string[]): Promise<{ id: string; account_id: string }[]> {
      return until(
        `the approvals of ${accounts.length} accounts to expire\n${tail()}`,
        async () => {
          const [pending] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE state <> 'delivered'");
          if (pending!.n > 0) return null;
          const rows = await db.query<{ id: string; account_id: string; status: string }>(
            `SELECT a.id, p.account_id, a.status FROM approvals a JOIN decisions d ON d.id = a.decision_id
               JOIN proposals p ON p.id = d.proposal_id WHERE p.account_id = ANY($1::text[])`,
            [accounts],
          );
          return rows.length === accounts.length && rows.every((r) => r.status === 'expired') ? rows : null;
        },
        30_000,
      );
    }

    const ledgerCount = async (type: string, subjectIds: string[]) =>
      (
        await db.query<{ subject_id: string; n: number }>(
          'SELECT subject_id, count(*)::int AS n FROM ledger WHERE type = $1 AND subject_id = ANY($2::text[]) GROUP BY subject_id',
          [type, subjectIds],
        )
      ).map((r) => r.n);

    beforeAll(async () => {
      database = await freshDatabase(url, 'acs_cluster');
      db = await openPostgres(database.url, { max: 4 });
      // Migrated once here, so the four processes start on a schema that is up to date.
      await migrate(db);
      start('worker-1', ['worker']);
      start('worker-2', ['worker']);
      start('api-1', ['serve', '--no-worker']);
      start('api-2', ['serve', '--no-worker']);
      // They start side by side; on a loaded machine (the suite's other files) a start can take a while.
      const startBy = Date.now() + 120_000;
      for (const p of procs) await ready(p, Math.max(1000, startBy - Date.now()));
    }, 150_000);

    afterAll(async () => {
      await Promise.all(procs.map((p) => stop(p, 'SIGKILL')));
      await db?.close();
      await database?.drop();
      for (const p of procs) rmSync(p.dataDir, { recursive: true, force: true });
    }, 30_000);

    it('processes the signals sent to both servers once, and runs each once-per-cluster job in one process only', async () => {
      const [api1, api2] = [procs[2]!, procs[3]!];
      const accounts = [...(await troubleOn(api1, ['CL-A1', 'CL-A2'])), ...(await troubleOn(api2, ['CL-B1', 'CL-B2']))];
      const approvals = await expiredApprovals(accounts);

      // Each account's signals were decided once: one decided proposal, one policy decision, one approval, one play.
      const decided = await db.query<{ account_id: string; n: number }>(
        "SELECT account_id, count(*)::int AS n FROM proposals WHERE status = 'decided' AND account_id = ANY($1::text[]) GROUP BY 1",
        [accounts],
      );
      expect(decided.map((r) => r.n)).toEqual([1, 1, 1, 1]);
      const [signals] = await db.query<{ n: number; distinct: number }>(
        'SELECT count(*)::int AS n, count(DISTINCT id)::int AS distinct FROM signals',
      );
      expect(signals).toEqual({ n: 20, distinct: 20 });
      const plays = await db.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM plays WHERE account_id = ANY($1::text[]) GROUP BY account_id',
        [accounts],
      );
      expect(plays.map((r) => r.n)).toEqual([1, 1, 1, 1]);
      // Each approval expired once, in the ledger and in the logs of all four processes together.
      expect(
        await ledgerCount(
          'approval.expired',
          approvals.map((a) => a.id),
        ),
      ).toEqual([1, 1, 1, 1]);
      const expiredLogged = allLogged('maintenance').reduce((n, l) => n + ((l.maintenance as { expired: number }).expired ?? 0), 0);
      expect(expiredLogged).toBe(4);

      // The daily run and the supervisor: once per period in the cluster, in the lease holder, recorded in job_runs.
      const holder = await leaseHolder(db, MAINTENANCE_LEASE);
      const holderProc = procs.find((p) => holder?.includes(`:${p.child.pid}:`));
      expect(holderProc?.name).toMatch(/^worker-/);
      // One process took the lease, and every job's log line comes from it alone.
      expect(allLogged(TOOK_LEASE).map((l) => l.proc)).toEqual([holderProc!.name]);
      for (const msg of ['maintenance', 'daily run', 'supervisor round'])
        expect(new Set(allLogged(msg).map((l) => l.proc)), msg).toEqual(new Set([holderProc!.name]));
      for (const [job, msg] of [
        ['daily', 'daily run'],
        ['supervisor', 'supervisor round'],
      ] as const) {
        const runs = allLogged(msg);
        expect(runs.length, `${msg} lines`).toBeGreaterThan(0);
        const periods = runs.map((r) => r.period);
        expect(new Set(periods).size, `${job}: one run per period`).toBe(periods.length);
        const rows = await db.query<{ period: string; holder: string }>(
          'SELECT period, holder FROM job_runs WHERE job = $1 ORDER BY period',
          [job],
        );
        expect(rows.map((r) => r.period)).toEqual([...periods].sort());
        for (const r of runs)
          expect(rows.find((row) => row.period === r.period)!.holder).toContain(`:${procs.find((p) => p.name === r.proc)!.child.pid}:`);
      }
      // The API-only servers ran neither stages nor jobs.
      for (const api of [api1, api2]) {
        expect(logged(api, 'agents decided')).toHaveLength(0);
        expect(logged(api, 'maintenance')).toHaveLength(0);
      }
      expect(allLogged('agents decided').length).toBeGreaterThan(0);
    }, 60_000);

    it('after a kill -9 of the lease holder the other worker takes the lease, and the jobs go on without repeating a period', async () => {
      const holder = await leaseHolder(db, MAINTENANCE_LEASE);
      const victim = procs.find((p) => holder?.includes(`:${p.child.pid}:`))!;
      const survivor = procs.find((p) => p.name.startsWith('worker-') && p !== victim)!;
      const dailyBefore = allLogged('daily run').length;
      victim.child.kill('SIGKILL');
      const killedAt = Date.now();
      const taken = await until(
        `${survivor.name} to take the lease\n${tail()}`,
        async () => ((await leaseHolder(db, MAINTENANCE_LEASE))?.includes(`:${survivor.child.pid}:`) ? Date.now() - killedAt : null),
        15_000,
      );
      console.log(`maintenance lease moved to the other worker ${taken} ms after kill -9 of its holder (TTL 4000 ms)`);
      expect(logged(survivor, TOOK_LEASE)).toHaveLength(1);

      // New work after the kill: decided by the survivor, and its approvals expired by it, once each.
      const accounts = await troubleOn(procs[3]!, ['CL-C1', 'CL-C2']);
      const approvals = await expiredApprovals(accounts);
      expect(
        await ledgerCount(
          'approval.expired',
          approvals.map((a) => a.id),
        ),
      ).toEqual([1, 1]);
      // The new holder does not run again a day or an hour the old one did (job_runs says they are done).
      for (const msg of ['daily run', 'supervisor round']) {
        const before = new Set(
          allLogged(msg)
            .filter((l) => l.proc === victim.name)
            .map((l) => l.period),
        );
        expect(before.size, `${msg} in the killed holder`).toBeGreaterThan(0);
        expect(
          logged(survivor, msg).filter((l) => before.has(l.period)),
          `${msg} repeated by the new holder`,
        ).toEqual([]);
      }
      expect(dailyBefore).toBeGreaterThan(0);
    }, 60_000);

    it('SIGTERM stops a worker gracefully: it lets the lease go at once and exits 0', async () => {
      const survivor = procs.find((p) => p.name.startsWith('worker-') && p.child.exitCode === null && p.child.signalCode === null)!;
      expect(await leaseHolder(db, MAINTENANCE_LEASE)).toContain(`:${survivor.child.pid}:`);
      const exited = new Promise<number | null>((r) => survivor.child.once('exit', (code) => r(code)));
      survivor.child.kill('SIGTERM');
      expect(await Promise.race([exited, sleep(15_000).then(() => 'timeout')])).toBe(0);
      const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM leases WHERE name = $1', [MAINTENANCE_LEASE]);
      expect(row!.n).toBe(0);
      expect(logged(survivor, 'worker stopped')).toHaveLength(1);
    }, 30_000);
  });

if (!url)
  describe('acs worker on the embedded database', () => {
    it('refuses with a message that says why: the embedded database is one process', async () => {
      const { runAcs } = await import('./cli-helpers.ts');
      const dataDir = mkdtempSync(join(tmpdir(), 'acs-worker-'));
      try {
        const env: NodeJS.ProcessEnv = { ...process.env, ACS_DATA_DIR: dataDir, ACS_LOG_LEVEL: 'warn' };
        delete env.DATABASE_URL;
        const worker = await runAcs(['worker'], env);
        expect(worker.code).toBe(1);
        expect(worker.stderr).toContain('acs worker needs DATABASE_URL');
        const api = await runAcs(['serve', '--no-worker'], env);
        expect(api.code).toBe(2);
        expect(api.stderr).toContain('--no-worker needs DATABASE_URL');
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    }, 60_000);
  });
