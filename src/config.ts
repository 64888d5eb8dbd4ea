import { resolve } from 'node:path';
import { isSupportedCountry } from 'libphonenumber-js';
import { z } from 'zod';

/** Intake's quality gates on a signal's occurredAt: how far ahead of the server clock, and how far back, it may be. */
export interface SignalGates {
  maxFutureSeconds: number;
  maxAgeDays: number;
}
// A day ahead tolerates drifting clocks and time zone slips; ten years back still refuses seconds read as milliseconds.
export const DEFAULT_SIGNAL_GATES: SignalGates = { maxFutureSeconds: 86_400, maxAgeDays: 3650 };

/** Requests an API token may make per process: `perSecond` on average, in bursts of up to `burst`; `perSecond` 0 is no limit. */
export interface RateLimit {
  perSecond: number;
  burst: number;
}
/** High enough that no test or benchmark meets it: the limit guards against a runaway client; it is not a quota. */
export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 10_000, burst: 50_000 };

/** Every setting ACS reads from the environment. The README's configuration table mirrors this. */
const EnvSchema = z.object({
  ACS_PORT: z.coerce.number().int().min(0).max(65535).default(7300),
  ACS_HOST: z.string().default('127.0.0.1'),
  ACS_DATA_DIR: z.string().default('.acs'),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional(),
  ACS_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  ACS_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  ACS_LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  ACS_POLICY_DIR: z.string().optional(),
  ACS_CREDIT_APPROVAL_LIMIT_CENTS: z.coerce.number().int().min(0).default(5000),
  ACS_AGENTS: z.enum(['on', 'off']).default('on'),
  ACS_HOLDOUT_FRACTION: z.coerce.number().min(0).max(1).default(0.1),
  ACS_HOLDOUT_SALT: z.string().min(1).default('acs-holdout'),
  ACS_DAILY_CREDIT_BUDGET_CENTS: z.coerce.number().int().min(0).default(100_000),
  ACS_APPROVAL_TTL_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 365)
    .default(72),
  ACS_WORLD_DAY_SECONDS: z.coerce.number().min(1).max(86_400).default(60),
  ACS_WORLD_SEED: z.coerce
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1)
    .default(7),
  // The live world's queue is worked by the simulated reviewer unless a person says they will work it.
  ACS_WORLD_REVIEWER: z.enum(['human', 'sim']).default('sim'),
  ACS_CONSOLE_DIR: z.string().optional(),
  ACS_SIGNAL_MAX_FUTURE_SECONDS: z.coerce.number().int().min(0).default(DEFAULT_SIGNAL_GATES.maxFutureSeconds),
  ACS_SIGNAL_MAX_AGE_DAYS: z.coerce.number().int().min(1).default(DEFAULT_SIGNAL_GATES.maxAgeDays),
  ACS_RATE_LIMIT_PER_SECOND: z.coerce.number().min(0).max(1_000_000).default(DEFAULT_RATE_LIMIT.perSecond),
  ACS_RATE_LIMIT_BURST: z.coerce.number().int().min(1).max(10_000_000).default(DEFAULT_RATE_LIMIT.burst),
  ACS_OUTBOX_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5),
  ACS_OUTBOX_RETENTION_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 3650)
    .default(168),
  // Carries the outbox on NATS JetStream instead of in process; unset means the embedded bus and no service to run.
  ACS_NATS_URL: z
    .string()
    .regex(/^nats:\/\/[^\s/]+\/?$/, 'must be a nats:// URL, as nats://127.0.0.1:4222')
    .optional(),
  // A language-model provider (any OpenAI-compatible server); unset means the embedded composer, and nothing leaves.
  ACS_LLM_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  ACS_LLM_MODEL: z.string().min(1).optional(),
  ACS_LLM_API_KEY: z.string().min(1).optional(),
  ACS_EMBED_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  ACS_EMBED_MODEL: z.string().min(1).optional(),
  ACS_EMBED_API_KEY: z.string().min(1).optional(),
  ACS_LLM_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  ACS_LLM_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
  // Several processes on one PostgreSQL (docs/scaling.md): how often maintenance rounds run, and how long the
  // once-per-cluster lease outlives a holder that stopped renewing it (how soon another process takes over).
  ACS_MAINTENANCE_INTERVAL_MS: z.coerce.number().int().min(50).max(3_600_000).default(5000),
  ACS_LEASE_TTL_MS: z.coerce.number().int().min(500).max(3_600_000).default(30_000),
  // OpenTelemetry's standard variables: traces go to an OTLP/HTTP collector only when an endpoint is set.
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }).optional(),
  OTEL_SERVICE_NAME: z.string().min(1).default('acs'),
  // PostgreSQL: the schema owner's URL, for migrations; DATABASE_URL's role then gets DML only (docs/ledger.md).
  ACS_MIGRATE_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional(),
  ACS_LEDGER_SEQUENCE_MS: z.coerce.number().int().min(10).max(60_000).default(200),
  ACS_LEDGER_CHECKPOINT_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  // Read where phones are normalised (src/contracts/normalize.ts); checked here so a typo stops start-up.
  ACS_DEFAULT_PHONE_REGION: z
    .string()
    .trim()
    .toUpperCase()
    .refine((r) => isSupportedCountry(r), 'must be a region code libphonenumber-js knows, like US, AU or GB')
    .default('US'),
});

