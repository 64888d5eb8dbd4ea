import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyLedger } from '../../src/ledger/index.ts';
import { stream, type Rng } from '../../src/lib/index.ts';
import { migrate, openPglite, openPostgres, type Db } from '../../src/store/index.ts';
import { daysAgo, troubledCustomer } from '../helpers.ts';
import { freshDatabase, ready, remoteApp, running, sleep, spawnAcs, stop, until, type AcsProcess } from '../processes.ts';

// The fault harness: processes on loopback, a client sending signals with unique ids while one process is killed
// with SIGKILL again and again, then checks read from the database. See docs/faults.md.

/**
 * api, worker, embedded, relay: that process is killed with SIGKILL and restarted (relay: `acs relay`, beside a
 * worker and an API started with --no-relay). connections: the worker's database connections are ended by
 * `pg_terminate_backend` (the processes stay up; one that dies of it is restarted, and counted). nats: the run's own
 * nats-server is stopped (SIGKILL and SIGTERM in turn) and started again on the same store dir.
 */
export type Scenario = 'api' | 'worker' | 'embedded' | 'connections' | 'relay' | 'nats';

export const SCENARIOS: readonly Scenario[] = ['api', 'worker', 'embedded', 'connections', 'relay', 'nats'];

/** The worker's connections carry this application_name, so the connections scenario can find them. */
const WORKER_APP = 'acs-faults-worker';

export interface FaultOptions {
  scenario: Scenario;
  signals: number;
  kills: number;
  seed: number;
  /** Signals per request. */
  batch: number;
  /** Customers made (over the API) before the run; the signals are spread over them, so the loop acts. */
  customers: number;
  /** Share of the acknowledged signals sent again at the end. */
  resendShare: number;
  /** The whole run's bound. */
  timeoutMs: number;
  /** nats only: the broker stays down a random while up to this long at each stop; default 2,000 ms. */
  outageMs?: number;
  /** nats only: the database (default PostgreSQL when DATABASE_URL is set, else the embedded one). */
  database?: 'postgres' | 'embedded';
  log?: (line: string) => void;
}

export interface FaultReport {
  scenario: Scenario;
  /** Reproduces the kill points and the resent sample. */
  seed: number;
  nats: boolean;
  sent: number;
  acknowledged: number;
  resent: number;
  kills: number;
  /** connections: backends ended by pg_terminate_backend, and processes that died of it (restarted). */
  terminated: number;
  crashes: number;
  stored: number;
  duplicates: number;
  lost: number;
  /** Acknowledged signals that a resend reported as new (not as duplicates): evidence of a lost acknowledged signal. */
  reaccepted: number;
  decisions: number;
  executions: number;
  doubleExecutions: number;
  approvals: number;
  approvedByClient: number;
  approvalsInconsistent: number;
  /** Outbox events not delivered when the checks ran (the pipeline had not drained in time). */
  pendingEvents: number;
  /** Outbox events never handed to the broker (NATS only; -1 without NATS or when it could not be read). */
  unpublished: number;
  /** nats: on which database the run was. */
  database: 'postgres' | 'embedded';
  ledgerOk: boolean;
  ledgerEntries: number;
  seconds: number;
}

export const DEFAULTS: Omit<FaultOptions, 'scenario'> = {
  signals: 1000,
  kills: 3,
  seed: 1,
  batch: 25,
  customers: 12,
  resendShare: 0.05,
  timeoutMs: 240_000,
};

/** Short rounds and lease, so a killed worker's jobs move on fast; no holdout, so every decision can act. */
const SETTINGS = {
  ACS_MAINTENANCE_INTERVAL_MS: '300',
  ACS_LEASE_TTL_MS: '3000',
  ACS_AGENTS: 'on',
  ACS_HOLDOUT_FRACTION: '0',
  ACS_PORT: '0',
  ACS_HOST: '127.0.0.1',
  ACS_LOG_LEVEL: 'info',
};

