/**
 * Governed-loop benchmark on the embedded default (PGlite in a data directory on disk), over the Telco customers after a few simulated days:
 *
 * 1. proposals/s: every agent's `propose` over every customer's context (pure, in memory);
 * 2. decisions/s through policy: arbitration and Cedar in rank order for each customer with proposals (pure);
 * 3. signal-to-decision latency at a steady load: signals are POSTed to the real HTTP app (in process) on a
 *    fixed schedule; a signal's latency runs from its scheduled send time (so a slow server cannot hide
 *    queueing) until the bus delivery that refreshed its features and ran the agents has committed.
 *
 *   npx tsx bench/decide-loop.ts [--quick]
 *
 * Prints a table and a `BENCH_JSON {...}` line. See bench/README.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { createToken } from '../src/api/auth.ts';
import { verifyLedger } from '../src/ledger/index.ts';
import { inHoldout } from '../src/learn/index.ts';
import { holdoutKey, judgeSubject, loadContexts } from '../src/loop/index.ts';
import { AGENTS, ChurnModel, DEFAULT_RULES, loadAgentSettings, loadChurnExamples, trainingFingerprint } from '../src/reason/index.ts';
import { SIGNALS_ACCEPTED, type SignalsAcceptedEvent } from '../src/sense/index.ts';
import { simDay, simulateDay } from '../src/sim/index.ts';
import { createServices } from '../src/server.ts';
import { migrate, openPglite } from '../src/store/index.ts';
import { AcceleratedClock, importFirstCustomers, seedContactsAndConsents, WorldDriver, worldFromDatabase } from '../src/world/index.ts';

const quick = process.argv.includes('--quick');
const CUSTOMERS = quick ? 500 : 7043;
const WARM_DAYS = quick ? 2 : 5;
const RATE = 500;
const LOAD_SECONDS = quick ? 3 : 20;
/** Signals per request, as a connector flushing every 20 ms would send them; batch 1 is measured too. */
const REQUEST_SIZES = quick ? [10] : (process.env.BENCH_SIZES ?? '10,1').split(',').map(Number);
const TARGET_P99_MS = 50;
const SEED = 7;
const START = '2026-01-05T00:00:00.000Z';
const TELCO = fileURLToPath(new URL('../data/telco_churn.csv', import.meta.url));

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const round = (x: number, digits = 1) => +x.toFixed(digits);

async function setUp() {
  // On disk, as `npm start` keeps it: the embedded default is PGlite in a data directory, not in memory.
  const dataDir = mkdtempSync(join(tmpdir(), 'acs-bench-pgdata-'));
  const db = await openPglite(dataDir);
  await migrate(db);
  await importFirstCustomers(db, TELCO, CUSTOMERS, 'bench');
  await seedContactsAndConsents(db, SEED);
  const examples = await loadChurnExamples(db);
  const churn = ChurnModel.train(examples, trainingFingerprint(examples));
  const holdout = { salt: 'bench', fraction: 0.1 };
  // The server's clock continues where the warm-up days end, so the load's signals land in the same calendar.
  const clock = new AcceleratedClock(Date.parse(START) + WARM_DAYS * 86_400_000, 1);
  const services = createServices(db, { maxBodyBytes: 1 << 20 }, pino({ level: 'silent' }), {
    clock,
    loop: { churn: () => churn, holdout, dailyCreditBudgetCents: 100_000_000 },
  });
  // A few simulated days first, so features, open cases and recent actions look like a running system.
  const driver = await WorldDriver.create({
    db,
    bus: services.bus,
    gate: services.gate,
    plays: services.plays,
    world: await worldFromDatabase(db, SEED),
    start: START,
    reviewer: 'sim',
  });
  for (let d = 0; d < WARM_DAYS; d++) await driver.runDay(d);
  return { db, dataDir, services, churn, holdout, driver };
}

type Setup = Awaited<ReturnType<typeof setUp>>;

/** Sections 1 and 2: the pure parts of the loop over every customer's real context. */
async function measurePure({ db, services, churn, holdout }: Setup) {
  const now = new Date(Date.parse(START) + WARM_DAYS * 86_400_000);
  const ids = (await db.query<{ id: string }>('SELECT id FROM accounts ORDER BY id')).map((r) => r.id);
  const contexts = await loadContexts(db, ids, [], now);
  const settings = await loadAgentSettings(db);
  const rounds = quick ? 3 : 10;
  let proposals = 0;
  const t0 = performance.now();
  const draftsByContext = [];
  for (let r = 0; r < rounds; r++) {
    for (const ctx of contexts) {
      const drafts = AGENTS.flatMap((a) => a.propose(ctx, { churn }));
      proposals += drafts.length;
      if (r === 0 && drafts.length) draftsByContext.push({ ctx, drafts });
    }
  }
  const proposeMs = performance.now() - t0;
  let decisions = 0;
  const t1 = performance.now();
  for (let r = 0; r < rounds; r++) {
    for (const { ctx, drafts } of draftsByContext) {
      const held = inHoldout(holdoutKey(ctx), holdout.salt, holdout.fraction);
      decisions += judgeSubject(
        ctx,
        drafts,
        [],
        { ...DEFAULT_RULES, creditBudgetLeftCents: 1e9 },
        { gate: services.gate, settings, held },
        now,
      ).decided.length;
    }
  }
  const judgeMs = performance.now() - t1;
  return {
    contexts: contexts.length,
    withProposals: draftsByContext.length,
    proposalsPerSec: Math.round(proposals / (proposeMs / 1000)),
    contextsPerSec: Math.round((contexts.length * rounds) / (proposeMs / 1000)),
    decisionsPerSec: Math.round(decisions / (judgeMs / 1000)),
    decisions: decisions / rounds,
  };
}

