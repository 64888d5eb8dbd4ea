import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from '../errors.ts';
import { appendToLedger } from '../ledger/index.ts';
import { newId, type Db, type Queryable } from '../store/index.ts';
import { ROLES, type Role } from './permissions.ts';
import {
  countActiveAdminTokens,
  insertApiToken,
  markApiTokenRevoked,
  selectApiTokens,
  TOKEN_REVOKED_CHANNEL,
  useApiToken,
} from './tokens.repo.ts';

export interface Principal {
  tokenId: string;
  name: string;
  role: Role;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** A new secret: `acs_` and 43 url-safe characters (256 random bits). Only its hash is stored. */
const newSecret = () => `acs_${randomBytes(32).toString('base64url')}`;

export async function createToken(
  db: Db,
  input: { role: string; name: string },
  actor: string,
  now = new Date(),
): Promise<{ id: string; token: string; role: Role; name: string }> {
  if (!(ROLES as readonly string[]).includes(input.role)) {
    throw new AppError('validation_failed', 'unknown role', [{ path: 'role', message: `must be one of ${ROLES.join(', ')}` }]);
  }
  const name = input.name.trim();
  if (!name || name.length > 100)
    throw new AppError('validation_failed', 'bad token name', [{ path: 'name', message: 'must be 1 to 100 characters' }]);
  const token = newSecret();
  const id = newId('tok');
  await db.transaction(async (tx) => {
    await insertApiToken(tx, { id, name, role: input.role, tokenHash: hashToken(token) });
    await appendToLedger(tx, [{ type: 'token.created', actor, subjectType: 'token', subjectId: id, data: { role: input.role }, at: now }]);
  });
  return { id, token, role: input.role as Role, name };
}

export async function revokeToken(db: Db, id: string, actor: string, now = new Date()): Promise<void> {
  await db.transaction(async (tx) => {
    if (!(await markApiTokenRevoked(tx, id))) throw new AppError('not_found', `no active token ${id}`);
    await appendToLedger(tx, [{ type: 'token.revoked', actor, subjectType: 'token', subjectId: id, at: now }]);
  });
}

/** Records that a token signed in (the console's login), with its role, at `now` on the server's clock. */
export async function recordLogin(db: Db, principal: { tokenId: string; role: string }, actor: string, now: Date): Promise<void> {
  await db.transaction((tx) =>
    appendToLedger(tx, [
      { type: 'auth.login', actor, subjectType: 'token', subjectId: principal.tokenId, data: { role: principal.role }, at: now },
    ]),
  );
}

export async function recordLogout(db: Db, principal: { tokenId: string; role: string }, actor: string, now: Date): Promise<void> {
  await db.transaction((tx) =>
    appendToLedger(tx, [
      { type: 'auth.logout', actor, subjectType: 'token', subjectId: principal.tokenId, data: { role: principal.role }, at: now },
    ]),
  );
}

export async function listTokens(q: Queryable) {
  const rows = await selectApiTokens(q);
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    role: r.role,
    createdAt: (r.created_at as Date).toISOString(),
    lastUsedAt: r.last_used_at ? (r.last_used_at as Date).toISOString() : null,
    revokedAt: r.revoked_at ? (r.revoked_at as Date).toISOString() : null,
  }));
}

/**
 * A cached lookup is refreshed after this long even when no revocation was announced: a safety net for a LISTEN
 * connection lost and not yet back (its return clears the cache, but a revocation in between is missed until then),
 * and the cadence at which a busy token's last_used_at moves.
 */
const CACHE_MS = 60_000;

/**
 * Resolves bearer tokens to principals. The environment's ACS_ADMIN_TOKEN, when set, is an admin.
 * Lookups are cached until a revocation clears them: one through this object at once (`forget`), one by another
 * process on PostgreSQL by its NOTIFY, delivered on commit. On PostgreSQL without LISTEN nothing is cached.
 */
export class TokenAuthenticator {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();
  private readonly envHash?: Buffer;
  /** Bumped by each clearing, so a lookup that raced a revocation is not cached. */
  private generation = 0;
  /** Whether the cache may be used: always on PGlite (one process), on PostgreSQL once LISTENing. */
  private listening: Promise<boolean> | null = null;

  constructor(
    private readonly db: Db,
    envAdminToken?: string,
    private readonly log?: { warn(obj: object, msg: string): void },
  ) {
    if (envAdminToken) this.envHash = Buffer.from(hashToken(envAdminToken), 'hex');
  }

  async authenticate(header: string | undefined): Promise<Principal> {
    const token = header?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) throw new AppError('unauthorized', 'missing bearer token: send Authorization: Bearer <token>');
    const hash = hashToken(token);
    if (this.envHash && timingSafeEqual(this.envHash, Buffer.from(hash, 'hex')))
      return { tokenId: 'env', name: 'ACS_ADMIN_TOKEN', role: 'admin' };
    const canCache = await (this.listening ??= this.listen());
    const cached = this.cache.get(hash);
    if (canCache && cached && cached.until > Date.now()) return cached.principal;
    const generation = this.generation;
    const row = await useApiToken<Role>(this.db, hash);
    if (!row) throw new AppError('unauthorized', 'invalid or revoked token');
    const principal = { tokenId: row.id, name: row.name, role: row.role };
    if (canCache && generation === this.generation) this.cache.set(hash, { principal, until: Date.now() + CACHE_MS });
    return principal;
  }

  /** Drops every cached lookup; called on a revocation here, and on one announced by another process. */
  forget(): void {
    this.generation++;
    this.cache.clear();
  }

  private async listen(): Promise<boolean> {
    if (this.db.kind === 'pglite') return true;
    if (!this.db.listen) return false;
    try {
      // Any revocation clears all (a few lookups to redo); so does the connection's return (payload undefined).
      await this.db.listen(TOKEN_REVOKED_CHANNEL, () => this.forget());
      return true;
    } catch (err) {
      this.log?.warn({ err }, 'auth: cannot LISTEN for revocations; tokens are looked up on every request');
      return false;
    }
  }
}

/**
 * On first start, creates an admin token and writes it to `<dataDir>/admin-token` (mode 0600).
 * Returns the file path when it created one.
 */
export async function bootstrapAdminToken(db: Db, dataDir: string): Promise<string | null> {
  if ((await countActiveAdminTokens(db)) > 0) return null;
  const file = join(dataDir, 'admin-token');
  const { token } = await createToken(db, { role: 'admin', name: 'bootstrap admin' }, 'system');
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(file, token + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}

export function readAdminTokenFile(dataDir: string): string | null {
  const file = join(dataDir, 'admin-token');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : null;
}
