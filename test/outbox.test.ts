import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileTransport, maintenanceTick, playRegistry } from '../src/act/index.ts';
import { createMetrics } from '../src/api/metrics.ts';
import { OutboxBus, pruneDelivered, publish, type BusMessage } from '../src/bus/index.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { listLedger } from '../src/ledger/index.ts';
import type { Db } from '../src/store/index.ts';
import { createTestApp, openTestDb, type TestApp } from './helpers.ts';

const silent = pino({ level: 'silent' });
const n = (m: BusMessage) => (m.payload as { n: number }).n;

/** What an event's row says about its delivery. */
async function row(db: Db, id: number) {
  const [r] = await db.query<{
    state: string;
    attempts: number;
    last_error: string | null;
    parked_at: Date | null;
    next_attempt_at: Date | null;
    backoff_ms: number | null;
  }>(
    `SELECT state, attempts, last_error, parked_at, next_attempt_at,
            (extract(epoch FROM next_attempt_at - last_attempt_at) * 1000)::float8 AS backoff_ms
       FROM outbox WHERE id = $1`,
    [id],
  );
  return r!;
}

/** Publishes events of `topic` in one transaction; returns their ids. */
async function publishAll(db: Db, topic: string, ns: number[]): Promise<number[]> {
  await db.transaction(async (tx) => {
    for (const k of ns) await publish(tx, topic, { n: k });
  });
  const rows = await db.query<{ id: number }>(
    `SELECT id FROM outbox WHERE topic = $1 AND (payload->>'n')::int = ANY($2::int[]) ORDER BY id`,
    [topic, ns],
  );
  return rows.map((r) => r.id);
}

/** Makes every event waiting to retry due now, as if its backoff had passed. */
const fastForward = (db: Db) =>
  db.query("UPDATE outbox SET next_attempt_at = now() WHERE state = 'pending' AND next_attempt_at IS NOT NULL");

describe('the bus isolates a failing event', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openTestDb();
    await db.query('CREATE TABLE outbox_test_effects (n int NOT NULL)');
  });
  afterAll(async () => db.close());

  it('delivers the good events after a bad one; the bad one is retried with backoff, then parked with its error', async () => {
    const bus = new OutboxBus(db, silent, 50, { maxAttempts: 3 });
    const calls: number[] = [];
    bus.subscribe('test.poison', async (messages, q) => {
      for (const m of messages) {
        calls.push(n(m));
        // The handler writes before it fails: the write must go with the failure, not stay half-done.
        await q.query('INSERT INTO outbox_test_effects (n) VALUES ($1)', [n(m)]);
        if (n(m) === 1) throw new Error('cannot handle event 1');
      }
    });
    const [bad, ...good] = await publishAll(db, 'test.poison', [1, 2, 3]);

    await expect(bus.drain()).rejects.toThrow(`event ${bad} (test.poison) failed 1 of 3 attempts: Error: cannot handle event 1`);
    expect(await db.query('SELECT n FROM outbox_test_effects ORDER BY n')).toEqual([{ n: 2 }, { n: 3 }]);
    for (const id of good) expect(await row(db, id)).toMatchObject({ state: 'delivered', attempts: 0 });
    expect(await row(db, bad!)).toMatchObject({
      state: 'pending',
      attempts: 1,
      last_error: 'Error: cannot handle event 1',
      backoff_ms: 1000,
    });

    await fastForward(db);
    await expect(bus.drain()).rejects.toThrow(/failed 2 of 3 attempts/);
    expect(await row(db, bad!)).toMatchObject({ state: 'pending', attempts: 2, backoff_ms: 2000 });

    // The last attempt parks it; drain() then resolves, since a parked event is not pending.
    await fastForward(db);
    await bus.drain();
    const parked = await row(db, bad!);
    expect(parked).toMatchObject({ state: 'parked', attempts: 3, last_error: 'Error: cannot handle event 1', next_attempt_at: null });
    expect(parked.parked_at).toBeInstanceOf(Date);
    const [ledgered] = await listLedger(db, { type: 'outbox.parked', subjectId: String(bad), limit: 10 });
    expect(ledgered).toMatchObject({ actor: 'system:bus', subjectType: 'outbox_event', data: { topic: 'test.poison', attempts: 3 } });

    // Events published after the parked one flow on, and the parked one is not tried again.
    const before = calls.filter((k) => k === 1).length;
    const [later] = await publishAll(db, 'test.poison', [4]);
    await bus.drain();
    expect(await row(db, later!)).toMatchObject({ state: 'delivered' });
    expect(calls.filter((k) => k === 1)).toHaveLength(before);
    // Each failed attempt's write was undone with it.
    expect(await db.query('SELECT n FROM outbox_test_effects ORDER BY n')).toEqual([{ n: 2 }, { n: 3 }, { n: 4 }]);
    await bus.stop();
  });

  it('a drain after a fix waits out the backoff and delivers the event', async () => {
    const bus = new OutboxBus(db, silent, 50, { backoffMs: 50 });
    let broken = true;
    const seen: number[] = [];
    bus.subscribe('test.flaky', async (messages) => {
      if (broken) throw new Error('downstream unavailable');
      seen.push(...messages.map(n));
    });
    const [id] = await publishAll(db, 'test.flaky', [42]);
    await expect(bus.drain()).rejects.toThrow(/downstream unavailable/);
    broken = false;
    await bus.drain();
    expect(seen).toEqual([42]);
    expect(await row(db, id!)).toMatchObject({ state: 'delivered', attempts: 1 });
    await bus.stop();
  });
});

