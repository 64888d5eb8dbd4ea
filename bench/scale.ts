/**
 * Scale benchmark (issue 15): ingestion against the same database's raw insert rate, two `acs worker` processes
 * against one, signal-to-decision latency and the highest rate with p99 <= 100 ms, the embedded default under load
 * while the daily run works, and the broker's own ceiling beside ACS's rate.
 *
 *   npx tsx bench/scale.ts [--quick] [--json]
 *
 * Every figure names the path it measured (in process or over HTTP, which backend, which bus). See bench/README.md.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { verifyLedger } from '../src/ledger/index.ts';
import { migrate, openPglite, openPostgres, type Db } from '../src/store/index.ts';
import { FULL as INGEST_FULL, QUICK as INGEST_QUICK, makeCustomers, runBackend, seedCustomers, SignalFactory } from './ingest.ts';
import {
  cpuSeconds,
  fmt,
  freshDatabase,
  machineCpu,
  pct,
  percentile,
  postgresUrl,
  probePostgres,
  progress,
  redact,
  round,
  sleep,
  spawnAcs,
  stopChild,
  withPostgresSchema,
  type Child,
} from './lib.ts';
import { measureLoad, serveOnLoopback, setUpLoop, type LoadResult, type LoopSetup } from './loop-load.ts';

const quick = process.argv.includes('--quick');
const asJson = process.argv.includes('--json');
const PARTS = ['ingest', 'scaleOut', 'loop', 'embedded', 'broker'];
/** `--only=a,b` runs those parts only (for development); every part runs by default. */
let only = PARTS;
for (const arg of process.argv.slice(2))
  if (arg.startsWith('--only=')) only = arg.slice(7).split(',');
  else if (arg !== '--quick' && arg !== '--json') {
    process.stderr.write(`unknown argument: ${arg}\nusage: tsx bench/scale.ts [--quick] [--json] [--only=${PARTS.join(',')}]\n`);
    process.exit(2);
  }

const LIMITS = quick
  ? {
      scaleOutSignals: 3000,
      loopCustomers: 300,
      warmDays: 1,
      latencySeconds: 1,
      searchRates: [250, 500, 1000],
      stepSeconds: 1,
      searchBudgetSeconds: 10,
      embeddedSeconds: 2,
      requestTimeoutMs: 5000,
      brokerMessages: 5000,
      brokerSeconds: 2,
    }
  : {
      scaleOutSignals: 10_000,
      loopCustomers: 2000,
      warmDays: 3,
      latencySeconds: 10,
      searchRates: [250, 500, 750, 1000, 1500, 2000, 3000],
      stepSeconds: 8,
      searchBudgetSeconds: 120,
      embeddedSeconds: 20,
      requestTimeoutMs: 30_000,
      brokerMessages: 200_000,
      brokerSeconds: 10,
    };
const TARGETS = {
  ingestPostgres: 0.4,
  ingestPglite: 0.3,
  latencyP99Ms: 50,
  throughputP99Ms: 100,
  embeddedP99Ms: 100,
  embeddedMaxWaitMs: 1000,
};
const RATE = 500;
const NATS_URL = process.env.ACS_NATS_URL;
const BUS_LABEL = NATS_URL ? 'NATS JetStream (ACS_NATS_URL)' : 'the outbox bus (PostgreSQL, FOR UPDATE SKIP LOCKED; ACS_NATS_URL unset)';

const report: Record<string, unknown> = { bench: 'scale', quick, node: process.version, cores: (await import('node:os')).cpus().length };
const out: string[] = [];
const say = (line = '') => {
  out.push(line);
  if (!asJson) process.stdout.write(line + '\n');
};
const verdict = (met: boolean) => (met ? 'MET' : 'NOT MET');
const notMeasured = (key: string, why: string) => {
  report[key] = { measured: false, why };
  say(`  not measured: ${why}`);
};

// ---------------------------------------------------------------------------------------------
// 1. Ingest, batch 1,000, against the same database's set-based raw insert

