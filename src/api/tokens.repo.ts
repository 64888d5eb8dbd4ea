import type { Queryable, Tx } from '../store/index.ts';

export async function insertApiToken(tx: Tx, t: { id: string; name: string; role: string; tokenHash: string }): Promise<void> {
  await tx.query('INSERT INTO api_tokens (id, name, role, token_hash) VALUES ($1, $2, $3, $4)', [t.id, t.name, t.role, t.tokenHash]);
}

/** Where revocations are announced to other processes' authenticators; the payload is the token's id. */
export const TOKEN_REVOKED_CHANNEL = 'acs_token_revoked';

/**
 * Revokes an active token; false when there is none with this id. It NOTIFYs other processes in the same
 * transaction, which PostgreSQL delivers on commit only, so no process forgets a token that stays valid.
 */
export async function markApiTokenRevoked(tx: Tx, id: string): Promise<boolean> {
  const [row] = await tx.query('UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id', [id]);
  if (row) await tx.query('SELECT pg_notify($1, $2)', [TOKEN_REVOKED_CHANNEL, id]);
  return row !== undefined;
}

export function selectApiTokens(q: Queryable): Promise<Record<string, unknown>[]> {
  return q.query<Record<string, unknown>>('SELECT id, name, role, created_at, last_used_at, revoked_at FROM api_tokens ORDER BY id');
}

/** The active token with this hash, marked as used now; none when it is unknown or revoked. */
export async function useApiToken<R extends string>(
  q: Queryable,
  tokenHash: string,
): Promise<{ id: string; name: string; role: R } | undefined> {
  const [row] = await q.query<{ id: string; name: string; role: R }>(
    'UPDATE api_tokens SET last_used_at = now() WHERE token_hash = $1 AND revoked_at IS NULL RETURNING id, name, role',
    [tokenHash],
  );
  return row;
}

export async function countActiveAdminTokens(q: Queryable): Promise<number> {
  const [row] = await q.query<{ n: number }>("SELECT count(*)::int AS n FROM api_tokens WHERE role = 'admin' AND revoked_at IS NULL");
  return row!.n;
}
