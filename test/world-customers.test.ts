import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileTransport, startMaintenance } from '../src/act/index.ts';
import { createToken } from '../src/api/auth.ts';
import { verifyLedger } from '../src/ledger/index.ts';
import { runScheduledAgents } from '../src/loop/index.ts';
import { ChurnModel, loadChurnExamples, trainingFingerprint } from '../src/reason/index.ts';
import { createServices, type Services } from '../src/server.ts';
import type { SimOutcome } from '../src/sim/index.ts';
import type { Db } from '../src/store/index.ts';
import {
  AcceleratedClock,
  importFirstCustomers,
  openWorldClock,
  seedContactsAndConsents,
  startLiveWorld,
  WorldDriver,
  worldFromDatabase,
} from '../src/world/index.ts';
import { openTestDb, stopTestBus, testNats } from './helpers.ts';

const TELCO = fileURLToPath(new URL('../data/telco_churn.csv', import.meta.url));
const START = '2026-01-05T00:00:00.000Z';
const DAY_MS = 86_400_000;
const CUSTOMERS = 300;
const DAYS = 14;

/**
 * The world behaves like customers (issue 13, §5): after 14 simulated days through ACS, cases close with handle times
 * and SLA clocks, the queue is worked, and the offer bandits have recorded the customers' answers.
 */
