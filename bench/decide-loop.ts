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
import { verifyLedger } from '../src/ledger/index.ts';
import { inHoldout } from '../src/learn/index.ts';
import { holdoutKey, judgeSubject, loadContexts } from '../src/loop/index.ts';
import { AGENTS, DEFAULT_RULES, loadAgentSettings } from '../src/reason/index.ts';
import { openPglite } from '../src/store/index.ts';
import { LOOP_START, measureLoad, setUpLoop, type LoopSetup } from './loop-load.ts';

const quick = process.argv.includes('--quick');
const CUSTOMERS = quick ? 500 : 7043;
const WARM_DAYS = quick ? 2 : 5;
const RATE = 500;
const LOAD_SECONDS = quick ? 3 : 20;
/** Signals per request, as a connector flushing every 20 ms would send them; batch 1 is measured too. */
const REQUEST_SIZES = quick ? [10] : (process.env.BENCH_SIZES ?? '10,1').split(',').map(Number);
const TARGET_P99_MS = 50;

async function setUp() {
  // On disk, as `npm start` keeps it: the embedded default is PGlite in a data directory, not in memory.
  const dataDir = mkdtempSync(join(tmpdir(), 'acs-bench-pgdata-'));
  const db = await openPglite(dataDir);
  return { ...(await setUpLoop(db, CUSTOMERS, WARM_DAYS)), dataDir };
}

/** Sections 1 and 2: the pure parts of the loop over every customer's real context. */
async function measurePure({ db, services, churn, holdout }: LoopSetup) {
  const now = new Date(Date.parse(LOOP_START) + WARM_DAYS * 86_400_000);
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

const setup = await setUp();
const pure = await measurePure(setup);
const loads = [];
let day = WARM_DAYS;
for (const size of REQUEST_SIZES) {
  const l = await measureLoad(setup, { size, rate: RATE, seconds: LOAD_SECONDS, firstDay: day, tag: String(size) });
  loads.push({ ...l, met: l.p99Ms <= TARGET_P99_MS });
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
