import type { Config } from '../config.ts';
import { createLogger, startWorker } from '../server.ts';
import { parseCommandArgs } from './args.ts';
import { checkNoRelay } from './relay.ts';
import { stopSignal } from './stop-signal.ts';

/**
 * `acs worker`: the pipeline's stages and the maintenance rounds, without HTTP, until SIGINT or SIGTERM; then it
 * finishes the batch and the round under way and lets the maintenance lease go, so another process takes over at once.
 * With --no-relay (NATS only), `acs relay` processes hand the outbox to the broker instead of this one.
 */
export async function workerCommand(args: string[], config: Config): Promise<number> {
  const { values } = parseCommandArgs(args, { 'no-relay': { type: 'boolean' } });
  checkNoRelay(values['no-relay'], config);
  const log = createLogger(config);
  const worker = await startWorker(config, log, { relay: !values['no-relay'] });
  const signal = await stopSignal(log);
  log.info({ signal }, 'worker shutting down: finishing the batch and the round under way');
  await worker.close();
  log.info('worker stopped');
  return 0;
}
