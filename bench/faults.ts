/**
 * Fault runs: kill -9 one process again and again while a client sends signals, then check what the database holds.
 *
 *   npx tsx bench/faults.ts --scenario api|worker|embedded|connections [--signals N] [--kills K] [--seed S] [--json]
 *
 * api and worker need DATABASE_URL (a fresh database is made on that server and dropped after); with ACS_NATS_URL
 * set, the processes get it too. Exits 1 when a check fails. See docs/faults.md.
 */
import { parseArgs } from 'node:util';
import { DEFAULTS, failures, formatReport, runFaultScenario, type Scenario } from '../test/faults/harness.ts';

const { values } = parseArgs({
  options: {
    scenario: { type: 'string' },
    signals: { type: 'string' },
    kills: { type: 'string' },
    seed: { type: 'string' },
    batch: { type: 'string' },
    customers: { type: 'string' },
    'timeout-s': { type: 'string' },
    json: { type: 'boolean' },
  },
});
const scenario = values.scenario as Scenario;
if (!['api', 'worker', 'embedded', 'connections'].includes(scenario)) {
  console.error('usage: tsx bench/faults.ts --scenario api|worker|embedded|connections [--signals N] [--kills K] [--seed S] [--json]');
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
  log: values.json ? undefined : (line) => console.error(line),
});
console.log(values.json ? JSON.stringify(report) : formatReport(report));
const failed = failures(report);
if (failed.length) console.error(`FAILED: ${failed.join('; ')}`);
process.exit(failed.length ? 1 : 0);
