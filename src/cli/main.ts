import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig, type Config } from '../config.ts';
import { AppError } from '../errors.ts';
import { UsageError } from './args.ts';

const USAGE = `acs: the ACS command line

  acs --version                                print the version of ACS
  acs <command> --help                         print the usage of one command

  acs serve [--load-demo] [--world] [--no-worker] [--no-relay]
                                               start the API (port ACS_PORT, default 7300), the pipeline's
                                               stages and the maintenance jobs; --world also runs the demo
                                               world live on an accelerated clock; --no-worker serves the API
                                               only (needs DATABASE_URL; acs worker runs the rest); --no-relay
                                               leaves the NATS outbox relay to acs relay processes
  acs worker [--no-relay]                      run the pipeline's stages and the maintenance jobs without HTTP,
                                               beside any number of serve and worker processes on one
                                               PostgreSQL (needs DATABASE_URL); jobs that must run once per
                                               cluster run in whichever process holds their lease; --no-relay
                                               as for serve
  acs relay                                    only hand committed outbox events to NATS JetStream (needs
                                               ACS_NATS_URL and DATABASE_URL), beside serve and worker processes
                                               started with --no-relay; any number may run at once
  acs import <entity> <file.csv> [--map col=field ...] [--json]
                                               import a CSV; entity: customers, accounts, contacts, leads,
                                               opportunities, cases, interactions, products, subscriptions,
                                               partners, consents, pipeline-stages; Salesforce and HubSpot
                                               exports import as they come
  acs export <entity> [--out file.csv]         write an entity's records as CSV that acs import reads back
                                               (stdout by default); entity: as import, but not customers
  acs ledger verify [--json]                   recompute the ledger hash chain, check its signed checkpoints
  acs ledger checkpoint [--json]               record the ledger head as a signed checkpoint
  acs token create --role R --name N           make an API token (admin, reviewer, analyst, agent)
  acs token list | acs token revoke <id>
  acs migrate                                  apply database migrations
  acs dump [--out FILE|-] [--force]            the embedded database as a SQL file PGlite or PostgreSQL can load
                                               (default acs-dump-<time>.sql here; never overwrites without --force)
  acs restore FILE|- [--force]                 load a dump into an empty database: the embedded one, or DATABASE_URL's;
                                               --force moves a non-empty embedded database aside (never deletes it)
  acs simulate [--customers N] [--days D] [--seed S] [--holdout 0.1] [--json]
                                               run the demo world headless on a fresh embedded database
  acs simulate --compare [--customers N] [--days D] [--seed S] [--json]
                                               the policy-value benchmark: ACS against none, rules, random, oracle
  acs readiness [--days 30] [--json]           the readiness scorecard: eight dimensions scored 0–100
  acs bandits [--json]                         the offer and channel bandits: each arm's Beta posterior and pulls
  acs track-record [--json]                    each agent's precision per action over 30 days, as earned autonomy sees it
                                               from this ACS's own data, a maturity stage and what to fix
  acs policy validate [dir]                    validate the Cedar policies (default: the shipped policies/)
  acs policy test <cases.json> [--dir D] [--credit-limit CENTS]
                                               check expected decisions (execute, approval, deny)
  acs identity resolve FILE [FILE2] [--id-column COL] [--map col=field,...] [--truth COL] [--threshold P]
                    [--out clusters.csv] [--json]
                                               deduplicate a CSV of people (or link two) with Fellegi–Sunter
                                               matching; writes record_id,entity_id
  acs model train --csv FILE --target COL --positive VALUE [--seed N] [--out model.json] [--json]
                                               train a binary model (logistic regression or boosted trees,
                                               chosen by cross-validation) on a CSV; writes the model
  acs model list [NAME] [--json]               the model registry: versions, stages, what serves, drift
  acs model promote NAME VERSION [--stage champion|challenger] [--reason TEXT]
                                               make a version the champion (default) or the challenger
  acs model rollback NAME [--reason TEXT]      back to the previous champion
  acs model drift NAME [--json]                check the champion for drift (PSI) now
  acs kb import DIR|FILE [--source NAME] [--owner TEXT] [--audience customer|internal] [--review-date YYYY-MM-DD]
                    [--draft] [--json]
                                               import Markdown, HTML and text files into a knowledge source, one
                                               document per file (path relative to DIR); approved unless --draft
  acs kb search "question" [--k 5] [--use internal|customer] [--include-drafts] [--json]
                                               hybrid search of the knowledge base: ranked chunks with path,
                                               heading path, text and score
  acs kb sources [--json] | acs kb approve SOURCE [--review-date D] | acs kb retire SOURCE [--reason TEXT]
  acs outbox list [--json]                     events the bus parked after repeated failures, with their errors
  acs outbox retry ID | acs outbox discard ID --reason TEXT
                                               deliver a parked event again (after a fix), or never
  acs mcp [--token TOKEN]                      the MCP server on stdio (docs/mcp.md): the token (or ACS_TOKEN;
                                               default the admin token) decides what its tools may do; an
                                               agent token proposes as external:<token name>
  acs privacy compact [--only-new] [--json]    after erasures: rewrite the tables, statistics and WAL so no old
                                               copy of an erased person stays in the database files; exits 1
                                               when a step could not be done (it says what to configure)

Configuration comes from the environment: see the README.`;