/** One provider endpoint: an OpenAI-compatible server's base URL, the model to ask for, and its key if it needs one. */
export interface ProviderEndpointConfig {
  baseUrl: string;
  model: string;
  apiKey?: string;
  timeoutMs: number;
  maxRetries: number;
}

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  databaseUrl?: string;
  adminToken?: string;
  maxBodyBytes: number;
  logLevel: z.infer<typeof EnvSchema>['ACS_LOG_LEVEL'];
  /** Cedar policies and schema; unset means the shipped `policies/`. */
  policyDir?: string;
  creditApprovalLimitCents: number;
  /** Whether agents run on accepted signals. */
  agents: boolean;
  holdout: { fraction: number; salt: string };
  dailyCreditBudgetCents: number;
  /** How long an approval waits for a human before it expires (on the server's clock). */
  approvalTtlMs: number;
  /** The live demo world (`acs serve --world`): real seconds per simulated day, its seed, and who works the approval queue. */
  world: { daySeconds: number; seed: number; reviewer: 'human' | 'sim' };
  /** The built web console served at `/`; unset means `console/dist` (what `npm run build:console` writes). */
  consoleDir?: string;
  /** Signals dated outside these bounds are quarantined at intake. */
  signalGates: SignalGates;
  /** Requests per API token and process: the average rate and the burst (a 429 with Retry-After past them); 0 per second: off. */
  rateLimit: RateLimit;
  /** The event bus: attempts before a failing event is parked, and how long delivered events are kept. */
  outbox: { maxAttempts: number; retentionHours: number };
  /** The NATS JetStream server that carries the outbox's events; unset means the embedded bus. */
  nats?: { url: string };
  /** The chat model grounded generation may use; unset means the embedded composer. */
  llm?: ProviderEndpointConfig;
  /** The embedding model semantic retrieval may use; unset means lexical retrieval alone. */
  embed?: ProviderEndpointConfig;
  /** Maintenance rounds' interval, and the TTL of the lease under which one process runs the once-per-cluster jobs. */
  cluster: { maintenanceIntervalMs: number; leaseTtlMs: number };
  /** OpenTelemetry traces: the OTLP/HTTP collector (unset: no SDK starts) and the service name spans carry. */
  otel?: { endpoint?: string; serviceName: string };
  /** PostgreSQL: the owner's URL migrations run with; the app's own role (DATABASE_URL) then gets DML only. */
  migrateDatabaseUrl?: string;
  /** The ledger's sequencer: how often it chains new entries, and how often the head is checkpointed (when it moved). */
  ledger: { sequenceMs: number; checkpointSeconds: number };
}

