import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import { readServerLock } from '../server.ts';
import {
  currentSchema,
  dumpPglite,
  dumpProblem,
  openPglite,
  openPostgres,
  publicTableCount,
  restoreDump,
  schemaLevel,
  type Db,
} from '../store/index.ts';
import { parseCommandArgs, UsageError } from './args.ts';

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
// 2026-12-07T07:30:00.000Z → 20261207-073000: sortable, and safe in a file name on every system.
const stamp = (d: Date) => d.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');

/** The embedded database belongs to one process: a running server's pages would change under a dump or a restore. */
function refuseWhileServed(config: Config, what: string): void {
  const running = readServerLock(config.dataDir);
  if (running) {
    throw new Error(
      `an ACS server (pid ${running.pid}, ${running.url}) holds the embedded database in ${config.dataDir}; stop it before ${what}`,
    );
  }
}

/** `acs dump [--out FILE|-] [--force]`: the embedded database as a SQL file that PGlite or PostgreSQL can load. */
export async function dumpCommand(args: string[], config: Config): Promise<number> {
  const { positionals, values } = parseCommandArgs(args, { out: { type: 'string', short: 'o' }, force: { type: 'boolean' } });
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'; name the file with --out FILE`);
  if (config.databaseUrl) {
    throw new AppError('bad_request', 'acs dump copies the embedded database; with DATABASE_URL set, use PostgreSQL’s own pg_dump');
  }
  refuseWhileServed(config, 'dumping it (or dump while it is stopped)');
  const pgdata = join(config.dataDir, 'pgdata');
  if (!existsSync(pgdata)) throw new AppError('not_found', `no embedded database in ${config.dataDir} (ACS_DATA_DIR): nothing to dump`);
  const now = new Date();
  const out = values.out ?? `acs-dump-${stamp(now)}.sql`;
  const toStdout = out === '-';
  if (!toStdout && existsSync(out) && !values.force)
    throw new AppError('bad_request', `${out} already exists; pass --force to overwrite it`);
  // With the dump on stdout, what the command says goes to stderr.
  const say = toStdout ? console.error : console.log;
  console.error(`dumping the embedded database in ${config.dataDir} …`);
  const started = performance.now();
  const dump = await dumpPglite(pgdata, now);
  const bytes = Buffer.byteLength(dump.sql);
  if (toStdout) process.stdout.write(dump.sql);
  else {
    // Written beside the target and renamed, so a failed write never leaves a truncated dump under its name.
    const partial = `${out}.partial`;
    try {
      writeFileSync(partial, dump.sql, { mode: 0o600 });
      renameSync(partial, out);
    } catch (err) {
      rmSync(partial, { force: true });
      throw err;
    }
  }
  say(
    `wrote ${toStdout ? 'the dump to standard output' : out}: ${mb(bytes)} in ${seconds(started)}, schema at migration ${dump.migration}`,
  );
  return 0;
}