interface Role {
  name: string;
  args: string[];
  proc?: AcsProcess;
  dataDir: string;
}

/** A signal that makes the customer look troubled (a failed payment or an angry ticket), so the agents act. */
function signalFor(id: string, customerId: string, i: number) {
  return i % 2 === 0
    ? { id, type: 'payment_failed', occurredAt: daysAgo(1 + (i % 5)), subject: { customerId }, data: { amount: 80, currency: 'USD' } }
    : {
        id,
        type: 'support_ticket',
        occurredAt: daysAgo(1 + (i % 5)),
        subject: { customerId },
        data: { text: 'Broken again, terrible, I am furious and want to cancel.' },
      };
}

/** `count` distinct indices out of 1..n-1, sorted: the batches before which a kill is set off. */
function killPoints(rng: Rng, n: number, count: number): number[] {
  const picked = new Set<number>();
  for (let guard = 0; picked.size < Math.min(count, n - 1) && guard < 100 * count; guard++)
    picked.add(1 + Math.floor(rng.next() * (n - 1)));
  return [...picked].sort((a, b) => a - b);
}

/** Every process a run started; a test's afterAll kills what is left, should a run be cut short. */
export const spawned = new Set<AcsProcess>();

/** The nats-servers the nats scenario started (never the shared one other tests use). */
const natsServers = new Set<ChildProcess>();

export async function killStarted(): Promise<void> {
  await Promise.all([...spawned].map((p) => stop(p, 'SIGKILL')));
  spawned.clear();
  for (const c of natsServers) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  natsServers.clear();
}

/** The nats-server binary: on PATH, or where the Debian package puts it. */
function natsServerBinary(): string {
  for (const dir of [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/sbin', '/usr/local/bin'])
    if (existsSync(join(dir, 'nats-server'))) return join(dir, 'nats-server');
  throw new Error('the nats scenario needs the nats-server binary (on PATH or in /usr/sbin); install NATS server, see DEVELOPERS.md');
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== 'object' || !address) throw new Error('no free port');
  return address.port;
}

const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/**
 * A nats-server of the run's own on a free loopback port, with JetStream on a store dir that outlives its restarts;
 * `stop` ends it with a signal (SIGKILL: no chance to flush), `start` brings it back on the same port and store.
 */
async function ownNatsServer(storeDir: string, log: (line: string) => void) {
  const bin = natsServerBinary();
  const port = await freePort();
  let child: ChildProcess | null = null;
  let output = '';
  const start = async () => {
    output = '';
    child = spawn(bin, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    natsServers.add(child);
    child.stdout!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    child.stderr!.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
    // JetStream is up once the server logs it ready (it recovers its streams from the store first).
    await until(
      `nats-server on port ${port} to start`,
      async () => {
        if (child!.exitCode !== null || child!.signalCode !== null) throw new Error(`nats-server exited: ${output}`);
        return /Server is ready/.test(output) && (await answers(port));
      },
      30_000,
    );
  };
  const stop = async (signal: NodeJS.Signals) => {
    const c = child;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill(signal);
    if (!(await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]))) {
      log(`nats-server outlived ${signal} by 15 s; SIGKILL`);
      c.kill('SIGKILL');
      await Promise.race([exited, sleep(5_000)]);
    }
    natsServers.delete(c);
  };
  await start();
  return { url: `nats://127.0.0.1:${port}`, port, start, stop };
}