export class ConfigError extends Error {}

/** Reads the configuration; a bad value stops start-up with a message naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== '')));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const endpoint = (prefix: 'ACS_LLM' | 'ACS_EMBED'): ProviderEndpointConfig | undefined => {
    const baseUrl = e[`${prefix}_BASE_URL`];
    const model = e[`${prefix}_MODEL`];
    if (!baseUrl && !model) return undefined;
    if (!baseUrl || !model) {
      const missing = baseUrl ? `${prefix}_MODEL` : `${prefix}_BASE_URL`;
      throw new ConfigError(`invalid configuration:\n  ${missing}: required when ${prefix}_${baseUrl ? 'BASE_URL' : 'MODEL'} is set`);
    }
    return { baseUrl, model, apiKey: e[`${prefix}_API_KEY`], timeoutMs: e.ACS_LLM_TIMEOUT_MS, maxRetries: e.ACS_LLM_MAX_RETRIES };
  };
  if (e.ACS_MIGRATE_DATABASE_URL && !e.DATABASE_URL) {
    throw new ConfigError('invalid configuration:\n  ACS_MIGRATE_DATABASE_URL: needs DATABASE_URL (the app role the migrations grant to)');
  }
  const llm = endpoint('ACS_LLM');
  const embed = endpoint('ACS_EMBED');
  return {
    port: e.ACS_PORT,
    host: e.ACS_HOST,
    dataDir: resolve(e.ACS_DATA_DIR),
    databaseUrl: e.DATABASE_URL,
    adminToken: e.ACS_ADMIN_TOKEN,
    maxBodyBytes: e.ACS_MAX_BODY_BYTES,
    logLevel: e.ACS_LOG_LEVEL,
    policyDir: e.ACS_POLICY_DIR ? resolve(e.ACS_POLICY_DIR) : undefined,
    creditApprovalLimitCents: e.ACS_CREDIT_APPROVAL_LIMIT_CENTS,
    agents: e.ACS_AGENTS === 'on',
    holdout: { fraction: e.ACS_HOLDOUT_FRACTION, salt: e.ACS_HOLDOUT_SALT },
    dailyCreditBudgetCents: e.ACS_DAILY_CREDIT_BUDGET_CENTS,
    approvalTtlMs: Math.round(e.ACS_APPROVAL_TTL_HOURS * 3600_000),
    world: { daySeconds: e.ACS_WORLD_DAY_SECONDS, seed: e.ACS_WORLD_SEED, reviewer: e.ACS_WORLD_REVIEWER },
    consoleDir: e.ACS_CONSOLE_DIR ? resolve(e.ACS_CONSOLE_DIR) : undefined,
    signalGates: { maxFutureSeconds: e.ACS_SIGNAL_MAX_FUTURE_SECONDS, maxAgeDays: e.ACS_SIGNAL_MAX_AGE_DAYS },
    rateLimit: { perSecond: e.ACS_RATE_LIMIT_PER_SECOND, burst: e.ACS_RATE_LIMIT_BURST },
    outbox: { maxAttempts: e.ACS_OUTBOX_MAX_ATTEMPTS, retentionHours: e.ACS_OUTBOX_RETENTION_HOURS },
    ...(e.ACS_NATS_URL && { nats: { url: e.ACS_NATS_URL } }),
    ...(llm && { llm }),
    ...(embed && { embed }),
    cluster: { maintenanceIntervalMs: e.ACS_MAINTENANCE_INTERVAL_MS, leaseTtlMs: e.ACS_LEASE_TTL_MS },
    otel: { endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: e.OTEL_SERVICE_NAME },
    ...(e.ACS_MIGRATE_DATABASE_URL && { migrateDatabaseUrl: e.ACS_MIGRATE_DATABASE_URL }),
    ledger: { sequenceMs: e.ACS_LEDGER_SEQUENCE_MS, checkpointSeconds: e.ACS_LEDGER_CHECKPOINT_SECONDS },
  };
}
