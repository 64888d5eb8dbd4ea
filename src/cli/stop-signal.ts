import type { Logger } from 'pino';

/**
 * Resolves on the first SIGINT or SIGTERM. On Ctrl-C a terminal signals npm and node, and npm passes it on again: a
 * second signal must not cut the shutdown short (the database would be left open, a lease held until it lapses).
 */
export function stopSignal(log: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let stopping = false;
    // Signal handlers do not keep Node running, and every timer of the rounds is unref'd: without this, a worker whose
    // database connections were all ended at once (a restart, pg_terminate_backend) had nothing left and exited (13).
    const alive = setInterval(() => undefined, 60_000);
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return log.info(`${signal} again: already shutting down`);
      stopping = true;
      clearInterval(alive);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
