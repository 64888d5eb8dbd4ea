import type { Config } from '../config.ts';
import { createLogger, startRelay } from '../server.ts';
import { parseCommandArgs, UsageError } from './args.ts';
import { stopSignal } from './stop-signal.ts';

/**
 * `acs relay`: the outbox relay alone, handing committed events to NATS JetStream until SIGINT or SIGTERM, beside
 * `acs serve` and `acs worker` processes started with `--no-relay`. Any number may run at once.
 */
export async function relayCommand(args: string[], config: Config): Promise<number> {
  parseCommandArgs(args, {});
  if (!config.nats) throw new UsageError('acs relay needs ACS_NATS_URL (the NATS JetStream server it hands the outbox to)');
  if (!config.databaseUrl)
    throw new UsageError('acs relay needs DATABASE_URL: the embedded database is one process, and `acs serve` relays there itself');
  const log = createLogger(config);
  const relay = await startRelay(config, log);
  const signal = await stopSignal(log);
  log.info({ signal }, 'relay shutting down: finishing the batch under way');
  await relay.close();
  log.info('relay stopped');
  return 0;
}

/** `--no-relay` leaves the relay to `acs relay` processes: only meaningful with NATS, and on a database they can share. */
export function checkNoRelay(noRelay: boolean | undefined, config: Config): void {
  if (!noRelay) return;
  if (!config.nats) throw new UsageError('--no-relay needs ACS_NATS_URL: without NATS the bus delivers in process and has no relay');
  if (!config.databaseUrl) throw new UsageError('--no-relay needs DATABASE_URL: on the embedded database no `acs relay` can run beside');
}
