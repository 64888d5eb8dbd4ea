import type { Config } from '../config.ts';
import { createLogger, startWorker } from '../server.ts';
import { parseCommandArgs } from './args.ts';
import { stopSignal } from './stop-signal.ts';

/**
 * `acs worker`: the pipeline's stages and the maintenance rounds, without HTTP, until SIGINT or SIGTERM; then it
 * finishes the batch and the round under way and lets the maintenance lease go, so another process takes over at once.
 */
export async function workerCommand(args: string[], config: Config): Promise<number> {
  parseCommandArgs(args, {});
  const log = createLogger(config);
  const worker = await startWorker(config, log);
  const signal = await stopSignal(log);
  log.info({ signal }, 'worker shutting down: finishing the batch and the round under way');
  await worker.close();
  log.info('worker stopped');
  return 0;
}
