import type { Logger } from 'pino';
import { pruneDelivered } from '../bus/index.ts';
import { systemClock, type Clock } from '../clock.ts';
import { analyze, type Db } from '../store/index.ts';
import { expireApprovals } from './approvals.ts';
import { runDuePlays, type PlayRegistry } from './plays.ts';
import { deliverQueuedMessages, type MessageTransport } from './transport.ts';

export interface MaintenanceDeps {
  transport: MessageTransport;
  plays: PlayRegistry;
  clock?: Clock;
  /** Work that runs once per (UTC) day of the clock, such as scheduled agents; the first round runs it too. */
  daily?: (now: Date) => Promise<unknown>;
  /** Model upkeep (scheduled drift checks and retrains), asked every round; it decides itself what is due and reports what it did. */
  models?: (now: Date) => Promise<unknown[]>;
  /** The supervisor (pauses agents that trip its thresholds), run once per hour of the clock; the first round runs it too. */
  supervise?: (now: Date) => Promise<unknown[]>;
  /**
   * Compaction after erasure (src/privacy/compaction.ts), asked every round: it rewrites tables only when an erasure
   * is due, and reports the erasures it compacted.
   */
  compact?: (now: Date) => Promise<{ erasureIds: string[]; complete: boolean }>;
  /** Delivered outbox events older than this are deleted; unset keeps them. */
  outboxRetentionHours?: number;
}

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

/** Runs maintenanceTick every `intervalMs` until stopped; a failing round is logged and the next one still runs. */
export function startMaintenance(db: Db, deps: MaintenanceDeps, log: Logger, intervalMs = 5000): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  let busy = false;
  let analyzedAt = Date.now();
  let lastDay = '';
  let lastHour = '';
  const round = async () => {
    const now = (deps.clock ?? systemClock).now();
    const r = await maintenanceTick(db, deps, now);
    if (r.expired || r.sent || r.failed || r.plays.steps || r.pruned) log.info({ maintenance: r }, 'maintenance');
    const day = now.toISOString().slice(0, 10);
    if (deps.models) {
      const upkeep = await deps.models(now);
      if (upkeep.length) log.info({ models: upkeep }, 'model upkeep (drift checks, retrains)');
    }
    if (deps.compact) {
      const compaction = await deps.compact(now);
      if (compaction.erasureIds.length) {
        if (compaction.complete) log.info({ compaction }, 'compacted after erasure');
        else log.warn({ compaction }, 'compacted after erasure, but not every step could be done: see the steps');
      }
    }
    const hour = now.toISOString().slice(0, 13);
    if (deps.supervise && hour !== lastHour) {
      await deps.supervise(now); // it logs each pause itself
      lastHour = hour;
    }
    if (deps.daily && day !== lastDay) {
      log.info({ day, daily: await deps.daily(now) }, 'daily run');
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
      await running;
    },
  };
}
