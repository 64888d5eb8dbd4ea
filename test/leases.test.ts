import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAINTENANCE_LEASE, playRegistry, startMaintenance, type MaintenanceDeps } from '../src/act/index.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { claimJobRun, Lease, leaseHolder, type Db } from '../src/store/index.ts';
import { openTestDb } from './helpers.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const silent = pino({ level: 'silent' });

let db: Db;
beforeAll(async () => {
  db = await openTestDb();
});
afterAll(() => db.close());

describe('leases', () => {
  it('one holder at a time: renewed by its holder, refused to another, free once released', async () => {
    const a = new Lease(db, 'l-basic', 5000, 'a');
    const b = new Lease(db, 'l-basic', 5000, 'b');
    expect(await a.acquire()).toBe(true);
    expect(a.held()).toBe(true);
    expect(await b.acquire()).toBe(false);
    expect(b.held()).toBe(false);
    expect(await a.acquire()).toBe(true); // a renewal
    expect(await leaseHolder(db, 'l-basic')).toBe('a');
    await a.release();
    expect(a.held()).toBe(false);
    expect(await leaseHolder(db, 'l-basic')).toBeNull();
    expect(await b.acquire()).toBe(true);
    await b.release();
  });

  it('is taken over once its holder stops renewing it, and its holder stops acting before that', async () => {
    const dead = new Lease(db, 'l-expiry', 300, 'dead');
    const next = new Lease(db, 'l-expiry', 300, 'next');
    expect(await dead.acquire()).toBe(true);
    await sleep(280);
    expect(dead.held()).toBe(false); // 90% of the TTL: it may no longer act
    await sleep(120);
    expect(await next.acquire()).toBe(true);
    expect(await dead.acquire()).toBe(false);
    await next.release();
  });

  it('keeps itself while its work runs longer than the TTL, and lapses once the keeper stops', async () => {
    const worker = new Lease(db, 'l-keep', 600, 'worker');
    const other = new Lease(db, 'l-keep', 600, 'other');
    expect(await worker.acquire()).toBe(true);
    const keeper = worker.keepAlive();
    await sleep(1500);
    expect(worker.held()).toBe(true);
    expect(await other.acquire()).toBe(false);
    keeper.stop();
    await sleep(800);
    expect(await other.acquire()).toBe(true);
    await other.release();
  });
});

describe('once-per-period jobs', () => {
  it('a period is claimed by one of several claimants at once, and only once', async () => {
    const claims = await Promise.all([1, 2, 3, 4].map((i) => claimJobRun(db, 'job-x', 'p1', `h${i}`)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await claimJobRun(db, 'job-x', 'p1', 'later')).toBe(false);
    expect(await claimJobRun(db, 'job-x', 'p2', 'later')).toBe(true);
  });

  it('maintenance in two processes runs its jobs in the lease holder only, and a restart does not run a period again', async () => {
    let now = new Date('2031-05-04T10:15:00Z');
    const runs = { supervise: [] as string[], daily: [] as string[], expired: [] as string[] };
    const deps = (name: string): MaintenanceDeps => ({
      transport: { name: 'none', deliver: async () => {} },
      plays: playRegistry(),
      clock: { now: () => now },
      supervise: async (at) => {
        runs.supervise.push(`${name} ${at.toISOString().slice(0, 13)}`);
        return [];
      },
      daily: async (at) => runs.daily.push(`${name} ${at.toISOString().slice(0, 10)}`),
      lease: new Lease(db, MAINTENANCE_LEASE, 1000, name),
    });
    const one = startMaintenance(db, deps('one'), silent, 20);
    const two = startMaintenance(db, deps('two'), silent, 20);
    await expect.poll(() => runs.daily.length, { timeout: 10_000 }).toBe(1);
    await sleep(300); // many rounds of both
    const holder = await leaseHolder(db, MAINTENANCE_LEASE);
    expect(runs.supervise).toEqual([`${holder} 2031-05-04T10`]);
    expect(runs.daily).toEqual([`${holder} 2031-05-04`]);
    // The holder stops (letting the lease go): the other takes over, and runs the next hour, not this one again.
    await (holder === 'one' ? one : two).stop();
    now = new Date('2031-05-04T11:01:00Z');
    const other = holder === 'one' ? 'two' : 'one';
    await expect.poll(() => runs.supervise.length, { timeout: 10_000 }).toBe(2);
    expect(runs.supervise[1]).toBe(`${other} 2031-05-04T11`);
    await (holder === 'one' ? two : one).stop();
    // A restart in the same hour and day runs neither again.
    const restarted = startMaintenance(db, deps('three'), silent, 20);
    await expect.poll(() => leaseHolder(db, MAINTENANCE_LEASE), { timeout: 10_000 }).toBe('three');
    await sleep(200);
    await restarted.stop();
    expect(runs.supervise).toHaveLength(2);
    expect(runs.daily).toHaveLength(1);
    expect(await leaseHolder(db, MAINTENANCE_LEASE)).toBeNull();
  });
});

describe('the cluster settings', () => {
  it('default to 5 s rounds and a 30 s lease, and refuse values that would make a lease meaningless', () => {
    expect(loadConfig({}).cluster).toEqual({ maintenanceIntervalMs: 5000, leaseTtlMs: 30_000 });
    expect(loadConfig({ ACS_MAINTENANCE_INTERVAL_MS: '200', ACS_LEASE_TTL_MS: '2000' }).cluster).toEqual({
      maintenanceIntervalMs: 200,
      leaseTtlMs: 2000,
    });
    for (const [name, value] of [
      ['ACS_LEASE_TTL_MS', '100'],
      ['ACS_LEASE_TTL_MS', 'soon'],
      ['ACS_MAINTENANCE_INTERVAL_MS', '0'],
    ] as const) {
      expect(() => loadConfig({ [name]: value }), `${name}=${value}`).toThrow(ConfigError);
      expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
    }
  });
});
