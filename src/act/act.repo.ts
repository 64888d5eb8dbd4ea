import type { Queryable } from '../store/index.ts';

// --- world
/** The idempotency key of every execution on record. */
export async function listExecutionKeys(q: Queryable): Promise<string[]> {
  return (await q.query<{ key: string }>('SELECT idempotency_key AS key FROM executions')).map((r) => r.key);
}
