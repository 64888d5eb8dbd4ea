import type { Logger } from 'pino';
import { pruneDelivered } from '../bus/index.ts';
import { systemClock, type Clock } from '../clock.ts';
import { analyze, claimJobRun, Lease, type Db } from '../store/index.ts';
import { expireApprovals } from './approvals.ts';
import { runDuePlays, type PlayRegistry } from './plays.ts';
import { deliverQueuedMessages, type MessageTransport } from './transport.ts';

export interface MaintenanceDeps {
  transport: MessageTransport;
  plays: PlayRegistry;
  clock?: Clock;
  /**
   * Work that runs once per (UTC) day of the clock in the cluster, such as scheduled agents; the first round runs it
   * too. The day is claimed (job_runs) before it runs, and it commits in short transactions of its own: a crash
   * midway leaves the rest of the sweep to the next day's, which finds whoever still needs it.
   */
  daily?: (now: Date) => Promise<unknown>;
  /** Model upkeep (scheduled drift checks and retrains), asked every round; it decides itself what is due and reports what it did. */
  models?: (now: Date) => Promise<unknown[]>;
  /**
   * The supervisor (pauses agents that trip its thresholds), run once per hour of the clock in the cluster; the first
   * round runs it too. The hour is claimed before it runs (a crash midway leaves it to the next hour).
   */
  supervise?: (now: Date) => Promise<unknown[]>;
  /**
   * Compaction after erasure (src/privacy/compaction.ts), asked every round: it rewrites tables only when an erasure
   * is due, and reports the erasures it compacted.
   */
  compact?: (now: Date) => Promise<{ erasureIds: string[]; complete: boolean }>;
  /** Delivered outbox events older than this are deleted; unset keeps them. */
  outboxRetentionHours?: number;
  /**
   * The once-per-cluster lease the rounds run under: only its holder does any of the work above, and another process
   * takes over when the holder stops renewing it. Default: the `maintenance` lease, DEFAULT_LEASE_TTL_MS.
   */
  lease?: Lease;
}

export const MAINTENANCE_LEASE = 'maintenance';
/** How long the maintenance lease outlives its holder's last renewal: the longest a dead holder's jobs wait. */
export const DEFAULT_LEASE_TTL_MS = 30_000;

/** Steps of due plays run per round at most, so one round stays short; the rest wait for the next. */
const PLAY_STEPS_PER_ROUND = 500;
/** How often the embedded database's planner statistics are refreshed (PostgreSQL's autovacuum does its own). */
const ANALYZE_EVERY_MS = 10 * 60_000;

/**
 * One round of the server's housekeeping: expire stale approvals, advance due plays, hand queued messages to the
 * transport, prune delivered outbox events past retention.
 */
export async function maintenanceTick(db: Db, deps: MaintenanceDeps, now = (deps.clock ?? systemClock).now()) {
  const expired = await expireApprovals(db, now);
  const plays = await runDuePlays(db, deps.plays, { actor: 'system:plays', now, maxSteps: PLAY_STEPS_PER_ROUND });
  const messages = await deliverQueuedMessages(db, deps.transport);
  // Retention is storage upkeep, measured on the database's real time, not the (possibly accelerated) clock.
  const pruned = deps.outboxRetentionHours === undefined ? 0 : await pruneDelivered(db, deps.outboxRetentionHours);
  return { expired, plays, ...messages, pruned };
}

/**
 * Runs maintenanceTick every `intervalMs` until stopped, with model upkeep, compaction, the hourly supervisor and the
 * daily run, in the process that holds the maintenance lease; the others keep asking for it every round and take it
 * over when its holder dies. A failing round is logged and the next one still runs. `stop` finishes the round and
 * lets the lease go.
 */
export function startMaintenance(db: Db, deps: MaintenanceDeps, log: Logger, intervalMs = 5000): { stop(): Promise<void> } {
  const lease = deps.lease ?? new Lease(db, MAINTENANCE_LEASE, DEFAULT_LEASE_TTL_MS);
  const keepAlive = lease.keepAlive((err) => log.warn({ err, lease: lease.name }, 'could not renew the maintenance lease'));
  let running: Promise<void> = Promise.resolve();
  let busy = false;
  let holding = false;
  let analyzedAt = Date.now();
  // Periods seen done here, so a round asks the database only when the hour or the day changes.
  let lastDay = '';
  let lastHour = '';
  // A period is claimed in the cluster's job_runs before its job runs: a lease that moves, a restart, or two holders
  // whose leases overlap never run it twice. A holder that dies midway leaves the rest to the next period.
  const oncePerPeriod = async (job: string, period: string, run: (period: string) => Promise<void>) => {
    if (await claimJobRun(db, job, period, lease.holder)) await run(period);
  };
  const round = async () => {
    const held = await lease.acquire();
    if (held !== holding) {
      holding = held;
      if (held)
        log.info({ lease: lease.name, holder: lease.holder }, 'took the maintenance lease: this process runs the once-per-cluster jobs');
      else
        log.warn({ lease: lease.name, holder: lease.holder }, 'lost the maintenance lease: another process runs the once-per-cluster jobs');
    }
    if (!held) return;
    const now = (deps.clock ?? systemClock).now();
    const r = await maintenanceTick(db, deps, now);
    if (r.expired || r.sent || r.failed || r.plays.steps || r.pruned) log.info({ maintenance: r }, 'maintenance');
    // Each step starts only while the lease is still ours (a long step may outlast it).
    if (deps.models && lease.held()) {
      const upkeep = await deps.models(now);
      if (upkeep.length) log.info({ models: upkeep }, 'model upkeep (drift checks, retrains)');
    }
    if (deps.compact && lease.held()) {
      const compaction = await deps.compact(now);
      if (compaction.erasureIds.length) {
        if (compaction.complete) log.info({ compaction }, 'compacted after erasure');
        else log.warn({ compaction }, 'compacted after erasure, but not every step could be done: see the steps');
      }
    }
    const hour = now.toISOString().slice(0, 13);
    if (deps.supervise && hour !== lastHour && lease.held()) {
      const supervise = deps.supervise;
      // It logs each pause itself.
      await oncePerPeriod('supervisor', hour, async (period) => {
        const paused = await supervise(now);
        log.info({ job: 'supervisor', period, paused: paused.length }, 'supervisor round');
      });
      lastHour = hour;
    }
    const day = now.toISOString().slice(0, 10);
    if (deps.daily && day !== lastDay && lease.held()) {
      const daily = deps.daily;
      await oncePerPeriod('daily', day, async (period) => log.info({ job: 'daily', period, day, daily: await daily(now) }, 'daily run'));
      lastDay = day;
    }
    if (db.kind === 'pglite' && Date.now() - analyzedAt >= ANALYZE_EVERY_MS) {
      analyzedAt = Date.now();
      await analyze(db);
    }
  };
  const timer = setInterval(() => {
    if (busy) return; // a slow round is never overlapped by the next
    busy = true;
    running = round()
      .catch((err: unknown) => log.error({ err }, 'maintenance round failed; the next round tries again'))
      .finally(() => (busy = false));
  }, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      keepAlive.stop();
      await running;
      await lease.release().catch((err: unknown) => log.warn({ err }, 'could not release the maintenance lease; it lapses on its own'));
    },
  };
}
