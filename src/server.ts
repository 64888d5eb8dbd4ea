import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { serve as serveHttp, type ServerType } from '@hono/node-server';
import pino, { type DestinationStream, type Logger } from 'pino';
import {
  bootstrapAdminToken,
  createApp,
  createMetrics,
  observeSignalToDecision,
  superviseAndAlert,
  TokenAuthenticator,
} from './api/index.ts';
import {
  FileTransport,
  MAINTENANCE_LEASE,
  playRegistry,
  readActGauges,
  retentionPlay,
  serviceRecoveryPlay,
  startMaintenance,
  type PlayRegistry,
} from './act/index.ts';
import { followPolicyVersions, PolicyGate } from './assure/index.ts';
import { NatsBus, OutboxBus, outboxStats, type OutboxDelivery } from './bus/index.ts';
import { systemClock, type Clock } from './clock.ts';
import type { Config } from './config.ts';
import { providerFromConfig, type Provider } from './ground/index.ts';
import { runScheduledAgents, type LoopOptions } from './loop/index.ts';
import { grantAppRole, ledgerLag, sequenceLedger, startLedgerSequencer, writeCheckpoint } from './ledger/index.ts';
import { subscribePipeline } from './pipeline/index.ts';
import { ChurnModel, loadChurnExamples, trainingFingerprint } from './reason/index.ts';
import { currentRole, Lease, migrate, notify, openPglite, openPostgres, PROCESS_ID, type Db } from './store/index.ts';
import { startTracing } from './lib/index.ts';
import { defaultModel } from './sense/index.ts';
import { runModelUpkeep } from './learn/index.ts';
import { compactErasures } from './privacy/index.ts';
import { maskChildBindings, piiSafeLoggerOptions } from './trust/index.ts';
import { startWebhookWorker } from './webhooks/index.ts';

/**
 * The server's logger. Emails, card numbers, IBANs and national ids are redacted from every line, in the message
 * in the logged fields and in child loggers' bindings (src/trust: piiSafeLoggerOptions, maskChildBindings). `destination`: where lines go (default stdout).
 */
export function createLogger(config: Pick<Config, 'logLevel'>, destination?: DestinationStream): Logger {
  const options = { level: config.logLevel, base: { service: 'acs' }, ...piiSafeLoggerOptions() };
  return maskChildBindings(destination ? pino(options, destination) : pino(options));
}

/** What a running server advertises in its data dir, so the CLI talks to it instead of opening the same PGlite files. */
export interface ServerLock {
  pid: number;
  url: string;
}

const lockFile = (dataDir: string) => join(dataDir, 'server.json');

export function readServerLock(dataDir: string): ServerLock | null {
  const file = lockFile(dataDir);
  if (!existsSync(file)) return null;
  try {
    const lock = JSON.parse(readFileSync(file, 'utf8')) as ServerLock;
    process.kill(lock.pid, 0);
    return lock;
  } catch {
    return null; // stale: the process is gone
  }
}

/** Migrates as the schema's owner, then grants the app's own role (`app`'s) DML only, the ledger narrower still. */
async function migrateAsOwner(ownerUrl: string, app: Db): Promise<string[]> {
  const owner = await openPostgres(ownerUrl, { max: 1 }).catch((err: Error) => {
    throw new Error(`cannot connect to ACS_MIGRATE_DATABASE_URL: ${err.message}`);
  });
  try {
    const applied = await migrate(owner);
    const role = await currentRole(app);
    // One role in both URLs is the single-role set-up: nothing to separate.
    if (role !== (await currentRole(owner))) await grantAppRole(owner, role);
    return applied;
  } finally {
    await owner.close();
  }
}

/**
 * Opens the configured database and brings its schema up to date (as the owner, when ACS_MIGRATE_DATABASE_URL is set).
 */
export async function openDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir'> & Partial<Pick<Config, 'migrateDatabaseUrl'>>,
  log?: Logger,
): Promise<Db> {
  let db: Db;
  if (config.databaseUrl) {
    db = await openPostgres(config.databaseUrl).catch((err: Error) => {
      throw new Error(`cannot connect to DATABASE_URL: ${err.message}`);
    });
  } else {
    const running = readServerLock(config.dataDir);
    if (running && running.pid !== process.pid) {
      throw new Error(
        `an ACS server (pid ${running.pid}, ${running.url}) holds the embedded database in ${config.dataDir}; stop it first, or use DATABASE_URL`,
      );
    }
    mkdirSync(config.dataDir, { recursive: true });
    db = await openPglite(join(config.dataDir, 'pgdata'));
  }
  const applied = config.migrateDatabaseUrl ? await migrateAsOwner(config.migrateDatabaseUrl, db) : await migrate(db);
  if (applied.length) log?.info({ applied }, 'migrations applied');
  // A process chains the ledger entries it wrote before it lets go of the database (a CLI command runs no sequencer).
  return {
    ...db,
    close: async () => {
      try {
        await sequenceLedger(db);
      } finally {
        await db.close();
      }
    },
  };
}

