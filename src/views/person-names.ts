import type { Queryable } from '../store/index.ts';

/**
 * The names of the people the given keys name: accounts by id or customer id (and their contacts), contacts and
 * leads by id. The analyst's masking of API answers (src/api/analyst-masking.ts) masks these names in free text that
 * names a person without carrying the name in a field of its own (a case's description, a ticket's text).
 */
export async function personNamesOf(q: Queryable, keys: readonly string[]): Promise<string[]> {
  if (!keys.length) return [];
  const rows = await q.query<{ n: string | null }>(
    `WITH a AS (SELECT id, name FROM accounts WHERE id = ANY($1::text[]) OR customer_id = ANY($1::text[]))
     SELECT name AS n FROM a
     UNION SELECT unnest(ARRAY[first_name, last_name]) FROM contacts WHERE id = ANY($1::text[]) OR account_id IN (SELECT id FROM a)
     UNION SELECT unnest(ARRAY[first_name, last_name]) FROM leads WHERE id = ANY($1::text[])`,
    [keys],
  );
  return rows.flatMap((r) => (r.n ? [r.n] : []));
}
