import type { Logger } from 'pino';
import { systemClock, type Clock } from '../clock.ts';
import type { Db } from '../store/index.ts';
import { expireApprovals } from './approvals.ts';
import { runDuePlays, type PlayRegistry } from './plays.ts';
import { deliverQueuedMessages, type MessageTransport } from './transport.ts';

export interface MaintenanceDeps {
  transport: MessageTransport;
  plays: PlayRegistry;
  clock?: Clock;
}

/** Steps of due plays run per round at most, so one round stays short; the rest wait for the next. */
const PLAY_STEPS_PER_ROUND = 500;

/** One round of the server's housekeeping: expire stale approvals, advance due plays, hand queued messages to the transport. */
export async function maintenanceTick(db: Db, deps: MaintenanceDeps, now = (deps.clock ?? systemClock).now()) {
  const expired = await expireApprovals(db, now);
  const plays = await runDuePlays(db, deps.plays, { actor: 'system:plays', now, maxSteps: PLAY_STEPS_PER_ROUND });
  const messages = await deliverQueuedMessages(db, deps.transport);
  return { expired, plays, ...messages };
}

/** Runs maintenanceTick every `intervalMs` until stopped; a failing round is logged and the next one still runs. */
export function startMaintenance(db: Db, deps: MaintenanceDeps, log: Logger, intervalMs = 5000): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return; // a slow round is never overlapped by the next
    busy = true;
    running = maintenanceTick(db, deps)
      .then((r) => (r.expired || r.sent || r.failed || r.plays.steps ? log.info({ maintenance: r }, 'maintenance') : undefined))
      .catch((err: unknown) => log.error({ err }, 'maintenance round failed'))
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