export interface Services {
  db: Db;
  /** The embedded bus, or the one on NATS JetStream when ACS_NATS_URL is set. */
  bus: OutboxDelivery;
  auth: TokenAuthenticator;
  gate: PolicyGate;
  clock: Clock;
  /** The durable plays the maintenance rounds advance. */
  plays: PlayRegistry;
  app: ReturnType<typeof createApp>;
  log: Logger;
  /** One supervisor round with its alerts (metric, log line); the maintenance rounds run it hourly. */
  supervise(now: Date): Promise<unknown[]>;
}

export interface ServiceOptions {
  /** Default: the shipped policies. */
  gate?: PolicyGate;
  /** The governed loop's settings; without them agents do not run. */
  loop?: Omit<LoopOptions, 'gate'>;
  /** Default: real time. */
  clock?: Clock;
  /** The built web console; default console/dist. */
  consoleDir?: string;
  /** The churn model in use (Customer 360 shows its score); default: the loop's, if agents run. */
  churn?: () => ChurnModel | undefined;
  /** The language-model provider generation uses (agent assist, answers); default none: the embedded composer. */
  provider?: Provider;
  /** Whether this process runs the pipeline's stages on the bus; default yes (false: an API-only process). */
  stages?: boolean;
  /** On NATS, whether this process runs the outbox relay; default yes (false: `acs relay` processes do it). */
  relay?: boolean;
}

/** Wires the database, bus, processing subscribers and HTTP app, without opening a port. */
export function createServices(
  db: Db,
  config: Pick<Config, 'adminToken' | 'maxBodyBytes'> & Partial<Pick<Config, 'signalGates' | 'outbox' | 'nats' | 'rateLimit'>>,
  log: Logger,
  opts: ServiceOptions = {},
): Services {
  const gate = opts.gate ?? PolicyGate.load();
  const clock = opts.clock ?? systemClock;
  const maxAttempts = config.outbox?.maxAttempts;
  const bus = config.nats
    ? new NatsBus(db, log, { url: config.nats.url, maxAttempts, relay: opts.relay, clock })
    : new OutboxBus(db, log, undefined, { maxAttempts, clock });
  if (opts.stages !== false)
    subscribePipeline(bus, {
      decide: opts.loop && { ...opts.loop, gate },
      onTally: (t) => t.customers && log.info({ loop: t }, 'agents decided'),
    });
  const plays = playRegistry(
    retentionPlay(gate, { approvalTtlMs: opts.loop?.approvalTtlMs, text: opts.loop?.text }),
    serviceRecoveryPlay(gate, { approvalTtlMs: opts.loop?.approvalTtlMs, text: opts.loop?.text }),
  );
  const metrics = createMetrics({
    outbox: () => outboxStats(db),
    act: () => readActGauges(db),
    ledgerLag: () => ledgerLag(db),
    // On NATS: what waits on the broker and what is in flight, per topic's consumer.
    streamBacklog:
      bus instanceof NatsBus
        ? async () => Object.fromEntries((await bus.streamBacklog()).map((b) => [b.topic, b.pending + b.inFlight]))
        : undefined,
  });
  bus.onDelivered(observeSignalToDecision(metrics));
  const auth = new TokenAuthenticator(db, config.adminToken, log);
  const app = createApp({
    db,
    bus,
    auth,
    log,
    config,
    gate,
    clock,
    metrics,
    consoleDir: opts.consoleDir,
    churn: opts.churn ?? opts.loop?.churn,
    provider: opts.provider,
    holdout: opts.loop?.holdout,
    approvalTtlMs: opts.loop?.approvalTtlMs,
  });
  const supervise = (now: Date) => superviseAndAlert({ db, metrics, log, gate }, now);
  return { db, bus, auth, app, log, gate, clock, plays, supervise };
}

/**
 * A world run beside the server on a clock of its own: the demo world for `acs serve --world`. The CLI (the
 * composition root) supplies it; the product never imports the demo world.
 */
export interface ServerWorld {
  /** Opens the world's clock once the database is open; the server runs on it. */
  openClock(db: Db): Promise<Clock>;
  /** Starts the world beside the running services. */
  start(deps: { db: Db; bus: OutboxDelivery; gate: PolicyGate; plays: PlayRegistry; log: Logger }): Promise<{ stop(): Promise<void> }>;
}

