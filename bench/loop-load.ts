/**
 * The governed loop under a steady load of signals, shared by bench/decide-loop.ts and bench/scale.ts: a database with
 * Telco customers after a few simulated days, and signals sent on a fixed schedule whose latency runs from the
 * scheduled send time until the bus delivery that ran the agents on them has committed.
 */
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import pino from 'pino';
import { createToken } from '../src/api/auth.ts';
import { ChurnModel, loadChurnExamples, trainingFingerprint } from '../src/reason/index.ts';
import { SIGNALS_ACCEPTED, type SignalsAcceptedEvent } from '../src/sense/index.ts';
import { simDay, simulateDay } from '../src/sim/index.ts';
import { createServices } from '../src/server.ts';
import { migrate, type Db } from '../src/store/index.ts';
import { AcceleratedClock, importFirstCustomers, seedContactsAndConsents, WorldDriver, worldFromDatabase } from '../src/world/index.ts';
import { percentile, round } from './lib.ts';

const SEED = 7;
export const LOOP_START = '2026-01-05T00:00:00.000Z';
const TELCO = fileURLToPath(new URL('../data/telco_churn.csv', import.meta.url));

/** Migrates `db`, imports the first `customers` Telco customers, trains churn and runs the world `warmDays` days. */
export async function setUpLoop(db: Db, customers: number, warmDays: number) {
  await migrate(db);
  await importFirstCustomers(db, TELCO, customers, 'bench');
  await seedContactsAndConsents(db, SEED);
  const examples = await loadChurnExamples(db);
  const churn = ChurnModel.train(examples, trainingFingerprint(examples));
  const holdout = { salt: 'bench', fraction: 0.1 };
  // The server's clock continues where the warm-up days end, so the load's signals land in the same calendar.
  const clock = new AcceleratedClock(Date.parse(LOOP_START) + warmDays * 86_400_000, 1);
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
    start: LOOP_START,
    reviewer: 'sim',
  });
  for (let d = 0; d < warmDays; d++) await driver.runDay(d);
  return { db, services, churn, holdout, driver, warmDays };
}

export type LoopSetup = Awaited<ReturnType<typeof setUpLoop>>;

/** Serves the setup's app on a loopback port, so the load goes through a real HTTP connection. */
export async function serveOnLoopback(setup: LoopSetup): Promise<{ base: string; close: () => Promise<void> }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: setup.services.app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) =>
      resolve({
        base: `http://127.0.0.1:${info.port}`,
        close: () => new Promise<void>((r) => server.close(() => r())),
      }),
    );
  });
}

export interface LoadOptions {
  /** Signals per request. */
  size: number;
  /** Signals per second offered. */
  rate: number;
  seconds: number;
  /** The world's day the signals are taken from (each run takes fresh days). */
  firstDay: number;
  /** Where to POST: the app in process (no socket) when unset, else a server's base URL over HTTP. */
  base?: string;
  /** Id prefix, unique per run. */
  tag: string;
}

/** A steady stream of signals, `size` per request, at `rate` signals/s; every request must be answered 202. */
export async function measureLoad({ db, services, driver }: LoopSetup, opts: LoadOptions) {
  const token = (await createToken(db, { role: 'agent', name: `bench ${opts.tag}` }, 'bench')).token;
  // The world's own next days supply the signals: real subjects, realistic types and payloads.
  const total = Math.round(opts.rate * opts.seconds);
  const pool: Record<string, unknown>[] = [];
  let world = driver.world;
  for (let d = opts.firstDay; pool.length < total && d < opts.firstDay + 200; d++) {
    const day = simulateDay(world, simDay(LOOP_START, d));
    world = day.world;
    // Without occurredAt, each signal is dated by the server's clock when it arrives.
    for (const s of day.signals) pool.push({ type: s.type, version: s.version, source: 'bench', subject: s.subject, data: s.data });
  }
  if (pool.length < total) throw new Error(`the world made only ${pool.length} signals for ${total}`);
  const signals = pool.slice(0, total).map((s, i) => ({ ...s, id: `bench-${opts.tag}-${i}` }));

  const scheduledAt = new Map<string, number>();
  const latencies: number[] = [];
  // The bus keeps its listeners; each run's ids are its own, and its map is empty once every signal is delivered.
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
  const post = (body: string): Promise<Response> => {
    const init = {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    };
    return opts.base
      ? fetch(`${opts.base}/api/v1/signals`, { ...init, signal: AbortSignal.timeout(60_000) })
      : Promise.resolve(services.app.request('/api/v1/signals', init));
  };
  // Over HTTP a request can fail under overload (a refused or timed-out connection): it is counted, and its signals
  // leave the latency sample. In process, any failure ends the run.
  let errors = 0;
  let failedSignals = 0;
  let firstError: string | null = null;
  const fail = (batch: { id: string }[], why: string) => {
    if (!opts.base) throw new Error(`POST /api/v1/signals ${why}`);
    errors++;
    failedSignals += batch.length;
    firstError ??= why;
    for (const s of batch) scheduledAt.delete(s.id);
  };
  const [before] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM decisions');
  const intervalMs = (opts.size / opts.rate) * 1000;
  const requests: Promise<void>[] = [];
  const t0 = performance.now() + 50;
  for (let i = 0; i * opts.size < total; i++) {
    const due = t0 + i * intervalMs;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const batch = signals.slice(i * opts.size, (i + 1) * opts.size);
    for (const s of batch) scheduledAt.set(s.id, due);
    requests.push(
      post(JSON.stringify(batch)).then(
        async (res) => {
          if (res.status !== 202) fail(batch, `answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
          else await res.arrayBuffer();
        },
        (err: unknown) => fail(batch, String((err as { cause?: unknown }).cause ?? err)),
      ),
    );
  }
  await Promise.all(requests);
  await services.bus.drain();
  const elapsed = (performance.now() - t0) / 1000;
  const [after] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM decisions');
  if (latencies.length < total - failedSignals)
    throw new Error(`only ${latencies.length} of ${total - failedSignals} accepted signals reached a decision`);
  const sorted = latencies.sort((a, b) => a - b);
  return {
    requestSize: opts.size,
    signals: total,
    offeredRate: opts.rate,
    achievedRate: Math.round(total / elapsed),
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted[sorted.length - 1]!),
    decisions: after!.n - before!.n,
    errors,
    firstError,
  };
}

export type LoadResult = Awaited<ReturnType<typeof measureLoad>>;