describe('parked events through the API', () => {
  let t: TestApp;
  const bad = new Set<number>();
  const seen: number[] = [];
  beforeAll(async () => {
    t = await createTestApp({ outbox: { maxAttempts: 1, retentionHours: 168 } });
    t.bus.subscribe('test.api', async (messages) => {
      for (const m of messages) if (bad.has(n(m))) throw new Error(`event ${n(m)} is poison`);
      seen.push(...messages.map(n));
    });
  });
  afterAll(async () => t.close());

  /** Publishes `ns` (those in `failing` fail) and delivers; with one attempt allowed, the failing ones are parked at once. */
  async function deliver(ns: number[], failing: number[] = []): Promise<number[]> {
    for (const k of failing) bad.add(k);
    const ids = await publishAll(t.db, 'test.api', ns);
    t.bus.notify();
    await t.bus.drain();
    return ids;
  }

  it('lists the parked event with its error; after a fix, a retry delivers it, once, and is ledgered', async () => {
    const [poison, ...rest] = await deliver([1, 2, 3], [1]);
    expect(seen).toEqual([2, 3]);
    const list = await t.call('GET', '/api/v1/outbox/parked');
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([
      expect.objectContaining({
        id: poison,
        topic: 'test.api',
        payload: { n: 1 },
        state: 'parked',
        attempts: 1,
        lastError: 'Error: event 1 is poison',
        parkedAt: expect.any(String),
      }),
    ]);
    expect(list.body).toMatchObject({ nextCursor: null, stats: { parked: 1, pending: 0 } });

    bad.delete(1); // the fix ships
    const retry = await t.call('POST', `/api/v1/outbox/parked/${poison}/retry`);
    expect(retry.status, retry.text).toBe(200);
    expect(retry.body).toMatchObject({ id: poison, state: 'pending', attempts: 0, parkedAt: null });
    await t.bus.drain();
    expect(seen).toEqual([2, 3, 1]);
    expect(await row(t.db, poison!)).toMatchObject({ state: 'delivered' });
    for (const id of rest) expect(await row(t.db, id)).toMatchObject({ state: 'delivered' });

    const again = await t.call('POST', `/api/v1/outbox/parked/${poison}/retry`);
    expect(again.status).toBe(409);
    expect(again.body.detail).toBe(`outbox event ${poison} is delivered, not parked`);
    const ledger = await t.call('GET', '/api/v1/ledger?type=outbox.retried');
    expect(ledger.body.data).toEqual([
      expect.objectContaining({
        actor: expect.stringMatching(/^token:/),
        subjectType: 'outbox_event',
        subjectId: String(poison),
        data: { topic: 'test.api', attempts: 1 },
      }),
    ]);
  });

  it('a discarded event is never delivered; the discard is ledgered without its free-text reason', async () => {
    const [poison] = await deliver([5], [5]);
    const noReason = await t.call('POST', `/api/v1/outbox/parked/${poison}/discard`, { body: {} });
    expect(noReason.status).toBe(400);
    expect(noReason.body.issues).toEqual([expect.objectContaining({ path: 'reason' })]);
    const discard = await t.call('POST', `/api/v1/outbox/parked/${poison}/discard`, { body: { reason: 'a test event nobody needs' } });
    expect(discard.status, discard.text).toBe(200);
    expect(discard.body).toMatchObject({
      state: 'discarded',
      discardReason: 'a test event nobody needs',
      discardedBy: expect.stringMatching(/^token:/),
      discardedAt: expect.any(String),
    });

    bad.delete(5);
    t.bus.notify();
    await t.bus.drain();
    expect(seen).not.toContain(5);
    expect(await row(t.db, poison!)).toMatchObject({ state: 'discarded' });
    expect((await t.call('GET', '/api/v1/outbox/parked')).body.data).toEqual([]);
    expect((await t.call('POST', `/api/v1/outbox/parked/${poison}/retry`)).status).toBe(409);
    const ledger = await t.call('GET', '/api/v1/ledger?type=outbox.discarded');
    expect(ledger.body.data).toEqual([
      expect.objectContaining({ subjectId: String(poison), data: { topic: 'test.api', attempts: 1, reasonGiven: true } }),
    ]);
    expect(JSON.stringify(ledger.body)).not.toContain('nobody needs');
  });

  it('names a bad id or cursor, 404s an unknown event, and pages', async () => {
    const badId = await t.call('POST', '/api/v1/outbox/parked/abc/retry');
    expect(badId.status).toBe(400);
    expect(badId.body.issues).toEqual([expect.objectContaining({ path: 'id' })]);
    const unknown = await t.call('POST', '/api/v1/outbox/parked/999999/retry');
    expect(unknown.status).toBe(404);
    const cursor = await t.call('GET', '/api/v1/outbox/parked?cursor=AA');
    expect(cursor.status).toBe(400);
    expect(cursor.body.issues).toEqual([expect.objectContaining({ path: 'cursor' })]);

    const ids = await deliver([7, 8, 9], [7, 8, 9]);
    const first = await t.call('GET', '/api/v1/outbox/parked?limit=2');
    expect(first.body.data.map((e: { id: number }) => e.id)).toEqual(ids.slice(0, 2));
    const second = await t.call('GET', `/api/v1/outbox/parked?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body).toMatchObject({ data: [expect.objectContaining({ id: ids[2] })], nextCursor: null });
  });

  it('/metrics reports the backlog, the oldest pending age and the parked count', async () => {
    // Nobody subscribes to this topic, so its events stay pending; one was published two minutes ago.
    await t.db.query(
      `INSERT INTO outbox (topic, payload, created_at) VALUES ('test.unheard', '{}', now() - interval '120 seconds'), ('test.unheard', '{}', now())`,
    );
    const [expected] = await t.db.query<{ pending: number; parked: number }>(
      "SELECT count(*) FILTER (WHERE state = 'pending')::int AS pending, count(*) FILTER (WHERE state = 'parked')::int AS parked FROM outbox",
    );
    expect(expected).toEqual({ pending: 2, parked: 3 });
    const res = await t.call('GET', '/metrics', { token: null });
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(res.text)?.[1]);
    expect(gauge('acs_outbox_pending_events')).toBe(2);
    expect(gauge('acs_outbox_parked_events')).toBe(3);
    const age = gauge('acs_outbox_oldest_pending_age_seconds');
    expect(age).toBeGreaterThanOrEqual(120);
    expect(age).toBeLessThan(3600);
  });
});

describe('retention', () => {
  let db: Db;
  beforeAll(async () => {
    db = await openTestDb();
  });
  afterAll(async () => db.close());

  it('prunes only delivered events older than the window, in the maintenance round', async () => {
    const ids = await db.query<{ id: number; label: string }>(
      `INSERT INTO outbox (topic, payload, state, created_at, delivered_at, parked_at, discarded_at) VALUES
         ('t', '{"label":"old delivered"}', 'delivered', now() - interval '200 hours', now() - interval '200 hours', NULL, NULL),
         ('t', '{"label":"recent delivered"}', 'delivered', now() - interval '200 hours', now() - interval '100 hours', NULL, NULL),
         ('t', '{"label":"old pending"}', 'pending', now() - interval '300 hours', NULL, NULL, NULL),
         ('t', '{"label":"old parked"}', 'parked', now() - interval '300 hours', NULL, now() - interval '300 hours', NULL),
         ('t', '{"label":"old discarded"}', 'discarded', now() - interval '300 hours', NULL, now() - interval '300 hours', now() - interval '300 hours')
       RETURNING id, payload->>'label' AS label`,
    );
    const transport = new FileTransport(join(mkdtempSync(join(tmpdir(), 'acs-outbox-')), 'messages.jsonl'));
    const round = await maintenanceTick(db, { transport, plays: playRegistry(), outboxRetentionHours: 168 });
    expect(round.pruned).toBe(1);
    const left = await db.query<{ label: string }>(
      "SELECT payload->>'label' AS label FROM outbox WHERE id = ANY($1::bigint[]) ORDER BY id",
      [ids.map((r) => r.id)],
    );
    expect(left.map((r) => r.label)).toEqual(['recent delivered', 'old pending', 'old parked', 'old discarded']);
    // A shorter window takes the recent one too.
    expect(await pruneDelivered(db, 50)).toBe(1);
    expect(await pruneDelivered(db, 50)).toBe(0);
  });
});

describe('outbox gauges without a database', () => {
  it('read as NaN (unknown) when the stats cannot be read, and the rest of the scrape still answers', async () => {
    const metrics = createMetrics({ outbox: () => Promise.reject(new Error('database down')) });
    const text = await metrics.registry.metrics();
    for (const name of ['acs_outbox_pending_events', 'acs_outbox_oldest_pending_age_seconds', 'acs_outbox_parked_events'])
      expect(text).toMatch(new RegExp(`^${name} nan$`, 'im')); // prom-client writes "Nan"; Prometheus reads NaN in any case
    expect(text).toMatch(/^# TYPE acs_http_requests_total counter$/m);
  });
});

describe('configuration', () => {
  it('reads ACS_OUTBOX_MAX_ATTEMPTS and ACS_OUTBOX_RETENTION_HOURS, refusing bad values by name', () => {
    expect(loadConfig({}).outbox).toEqual({ maxAttempts: 5, retentionHours: 168 });
    expect(loadConfig({ ACS_OUTBOX_MAX_ATTEMPTS: '3', ACS_OUTBOX_RETENTION_HOURS: '24' }).outbox).toEqual({
      maxAttempts: 3,
      retentionHours: 24,
    });
    for (const [name, value] of [
      ['ACS_OUTBOX_MAX_ATTEMPTS', '0'],
      ['ACS_OUTBOX_MAX_ATTEMPTS', '2.5'],
      ['ACS_OUTBOX_RETENTION_HOURS', '-1'],
      ['ACS_OUTBOX_RETENTION_HOURS', 'week'],
    ]) {
      expect(() => loadConfig({ [name!]: value }), `${name}=${value}`).toThrow(ConfigError);
      expect(() => loadConfig({ [name!]: value })).toThrow(new RegExp(name!));
    }
  });
});
