import type { Queryable } from '../store/index.ts';

/** A key's row: the request it was first used for and, once that has answered, the answer. */
export interface IdempotencyRow {
  method: string;
  path: string;
  body_hash: string;
  status: number | null;
  content_type: string | null;
  response_body: string | null;
  response_headers: Record<string, string>;
}

/** How long a key is remembered. */
export const IDEMPOTENCY_TTL_HOURS = 24;

/**
 * Claims a key for a request about to run; the row already there otherwise. An expired key, or one whose first
 * request has run for longer than `abandonSeconds` without answering, is taken over.
 */
export async function claimIdempotencyKey(
  q: Queryable,
  k: { principal: string; key: string; method: string; path: string; bodyHash: string; abandonSeconds: number },
  again = true,
): Promise<{ claimed: true } | { claimed: false; row: IdempotencyRow }> {
  await q.query(
    `DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2
       AND (created_at < now() - make_interval(hours => $3) OR (status IS NULL AND created_at < now() - make_interval(secs => $4)))`,
    [k.principal, k.key, IDEMPOTENCY_TTL_HOURS, k.abandonSeconds],
  );
  const inserted = await q.query(
    `INSERT INTO idempotency_keys (principal, key, method, path, body_hash) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (principal, key) DO NOTHING RETURNING key`,
    [k.principal, k.key, k.method, k.path, k.bodyHash],
  );
  if (inserted.length) return { claimed: true };
  const [row] = await q.query<IdempotencyRow>(
    `SELECT method, path, body_hash, status, content_type, response_body, response_headers
       FROM idempotency_keys WHERE principal = $1 AND key = $2`,
    [k.principal, k.key],
  );
  // Gone between the two statements (expired and purged): claim it again, once.
  if (!row && again) return claimIdempotencyKey(q, k, false);
  if (!row) throw new Error(`idempotency key ${k.key} could not be claimed or read`);
  return { claimed: false, row };
}

/** Keeps the answer the key's first request got. */
export async function completeIdempotencyKey(
  q: Queryable,
  principal: string,
  key: string,
  answer: { status: number; contentType: string | null; body: string; headers: Record<string, string> },
): Promise<void> {
  await q.query(
    `UPDATE idempotency_keys SET status = $3, content_type = $4, response_body = $5, response_headers = $6::jsonb, completed_at = now()
       WHERE principal = $1 AND key = $2`,
    [principal, key, answer.status, answer.contentType, answer.body, JSON.stringify(answer.headers)],
  );
}

/** Forgets a key whose request did not complete (a server fault), so a retry runs it again. */
export async function releaseIdempotencyKey(q: Queryable, principal: string, key: string): Promise<void> {
  await q.query('DELETE FROM idempotency_keys WHERE principal = $1 AND key = $2 AND status IS NULL', [principal, key]);
}

/** Deletes keys older than the TTL; how many went. */
export async function purgeExpiredIdempotencyKeys(q: Queryable): Promise<number> {
  const rows = await q.query(`DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1) RETURNING key`, [
    IDEMPOTENCY_TTL_HOURS,
  ]);
  return rows.length;
}
