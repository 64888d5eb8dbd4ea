import type { Queryable } from '../store/index.ts';

/**
 * Customer search (GET /api/v1/search): live customers (accounts not deleted nor merged away) found by their customer
 * id, account id, name, or a live contact's name, email or phone, in part and whatever the case. A phone matches by
 * its digits, however either side writes them. Migration 033 indexes every field by trigrams (where pg_trgm is
 * installed), and names also match by pg_trgm's word similarity, so a name written a little differently is found
 * (only for a query without digits or an @, which could be a name).
 */

/** What a hit matched: the field, in the order a tie between fields is broken. */
export const SEARCH_FIELDS = ['customerId', 'accountId', 'email', 'phone', 'name'] as const;
export type SearchField = (typeof SEARCH_FIELDS)[number];

/** How closely a hit matched, best first: the whole field, its start, somewhere in it, or only by similarity. */
export const MATCH_KINDS = ['exact', 'prefix', 'contains', 'similar'] as const;
export type MatchKind = (typeof MATCH_KINDS)[number];

export interface CustomerSearchHit {
  accountId: string;
  customerId: string;
  name: string;
  kind: string | null;
  matchedOn: SearchField;
  match: MatchKind;
  /** Trigram similarity of the matched field with the query (0..1); without pg_trgm, the share of the field matched. */
  similarity: number;
  /** The contact whose name, email or phone matched; null when the account itself matched. */
  contact: { id: string; firstName: string | null; lastName: string | null; email: string | null; phone: string | null } | null;
}

export interface CustomerSearchOptions {
  limit: number;
  /** Match customer and account ids only, never personal fields (a role that sees personal data masked). */
  idsOnly: boolean;
}

/** The digits of a query, when it has enough of them to look for a phone number (three or more). */
export const phoneDigitsOf = (q: string): string | null => {
  const digits = q.replace(/\D/g, '');
  return digits.length >= 3 ? digits : null;
};

/** `text` for LIKE, its wildcards and the escape character taken literally. */
const likeLiteral = (text: string) => text.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Where each database has pg_trgm: looked up once per handle, as extensions rarely come and go. */
const trgmSchemas = new WeakMap<object, Promise<string | null>>();
function trgmSchema(q: Queryable): Promise<string | null> {
  let cached = trgmSchemas.get(q);
  if (!cached) {
    cached = q
      .query<{ schema: string }>(
        "SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'",
      )
      .then(([row]) => {
        const schema = row?.schema ?? null;
        // The schema goes into the SQL text, so only a plain name will do.
        return schema !== null && /^[a-z_][a-z0-9_]*$/.test(schema) ? schema : null;
      });
    trgmSchemas.set(q, cached);
  }
  return cached;
}

