import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULTS, formatReport, killStarted, runFaultScenario, type FaultReport, type Scenario } from './faults/harness.ts';

// Short fault runs (docs/faults.md): kill -9 of one process at random moments while a client sends signals with unique
// ids and resends what was not acknowledged; then nothing acknowledged is lost, nothing is stored or executed twice,
// every approval is consistent and the ledger verifies. The full runs are `npx tsx bench/faults.ts`.

async function run(scenario: Scenario, signals: number, kills: number, database?: 'postgres' | 'embedded'): Promise<FaultReport> {
  const report = await runFaultScenario({
    ...DEFAULTS,
    scenario,
    signals,
    kills,
    seed: Date.now() % 100_000,
    timeoutMs: 240_000,
    database,
    log: (line) => console.log(line),
  });
  console.log(formatReport(report));
  return report;
}

afterAll(killStarted, 30_000);

function expectSurvived(r: FaultReport, signals: number, kills: number) {
  expect(r.kills, 'kills').toBe(kills);
  expect(r.acknowledged, 'every signal acknowledged in the end').toBe(signals);
  expect(r.lost, 'acknowledged signals lost').toBe(0);
  expect(r.reaccepted, 'acknowledged signals a resend took as new').toBe(0);
  expect(r.duplicates, 'signals stored twice').toBe(0);
  expect(r.stored, 'stored').toBe(signals);
  expect(r.doubleExecutions, 'actions executed twice').toBe(0);
  expect(r.approvalsInconsistent, 'approvals inconsistent').toBe(0);
  expect(r.ledgerOk, 'the ledger verifies').toBe(true);
  // The loop acted during the run, so the execution checks checked something.
  expect(r.executions, 'executions').toBeGreaterThan(0);
  expect(r.pendingEvents, 'events left undelivered').toBe(0);
}

describe('kill -9 of the embedded default (acs serve on PGlite, agents on) during ingestion', () => {
  it('restarts on the same data dir with nothing acknowledged lost and nothing done twice', async () => {
    expectSurvived(await run('embedded', 1000, 5), 1000, 5);
  }, 300_000);
});

if (process.env.DATABASE_URL)
  describe('kill -9 on PostgreSQL, one API and one worker process', () => {
    it('of the API (acs serve --no-worker) while the worker runs', async () => {
      expectSurvived(await run('api', 1500, 4), 1500, 4);
    }, 300_000);

    it('of the worker while the API runs', async () => {
      expectSurvived(await run('worker', 1500, 4), 1500, 4);
    }, 300_000);

    it('pg_terminate_backend on the worker’s connections mid-batch: the worker stays up, reconnects and goes on', async () => {
      const r = await run('connections', 1500, 4);
      expectSurvived(r, 1500, 4);
      expect(r.terminated, 'backends terminated').toBeGreaterThanOrEqual(4);
      expect(r.crashes, 'workers that died of it').toBe(0);
    }, 300_000);
  });

// With both PostgreSQL and NATS: the relay on its own, killed; and the broker itself stopped and started again.
if (process.env.DATABASE_URL && process.env.ACS_NATS_URL)
  describe('faults of the NATS backbone on PostgreSQL, one API and one worker process', () => {
    it('kill -9 of the relay (acs relay; the worker and the API run with --no-relay): every event is still handed over once', async () => {
      const r = await run('relay', 1500, 4);
      expectSurvived(r, 1500, 4);
      expect(r.unpublished, 'events never handed to the broker').toBe(0);
    }, 300_000);

    it('NATS stopped (SIGKILL, SIGTERM) and started again mid-stream: the processes stay up and nothing is lost or done twice', async () => {
      const r = await run('nats', 1500, 4, 'postgres');
      expectSurvived(r, 1500, 4);
      expect(r.unpublished, 'events never handed to the broker').toBe(0);
      expect(r.crashes, 'processes that died of it').toBe(0);
    }, 300_000);
  });

// The CI suite with the bus on NATS runs on the embedded database: the broker stopped and started again there too.
if (process.env.ACS_NATS_URL && !process.env.DATABASE_URL)
  describe('NATS stopped and started again mid-stream, on the embedded database (acs serve, agents on)', () => {
    it('the server stays up and nothing is lost or done twice', async () => {
      const r = await run('nats', 1000, 4, 'embedded');
      expectSurvived(r, 1000, 4);
      expect(r.unpublished, 'events never handed to the broker').toBe(0);
      expect(r.crashes, 'processes that died of it').toBe(0);
    }, 300_000);
  });