async function ingest(pgReason: string | null) {
  say("1. Ingest, batch 1,000, in process (ingestSignals + the outbox bus to features), vs the same database's set-based raw insert");
  const limits = quick ? INGEST_QUICK : INGEST_FULL;
  const rows: Record<string, unknown> = {};
  const one = async (db: Db, backend: 'pglite' | 'postgres', label: string) => {
    const r = await runBackend(db, backend, limits, [1000]);
    const target = backend === 'postgres' ? TARGETS.ingestPostgres : TARGETS.ingestPglite;
    const big = r.ingest[0]!;
    rows[backend] = {
      path: label,
      signalsPerSec: Math.round(big.perSecond),
      rawSetBasedPerSec: Math.round(r.raw.setBased.perSecond),
      share: big.ratioSetBased,
      target,
      met: big.ratioSetBased >= target,
      ledgerOk: r.checks.ledgerOk,
    };
    say(
      `  ${label}: ${fmt(big.perSecond)} signals/s; raw set-based ${fmt(r.raw.setBased.perSecond)} rows/s; share ${pct(big.ratioSetBased)} (target >= ${pct(target)}) -> ${verdict(big.ratioSetBased >= target)}`,
    );
  };
  const lite = await openPglite();
  try {
    await one(lite, 'pglite', 'PGlite in memory');
  } finally {
    await lite.close();
  }
  if (pgReason) rows.postgres = { measured: false, why: pgReason };
  else await withPostgresSchema(postgresUrl(), (db, label) => one(db, 'postgres', label));
  if (pgReason) say(`  PostgreSQL not measured: ${pgReason}`);
  report.ingest = rows;
}

// ---------------------------------------------------------------------------------------------
// 2. Scale-out: 2 acs worker processes against 1, draining a backlog preloaded through the API

interface Drain {
  workers: number;
  backlogSignals: number;
  backlogEvents: number;
  seconds: number;
  eventsPerSec: number;
  signalsPerSec: number;
  /** Share of samples during the drain in which some backend of this database waited on a lock. */
  lockWaitShare: number;
  waitedOn: string | null;
  cpu: { workersSec: number; dbSec: number | null; machineBusyShare: number | null; wallSec: number };
}

