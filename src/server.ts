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
import { FileTransport, playRegistry, retentionPlay, serviceRecoveryPlay, startMaintenance, type PlayRegistry } from './act/index.ts';
import { PolicyGate } from './assure/index.ts';
import { OutboxBus, outboxStats } from './bus/index.ts';
import { systemClock, type Clock } from './clock.ts';
import type { Config } from './config.ts';
import { providerFromConfig, type Provider } from './ground/index.ts';
import { runScheduledAgents, type LoopOptions } from './loop/index.ts';
import { grantAppRole, sequenceLedger, startLedgerSequencer, writeCheckpoint } from './ledger/index.ts';
import { subscribePipeline } from './pipeline/index.ts';
import { ChurnModel, loadChurnExamples, trainingFingerprint } from './reason/index.ts';
import { currentRole, migrate, openPglite, openPostgres, type Db } from './store/index.ts';
import { defaultModel } from './sense/index.ts';
import { runModelUpkeep } from './learn/index.ts';
import { compactErasures } from './privacy/index.ts';
import { maskChildBindings, piiSafeLoggerOptions } from './trust/index.ts';

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
  bus: OutboxBus;
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
}

/** Wires the database, bus, processing subscribers and HTTP app, without opening a port. */
export function createServices(
  db: Db,
  config: Pick<Config, 'adminToken' | 'maxBodyBytes'> & Partial<Pick<Config, 'signalGates' | 'outbox'>>,
  log: Logger,
  opts: ServiceOptions = {},
): Services {
  const gate = opts.gate ?? PolicyGate.load();
  const clock = opts.clock ?? systemClock;
  const bus = new OutboxBus(db, log, undefined, { maxAttempts: config.outbox?.maxAttempts });
  subscribePipeline(bus, {
    decide: opts.loop && { ...opts.loop, gate },
    onTally: (t) => t.customers && log.info({ loop: t }, 'agents decided'),
  });
  const plays = playRegistry(
    retentionPlay(gate, { approvalTtlMs: opts.loop?.approvalTtlMs, text: opts.loop?.text }),
    serviceRecoveryPlay(gate, { approvalTtlMs: opts.loop?.approvalTtlMs, text: opts.loop?.text }),
  );
  const metrics = createMetrics({ outbox: () => outboxStats(db) });
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
  start(deps: { db: Db; bus: OutboxBus; gate: PolicyGate; plays: PlayRegistry; log: Logger }): Promise<{ stop(): Promise<void> }>;
}

export interface RunningServer extends Services {
  url: string;
  /** Fits the churn model on the customers whose outcome is recorded; agents use rules until there are enough. */
  trainChurnModel(): Promise<ChurnModel | undefined>;
  /** Starts the live demo world (when the server was started with `world`); call it once the customers are loaded. */
  startWorld(): Promise<void>;
  close(): Promise<void>;
}

/** Starts ACS: database, admin token on first start, HTTP server. With `world`, the server runs on that world's clock. */
export async function startServer(config: Config, log = createLogger(config), opts: { world?: ServerWorld } = {}): Promise<RunningServer> {
  // Policies first: a policy that does not parse or validate stops start-up before anything else opens.
  const policies = PolicyGate.load(config.policyDir, {
    creditApprovalLimitCents: config.creditApprovalLimitCents,
    dailyCreditBudgetCents: config.dailyCreditBudgetCents,
  });
  log.info(
    { policies: policies.loaded.policies.length, creditApprovalLimitCents: policies.creditApprovalLimitCents },
    'policies loaded and validated',
  );
  const db = await openDatabase(config, log);
  const tokenFile = await bootstrapAdminToken(db, config.dataDir);
  if (tokenFile) log.info({ file: tokenFile }, `first start: admin token written to ${tokenFile} (mode 0600)`);
  const worldClock = opts.world ? await opts.world.openClock(db) : undefined;
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
    clock: worldClock,
    consoleDir: config.consoleDir,
    provider,
    churn: () => churn.model,
  });
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
  services.bus.notify();
  log.info({ url, database: db.kind }, `ACS listening on ${url}`);
  const trainChurnModel = async () => {
    const examples = await loadChurnExamples(db);
    if (examples.length < 50) return undefined;
    churn.model = ChurnModel.train(examples, trainingFingerprint(examples));
    log.info({ model: ChurnModel.ID, version: churn.model.version, trainedOn: examples.length }, 'churn model trained');
    return churn.model;
  };
  await trainChurnModel();
  // Fitted now rather than on the first signal that describes a person, which would wait a second or two for it.
  const identity = await defaultModel();
  log.info({ fittedOn: identity.fittedOn }, 'identity matcher ready');
  // Messages go to a file in the data dir: nothing is sent anywhere until a real transport is plugged in.
  const transport = new FileTransport(join(config.dataDir, 'outbox', 'messages.jsonl'));
  const daily = loop ? (now: Date) => db.transaction((tx) => runScheduledAgents(tx, { ...loop, gate: policies }, now)) : undefined;
  // Model upkeep: scheduled drift checks of registry champions and scheduled retrains on live outcomes (each
  // model's interval, on the server's clock).
  const models = (now: Date) => runModelUpkeep(db, now, (name, what, err) => log.error({ err, model: name }, `${what} failed`));
  const maintenance = startMaintenance(
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
    },
    log,
  );
  // Chains ledger entries shortly after their writers commit, and publishes the head as a signed checkpoint.
  let lastCheckpoint = 0;
  const sequencer = startLedgerSequencer(db, {
    intervalMs: config.ledger.sequenceMs,
    after: async () => {
      if (Date.now() - lastCheckpoint < config.ledger.checkpointSeconds * 1000) return;
      lastCheckpoint = Date.now();
      await writeCheckpoint(db, config.dataDir);
    },
    onError: (err) => log.error({ err }, 'ledger sequencer failed; it retries'),
  });
  let live: { stop(): Promise<void> } | null = null;
  return {
    ...services,
    url,
    trainChurnModel,
    startWorld: async () => {
      if (!opts.world) throw new Error('the server was started without the live world');
      live ??= await opts.world.start({ db, bus: services.bus, gate: policies, plays: services.plays, log });
    },
    close: async () => {
      await live?.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await maintenance.stop();
      await services.bus.stop();
      await sequencer.stop();
      await db.close();
      if (!config.databaseUrl) rmSync(lockFile(config.dataDir), { force: true });
    },
  };
}
