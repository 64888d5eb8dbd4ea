/**
 * Fault runs: kill -9 one process again and again while a client sends signals, then check what the database holds.
 *
 *   npx tsx bench/faults.ts --scenario api|worker|embedded|connections|relay|nats [--signals N] [--kills K] [--seed S]
 *     [--database postgres|embedded] [--outage-ms MS] [--json]
 *
 * api, worker, connections and relay need DATABASE_URL (a fresh database is made on that server and dropped after);
 * with ACS_NATS_URL set, the processes get it too (relay needs it). nats starts its own nats-server (the binary on
 * PATH) and runs on PostgreSQL when DATABASE_URL is set, else on the embedded database (or as --database says); the
 * broker stays down a random while up to --outage-ms (default 2,000) at each stop.
 * Exits 1 when a check fails. See docs/faults.md.
 */
import { parseArgs } from 'node:util';
import { DEFAULTS, failures, formatReport, runFaultScenario, SCENARIOS, type Scenario } from '../test/faults/harness.ts';

const { values } = parseArgs({
  options: {
    scenario: { type: 'string' },
    signals: { type: 'string' },
    kills: { type: 'string' },
    seed: { type: 'string' },
    batch: { type: 'string' },
    customers: { type: 'string' },
    'timeout-s': { type: 'string' },
    database: { type: 'string' },
    'outage-ms': { type: 'string' },
    json: { type: 'boolean' },
  },
});
const scenario = values.scenario as Scenario;
const database = values.database as 'postgres' | 'embedded' | undefined;
if (!SCENARIOS.includes(scenario) || (database && !['postgres', 'embedded'].includes(database))) {
  console.error(
    `usage: tsx bench/faults.ts --scenario ${SCENARIOS.join('|')} [--signals N] [--kills K] [--seed S] [--database postgres|embedded] [--outage-ms MS] [--json]`,
  );
  process.exit(2);
}
const num = (v: string | undefined, d: number) => (v === undefined ? d : Number(v));

const report = await runFaultScenario({
  ...DEFAULTS,
  scenario,
  signals: num(values.signals, DEFAULTS.signals),
  kills: num(values.kills, DEFAULTS.kills),
  seed: num(values.seed, DEFAULTS.seed),
  batch: num(values.batch, DEFAULTS.batch),
  customers: num(values.customers, DEFAULTS.customers),
  timeoutMs: num(values['timeout-s'], 1800) * 1000,
  database,
  outageMs: values['outage-ms'] === undefined ? undefined : Number(values['outage-ms']),
  log: values.json ? undefined : (line) => console.error(line),
});
console.log(values.json ? JSON.stringify(report) : formatReport(report));
const failed = failures(report);
if (failed.length) console.error(`FAILED: ${failed.join('; ')}`);
process.exit(failed.length ? 1 : 0);