export type Command = (args: string[], config: Config) => Promise<number>;

// Loaded on demand: a usage error or `acs ledger verify` should not pay for the whole server's imports.
export const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve.ts')).serveCommand,
  worker: async () => (await import('./worker.ts')).workerCommand,
  relay: async () => (await import('./relay.ts')).relayCommand,
  import: async () => (await import('./import.ts')).importCommand,
  export: async () => (await import('./export.ts')).exportCommand,
  ledger: async () => (await import('./ledger.ts')).ledgerCommand,
  token: async () => (await import('./token.ts')).tokenCommand,
  migrate: async () => (await import('./migrate.ts')).migrateCommand,
  dump: async () => (await import('./dump.ts')).dumpCommand,
  restore: async () => (await import('./dump.ts')).restoreCommand,
  simulate: async () => (await import('./simulate.ts')).simulateCommand,
  policy: async () => (await import('./policy.ts')).policyCommand,
  identity: async () => (await import('./identity.ts')).identityCommand,
  readiness: async () => (await import('./readiness.ts')).readinessCommand,
  bandits: async () => (await import('./bandits.ts')).banditsCommand,
  'track-record': async () => (await import('./track-record.ts')).trackRecordCommand,
  model: async () => (await import('./model.ts')).modelCommand,
  outbox: async () => (await import('./outbox.ts')).outboxCommand,
  kb: async () => (await import('./kb.ts')).kbCommand,
  privacy: async () => (await import('./privacy.ts')).privacyCommand,
  mcp: async () => (await import('./mcp.ts')).mcpCommand,
};

/** The package's version, as `acs --version` prints it. */
export function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** One command's part of the usage text: each entry that starts `acs <name>`, with its continuation lines. */
export function commandUsage(name: string): string | undefined {
  const blocks: string[][] = [];
  for (const line of USAGE.split('\n')) {
    if (/^ {2}acs \S/.test(line)) blocks.push([line]);
    else if (/^ {3,}\S/.test(line) && blocks.length) blocks[blocks.length - 1]!.push(line);
    else if (blocks.length && blocks[blocks.length - 1]!.length) blocks.push([]);
  }
  const own = blocks.filter((b) => b[0]?.startsWith(`  acs ${name} `) || b[0] === `  acs ${name}`);
  return own.length
    ? `usage:\n\n${own.map((b) => b.join('\n')).join('\n')}\n\nConfiguration comes from the environment: see the README.`
    : undefined;
}

const HELP = new Set(['--help', '-h']);

/** Runs the CLI; returns the process exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V') {
    console.log(packageVersion());
    return 0;
  }
  if (name === 'help' && rest[0] && COMMANDS[rest[0]]) return runCli([rest[0], '--help']);
  if (!name || name === 'help' || HELP.has(name)) {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  // `acs <command> [<subcommand>] --help`: the command's usage, before any option is parsed or configuration read.
  if (load && rest.some((a) => HELP.has(a))) {
    console.log(commandUsage(name) ?? USAGE);
    return 0;
  }
  try {
    if (!load) throw new UsageError(`unknown command '${name}'`);
    const config = loadConfig();
    return await (
      await load()
    )(rest, config);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`acs: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    if (err instanceof ConfigError || err instanceof AppError) {
      const issues = err instanceof AppError ? err.issues.map((i) => `\n  ${i.path}: ${i.message}`).join('') : '';
      console.error(`acs: ${err.message}${issues}`);
      return err instanceof ConfigError || err.status < 500 ? 2 : 1;
    }
    console.error(`acs: ${(err as Error).message}`);
    return 1;
  }
}