export interface RunningServer extends Services {
  url: string;
  /** Fits the churn model on the customers whose outcome is recorded; agents use rules until there are enough. */
  trainChurnModel(): Promise<ChurnModel | undefined>;
  /** Starts the live demo world (when the server was started with `world`); call it once the customers are loaded. */
  startWorld(): Promise<void>;
  close(): Promise<void>;
}

/** Announces a churn model fitted on new rows (its payload: who fitted it). */
const CHURN_TRAINED_CHANNEL = 'acs_churn_trained';

/**
 * What `acs serve` runs: `all` (the default) is the API, the pipeline's stages and the maintenance rounds in one
 * process; `api` is the API alone, for clusters whose stages and jobs run in `acs worker` processes (docs/scaling.md).
 */
export type ServeRole = 'all' | 'api';

/**
 * What a server and a worker share: the validated policies, the open database, the loop's settings, the services and
 * the churn model the agents use until the registry serves one.
 */
async function openProcess(
  config: Config,
  log: Logger,
  opts: { stages: boolean; relay?: boolean; clock?: (db: Db) => Promise<Clock>; bootstrapToken: boolean },
) {
  // Policies first: a policy that does not parse or validate stops start-up before anything else opens.
  const policies = PolicyGate.load(config.policyDir, {
    creditApprovalLimitCents: config.creditApprovalLimitCents,
    dailyCreditBudgetCents: config.dailyCreditBudgetCents,
  });
  log.info(
    { policies: policies.loaded.policies.length, creditApprovalLimitCents: policies.creditApprovalLimitCents },
    'policies loaded and validated',
  );
  // Traces only when a collector is configured: without it the SDK is never loaded and spans are no-ops.
  const tracing = config.otel?.endpoint
    ? await startTracing({ endpoint: config.otel.endpoint, serviceName: config.otel.serviceName })
    : undefined;
  if (tracing) log.info({ endpoint: config.otel?.endpoint }, 'OpenTelemetry traces on');
  const db = await openDatabase(config, log);
  if (opts.bootstrapToken) {
    const tokenFile = await bootstrapAdminToken(db, config.dataDir);
    if (tokenFile) log.info({ file: tokenFile }, `first start: admin token written to ${tokenFile} (mode 0600)`);
  }
  // A policy set adopted through the API (policy_versions) wins over the files: read before anything decides, and
  // followed on each NOTIFY, so an adoption in any process is in force in this one without a restart.
  await followPolicyVersions(db, policies, (err) => log.error({ err }, 'could not put the newest adopted policy version in force')).catch(
    (err: unknown) => log.warn({ err }, 'cannot LISTEN for adopted policy versions; this process reads them only at start'),
  );
  if (policies.version) log.info({ version: policies.version }, 'adopted policy version in force');
  const clock = opts.clock ? await opts.clock(db) : undefined;
  const churn = { model: undefined as ChurnModel | undefined };
  // Generation uses a model only when a chat model is configured (PII masked before text leaves); an embedding model
  // alone leaves it with the embedded composer but makes retrieval hybrid. One provider for message bodies, assist,
  // answers and knowledge search.
  const provider = providerFromConfig(config);
  const loop = config.agents
    ? {
        churn: () => churn.model,
        holdout: config.holdout,
        dailyCreditBudgetCents: config.dailyCreditBudgetCents,
        approvalTtlMs: config.approvalTtlMs,
        text: { provider },
      }
    : undefined;
  const services = createServices(db, config, log, {
    gate: policies,
    loop,
    clock,
    consoleDir: config.consoleDir,
    provider,
    churn: () => churn.model,
    stages: opts.stages,
    relay: opts.relay,
  });
  // With ACS_NATS_URL, an unreachable broker stops start-up here, naming the variable.
  await services.bus.ready().catch(async (err: Error) => {
    await services.bus.stop();
    await db.close();
    throw err;
  });
  const fitChurnModel = async () => {
    const examples = await loadChurnExamples(db);
    if (examples.length < 50) return undefined;
    churn.model = ChurnModel.train(examples, trainingFingerprint(examples));
    log.info({ model: ChurnModel.ID, version: churn.model.version, trainedOn: examples.length }, 'churn model trained');
    return churn.model;
  };
  // A model fitted after new customers arrived (--load-demo) is announced: the other processes fit theirs again from
  // the same rows, so every process's agents score churn alike. A lost LISTEN connection's return refits too.
  const self = `${PROCESS_ID}:${randomBytes(3).toString('hex')}`;
  await db
    .listen?.(CHURN_TRAINED_CHANNEL, (from) => {
      if (from !== self) fitChurnModel().catch((err: unknown) => log.warn({ err }, 'could not fit the churn model again'));
    })
    .catch((err: unknown) => log.warn({ err }, 'cannot LISTEN for churn models fitted elsewhere; this process keeps its own'));
  const trainChurnModel = async () => {
    const model = await fitChurnModel();
    if (model) await notify(db, CHURN_TRAINED_CHANNEL, self);
    return model;
  };
  return { policies, db, loop, services, fitChurnModel, trainChurnModel, tracing };
}

