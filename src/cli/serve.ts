import { fileURLToPath } from 'node:url';
import type { Config } from '../config.ts';
import { readAdminTokenFile } from '../api/index.ts';
import { loadDemoCustomers, progressBar } from '../sense/index.ts';
import { providerEmbedder, providerFromConfig } from '../ground/index.ts';
import { createLogger, startServer } from '../server.ts';
import { liveWorld } from '../world/index.ts';
import { parseCommandArgs, UsageError } from './args.ts';
import { stopSignal } from './stop-signal.ts';
import { checkNoRelay } from './relay.ts';
import { loadDemoKnowledge } from './demo-knowledge.ts';

export const DEMO_CUSTOMERS_FILE = fileURLToPath(new URL('../../data/telco_churn.csv', import.meta.url));

/** Progress for logs (not a terminal): one line at each tenth of the rows, so a long load is visibly moving. */
function progressLog(log: ReturnType<typeof createLogger>): (done: number, total: number) => void {
  let logged = 0;
  return (done, total) => {
    const tenth = total > 0 ? Math.floor((done / total) * 10) : 10;
    if (tenth <= logged || done >= total) return;
    logged = tenth;
    log.info({ done, total }, `loading demo customers: ${done} of ${total}`);
  };
}

/**
 * Runs the server until SIGINT or SIGTERM. With --load-demo, an empty database first gets the Telco customers, and
 * the demo knowledge base is loaded (idempotently); with --world, the demo world runs live on an accelerated clock
 * and the agents work on its signals; with --no-worker, it serves the API only and `acs worker` processes run the
 * stages and jobs; with --no-relay (NATS only), `acs relay` processes hand the outbox to the broker.
 */
export async function serveCommand(args: string[], config: Config): Promise<number> {
  const { values } = parseCommandArgs(args, {
    'load-demo': { type: 'boolean' },
    world: { type: 'boolean' },
    'no-worker': { type: 'boolean' },
    'no-relay': { type: 'boolean' },
  });
  checkNoRelay(values['no-relay'], config);
  // The API alone leaves the stages and jobs to `acs worker` processes, which need a database they can share.
  if (values['no-worker'] && !config.databaseUrl)
    throw new UsageError(
      '--no-worker needs DATABASE_URL: on the embedded database `acs serve` is the one process, and must run the stages and jobs',
    );
  const log = createLogger(config);
  const server = await startServer(config, log, {
    ...(values.world ? { world: liveWorld(config.world) } : {}),
    role: values['no-worker'] ? 'api' : 'all',
    relay: !values['no-relay'],
  });
  if (values['load-demo']) {
    const load = await loadDemoCustomers(server.db, DEMO_CUSTOMERS_FILE, {
      clock: server.clock,
      onProgress: process.stderr.isTTY ? progressBar(process.stderr, 'loading demo customers') : progressLog(log),
      onResume: (present, total) =>
        log.info({ present, total }, `demo import was interrupted at ${present} of ${total} customers; resuming`),
    });
    if (load.status === 'loaded') {
      const { summary } = load;
      log.info(
        { imported: summary.imported, rejected: summary.rejected, ms: summary.ms, resumedAt: load.resumedAt },
        load.resumedAt === null
          ? `loaded ${summary.imported} demo customers from the Telco dataset`
          : `finished the interrupted demo import: ${summary.imported} more customers loaded, ${load.resumedAt} were there`,
      );
      await server.trainChurnModel();
    } else if (load.status === 'already-loaded') log.info('demo customers already loaded');
    else log.info('demo customers not loaded: the database already holds accounts that no demo import wrote');
    // The demo knowledge base: loaded on every start, changing only what its files changed. A source an admin retired
    // stays retired: the server starts without it.
    try {
      const embedder = providerEmbedder(providerFromConfig(config));
      const knowledge = await loadDemoKnowledge(server.db, server.clock.now(), 'demo', embedder);
      for (const k of knowledge) {
        const changed = k.documents.filter((d) => d.status !== 'unchanged').length;
        log.info(
          { source: k.source.name, documents: k.documents.length, changed, chunks: k.source.chunks, state: k.source.state },
          changed ? `loaded the demo knowledge base '${k.source.name}'` : `demo knowledge base '${k.source.name}' already loaded`,
        );
      }
    } catch (err) {
      log.warn({ err }, `the demo knowledge base was not loaded: ${(err as Error).message}`);
    }
  }
  if (values.world) await server.startWorld();
  const tokenAt = config.adminToken ? 'ACS_ADMIN_TOKEN' : `${config.dataDir}/admin-token`;
  if (config.adminToken || readAdminTokenFile(config.dataDir)) {
    log.info(`web console: ${server.url}/ (sign in with the admin token in ${tokenAt})`);
    log.info(`admin token: ${tokenAt}; try: curl -H "Authorization: Bearer $(cat ${config.dataDir}/admin-token)" ${server.url}/api/v1/me`);
  } else {
    // A restored or copied database has admin tokens whose secrets were never written here.
    log.warn(
      `web console: ${server.url}/ (no admin token file in ${config.dataDir}: this database's admin tokens were made elsewhere, a restore say; sign in with one of them, or stop the server and run 'acs token create --role admin --name NAME')`,
    );
  }
  await stopSignal(log);
  log.info('shutting down');
  await server.close();
  return 0;
}