describe('the world after 14 simulated days', () => {
  let db: Db;
  let services: Services;
  let token: string;
  let driver: WorldDriver;
  const outcomes: SimOutcome[] = [];
  let now = new Date(START);
  const get = async (path: string) => {
    const res = await services.app.request(path, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    return (await res.json()) as any;
  };

  beforeAll(async () => {
    db = await openTestDb();
    await importFirstCustomers(db, TELCO, CUSTOMERS, 'test');
    await seedContactsAndConsents(db, 7);
    const examples = await loadChurnExamples(db);
    const churn = ChurnModel.train(examples, trainingFingerprint(examples));
    const loop = { churn: () => churn, holdout: { salt: 'world-test', fraction: 0.1 }, dailyCreditBudgetCents: 100_000 };
    // The API reads the business clock: the end of the last simulated day.
    services = createServices(db, { maxBodyBytes: 1 << 20, nats: testNats() }, pino({ level: 'silent' }), {
      clock: { now: () => now },
      loop,
    });
    token = (await createToken(db, { role: 'admin', name: 'world test' }, 'test')).token;
    driver = await WorldDriver.create({
      db,
      bus: services.bus,
      gate: services.gate,
      plays: services.plays,
      world: await worldFromDatabase(db, 7),
      start: START,
      reviewer: 'sim',
      daily: (at) => runScheduledAgents(db, { ...loop, gate: services.gate }, at),
    });
    for (let d = 0; d < DAYS; d++) {
      outcomes.push(...(await driver.runDay(d)).outcomes);
      now = new Date(Date.parse(START) + (d + 1) * DAY_MS);
    }
    await services.bus.drain();
  }, 180_000);
  afterAll(async () => {
    if (services) await stopTestBus(services.bus);
    await db?.close();
  });

  it('leaves out customers whose subscription is cancelled: they are not simulated and send nothing', async () => {
    const cancelled = await db.query<{ customer_id: string }>(
      "SELECT a.customer_id FROM accounts a JOIN subscriptions s ON s.account_id = a.id WHERE s.status = 'cancelled'",
    );
    // The Telco file labels about a quarter of its customers as churned; the importer records them as cancelled.
    expect(cancelled.length).toBeGreaterThan(CUSTOMERS / 10);
    const simulated = new Set(driver.world.customers.map((c) => c.input.customerId));
    expect(simulated.size).toBe(CUSTOMERS - cancelled.length);
    for (const c of cancelled) expect(simulated.has(c.customer_id)).toBe(false);
    const [sent] = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM signals g JOIN subscriptions s ON s.account_id = g.account_id
       WHERE g.source = 'sim' AND s.status = 'cancelled'`,
    );
    expect(sent!.n).toBe(0);
    // Customers who churn in the world fall silent after the day they left.
    const churned = outcomes.filter((o) => o.type === 'churned');
    expect(churned.length).toBeGreaterThan(0);
    for (const o of churned) {
      const [later] = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM signals g JOIN accounts a ON a.id = g.account_id
         WHERE a.customer_id = $1 AND g.source = 'sim' AND g.type <> 'outcome' AND g.occurred_at >= $2::timestamptz`,
        [o.customerId, new Date(Date.parse(START) + (o.day + 1) * DAY_MS).toISOString()],
      );
      expect(later!.n).toBe(0);
    }
  });

  it('closes cases as they are resolved, so handle time, first-contact resolution and SLA compliance are measured', async () => {
    const resolved = outcomes.filter((o) => o.type === 'case_resolved');
    expect(resolved.length).toBeGreaterThan(0);
    // Every resolution names the ACS case it closed, and that case is resolved at the resolution's time.
    for (const o of resolved) {
      expect(o.caseId).toMatch(/^case_/);
      const [c] = await db.query<{ status: string; closed_at: Date; opened_at: Date }>(
        'SELECT status, closed_at, opened_at FROM cases WHERE id = $1',
        [o.caseId],
      );
      expect(c!.status).toBe('resolved');
      expect(new Date(c!.closed_at).toISOString()).toBe(o.occurredAt);
      expect(new Date(c!.closed_at).getTime()).toBeGreaterThan(new Date(c!.opened_at).getTime());
    }
    const kpis = await get(`/api/v1/kpis?days=${DAYS}`);
    const op = kpis.metrics.operational;
    expect(op.handleTime.value).toBeGreaterThan(0);
    expect(op.firstContactResolution.value).toBeGreaterThan(0);
    expect(op.firstContactResolution.value).toBeLessThanOrEqual(1);
    expect(op.slaCompliance.value).toBeGreaterThan(0);
    expect(op.slaCompliance.value).toBeLessThanOrEqual(1);
  });

  it('works the queue: approvals are decided, none expires unreviewed', async () => {
    const rows = await db.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM approvals GROUP BY status');
    const by = Object.fromEntries(rows.map((r) => [r.status, r.n]));
    expect((by.approved ?? 0) + (by.rejected ?? 0)).toBeGreaterThan(0);
    expect(by.expired ?? 0).toBe(0);
  });

  it("records the customers' answers to offers on the offer bandit, through the action they answer", async () => {
    const answers = outcomes.filter((o) => o.type === 'offer_accepted' || o.type === 'offer_declined');
    expect(answers.length).toBeGreaterThan(0);
    for (const o of answers) expect(o.actionKey).toBeTruthy();
    const keys = answers.map((o) => o.actionKey!);
    const [known] = await db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM executions WHERE idempotency_key = ANY($1::text[]) AND action = 'offer_credit'",
      [keys],
    );
    expect(known!.n).toBe(new Set(keys).size);
    const bandits = await get('/api/v1/bandits');
    const offer = bandits.data.filter((b: { bandit: string }) => b.bandit === 'retention-offer');
    const accepted = offer
      .flatMap((b: { arms: { accepted: number }[] }) => b.arms)
      .reduce((n: number, a: { accepted: number }) => n + a.accepted, 0);
    expect(accepted).toBeGreaterThan(0);
    expect(accepted).toBeLessThanOrEqual(answers.filter((o) => o.type === 'offer_accepted').length);
    expect((await verifyLedger(db)).ok).toBe(true);
  });
});