export async function runFaultScenario(opts: FaultOptions): Promise<FaultReport> {
  const started = Date.now();
  const deadline = started + opts.timeoutMs;
  const left = () => Math.max(1_000, deadline - Date.now());
  const log = opts.log ?? (() => undefined);
  const rng = stream(opts.seed, 'faults', opts.scenario);
  const token = `admin-${randomBytes(12).toString('hex')}`;
  const base = mkdtempSync(join(tmpdir(), `acs-faults-${opts.scenario}-`));
  const pgUrl = process.env.DATABASE_URL;
  const embedded = opts.scenario === 'embedded' || (opts.scenario === 'nats' && (opts.database ? opts.database === 'embedded' : !pgUrl));
  if (!embedded && !pgUrl) throw new Error(`scenario ${opts.scenario} needs DATABASE_URL`);
  if (opts.scenario === 'relay' && !process.env.ACS_NATS_URL) throw new Error('scenario relay needs ACS_NATS_URL');
  // nats: a broker of the run's own, which it stops and starts; never the shared one (other tests use it).
  const broker = opts.scenario === 'nats' ? await ownNatsServer(join(base, 'nats-store'), log) : null;
  const natsUrl = broker?.url ?? process.env.ACS_NATS_URL;
  const nats = Boolean(natsUrl);

  const database = embedded ? null : await freshDatabase(pgUrl!, 'acs_faults');
  // relay: the worker and the API leave the relay to `acs relay`, the one process killed.
  const noRelay = opts.scenario === 'relay' ? ['--no-relay'] : [];
  const roles: Role[] = embedded
    ? [{ name: 'serve', args: ['serve'], dataDir: join(base, 'serve') }]
    : [
        { name: 'worker', args: ['worker', ...noRelay], dataDir: join(base, 'worker') },
        { name: 'api', args: ['serve', '--no-worker', ...noRelay], dataDir: join(base, 'api') },
        ...(opts.scenario === 'relay' ? [{ name: 'relay', args: ['relay'], dataDir: join(base, 'relay') }] : []),
      ];
  const victimName = {
    api: 'api',
    embedded: 'serve',
    worker: 'worker',
    connections: 'worker',
    relay: 'relay',
    nats: embedded ? 'serve' : 'worker',
  }[opts.scenario];
  const victim = roles.find((r) => r.name === victimName)!;
  const apiRole = roles.find((r) => r.name === 'api' || r.name === 'serve')!;
  const env = (r: Role): NodeJS.ProcessEnv => {
    const e: NodeJS.ProcessEnv = { ...process.env, ...SETTINGS, ACS_DATA_DIR: r.dataDir, ACS_ADMIN_TOKEN: token };
    if (database) e.DATABASE_URL = r.name === 'worker' ? `${database.url}?application_name=${WORKER_APP}` : database.url;
    else delete e.DATABASE_URL;
    if (natsUrl) e.ACS_NATS_URL = natsUrl;
    else delete e.ACS_NATS_URL;
    return e;
  };
  const start = async (r: Role) => {
    r.proc = spawnAcs(r.name, r.args, env(r));
    spawned.add(r.proc);
    await ready(r.proc, Math.min(120_000, left()));
  };
  let db: Db | undefined;

  try {
    if (database) {
      // Migrated once here, so the processes start on an up-to-date schema.
      db = await openPostgres(database.url, { max: 2 });
      await migrate(db);
    }
    for (const r of roles) await start(r);
    const app = remoteApp(() => apiRole.proc!.url!, token);
    const customers: string[] = [];
    for (let c = 0; c < opts.customers; c++) {
      const id = `FLT-${c}`;
      await troubledCustomer(app, id);
      customers.push(id);
    }
    log(`${opts.scenario}: ${roles.map((r) => `${r.name} pid ${r.proc!.child.pid}`).join(', ')}; ${customers.length} customers`);

    // Kills: each one SIGKILLs the victim a random moment after it is set off, then restarts it and waits until it
    // serves again; one at a time, so the client's failures can wait for the restart under way.
    let kills = 0;
    let terminated = 0;
    let crashes = 0;
    let restarting: Promise<void> = Promise.resolve();
    const terminate = async () => {
      const ended = await db!.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2) t',
        [database!.name, WORKER_APP],
      );
      terminated += ended[0]!.n;
      await sleep(500);
      if (running(victim.proc!)) return;
      crashes++;
      const last = victim.proc!.lines.filter((l) => l.stderr || Number(l.level) >= 50).slice(-2);
      log(
        `${victim.name} died (${victim.proc!.child.exitCode ?? victim.proc!.child.signalCode}) after its connections were ended: ${JSON.stringify(last).slice(0, 1500)}`,
      );
      await start(victim);
    };
    /** nats: the broker stopped (SIGKILL and SIGTERM in turn), down a random while, started again on its store. */
    const restartBroker = async () => {
      const signal = kills % 2 === 1 ? 'SIGKILL' : 'SIGTERM';
      await broker!.stop(signal);
      await sleep(Math.floor(rng.next() * (opts.outageMs ?? 2_000)));
      await broker!.start();
      // The processes stay up through it: one that died of it is counted (and restarted).
      for (const r of roles)
        if (!running(r.proc!)) {
          crashes++;
          log(`${r.name} died while NATS was down: ${JSON.stringify(r.proc!.lines.slice(-3)).slice(0, 1500)}`);
          await start(r);
        }
    };
    const killOnce = (delayMs: number) => {
      restarting = restarting.then(async () => {
        await sleep(delayMs);
        kills++;
        const what = { connections: "the worker's connections", nats: 'the nats-server' }[opts.scenario as string] ?? victim.name;
        log(`kill ${kills}: ${what} (${Date.now() - started} ms)`);
        if (opts.scenario === 'connections') return terminate();
        if (opts.scenario === 'nats') return restartBroker();
        await stop(victim.proc!, 'SIGKILL');
        await start(victim);
      });
      return restarting;
    };

    const ids = Array.from({ length: opts.signals }, (_, i) => `flt-${opts.seed}-${opts.scenario}-${i}`);
    const acked = new Set<string>();
    let sent = 0;
    let resent = 0;
    let reaccepted = 0;
    let approvedByClient = 0;
    /** Posts one batch; true when the server acknowledged it (2xx). */
    const post = async (batch: number[], wasAcked: boolean): Promise<boolean> => {
      const body = batch.map((i) => signalFor(ids[i]!, customers[i % customers.length]!, i));
      try {
        const res = await app.call('POST', '/api/v1/signals', { body });
        if (res.status < 200 || res.status >= 300) return false;
        for (const a of (res.body?.accepted ?? []) as { id: string }[]) if (wasAcked && acked.has(a.id)) reaccepted++;
        for (const i of batch) acked.add(ids[i]!);
        return true;
      } catch {
        return false;
      }
    };
    /** Approves one pending approval now and then, so approvals see kills too; failures are fine (counted in the checks). */
    const approveOne = async () => {
      try {
        const page = await app.call('GET', '/api/v1/approvals?limit=1');
        const id = (page.body?.data as { id: string }[] | undefined)?.[0]?.id;
        if (!id) return;
        const res = await app.call('POST', `/api/v1/approvals/${id}/approve`, { body: {} });
        if (res.status === 200) approvedByClient++;
      } catch {
        // the API was being killed
      }
    };

    const batches: number[][] = [];
    for (let i = 0; i < ids.length; i += opts.batch)
      batches.push(Array.from({ length: Math.min(opts.batch, ids.length - i) }, (_, k) => i + k));
    const points = new Set(killPoints(rng, batches.length, opts.kills));
    const unacked: number[][] = [];
    for (let b = 0; b < batches.length && Date.now() < deadline; b++) {
      if (points.has(b)) void killOnce(Math.floor(rng.next() * 300));
      sent += batches[b]!.length;
      if (!(await post(batches[b]!, false))) {
        unacked.push(batches[b]!);
        // The API is down: wait for the restart under way rather than spin.
        await Promise.race([restarting, sleep(2_000)]);
      }
      if (b % 8 === 4) await approveOne();
    }
    await restarting;

    // Resend what was not acknowledged (bounded), then a sample of what was.
    for (const batch of unacked) {
      for (let attempt = 0; attempt < 50 && Date.now() < deadline; attempt++) {
        resent += batch.length;
        if (await post(batch, false)) break;
        await sleep(200);
      }
    }
    const sample = ids.map((_, i) => i).filter((i) => acked.has(ids[i]!) && rng.next() < opts.resendShare);
    for (let i = 0; i < sample.length; i += opts.batch) {
      const batch = sample.slice(i, i + opts.batch);
      resent += batch.length;
      await post(batch, true);
    }
    await approveOne();

    // Let the pipeline finish what was sent, bounded; what is left is reported, not hidden.
    const pending = async (): Promise<number> => {
      if (db) {
        const [row] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE state = 'pending'");
        return row!.n;
      }
      const res = await fetch(`${apiRole.proc!.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      const m = /^acs_outbox_pending_events (\d+)/m.exec(await res.text());
      return m ? Number(m[1]) : -1;
    };
    const draining = Date.now();
    await until('the pipeline to drain', async () => (await pending()) === 0, Math.min(90_000, left())).catch(() => undefined);
    const pendingEvents = await pending().catch(() => -1);
    log(`sent everything at ${draining - started} ms; drained (${pendingEvents} pending) ${Date.now() - draining} ms later`);
    for (const r of roles) await stop(r.proc!, 'SIGTERM', 30_000);
    for (const r of roles) {
      if (r.proc!.child.signalCode === 'SIGKILL') log(`${r.name} needed a SIGKILL to stop`);
      // What the processes logged as errors, counted by message: what the faults did to them, for the record.
      const errors = new Map<string, number>();
      for (const l of r.proc!.lines) if (Number(l.level) >= 50) errors.set(String(l.msg), (errors.get(String(l.msg)) ?? 0) + 1);
      if (errors.size) log(`${r.name} logged errors: ${JSON.stringify(Object.fromEntries(errors))}`);
    }

    if (!db) db = await openPglite(join(victim.dataDir, 'pgdata'));
    const report = await check(db, ids, acked);
    // Every event was handed to the broker: none is left pending that no relay published.
    const unpublished = nats
      ? (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE state = 'pending' AND published_at IS NULL"))[0]!.n
      : -1;
    return {
      scenario: opts.scenario,
      database: embedded ? 'embedded' : 'postgres',
      unpublished,
      seed: opts.seed,
      nats,
      sent,
      acknowledged: acked.size,
      resent,
      kills,
      terminated,
      crashes,
      ...report,
      reaccepted,
      approvedByClient,
      pendingEvents,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    };
  } finally {
    for (const r of roles) if (r.proc && running(r.proc)) await stop(r.proc, 'SIGKILL');
    await broker?.stop('SIGKILL');
    await db?.close();
    await database?.drop();
    rmSync(base, { recursive: true, force: true });
  }
}

/** The five checks, read from the database. */
async function check(db: Db, ids: string[], acked: Set<string>) {
  const one = async (sql: string, params: unknown[] = []) => (await db.query<{ n: number }>(sql, params))[0]!.n;
  const storedIds = new Set((await db.query<{ id: string }>('SELECT id FROM signals WHERE id = ANY($1::text[])', [ids])).map((r) => r.id));
  const stored = await one('SELECT count(*)::int AS n FROM signals WHERE id = ANY($1::text[])', [ids]);
  // A signal stored twice: two rows, or two acceptances in the ledger (the id is the key, so a second row cannot hide).
  const duplicates =
    stored -
    storedIds.size +
    (await one(
      `SELECT count(*)::int AS n FROM (SELECT subject_id FROM ledger WHERE type = 'signal.accepted' AND subject_id = ANY($1::text[])
         GROUP BY subject_id HAVING count(*) > 1) d`,
      [ids],
    ));
  const lost = [...acked].filter((id) => !storedIds.has(id)).length;
  // An action done twice: one idempotency key with two effects of a kind, or executed twice in the ledger.
  const doubleExecutions = await one(
    `SELECT count(*)::int AS n FROM (
       SELECT subject_id AS k FROM ledger WHERE type = 'action.executed' GROUP BY subject_id HAVING count(*) > 1
       UNION ALL SELECT execution_key FROM messages WHERE execution_key IS NOT NULL GROUP BY execution_key HAVING count(*) > 1
       UNION ALL SELECT execution_key FROM credits WHERE execution_key IS NOT NULL GROUP BY execution_key HAVING count(*) > 1
       UNION ALL SELECT execution_key FROM tasks WHERE execution_key IS NOT NULL GROUP BY execution_key HAVING count(*) > 1
     ) d`,
  );
  // Approved: its action ran once, under the approval's key. Pending, rejected or expired: it did not run.
  const approvals = await db.query<{ status: string; runs: number }>(
    `SELECT a.status, count(e.idempotency_key)::int AS runs FROM approvals a
       LEFT JOIN executions e ON e.idempotency_key = 'approval:' || a.id GROUP BY a.id, a.status`,
  );
  const approvalsInconsistent = approvals.filter((a) => (a.status === 'approved' ? a.runs !== 1 : a.runs !== 0)).length;
  const ledger = await verifyLedger(db);
  return {
    stored,
    duplicates,
    lost,
    decisions: await one('SELECT count(*)::int AS n FROM decisions'),
    executions: await one('SELECT count(*)::int AS n FROM executions'),
    doubleExecutions,
    approvals: approvals.length,
    approvalsInconsistent,
    ledgerOk: ledger.ok,
    ledgerEntries: await one('SELECT count(*)::int AS n FROM ledger'),
  };
}

/** The five checks (nothing acknowledged lost, nothing stored or executed twice, approvals consistent, the ledger verifies), and that the run drained: nothing left undelivered or unpublished, no process died of a fault it should survive. */
export const failures = (r: FaultReport) =>
  [
    r.lost > 0 && `${r.lost} acknowledged signals lost`,
    r.duplicates > 0 && `${r.duplicates} signals stored twice`,
    r.doubleExecutions > 0 && `${r.doubleExecutions} actions executed twice`,
    r.approvalsInconsistent > 0 && `${r.approvalsInconsistent} approvals inconsistent`,
    !r.ledgerOk && 'the ledger does not verify',
    r.pendingEvents !== 0 && `${r.pendingEvents} events left undelivered`,
    r.unpublished > 0 && `${r.unpublished} events never handed to the broker`,
    r.crashes > 0 && `${r.crashes} processes died of the faults`,
  ].filter((f): f is string => Boolean(f));

/** One line of counts, for logs and CI output. */
export function formatReport(r: FaultReport): string {
  return [
    `faults ${r.scenario}${r.nats ? ' (NATS)' : ''} on ${r.database}, seed ${r.seed}:`,
    `sent ${r.sent}, acknowledged ${r.acknowledged}, resent ${r.resent}, kills ${r.kills}` +
      (r.scenario === 'connections'
        ? ` (backends terminated ${r.terminated}, processes died ${r.crashes});`
        : r.scenario === 'nats'
          ? ` (processes died ${r.crashes});`
          : ';'),
    `stored ${r.stored}, duplicates ${r.duplicates}, lost ${r.lost}, reaccepted ${r.reaccepted};`,
    `decisions ${r.decisions}, executions ${r.executions}, double executions ${r.doubleExecutions};`,
    `approvals ${r.approvals} (approved by the client ${r.approvedByClient}), inconsistent ${r.approvalsInconsistent};`,
    `pending events ${r.pendingEvents}${r.nats ? `, unpublished ${r.unpublished}` : ''}; ledger ${r.ledgerOk ? 'verifies' : 'BROKEN'} (${r.ledgerEntries} entries); ${r.seconds} s`,
  ].join(' ');
}
