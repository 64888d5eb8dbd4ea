import type { Logger } from 'pino';
import type { Db } from '../store/index.ts';
import { expireApprovals } from './approvals.ts';
import { deliverQueuedMessages, type MessageTransport } from './transport.ts';

/** One round of the server's housekeeping: expire stale approvals, hand queued messages to the transport. */
export async function maintenanceTick(db: Db, transport: MessageTransport, now = new Date()) {
  const expired = await expireApprovals(db, now);
  const messages = await deliverQueuedMessages(db, transport);
  return { expired, ...messages };
}

/** Runs maintenanceTick every `intervalMs` until stopped; a failing round is logged and the next one still runs. */
export function startMaintenance(db: Db, transport: MessageTransport, log: Logger, intervalMs = 5000): { stop(): Promise<void> } {
  let running: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    running = maintenanceTick(db, transport)
      .then((r) => (r.expired || r.sent || r.failed ? log.info({ maintenance: r }, 'maintenance') : undefined))
      .catch((err: unknown) => log.error({ err }, 'maintenance round failed'));
  }, intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
