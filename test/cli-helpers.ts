import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { migrate, openPglite, openPostgres, type Db } from '../src/store/index.ts';

export const ACS_BIN = fileURLToPath(new URL('../bin/acs.js', import.meta.url));

export interface CliEnv {
  env: NodeJS.ProcessEnv;
  dataDir: string;
  /** Drops the PostgreSQL schema, if one was made. */
  cleanup(): Promise<void>;
}

/**
 * Environment for running the real `acs` binary: a fresh data dir for PGlite, or, when DATABASE_URL is
 * set, a fresh schema on that server selected through the URL's search_path option.
 */
export async function cliEnv(): Promise<CliEnv> {
  const dataDir = mkdtempSync(join(tmpdir(), 'acs-cli-'));
  const base: NodeJS.ProcessEnv = { ...process.env, ACS_DATA_DIR: dataDir, ACS_LOG_LEVEL: 'warn', ACS_ADMIN_TOKEN: '' };
  delete base.DATABASE_URL;
  const url = process.env.DATABASE_URL;
  if (!url) return { env: base, dataDir, cleanup: async () => undefined };
  const schema = `cli_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const sep = url.includes('?') ? '&' : '?';
  return {
    env: { ...base, DATABASE_URL: `${url}${sep}options=${encodeURIComponent(`-c search_path=${schema}`)}` },
    dataDir,
    cleanup: async () => {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    },
  };
}

/** Opens the database the CLI uses in `cli`, from the test process, migrated. */
export async function openCliDb(cli: CliEnv): Promise<Db> {
  const db = cli.env.DATABASE_URL ? await openPostgres(cli.env.DATABASE_URL) : await openPglite(join(cli.dataDir, 'pgdata'));
  await migrate(db);
  return db;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/acs.js ...args` and waits for it, bounded by `timeoutMs`. */
export function runAcs(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ACS_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`acs ${args.join(' ')} timed out after ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}
