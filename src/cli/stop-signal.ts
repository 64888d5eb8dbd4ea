import type { Logger } from 'pino';

/**
 * Resolves on the first SIGINT or SIGTERM. On Ctrl-C a terminal signals npm and node, and npm passes it on again: a
 * second signal must not cut the shutdown short (the database would be left open, a lease held until it lapses).
 */
export function stopSignal(log: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return log.info(`${signal} again: already shutting down`);
      stopping = true;
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