describe('the live world, as `acs serve --world` runs it, after 14 simulated days', () => {
  it('closes cases, measures them, and works the queue: the housekeeping on the fast clock expires nothing unreviewed', async () => {
    const db = await openTestDb();
    const dir = mkdtempSync(join(tmpdir(), 'acs-live-'));
    const log = pino({ level: 'silent' });
    let services: Services | undefined;
    try {
      await importFirstCustomers(db, TELCO, CUSTOMERS, 'test');
      const examples = await loadChurnExamples(db);
      const churn = ChurnModel.train(examples, trainingFingerprint(examples));
      // A simulated day every 0.1 s: far less than a day takes to simulate, so without the hold business time would
      // run days ahead of the world, and the housekeeping would expire approvals before the reviewer saw them.
      const opened = await openWorldClock(db, { seed: 7, daySeconds: 0.1 });
      services = createServices(db, { maxBodyBytes: 1 << 20 }, log, {
        clock: opened.clock,
        loop: { churn: () => churn, holdout: { salt: 'live-test', fraction: 0.1 }, dailyCreditBudgetCents: 100_000 },
      });
      const maintenance = startMaintenance(
        db,
        { transport: new FileTransport(join(dir, 'messages.jsonl')), plays: services.plays, clock: opened.clock },
        log,
        20,
      );
      const live = await startLiveWorld({
        db,
        bus: services.bus,
        gate: services.gate,
        plays: services.plays,
        clock: opened.clock,
        state: opened.state,
        reviewer: 'sim',
        log,
      });
      // Bounded wait: 14 days, each a second or two of work; allow 100 s on a busy machine.
      for (let i = 0; i < 1000 && opened.state.nextDay < DAYS; i++) await new Promise((r) => setTimeout(r, 100));
      await live.stop();
      await maintenance.stop();
      await services.bus.drain();
      expect(opened.state.nextDay).toBeGreaterThanOrEqual(DAYS);
      // Business time never ran ahead of the world: at most the end of the day after the last one simulated.
      expect(opened.clock.now().getTime()).toBeLessThanOrEqual(opened.state.startDay.getTime() + (opened.state.nextDay + 1) * DAY_MS);

      const [cases] = await db.query<{ closed: number }>(
        "SELECT count(*)::int AS closed FROM cases WHERE status = 'resolved' AND closed_at IS NOT NULL",
      );
      expect(cases!.closed).toBeGreaterThan(0);
      const token = (await createToken(db, { role: 'admin', name: 'live test' }, 'test')).token;
      const res = await services.app.request(`/api/v1/kpis?days=${DAYS + 1}`, { headers: { authorization: `Bearer ${token}` } });
      const op = ((await res.json()) as any).metrics.operational;
      expect(op.handleTime.value).toBeGreaterThan(0);
      expect(op.firstContactResolution.value).not.toBeNull();
      expect(op.slaCompliance.value).not.toBeNull();
      const rows = await db.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM approvals GROUP BY status');
      const by = Object.fromEntries(rows.map((r) => [r.status, r.n]));
      expect(by.approved ?? 0).toBeGreaterThan(0);
      expect(by.expired ?? 0).toBe(0);
    } finally {
      await services?.bus.stop();
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);
});

describe("the live world's business clock", () => {
  it('stops at its limit and resumes from it when the limit moves on', async () => {
    const anchor = Date.parse('2026-03-01T00:00:00Z');
    const clock = new AcceleratedClock(anchor, 86_400); // a simulated day per real second
    clock.holdAt(anchor + 1000);
    await new Promise((r) => setTimeout(r, 50));
    expect(clock.now().getTime()).toBe(anchor + 1000);
    clock.holdAt(anchor + DAY_MS);
    const resumed = clock.now().getTime();
    // From the old limit, not from where real time would have put it (50 ms × 86,400 = 72 simulated minutes on).
    expect(resumed).toBeGreaterThanOrEqual(anchor + 1000);
    expect(resumed).toBeLessThan(anchor + 1000 + 86_400 * 40);
    clock.holdAt(null);
    expect(clock.now().getTime()).toBeGreaterThanOrEqual(resumed);
  });
});