/** Fitted at start rather than on the first signal that describes a person, which would wait a second or two for it. */
async function fitIdentityMatcher(log: Logger): Promise<void> {
  const identity = await defaultModel();
  log.info({ fittedOn: identity.fittedOn }, 'identity matcher ready');
}

/**
 * Chains ledger entries shortly after their writers commit (any process may: one round at a time holds the
 * sequencer's lock), and publishes the head as a signed checkpoint in the data dir.
 */
function startLedgerUpkeep(config: Config, log: Logger, db: Db): { stop(): Promise<void> } {
  let lastCheckpoint = 0;
  return startLedgerSequencer(db, {
    intervalMs: config.ledger.sequenceMs,
    after: async () => {
      if (Date.now() - lastCheckpoint < config.ledger.checkpointSeconds * 1000) return;
      lastCheckpoint = Date.now();
      await writeCheckpoint(db, config.dataDir);
    },
    onError: (err) => log.error({ err }, 'ledger sequencer failed; it retries'),
  });
}

/** How often the webhook sender looks for ledger entries to turn into deliveries and for deliveries due. */
const WEBHOOK_INTERVAL_MS = 1000;

/**
 * Webhooks out (docs/webhooks.md): every process that runs the stages sends them too. One reads the ledger at a
 * time, and each delivery is claimed by one sender, so they share the work without a lease.
 */
function startWebhooks(log: Logger, db: Db): { stop(): Promise<void> } {
  return startWebhookWorker(db, {
    intervalMs: WEBHOOK_INTERVAL_MS,
    onError: (err) => log.error({ err }, 'webhook delivery round failed; it retries'),
  });
}

/**
 * The maintenance rounds with every job the server's configuration gives them; they run under the cluster's
 * maintenance lease, so of all `acs serve` and `acs worker` processes on one database only its holder does the work.
 */
function startJobs(config: Config, log: Logger, p: Awaited<ReturnType<typeof openProcess>>): { stop(): Promise<void> } {
  const { db, services, loop, policies } = p;
  // Messages go to a file in the data dir: nothing is sent anywhere until a real transport is plugged in.
  const transport = new FileTransport(join(config.dataDir, 'outbox', 'messages.jsonl'));
  const daily = loop ? (now: Date) => runScheduledAgents(db, { ...loop, gate: policies }, now) : undefined;
  // Model upkeep: scheduled drift checks of registry champions and scheduled retrains on live outcomes (each
  // model's interval, on the server's clock).
  const models = (now: Date) => runModelUpkeep(db, now, (name, what, err) => log.error({ err, model: name }, `${what} failed`));
  return startMaintenance(
    db,
    {
      transport,
      plays: services.plays,
      clock: services.clock,
      daily,
      models,
      supervise: services.supervise,
      // Erasures not yet compacted; one whose compaction fell short waits for `acs privacy compact` after the fix.
      compact: (now) => compactErasures(db, { actor: 'system:maintenance', now, retryIncomplete: false }),
      outboxRetentionHours: config.outbox.retentionHours,
      lease: new Lease(db, MAINTENANCE_LEASE, config.cluster.leaseTtlMs),
    },
    log,
    config.cluster.maintenanceIntervalMs,
  );
}

/**
 * Starts ACS: database, admin token on first start, HTTP server, and (role `all`, the default) the pipeline's stages
 * and the maintenance rounds. With `world`, the server runs on that world's clock.
 */
