import type { Queryable } from '../store/index.ts';

/**
 * Identity's reads that join its tables (identity_people, identity_blocks, identity_reviews) with the profiles and
 * leads they name (accounts, leads): the candidates a new person record is compared with, and the steward's reviews
 * with both profiles side by side.
 */

/** Blocks with more people than this are too common a key to tell anyone apart, as in batch resolution. */
const MAX_BLOCK = 400;

export interface IdentityCandidateRow {
  id: string;
  account_id: string | null;
  lead_id: string | null;
  fields: Record<string, string>;
}

/**
 * The people sharing one of the blocking `keys` (blocks above MAX_BLOCK left out) with a live profile or lead;
 * `accountId` (the record's own profile) is left out, `accountsOnly` leaves out leads.
 */
export async function identityCandidates(
  q: Queryable,
  keys: string[],
  accountId: string | null,
  accountsOnly: boolean,
): Promise<IdentityCandidateRow[]> {
  return q.query<IdentityCandidateRow>(
    `SELECT p.id, p.account_id, p.lead_id, p.fields FROM identity_people p
     WHERE p.id IN (
       SELECT b.person_id FROM identity_blocks b
       WHERE b.key = ANY($1::text[])
         AND (SELECT count(*) FROM (SELECT 1 FROM identity_blocks c WHERE c.key = b.key LIMIT ${MAX_BLOCK + 1}) x) <= ${MAX_BLOCK})
     AND (p.account_id IS NOT NULL OR (p.lead_id IS NOT NULL AND NOT $3))
     AND p.account_id IS DISTINCT FROM $2
     AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = p.account_id AND a.deleted_at IS NOT NULL)
     AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = p.lead_id AND l.deleted_at IS NOT NULL)`,
    [keys, accountId, accountsOnly],
  );
}

/**
 * Identity reviews with both profiles' customer ids and names and both people's fields (`a_*` the profile the new
 * record started, `c_*` the candidate): one review by `id`, or those in `status` after `after`, by id.
 */
export async function identityReviewRows(
  q: Queryable,
  opts: { status: string; limit: number; after?: string; id?: string },
): Promise<Record<string, unknown>[]> {
  return q.query<Record<string, unknown>>(
    `SELECT r.*, a.customer_id AS a_customer, a.name AS a_name, pa.fields AS a_fields, c.customer_id AS c_customer, c.name AS c_name, pc.fields AS c_fields
     FROM identity_reviews r
     JOIN accounts a ON a.id = r.account_id JOIN accounts c ON c.id = r.candidate_id
     LEFT JOIN identity_people pa ON pa.id = r.person_id LEFT JOIN identity_people pc ON pc.id = r.candidate_person_id
     WHERE ${opts.id ? 'r.id = $1' : 'r.status = $1 AND ($2::text IS NULL OR r.id > $2)'}
     ORDER BY r.id LIMIT ${opts.id ? 1 : '$3'}`,
    opts.id ? [opts.id] : [opts.status, opts.after ?? null, opts.limit],
  );
}

/**
 * The merge history, newest first: each merge with both profiles' customer ids and names, the comparison that decided
 * it (kept with the merge, or the steward's review it came from), and `blocked_by`, the live merge that has since
 * folded the survivor into another profile (which must be undone first). `accountId` keeps the merges in and out of
 * one profile; `state` live or undone keeps those.
 */
export async function identityMergeRows(
  q: Queryable,
  opts: { limit: number; before?: string; accountId?: string; state?: 'live' | 'undone' },
): Promise<Record<string, unknown>[]> {
  return q.query<Record<string, unknown>>(
    `SELECT m.id, m.survivor_id, m.merged_id, m.rule, m.score, m.review_id, m.actor, m.created_at, m.unmerged_at, m.unmerged_by,
            COALESCE(m.explanation, r.explanation) AS explanation,
            s.customer_id AS s_customer, s.name AS s_name, g.customer_id AS g_customer, g.name AS g_name,
            (SELECT l.id FROM identity_merges l WHERE l.merged_id = m.survivor_id AND l.unmerged_at IS NULL LIMIT 1) AS blocked_by
     FROM identity_merges m
     JOIN accounts s ON s.id = m.survivor_id JOIN accounts g ON g.id = m.merged_id
     LEFT JOIN identity_reviews r ON r.id = m.review_id
     WHERE ($1::text IS NULL OR m.id < $1)
       AND ($2::text IS NULL OR m.survivor_id = $2 OR m.merged_id = $2)
       AND ($3::text IS NULL OR ($3 = 'live') = (m.unmerged_at IS NULL))
     ORDER BY m.id DESC LIMIT $4`,
    [opts.before ?? null, opts.accountId ?? null, opts.state ?? null, opts.limit],
  );
}