const readStdin = async () => {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

/** Progress on stderr when someone watches it: bytes of the script loaded, at most a few times a second. */
function progressReporter(): (done: number, total: number) => void {
  if (!process.stderr.isTTY) return () => undefined;
  let last = 0;
  return (done, total) => {
    const now = performance.now();
    if (now - last < 250 && done < total) return;
    last = now;
    process.stderr.write(`\rrestoring: ${Math.floor((100 * done) / total)}% (${mb(done)} of ${mb(total)})${done === total ? '\n' : ''}`);
  };
}

/**
 * `acs restore FILE|- [--force]`: loads a dump into an empty database, all or nothing. Into the embedded database
 * (ACS_DATA_DIR) or, with DATABASE_URL set, into that PostgreSQL database. Never over existing data by accident:
 * a non-empty target is refused; on the embedded database --force moves the old one aside instead of deleting it.
 */
export async function restoreCommand(args: string[], config: Config): Promise<number> {
  const { positionals, values } = parseCommandArgs(args, { force: { type: 'boolean' } });
  const [file, ...extra] = positionals;
  if (!file || extra.length) throw new UsageError('acs restore takes one dump file (or - for standard input)');
  if (file !== '-' && !existsSync(file)) throw new AppError('not_found', `no such dump file: ${file}`);
  if (file !== '-' && statSync(file).isDirectory()) throw new AppError('bad_request', `${file} is a directory, not a dump file`);
  const sql = file === '-' ? await readStdin() : readFileSync(file, 'utf8');
  const problem = dumpProblem(sql);
  if (problem) throw new AppError('bad_request', `cannot restore ${file}: ${problem}`);
  const started = performance.now();
  const result = config.databaseUrl
    ? await restoreIntoPostgres(config.databaseUrl, sql, !!values.force)
    : await restoreIntoPglite(config, sql, !!values.force);
  console.log(
    `restored ${file === '-' ? 'the dump' : file} (${mb(Buffer.byteLength(sql))}, ${result.statements} statements) in ${seconds(started)}: ` +
      `schema at migration ${result.migration}` +
      (result.pending ? `; ${result.pending} newer migration(s) apply at the next start` : ''),
  );
  console.log('API tokens came with the dump: use the admin token of the database it was taken from, or make one with `acs token create`');
  return 0;
}

async function refuseNonEmpty(db: Db, where: string, hint: string): Promise<void> {
  const tables = await publicTableCount(db);
  if (tables === 0) return;
  const level = await schemaLevel(db);
  const what = level ? `an ACS database (schema at migration ${level})` : `${tables} table(s) in schema public`;
  throw new AppError('bad_request', `${where} already holds ${what}; ${hint}`);
}

async function restoreIntoPostgres(url: string, sql: string, force: boolean) {
  if (force) {
    throw new AppError(
      'bad_request',
      '--force applies to the embedded database only: acs restore never drops tables on a PostgreSQL server',
    );
  }
  const db = await openPostgres(url, { max: 1 }).catch((err: Error) => {
    throw new Error(`cannot connect to DATABASE_URL: ${err.message}`);
  });
  try {
    const schema = await currentSchema(db);
    // The dump names schema public; restoring while this connection works in another would leave ACS unable to see it.
    if (schema !== 'public') {
      throw new AppError('bad_request', `the dump restores into schema public, but DATABASE_URL's search_path puts ACS in '${schema}'`);
    }
    await refuseNonEmpty(db, 'the database in DATABASE_URL', 'restore into a new, empty database (createdb), or drop its tables yourself');
    return await restoreDump(db, sql, progressReporter());
  } finally {
    await db.close();
  }
}

async function restoreIntoPglite(config: Config, sql: string, force: boolean) {
  refuseWhileServed(config, 'restoring into it');
  const pgdata = join(config.dataDir, 'pgdata');
  let asideAt: string | null = null;
  if (existsSync(pgdata)) {
    const current = await openPglite(pgdata);
    try {
      if (!force) {
        await refuseNonEmpty(
          current,
          config.dataDir,
          'restore into an empty ACS_DATA_DIR, or pass --force to move the current database aside (nothing is deleted)',
        );
      }
    } finally {
      await current.close();
    }
    if (force) {
      asideAt = `${pgdata}.before-restore-${stamp(new Date())}`;
      renameSync(pgdata, asideAt);
      console.log(`moved the current database aside to ${asideAt}`);
    }
  }
  const existedEmpty = existsSync(pgdata);
  mkdirSync(config.dataDir, { recursive: true });
  const db = await openPglite(pgdata);
  try {
    const result = await restoreDump(db, sql, progressReporter());
    await db.close();
    return result;
  } catch (err) {
    await db.close().catch(() => undefined);
    // All or nothing: the transaction rolled back; what this command created or moved goes back as it was.
    if (!existedEmpty) rmSync(pgdata, { recursive: true, force: true });
    if (asideAt) {
      renameSync(asideAt, pgdata);
      console.error(`restore failed; the previous database is back in ${pgdata}`);
    }
    throw err;
  }
}