export async function startServer(
  config: Config,
  log = createLogger(config),
  opts: { world?: ServerWorld; role?: ServeRole; relay?: boolean } = {},
): Promise<RunningServer> {
  const worker = (opts.role ?? 'all') === 'all';
  const world = opts.world;
  const p = await openProcess(config, log, {
    stages: worker,
    relay: opts.relay,
    bootstrapToken: true,
    clock: world && ((db) => world.openClock(db)),
  });
  const { db, services, policies, trainChurnModel, tracing } = p;
  const server: ServerType = await new Promise<ServerType>((resolve, reject) => {
    const s = serveHttp({ fetch: services.app.fetch, port: config.port, hostname: config.host }, () => resolve(s));
    s.once('error', reject);
  }).catch(async (err: Error) => {
    await services.bus.stop();
    await db.close();
    throw new Error(`cannot listen on ${config.host}:${config.port} (${err.message}); set ACS_PORT or ACS_HOST`);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host}:${port}`;
  if (!config.databaseUrl) writeFileSync(lockFile(config.dataDir), JSON.stringify({ pid: process.pid, url } satisfies ServerLock));
  if (worker) services.bus.notify();
  log.info({ url, database: db.kind, role: opts.role ?? 'all' }, `ACS listening on ${url}`);
  await p.fitChurnModel();
  await fitIdentityMatcher(log);
  const maintenance = worker ? startJobs(config, log, p) : null;
  const webhooks = worker ? startWebhooks(log, db) : null;
  const sequencer = startLedgerUpkeep(config, log, db);
  let live: { stop(): Promise<void> } | null = null;
  return {
    ...services,
    url,
    trainChurnModel,
    startWorld: async () => {
      if (!world) throw new Error('the server was started without the live world');
      live ??= await world.start({ db, bus: services.bus, gate: policies, plays: services.plays, log });
    },
    close: async () => {
      await live?.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await maintenance?.stop();
      await webhooks?.stop();
      await services.bus.stop();
      await sequencer.stop();
      await db.close();
      if (!config.databaseUrl) rmSync(lockFile(config.dataDir), { force: true });
      await tracing?.shutdown();
    },
  };
}

export interface RunningWorker {
  db: Db;
  log: Logger;
  /** Finishes the batch and the round under way, lets the maintenance lease go and closes the database. */
  close(): Promise<void>;
}

/**
 * Starts a worker: the pipeline's stages on the bus and the maintenance rounds (under the cluster's lease), without
 * HTTP. Any number may run beside `acs serve` processes on one PostgreSQL; the embedded database has one process.
 */
export async function startWorker(config: Config, log = createLogger(config), opts: { relay?: boolean } = {}): Promise<RunningWorker> {
  if (!config.databaseUrl)
    throw new Error(
      'acs worker needs DATABASE_URL: the embedded database is one process, and `acs serve` already runs the stages and jobs there',
    );
  const p = await openProcess(config, log, { stages: true, relay: opts.relay, bootstrapToken: false });
  const { db, services } = p;
  await p.fitChurnModel();
  await fitIdentityMatcher(log);
  services.bus.notify();
  const maintenance = startJobs(config, log, p);
  const webhooks = startWebhooks(log, db);
  const sequencer = startLedgerUpkeep(config, log, db);
  log.info({ database: db.kind }, 'ACS worker running: pipeline stages and maintenance rounds (under the cluster lease)');
  return {
    db,
    log,
    close: async () => {
      await maintenance.stop();
      await webhooks.stop();
      await services.bus.stop();
      await sequencer.stop();
      await db.close();
      await p.tracing?.shutdown();
    },
  };
}

export interface RunningRelay {
  db: Db;
  /** Finishes the batch being handed over (bounded by the bus's grace), then closes the connection and the database. */
  close(): Promise<void>;
}

/**
 * Starts an outbox relay on its own (`acs relay`): it hands committed outbox events of the pipeline's topics to NATS
 * JetStream and does nothing else (no stages, no jobs, no HTTP), beside serve and worker processes started with
 * `--no-relay`. Any number may run: each claims rows with FOR UPDATE SKIP LOCKED, and the stream drops a row
 * published twice by its message id.
 */
export async function startRelay(config: Config, log = createLogger(config)): Promise<RunningRelay> {
  if (!config.nats)
    throw new Error('acs relay needs ACS_NATS_URL: it hands the outbox to NATS JetStream, and without it there is nothing to relay to');
  if (!config.databaseUrl)
    throw new Error('acs relay needs DATABASE_URL: the embedded database is one process, and `acs serve` relays there itself');
  const db = await openDatabase(config, log);
  const bus = new NatsBus(db, log, { url: config.nats.url, maxAttempts: config.outbox?.maxAttempts, consume: false });
  // The relay hands over the topics the pipeline's stages subscribe to; its handlers never run (it consumes nothing).
  subscribePipeline(bus);
  await bus.ready().catch(async (err: Error) => {
    await bus.stop();
    await db.close();
    throw err;
  });
  bus.notify();
  log.info({ database: db.kind }, 'ACS relay running: committed outbox events to NATS JetStream');
  return {
    db,
    close: async () => {
      await bus.stop();
      await db.close();
    },
  };
}
