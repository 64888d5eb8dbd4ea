import type { Logger } from 'pino';
import type { PolicyGate } from '../assure/index.ts';
import type { Bus } from '../bus/index.ts';
import type { Clock } from '../clock.ts';
import type { Config } from '../config.ts';
import type { Provider } from '../ground/index.ts';
import type { ChurnModel } from '../reason/index.ts';
import type { Db } from '../store/index.ts';
import type { TokenAuthenticator } from './auth.ts';
import type { Metrics } from './metrics.ts';

/** What route handlers need; built once by the server and passed down explicitly. */
export interface ApiDeps {
  db: Db;
  bus: Bus;
  /** `dataDir` holds the ledger's signed checkpoints, which verification checks (none when unset). */
  config: Pick<Config, 'maxBodyBytes'> & Partial<Pick<Config, 'signalGates' | 'dataDir' | 'rateLimit'>>;
  log: Logger;
  metrics: Metrics;
  auth: TokenAuthenticator;
  gate: PolicyGate;
  /** The server's time: real, or the live demo world's accelerated clock. */
  clock: Clock;
  /** The built web console served at `/`; default console/dist. */
  consoleDir?: string;
  /** The churn model in use, when one is trained: Customer 360 shows its score. */
  churn?: () => ChurnModel | undefined;
  /** The configured language-model provider; unset means the embedded composer, and no text leaves the process. */
  provider?: Provider;
  /** The loop's holdout, when agents run: external agents' proposals (MCP) keep to it too. */
  holdout?: { salt: string; fraction: number };
  /** How long an approval waits for a human; default 72 hours. */
  approvalTtlMs?: number;
}
