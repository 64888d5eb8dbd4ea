import type { Config } from '../config.ts';
import { AppError, isErrorCode } from '../errors.ts';
import { readAdminTokenFile } from '../api/index.ts';
import { openDatabase, readServerLock } from '../server.ts';
import type { Db, Queryable } from '../store/index.ts';
import { readWorldSimNow } from '../world/index.ts';

/**
 * When a server holds the embedded database, CLI commands go through its API instead of opening the
 * same files. Returns null when the CLI should open the database itself.
 */
export function runningServerClient(
  config: Config,
): ((method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>) | null {
  if (config.databaseUrl) return null;
  const lock = readServerLock(config.dataDir);
  if (!lock) return null;
  const token = config.adminToken ?? readAdminTokenFile(config.dataDir);
  if (!token) throw new Error(`a server is running (${lock.url}) but no admin token is available: set ACS_ADMIN_TOKEN`);
  return async (method, path, body) => {
    const res = await fetch(lock.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: await res.json().catch(() => null) };
  };
}

/**
 * The server's problem answer as the AppError it came from, so the CLI prints the same message (and field issues)
 * whether it went through the API or opened the database itself.
 */
export function errorOfAnswer(res: { status: number; body: any }): AppError {
  const code = isErrorCode(res.body?.code) ? res.body.code : res.status === 404 ? 'not_found' : 'bad_request';
  return new AppError(code, res.body?.detail ?? `server answered ${res.status}`, res.body?.issues ?? []);
}

/**
 * A read for a CLI command: through a running server's API (`path`, answer taken by `pick`) when one holds the
 * embedded database, otherwise from the database directly (`local`).
 */
export async function readThroughServerOrDb<T>(
  config: Config,
  path: string,
  pick: (body: any) => T,
  local: (db: Db) => Promise<T>,
): Promise<T> {
  const client = runningServerClient(config);
  if (client) {
    const res = await client('GET', path);
    if (res.status !== 200) throw new Error(`server answered ${res.status}: ${JSON.stringify(res.body)}`);
    return pick(res.body);
  }
  const db = await openDatabase(config);
  try {
    return await local(db);
  } finally {
    await db.close();
  }
}

/**
 * The server's clock when none runs: the live world's clock as it was last saved (its data is dated on it), else
 * the real time. A running server answers on its own clock.
 */
export async function serverNow(q: Queryable): Promise<Date> {
  const simNow = await readWorldSimNow(q);
  return simNow ? new Date(simNow) : new Date();
}