async function scaleOut(pgReason: string | null) {
  say('');
  say(`2. Scale-out: acs worker processes draining a backlog on PostgreSQL, bus: ${BUS_LABEL}`);
  if (pgReason) return notMeasured('scaleOut', `PostgreSQL unreachable (${pgReason})`);
  const fresh = await freshDatabase(postgresUrl(), 'acs_bench_scale');
  const dataDirs: string[] = [];
  const admin = `bench-${randomBytes(12).toString('hex')}`;
  const env = (name: string): NodeJS.ProcessEnv => {
    const dir = mkdtempSync(join(tmpdir(), `acs-bench-${name}-`));
    dataDirs.push(dir);
    return {
      DATABASE_URL: fresh.url,
      ACS_DATA_DIR: dir,
      ACS_ADMIN_TOKEN: admin,
      ACS_PORT: '0',
      ACS_HOST: '127.0.0.1',
      ACS_LOG_LEVEL: 'info',
      ACS_AGENTS: 'on',
      ...(NATS_URL ? { ACS_NATS_URL: NATS_URL } : {}),
    };
  };
  const db = await openPostgres(fresh.url);
  let api: Child | undefined;
  try {
    await migrate(db);
    const customers = makeCustomers(quick ? 300 : 2000);
    await seedCustomers(db, customers);
    api = spawnAcs('api', ['serve', '--no-worker'], env('api'));
    const base = String((await api.waitFor('ACS listening on', 60_000)).url);
    const factory = new SignalFactory(0x5ca1e, customers, 'scale', Date.now());
    const backlog = async () => (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE state = 'pending'"))[0]!.n;
    const delivered = async () => (await db.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE state = 'delivered'"))[0]!.n;
    const dbCpu = async () => {
      const pids = await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()');
      const m = new Map<number, number>();
      for (const { pid } of pids) {
        const s = cpuSeconds(pid);
        if (s !== null) m.set(pid, s);
      }
      return m;
    };
    const runs: Drain[] = [];
    // Alternating rounds, the best of each kept: on a shared machine, other work slows some rounds at random.
    for (const k of quick ? [1, 2] : [1, 2, 1, 2]) {
      // Preload with every worker stopped: the API takes the signals in and the events wait in the backlog.
      const n = LIMITS.scaleOutSignals;
      progress(`scale-out: preloading ${n} signals through ${base} (100 per request, no worker running)`);
      const bodies: string[] = [];
      for (let i = 0; i < n; i += 100) bodies.push(JSON.stringify(factory.batch(Math.min(100, n - i))));
      for (let i = 0; i < bodies.length; i += 4)
        await Promise.all(
          bodies.slice(i, i + 4).map(async (body) => {
            const res = await fetch(`${base}/api/v1/signals`, {
              method: 'POST',
              headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
              body,
              signal: AbortSignal.timeout(60_000),
            });
            if (res.status !== 202) throw new Error(`preload: POST /api/v1/signals answered ${res.status}: ${await res.text()}`);
            await res.arrayBuffer();
          }),
        );
      const events = await backlog();
      progress(`scale-out: ${events} events pending; starting ${k} worker(s)`);
      // The workers start while the bench holds a lock that stops them claiming events, so their start-up (imports,
      // the churn model) is neither timed nor counted in their CPU; the clock starts when the lock goes.
      const gate = new pg.Client({ connectionString: fresh.url });
      await gate.connect();
      let workers: Child[];
      try {
        await gate.query('BEGIN');
        await gate.query('LOCK TABLE outbox IN EXCLUSIVE MODE');
        workers = Array.from({ length: k }, (_, i) => spawnAcs(`worker${i + 1}`, ['worker'], env(`worker${i + 1}`)));
        await Promise.all(workers.map((w) => w.waitFor('ACS worker running', 120_000)));
        await sleep(500);
      } catch (err) {
        await gate.end();
        throw err;
      }
      const deliveredAt0 = await delivered();
      const workerCpu0 = workers.map((w) => cpuSeconds(w.child.pid!) ?? 0);
      const db0 = await dbCpu();
      const m0 = machineCpu();
      const t0 = performance.now();
      await gate.query('COMMIT');
      await gate.end();
      const deadline = t0 + (quick ? 60_000 : 300_000);
      // Sampled while it drains: how often this database's backends wait on a lock (rows, advisory locks).
      let samples = 0;
      let lockWaits = 0;
      const waitedOn = new Map<string, number>();
      while ((await backlog()) > 0) {
        if (performance.now() > deadline)
          throw new Error(`scale-out: the backlog did not drain within ${(deadline - t0) / 1000} s with ${k} worker(s)`);
        const waiting = await db.query<{ what: string }>(
          "SELECT wait_event || ': ' || left(regexp_replace(query, '\\s+', ' ', 'g'), 70) AS what FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
        );
        samples++;
        if (waiting.length > 0) lockWaits++;
        for (const { what } of waiting) waitedOn.set(what, (waitedOn.get(what) ?? 0) + 1);
        await sleep(20);
      }
      const seconds = (performance.now() - t0) / 1000;
      const drainedEvents = (await delivered()) - deliveredAt0;
      const workersSec = workers.reduce((a, w, i) => a + (cpuSeconds(w.child.pid!) ?? 0) - workerCpu0[i]!, 0);
      const db1 = await dbCpu();
      let dbSec: number | null = db1.size ? 0 : null;
      for (const [pid, s] of db1) dbSec! += s - (db0.get(pid) ?? 0);
      const m1 = machineCpu();
      const machineBusyShare = m0 && m1 ? (m1.busy - m0.busy) / (m1.total - m0.total) : null;
      await Promise.all(workers.map((w) => stopChild(w)));
      const run: Drain = {
        workers: k,
        backlogSignals: n,
        backlogEvents: events,
        seconds: round(seconds, 2),
        eventsPerSec: Math.round(drainedEvents / seconds),
        signalsPerSec: Math.round(n / seconds),
        lockWaitShare: samples ? round(lockWaits / samples, 3) : 0,
        // The lock and the statement waited on most often.
        waitedOn: [...waitedOn].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null,
        cpu: {
          workersSec: round(workersSec, 2),
          dbSec: dbSec === null ? null : round(dbSec, 2),
          machineBusyShare: machineBusyShare === null ? null : round(machineBusyShare, 3),
          wallSec: round(seconds, 2),
        },
      };
      runs.push(run);
      say(
        `  ${k} worker${k > 1 ? 's' : ' '}: ${n} signals (${events} events) drained in ${run.seconds.toFixed(2)} s = ${fmt(run.signalsPerSec)} signals/s (${fmt(run.eventsPerSec)} events/s); ` +
          `CPU: workers ${run.cpu.workersSec} s, this database's backends ${run.cpu.dbSec ?? 'n/a'} s, machine ${run.cpu.machineBusyShare === null ? 'n/a' : pct(run.cpu.machineBusyShare)} busy; a backend waiting on a lock in ${pct(run.lockWaitShare)} of samples${run.waitedOn ? ` (most often ${run.waitedOn})` : ''}`,
      );
    }
    const best = (k: number) => runs.filter((r) => r.workers === k).sort((a, b) => b.signalsPerSec - a.signalsPerSec)[0]!;
    const ratio = best(2).signalsPerSec / best(1).signalsPerSec;
    const two = best(2);
    const acsCpuShare = (two.cpu.workersSec + (two.cpu.dbSec ?? 0)) / (two.seconds * Number(report.cores));
    const busy = two.cpu.machineBusyShare;
    const limiter =
      two.lockWaitShare > 0.3
        ? `lock waits in the database: a backend waited on a lock in ${pct(two.lockWaitShare)} of samples, most often ${two.waitedOn}`
        : busy !== null && busy > 0.85
          ? `the machine's ${report.cores} cores, ${pct(busy)} busy, of which ACS (workers and this database's backends) used ${pct(acsCpuShare)}: the rest was other work on the machine`
          : two.cpu.dbSec !== null && two.cpu.dbSec > two.cpu.workersSec
            ? 'the database: its backends used more CPU than the workers'
            : "the workers' own CPU and their round trips to the database";
    say(`  ratio 2 workers / 1 worker (best round of each): ${ratio.toFixed(2)}x; limited by ${limiter}`);
    report.scaleOut = {
      path: `acs serve --no-worker preloads over HTTP; acs worker child processes drain; ${BUS_LABEL}`,
      bus: NATS_URL ? 'nats' : 'outbox',
      runs,
      ratio: round(ratio, 3),
      limitedBy: limiter,
    };
  } finally {
    if (api) await stopChild(api);
    await db.close();
    await fresh.drop().catch((err: unknown) => progress(`scale-out: could not drop database ${fresh.name}: ${String(err)}`));
    for (const d of dataDirs) rmSync(d, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// 3 and 4. Latency at 500 signals/s, and the highest rate with p99 <= 100 ms, over HTTP on loopback

async function loop(setup: LoopSetup, backend: string, tag: string) {
  const http = await serveOnLoopback(setup);
  const path = `over HTTP on loopback to the app served in the bench's process, ${backend}, agents on, outbox bus, ${LIMITS.loopCustomers} customers`;
  let day = setup.warmDays;
  try {
    const latency = await measureLoad(setup, {
      size: 1,
      rate: RATE,
      seconds: LIMITS.latencySeconds,
      firstDay: day,
      base: http.base,
      tag: `lat-${tag}`,
    });
    day += 40;
    const metLatency = latency.p99Ms <= TARGETS.latencyP99Ms && latency.errors === 0;
    say(
      `  latency, ${backend}: ${fmt(latency.signals)} signals at ${RATE}/s, 1 per request: p50 ${latency.p50Ms} ms, p99 ${latency.p99Ms} ms, max ${latency.maxMs} ms, ${latency.errors} failed requests${latency.firstError ? ` (first: ${latency.firstError})` : ''} (achieved ${latency.achievedRate}/s; target p99 <= ${TARGETS.latencyP99Ms} ms) -> ${verdict(metLatency)}`,
    );
    // The step search: each rate for a few seconds, 10 signals per request, until p99 passes 100 ms or time runs out.
    const steps: LoadResult[] = [];
    let best: LoadResult | null = null;
    const started = performance.now();
    for (const rate of LIMITS.searchRates) {
      if ((performance.now() - started) / 1000 > LIMITS.searchBudgetSeconds) break;
      const step = await measureLoad(setup, {
        size: 10,
        rate,
        seconds: LIMITS.stepSeconds,
        firstDay: day,
        base: http.base,
        tag: `tp-${tag}-${rate}`,
      });
      day += 40;
      steps.push(step);
      progress(`throughput ${backend}: ${rate}/s -> p99 ${step.p99Ms} ms, achieved ${step.achievedRate}/s`);
      // Sustained: p99 within the bound and the offered rate achieved (a server that falls behind shows in both).
      if (step.p99Ms > TARGETS.throughputP99Ms || step.achievedRate < rate * 0.9 || step.errors > 0) break;
      best = step;
    }
    say(
      `  throughput, ${backend}: highest sustained rate with p99 <= ${TARGETS.throughputP99Ms} ms: ${best ? `${fmt(best.offeredRate)} signals/s (p99 ${best.p99Ms} ms)` : `none of the rates tried (the lowest, ${LIMITS.searchRates[0]}/s, gave p99 ${steps[0]?.p99Ms} ms)`}; ` +
        `steps: ${steps.map((s) => `${s.offeredRate}/s p99 ${s.p99Ms} ms${s.errors ? ` ${s.errors} failed` : ''}`).join(', ')}; 10 signals per request, ${LIMITS.stepSeconds} s a step`,
    );
    const ledger = await verifyLedger(setup.db);
    if (!ledger.ok) throw new Error(`${backend}: the ledger does not verify after the load: ${ledger.problem ?? ''}`);
    return {
      path,
      latency: { ...latency, targetP99Ms: TARGETS.latencyP99Ms, met: metLatency },
      throughput: {
        bestRate: best?.offeredRate ?? null,
        bestP99Ms: best?.p99Ms ?? null,
        steps,
        targetP99Ms: TARGETS.throughputP99Ms,
        stepSeconds: LIMITS.stepSeconds,
        requestSize: 10,
      },
      ledgerEntries: ledger.entries,
    };
  } finally {
    await http.close();
    await setup.services.bus.stop();
  }
}

async function loops(pgReason: string | null) {
  say('');
  say(
    `3-4. Signal to decision (scheduled send -> the bus delivery that ran the agents committed) and throughput with p99 <= ${TARGETS.throughputP99Ms} ms`,
  );
  const results: Record<string, unknown> = {};
  const dataDir = mkdtempSync(join(tmpdir(), 'acs-bench-scale-pgdata-'));
  try {
    const lite = await openPglite(dataDir);
    try {
      progress(`loop on PGlite (on disk): ${LIMITS.loopCustomers} customers, ${LIMITS.warmDays} warm-up days`);
      results.pglite = await loop(await setUpLoop(lite, LIMITS.loopCustomers, LIMITS.warmDays), 'PGlite on disk', 'pglite');
    } finally {
      await lite.close();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (pgReason) {
    results.postgres = { measured: false, why: pgReason };
    say(`  PostgreSQL not measured: ${pgReason}`);
  } else
    await withPostgresSchema(postgresUrl(), async (db) => {
      progress(`loop on PostgreSQL: ${LIMITS.loopCustomers} customers, ${LIMITS.warmDays} warm-up days`);
      results.postgres = await loop(await setUpLoop(db, LIMITS.loopCustomers, LIMITS.warmDays), 'PostgreSQL', 'postgres');
    });
  report.loop = results;
}

// ---------------------------------------------------------------------------------------------
// 5. The embedded default: `acs serve --load-demo --world` on PGlite, as `npm start` runs it

async function embedded() {
  say('');
  say(
    `5. The embedded default: acs serve --load-demo --world (npm start's command, without the console build), PGlite, agents on, over HTTP`,
  );
  const dataDir = mkdtempSync(join(tmpdir(), 'acs-bench-embedded-'));
  const admin = `bench-${randomBytes(12).toString('hex')}`;
  // No DATABASE_URL and no NATS: the embedded database and bus, as npm start has them. A simulated day every 3 s, so daily runs happen under load.
  const env: NodeJS.ProcessEnv = {
    ACS_DATA_DIR: dataDir,
    ACS_ADMIN_TOKEN: admin,
    ACS_PORT: '0',
    ACS_HOST: '127.0.0.1',
    ACS_LOG_LEVEL: 'info',
    ACS_AGENTS: 'on',
    ACS_WORLD_DAY_SECONDS: '3',
    DATABASE_URL: undefined,
    ACS_NATS_URL: undefined,
  };
  let server: Child | undefined;
  try {
    server = spawnAcs('embedded', ['serve', '--load-demo', '--world'], env);
    const base = String((await server.waitFor('ACS listening on', 120_000)).url);
    await server.waitFor('live world running', 300_000);
    // The load starts once the server answers a light request quickly three times running (bounded): after start-up's
    // own work, so the figure is the steady state, not the boot.
    const settleStart = performance.now();
    let quickAnswers = 0;
    while (quickAnswers < 3 && performance.now() - settleStart < (quick ? 20_000 : 60_000)) {
      const t = performance.now();
      const ok = await fetch(`${base}/api/v1/me`, {
        headers: { authorization: `Bearer ${admin}` },
        signal: AbortSignal.timeout(5000),
      }).then(
        async (r) => (await r.arrayBuffer(), r.status === 200),
        () => false,
      );
      quickAnswers = ok && performance.now() - t < 200 ? quickAnswers + 1 : 0;
      await sleep(300);
    }
    const settleSeconds = round((performance.now() - settleStart) / 1000, 1);
    progress(`embedded: settled after ${settleSeconds} s (${quickAnswers === 3 ? 'answering quickly' : 'still slow; loading anyway'})`);
    const total = Math.round(RATE * LIMITS.embeddedSeconds);
    const types = ['usage', 'web_visit', 'email_engagement'] as const;
    const body = (i: number) => {
      const customerId = `CUST-${String(1 + ((i * 7919) % 7000)).padStart(6, '0')}`;
      const type = types[i % types.length]!;
      const data =
        type === 'usage'
          ? { feature: 'reports', quantity: 1 + (i % 50), unit: 'events' }
          : type === 'web_visit'
            ? { url: 'https://www.example.com/pricing', durationSeconds: i % 300 }
            : { event: 'opened', campaignId: `cmp-${i % 9}` };
      return JSON.stringify([{ id: `emb-${i}`, type, source: 'bench', subject: { customerId }, data }]);
    };
    const waits: { due: number; done: number }[] = [];
    let errors = 0;
    const requests: Promise<void>[] = [];
    const t0 = performance.now() + 50;
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / RATE;
      const w = due - performance.now();
      if (w > 0) await sleep(w);
      requests.push(
        fetch(`${base}/api/v1/signals`, {
          method: 'POST',
          headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
          body: body(i),
          signal: AbortSignal.timeout(LIMITS.requestTimeoutMs),
        }).then(
          async (res) => {
            await res.arrayBuffer();
            if (res.status !== 202) errors++;
            waits.push({ due, done: performance.now() });
          },
          () => {
            errors++;
            waits.push({ due, done: performance.now() });
          },
        ),
      );
    }
    await Promise.all(requests);
    const end = performance.now();
    const sorted = waits.map((w) => w.done - w.due).sort((a, b) => a - b);
    const p99 = round(percentile(sorted, 99));
    const max = round(sorted[sorted.length - 1] ?? NaN);
    const inWindow = (l: Record<string, unknown>) => typeof l.at === 'number' && l.at >= t0 && l.at <= end;
    const dailyRuns = server.lines.filter((l) => l.msg === 'daily run' && inWindow(l)).length;
    const worldDays = server.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith('simulated day') && inWindow(l)).length;
    const over1s = sorted.filter((x) => x > TARGETS.embeddedMaxWaitMs).length;
    const met = p99 <= TARGETS.embeddedP99Ms && over1s === 0 && errors === 0;
    say(
      `  ${fmt(total)} signals at ${RATE}/s, 1 per request, over ${LIMITS.embeddedSeconds} s: request p99 ${p99} ms, longest wait ${max} ms, ${over1s} requests waited > 1 s, ${errors} errors; ` +
        `${dailyRuns} daily runs and ${worldDays} simulated days finished during the load (target p99 <= ${TARGETS.embeddedP99Ms} ms, none > 1 s) -> ${verdict(met)}`,
    );
    if (dailyRuns === 0) say('  (no daily run finished inside the window, so "while the daily run worked" is not shown by this run)');
    report.embedded = {
      path: 'acs serve --load-demo --world child process, PGlite in a data dir, agents on, HTTP on loopback; wait = scheduled send to the 202 answer',
      signals: total,
      rate: RATE,
      p99Ms: p99,
      maxMs: max,
      over1s,
      errors,
      settleSeconds,
      dailyRunsInWindow: dailyRuns,
      worldDaysInWindow: worldDays,
      met,
    };
  } finally {
    if (server) await stopChild(server, 20_000);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// 6. The broker's ceiling: acked JetStream publishes per second

async function natsAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = netConnect({ host, port });
    const done = (ok: boolean) => {
      s.destroy();
      resolve(ok);
    };
    s.setTimeout(1000, () => done(false));
    s.once('data', (d) => done(d.toString().startsWith('INFO')));
    s.once('error', () => done(false));
  });
}

async function broker() {
  say('');
  say("6. Broker ceiling: a JetStream publish loop (acked publishes/s, @nats-io/jetstream), beside ACS's rates above");
  const server = NATS_URL ?? ((await natsAnswers('127.0.0.1', 4222)) ? 'nats://127.0.0.1:4222' : null);
  if (!server) return notMeasured('broker', 'ACS_NATS_URL is unset and no NATS answers on 127.0.0.1:4222');
  const { connect } = await import('@nats-io/transport-node');
  const { jetstream, jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connect({ servers: server, timeout: 5000 });
  const name = `BENCH_SCALE_${randomBytes(5).toString('hex').toUpperCase()}`;
  const subject = `bench.scale.${name.toLowerCase()}`;
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.add({ name, subjects: [subject], max_msgs: LIMITS.brokerMessages + 1000 });
    const js = jetstream(nc);
    // A signal-sized payload; 256 publishes in flight, as a relay with a window would keep them.
    const payload = new TextEncoder().encode(body512());
    const window = 256;
    let sent = 0;
    let acked = 0;
    const t0 = performance.now();
    const until = t0 + LIMITS.brokerSeconds * 1000;
    const worker = async () => {
      while (sent < LIMITS.brokerMessages && performance.now() < until) {
        sent++;
        await js.publish(subject, payload, { msgID: `${name}-${sent}` });
        acked++;
      }
    };
    await Promise.all(Array.from({ length: window }, worker));
    const seconds = (performance.now() - t0) / 1000;
    const perSec = acked / seconds;
    say(
      `  ${redact(server)}: ${fmt(acked)} acked publishes in ${seconds.toFixed(2)} s = ${fmt(perSec)}/s (file storage, 512-byte messages, ${window} in flight, Nats-Msg-Id set)`,
    );
    report.broker = {
      measured: true,
      server: redact(server),
      acked,
      seconds: round(seconds, 2),
      perSec: Math.round(perSec),
      inFlight: window,
      payloadBytes: 512,
    };
  } finally {
    await jsm.streams.delete(name).catch(() => undefined);
    await nc.close();
  }
}

function body512(): string {
  const base = JSON.stringify({
    id: 'x',
    type: 'usage',
    source: 'bench',
    subject: { customerId: 'BC-000001' },
    data: { feature: 'reports', quantity: 1 },
  });
  return base + ' '.repeat(Math.max(0, 512 - base.length));
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const started = performance.now();
  say(`ACS scale benchmark${quick ? ' (--quick)' : ''}: ${report.cores} cores; figures are one run, ratios from the same run`);
  say(`bus for acs worker processes: ${BUS_LABEL}; in-process parts use the outbox bus`);
  say('');
  const url = postgresUrl();
  const unreachable = await probePostgres(url);
  const pgReason = unreachable ? `cannot connect to ${redact(url)}: ${unreachable}` : null;
  const parts: Record<string, number> = {};
  const part = async (name: string, fn: () => Promise<unknown>) => {
    if (!only.includes(name)) return;
    const t = performance.now();
    await fn();
    parts[name] = round((performance.now() - t) / 1000, 1);
    progress(`${name} took ${parts[name]} s`);
  };
  await part('ingest', () => ingest(pgReason));
  await part('scaleOut', () => scaleOut(pgReason));
  await part('loop', () => loops(pgReason));
  await part('embedded', embedded);
  await part('broker', broker);
  report.partSeconds = parts;
  report.seconds = round((performance.now() - started) / 1000, 1);
  say('');
  say(
    `done in ${report.seconds} s (${Object.entries(parts)
      .map(([k, v]) => `${k} ${v} s`)
      .join(', ')})`,
  );
  if (asJson) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  else process.stdout.write(`BENCH_JSON ${JSON.stringify(report)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