/** Section 3: a steady stream of signals through the HTTP app, `size` per request, at RATE signals/s. */
async function measureLoad({ db, services, driver }: Setup, size: number, firstDay: number) {
  const token = (await createToken(db, { role: 'agent', name: `bench ${size}` }, 'bench')).token;
  // The world's own next days supply the signals: real subjects, realistic types and payloads.
  const total = RATE * LOAD_SECONDS;
  const pool: Record<string, unknown>[] = [];
  let world = driver.world;
  for (let d = firstDay; pool.length < total && d < firstDay + 60; d++) {
    const day = simulateDay(world, simDay(START, d));
    world = day.world;
    // Without occurredAt, each signal is dated by the server's clock when it arrives.
    for (const s of day.signals) pool.push({ type: s.type, version: s.version, source: 'bench', subject: s.subject, data: s.data });
  }
  if (pool.length < total) throw new Error(`the world made only ${pool.length} signals for ${total}`);
  const signals = pool.slice(0, total).map((s, i) => ({ ...s, id: `bench-${size}-${i}` }));

  const scheduledAt = new Map<string, number>();
  const latencies: number[] = [];
  services.bus.onDelivered((messages) => {
    const done = performance.now();
    for (const m of messages) {
      if (m.topic !== SIGNALS_ACCEPTED) continue;
      for (const id of (m.payload as SignalsAcceptedEvent).signalIds) {
        const at = scheduledAt.get(id);
        if (at !== undefined) latencies.push(done - at);
        scheduledAt.delete(id);
      }
    }
  });
  const [before] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM decisions');
  const intervalMs = (size / RATE) * 1000;
  const requests: Promise<void>[] = [];
  const t0 = performance.now() + 50;
  for (let i = 0; i * size < total; i++) {
    const due = t0 + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const batch = signals.slice(i * size, (i + 1) * size);
    for (const s of batch) scheduledAt.set(s.id, due);
    requests.push(
      Promise.resolve(
        services.app.request('/api/v1/signals', {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(batch),
        }),
      ).then(async (res) => {
        if (res.status !== 202) throw new Error(`POST /api/v1/signals answered ${res.status}: ${await res.text()}`);
      }),
    );
  }
  await Promise.all(requests);
  await services.bus.drain();
  const elapsed = (performance.now() - t0) / 1000;
  const [after] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM decisions');
  if (latencies.length !== total) throw new Error(`only ${latencies.length} of ${total} signals reached a decision`);
  const sorted = latencies.sort((a, b) => a - b);
  return {
    requestSize: size,
    signals: total,
    offeredRate: RATE,
    achievedRate: Math.round(total / elapsed),
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted[sorted.length - 1]!),
    decisions: after!.n - before!.n,
    met: percentile(sorted, 99) <= TARGET_P99_MS,
  };
}

const setup = await setUp();
const pure = await measurePure(setup);
const loads = [];
let day = WARM_DAYS;
for (const size of REQUEST_SIZES) {
  loads.push(await measureLoad(setup, size, day));
  day += 20;
}
const ledger = await verifyLedger(setup.db);
await setup.services.bus.stop();
await setup.db.close();
rmSync(setup.dataDir, { recursive: true, force: true });
if (!ledger.ok) throw new Error('the ledger does not verify after the run');

console.log(`Governed loop on PGlite (on disk): ${CUSTOMERS} Telco customers after ${WARM_DAYS} simulated days${quick ? ' (quick)' : ''}`);
console.log(
  `  agents:  ${pure.proposalsPerSec.toLocaleString('en-US')} proposals/s (${pure.contextsPerSec.toLocaleString('en-US')} customer contexts/s; ${pure.withProposals} of ${pure.contexts} customers get proposals)`,
);
console.log(`  policy:  ${pure.decisionsPerSec.toLocaleString('en-US')} decisions/s through arbitration and Cedar in rank order`);
console.log(`  signal-to-decision at a steady ${RATE} signals/s for ${LOAD_SECONDS} s, through the HTTP app:`);
console.log(
  `  ${'signals/request'.padEnd(16)} ${'achieved/s'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)} ${'decisions'.padStart(10)}  target p99 <= ${TARGET_P99_MS} ms`,
);
for (const l of loads) {
  console.log(
    `  ${String(l.requestSize).padEnd(16)} ${String(l.achievedRate).padStart(10)} ${l.p50Ms.toFixed(1).padStart(8)} ${l.p99Ms.toFixed(1).padStart(8)} ${l.maxMs.toFixed(1).padStart(8)} ${String(l.decisions).padStart(10)}  ${l.met ? 'MET' : 'NOT MET'}`,
  );
}
console.log(`  ledger verified: ${ledger.entries} entries`);
console.log(
  `BENCH_JSON ${JSON.stringify({ bench: 'decide-loop', quick, customers: CUSTOMERS, warmDays: WARM_DAYS, agents: pure, load: loads, targetP99Ms: TARGET_P99_MS, ledgerEntries: ledger.entries })}`,
);
