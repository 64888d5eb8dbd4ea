import type { Config } from '../config.ts';
import { readAdminTokenFile } from '../api/auth.ts';
import { readServerLock } from '../server.ts';

/**
 * When a server holds the embedded database, CLI commands go through its API instead of opening the
 * same files. Returns null when the CLI should open the database itself.
 */
export function runningServerClient(config: Config): ((method: string, path: string, body?: unknown) => Promise<{ status: number; body: any }>) | null {
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
