import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import { verifyLedger } from '../src/ledger/index.ts';
import { createRecord } from '../src/records/index.ts';
import { createServices, type Services } from '../src/server.ts';
import type { Db } from '../src/store/index.ts';
import { AcceleratedClock, importFirstCustomers, openWorldClock, startLiveWorld } from '../src/world/index.ts';
import { openTestDb } from './helpers.ts';

const TELCO = fileURLToPath(new URL('../data/telco_churn.csv', import.meta.url));
const DAY_MS = 86_400_000;
const silent = pino({ level: 'silent' });

describe("the live world's reviewer", () => {
  it('is the simulated reviewer unless ACS_WORLD_REVIEWER=human says a person works the queue', () => {
    expect(loadConfig({}).world.reviewer).toBe('sim');
    expect(loadConfig({ ACS_WORLD_REVIEWER: 'human' }).world.reviewer).toBe('human');
    expect(() => loadConfig({ ACS_WORLD_REVIEWER: 'nobody' })).toThrow(ConfigError);
    expect(() => loadConfig({ ACS_WORLD_REVIEWER: 'nobody' })).toThrow(/ACS_WORLD_REVIEWER/);
  });
});

describe('the accelerated clock', () => {
  it('runs `speed` times faster than real time from its anchor', async () => {
    const anchor = Date.parse('2026-03-01T00:00:00Z');
    const realStart = Date.now();
    const clock = new AcceleratedClock(anchor, 3600);
    await new Promise((r) => setTimeout(r, 60));
    const simElapsed = clock.now().getTime() - anchor;
    const realElapsed = Date.now() - realStart;
    expect(simElapsed).toBeGreaterThanOrEqual(3600 * 50);
    expect(simElapsed).toBeLessThanOrEqual(3600 * (realElapsed + 1));
  });
});

describe('the live world', () => {
  let db: Db;
  let services: Services;
  beforeAll(async () => {
    db = await openTestDb();
    await importFirstCustomers(db, TELCO, 80, 'test');
    // Someone's own profile, not from the demo data: the world must not invent a contact or consent for it.
    await createRecord(db, 'accounts', { name: 'Not a demo customer', customerId: 'OWN-1' }, 'test');
  });
  afterAll(async () => {
    await services?.bus.stop();
    await db.close();
  });

  it('starts at today, runs simulated days through the loop as the clock passes them, and resumes where it stopped', async () => {
    const opened = await openWorldClock(db, { seed: 5, daySeconds: 0.4 });
    expect(opened.state).toMatchObject({ seed: 5, nextDay: 0 });
    expect(opened.state.startDay.getTime() % DAY_MS).toBe(0);
    expect(Date.now() - opened.state.startDay.getTime()).toBeLessThan(DAY_MS);
    services = createServices(db, { maxBodyBytes: 1 << 20 }, silent, {
      clock: opened.clock,
      loop: { churn: () => undefined, holdout: { salt: 'live', fraction: 0.1 }, dailyCreditBudgetCents: 100_000 },
    });
    const live = await startLiveWorld({
      db,
      bus: services.bus,
      gate: services.gate,
      plays: services.plays,
      clock: opened.clock,
      state: opened.state,
      reviewer: 'sim',
      log: silent,
    });
    // Bounded wait: 0.4 s a day, so three days take about 1.2 s of clock; allow 20 s on a busy machine.
    for (let i = 0; i < 200 && opened.state.nextDay < 3; i++) await new Promise((r) => setTimeout(r, 100));
    await live.stop();
    expect(opened.state.nextDay).toBeGreaterThanOrEqual(3);
    const [saved] = await db.query<{ next_day: number; sim_now: Date }>('SELECT next_day, sim_now FROM world_clock');
    expect(saved!.next_day).toBe(opened.state.nextDay);
    const signals = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM signals WHERE source = 'sim'");
    expect(signals[0]!.n).toBeGreaterThan(0);
    // Contacts and seeded consents came first, so the agents had someone to write to.
    expect((await db.query('SELECT 1 FROM contacts')).length).toBe(80);
    expect(await db.query("SELECT 1 FROM contacts c JOIN accounts a ON a.id = c.account_id WHERE a.customer_id = 'OWN-1'")).toHaveLength(0);
    expect((await db.query('SELECT 1 FROM proposals')).length).toBeGreaterThan(0);

    // A restart resumes the clock and the day count; the new days' signal ids do not collide with the old ones.
    const resumed = await openWorldClock(db, { seed: 99, daySeconds: 0.4 });
    expect(resumed.state).toMatchObject({ seed: 5, nextDay: saved!.next_day });
    // Resumed from the saved reading, days ahead of real time, not from the real clock.
    expect(resumed.clock.now().getTime()).toBeGreaterThanOrEqual(new Date(saved!.sim_now).getTime());
    expect(resumed.clock.now().getTime()).toBeGreaterThan(Date.now() + DAY_MS);
    const again = await startLiveWorld({
      db,
      bus: services.bus,
      gate: services.gate,
      plays: services.plays,
      clock: resumed.clock,
      state: resumed.state,
      reviewer: 'human',
      log: silent,
    });
    const target = resumed.state.nextDay + 1;
    for (let i = 0; i < 200 && resumed.state.nextDay < target; i++) await new Promise((r) => setTimeout(r, 100));
    await again.stop();
    expect(resumed.state.nextDay).toBeGreaterThanOrEqual(target);
    const after = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM signals WHERE source = 'sim'");
    expect(after[0]!.n).toBeGreaterThan(signals[0]!.n);
    await services.bus.drain();
    expect((await verifyLedger(db)).ok).toBe(true);
  }, 60_000);
});