/** Customers matching `query` (already trimmed, non-empty), best first: exact, then prefix, then contains, then similar. */
export async function searchCustomers(
  db: Queryable,
  query: string,
  opts: CustomerSearchOptions,
): Promise<{ hits: CustomerSearchHit[]; similarity: 'pg_trgm' | 'none' }> {
  const schema = await trgmSchema(db);
  const contains = `%${likeLiteral(query)}%`;
  const prefix = `${likeLiteral(query)}%`;
  const digits = opts.idsOnly ? null : phoneDigitsOf(query);
  // Names are compared by similarity only for a query that could be a name: one with a digit or an @ is an id, an
  // email or a phone, and would find every name sharing a word with it (every "Customer 1234" for "cust-0012").
  const fuzzy = schema !== null && !/[\d@]/.test(query);
  const similar = fuzzy ? (col: string) => `OR $1::text OPERATOR(${schema}.<%) ${col}` : () => '';
  const similarity = schema
    ? `${schema}.similarity(lower(h.value), lower($1::text))::float8`
    : `(length($1::text)::float8 / greatest(length(h.value), 1))`;
  const live = 'a.deleted_at IS NULL AND a.merged_into IS NULL';
  const rows = await db.query<{
    account_id: string;
    field: SearchField;
    tier: number;
    similarity: number;
    customer_id: string;
    name: string;
    kind: string | null;
    contact_id: string | null;
    first_name: string | null;
    last_name: string | null;
    email: string | null;
    phone: string | null;
  }>(
    `WITH hits AS (
       SELECT a.id AS account_id, 'customerId' AS field, a.customer_id AS value, NULL::text AS contact_id
         FROM accounts a WHERE ${live} AND a.customer_id ILIKE $2::text
       UNION ALL
       SELECT a.id, 'accountId', a.id, NULL FROM accounts a WHERE ${live} AND (a.id = $1::text OR a.id = lower($1::text))
       UNION ALL
       SELECT a.id, 'name', a.name, NULL FROM accounts a
         WHERE NOT $5::boolean AND ${live} AND (a.name ILIKE $2::text ${similar('a.name')})
       UNION ALL
       SELECT a.id, 'name', contact_search_name(c.first_name, c.last_name), c.id
         FROM contacts c JOIN accounts a ON a.id = c.account_id
         WHERE NOT $5::boolean AND c.deleted_at IS NULL AND ${live}
           AND (contact_search_name(c.first_name, c.last_name) ILIKE $2::text ${similar('contact_search_name(c.first_name, c.last_name)')})
       UNION ALL
       SELECT a.id, 'email', c.email, c.id
         FROM contacts c JOIN accounts a ON a.id = c.account_id
         WHERE NOT $5::boolean AND c.deleted_at IS NULL AND ${live} AND c.email ILIKE $2::text
       UNION ALL
       SELECT a.id, 'phone', c.phone, c.id
         FROM contacts c JOIN accounts a ON a.id = c.account_id
         WHERE $6::text IS NOT NULL AND c.deleted_at IS NULL AND ${live}
           AND phone_search_digits(c.phone) LIKE '%' || $6::text || '%'
     ),
     ranked AS (
       SELECT h.account_id, h.field, h.contact_id,
              CASE
                WHEN lower(h.value) = lower($1::text) OR (h.field = 'phone' AND phone_search_digits(h.value) = $6::text) THEN 0
                WHEN h.value ILIKE $3::text OR (h.field = 'phone' AND phone_search_digits(h.value) LIKE $6::text || '%') THEN 1
                WHEN h.value ILIKE $2::text OR h.field = 'phone' THEN 2
                ELSE 3
              END AS tier,
              ${similarity} AS similarity,
              array_position(ARRAY['customerId', 'accountId', 'email', 'phone', 'name'], h.field) AS field_order
       FROM hits h
     ),
     best AS (
       SELECT DISTINCT ON (account_id) * FROM ranked ORDER BY account_id, tier, field_order, similarity DESC, contact_id
     )
     SELECT b.account_id, b.field, b.tier, b.similarity, a.customer_id, a.name, a.kind,
            b.contact_id, c.first_name, c.last_name, c.email, c.phone
     FROM best b JOIN accounts a ON a.id = b.account_id LEFT JOIN contacts c ON c.id = b.contact_id
     ORDER BY b.tier, CASE WHEN b.tier = 0 THEN b.field_order ELSE 0 END, b.similarity DESC, b.field_order, a.customer_id, a.id
     LIMIT $4::int`,
    [query, contains, prefix, opts.limit, opts.idsOnly, digits],
  );
  const hits = rows.map((r) => ({
    accountId: r.account_id,
    customerId: r.customer_id,
    name: r.name,
    kind: r.kind,
    matchedOn: r.field,
    match: MATCH_KINDS[r.tier]!,
    similarity: Math.round(Number(r.similarity) * 1000) / 1000,
    contact: r.contact_id ? { id: r.contact_id, firstName: r.first_name, lastName: r.last_name, email: r.email, phone: r.phone } : null,
  }));
  return { hits, similarity: schema ? 'pg_trgm' : 'none' };
}
