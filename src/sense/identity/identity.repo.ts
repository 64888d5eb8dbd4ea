import { insertRows, type Queryable, type Tx } from '../../store/index.ts';
import type { MatchModel } from './engine.ts';
import type { PersonRecord } from './types.ts';

/**
 * The SQL of identity's tables: identity_people (person records with their lineage), identity_blocks (their
 * blocking keys), identity_merges, identity_reviews (the steward's queue), identity_settings and identity_models.
 */

type Fields = PersonRecord['fields'];

// ---------------------------------------------------------------------------------------------
// Person records and their blocking keys.

/** An identity_people row as stored. */
export interface IdentityPersonRow {
  id: string;
  source_kind: string;
  source_id: string;
  source: string;
  account_id: string | null;
  lead_id: string | null;
  fields: Fields;
  observed_at: string;
  matched_by: string;
  score: number | null;
  matched_person: string | null;
}

export async function deleteIdentityBlocksOf(q: Queryable, personIds: string[]): Promise<void> {
  await q.query('DELETE FROM identity_blocks WHERE person_id = ANY($1::text[])', [personIds]);
}

/** Stores person records, replacing earlier versions of the same records. */
export async function upsertIdentityPeople(q: Queryable, rows: IdentityPersonRow[]): Promise<void> {
  await insertRows(
    q,
    'identity_people',
    {
      id: 'text',
      source_kind: 'text',
      source_id: 'text',
      source: 'text',
      account_id: 'text',
      lead_id: 'text',
      fields: 'jsonb',
      observed_at: 'timestamptz',
      matched_by: 'text',
      score: 'numeric',
      matched_person: 'text',
    },
    rows,
    `ON CONFLICT (id) DO UPDATE SET fields = EXCLUDED.fields, account_id = EXCLUDED.account_id, lead_id = EXCLUDED.lead_id,
       observed_at = EXCLUDED.observed_at, source = EXCLUDED.source`,
  );
}

export async function insertIdentityBlocks(q: Queryable, rows: { key: string; person_id: string }[]): Promise<void> {
  await insertRows(q, 'identity_blocks', { key: 'text', person_id: 'text' }, rows, 'ON CONFLICT DO NOTHING');
}

export async function deleteIdentityPeople(q: Queryable, ids: string[]): Promise<void> {
  await q.query('DELETE FROM identity_people WHERE id = ANY($1::text[])', [ids]);
}

/** The person records of profiles and leads, to fit the matcher on. */
export async function identityPeopleToFit(q: Queryable): Promise<{ id: string; fields: Fields }[]> {
  return q.query<{ id: string; fields: Fields }>(
    'SELECT id, fields FROM identity_people WHERE account_id IS NOT NULL OR lead_id IS NOT NULL',
  );
}

/** A profile's person records, oldest first. */
export async function identityPeopleOfAccount(q: Queryable, accountId: string): Promise<Record<string, unknown>[]> {
  return q.query<Record<string, unknown>>('SELECT * FROM identity_people WHERE account_id = $1 ORDER BY observed_at, id', [accountId]);
}

/** A merge moves the merged profile's person records to the survivor; returns the ids of those it moved. */
export async function moveIdentityPeopleForMerge(tx: Tx, survivorId: string, mergedId: string): Promise<{ id: string }[]> {
  return tx.query<{ id: string }>('UPDATE identity_people SET account_id = $1 WHERE account_id = $2 RETURNING id', [survivorId, mergedId]);
}

/** An unmerge gives the merged profile back the person records the merge moved. */
export async function restoreIdentityPeopleForUnmerge(tx: Tx, mergedId: string, survivorId: string, ids: string[]): Promise<void> {
  await tx.query('UPDATE identity_people SET account_id = $1 WHERE account_id = $2 AND id = ANY($3::text[])', [mergedId, survivorId, ids]);
}

// ---------------------------------------------------------------------------------------------
// Merges.

export async function insertIdentityMerge(
  tx: Tx,
  m: {
    id: string;
    survivorId: string;
    mergedId: string;
    rule: string;
    score: number | null;
    reviewId: string | null;
    moved: string;
    explanation: string | null;
    actor: string;
    createdAt: string;
  },
): Promise<Record<string, unknown> | undefined> {
  const [row] = await tx.query<Record<string, unknown>>(
    `INSERT INTO identity_merges (id, survivor_id, merged_id, rule, score, review_id, moved, explanation, actor, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING *`,
    [m.id, m.survivorId, m.mergedId, m.rule, m.score, m.reviewId, m.moved, m.explanation, m.actor, m.createdAt],
  );
  return row;
}

export async function lockIdentityMerge(tx: Tx, mergeId: string): Promise<Record<string, unknown> | undefined> {
  const [row] = await tx.query<Record<string, unknown>>('SELECT * FROM identity_merges WHERE id = $1 FOR UPDATE', [mergeId]);
  return row;
}

/** The merge, not undone, that folded `mergedId` into another profile. */
export async function findLiveMergeOf(tx: Tx, mergedId: string): Promise<{ id: string } | undefined> {
  const [row] = await tx.query<{ id: string }>('SELECT id FROM identity_merges WHERE merged_id = $1 AND unmerged_at IS NULL', [mergedId]);
  return row;
}

export async function markIdentityMergeUndone(
  tx: Tx,
  mergeId: string,
  now: string,
  actor: string,
): Promise<Record<string, unknown> | undefined> {
  const [row] = await tx.query<Record<string, unknown>>(
    'UPDATE identity_merges SET unmerged_at = $2, unmerged_by = $3 WHERE id = $1 RETURNING *',
    [mergeId, now, actor],
  );
  return row;
}

/** The merges a profile took part in, as survivor or as merged, newest first. */
export async function identityMergesOfAccount(q: Queryable, accountId: string): Promise<Record<string, unknown>[]> {
  return q.query<Record<string, unknown>>(
    'SELECT * FROM identity_merges WHERE survivor_id = $1 OR merged_id = $1 ORDER BY created_at DESC, id DESC',
    [accountId],
  );
}

// ---------------------------------------------------------------------------------------------
// The steward's review queue.

export async function insertIdentityReview(
  tx: Tx,
  r: {
    id: string;
    accountId: string;
    candidateId: string;
    personId: string;
    candidatePersonId: string;
    score: number;
    explanation: string;
    createdAt: string;
  },
): Promise<void> {
  await tx.query(
    `INSERT INTO identity_reviews (id, account_id, candidate_id, person_id, candidate_person_id, score, explanation, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [r.id, r.accountId, r.candidateId, r.personId, r.candidatePersonId, r.score, r.explanation, r.createdAt],
  );
}

export async function lockIdentityReview(
  tx: Tx,
  id: string,
): Promise<{ status: string; account_id: string; candidate_id: string; score: string; explanation: unknown } | undefined> {
  const [row] = await tx.query<{ status: string; account_id: string; candidate_id: string; score: string; explanation: unknown }>(
    'SELECT * FROM identity_reviews WHERE id = $1 FOR UPDATE',
    [id],
  );
  return row;
}

/** Open questions about a folded profile are answered by its merge (`reviewId`, the one it answers, aside). */
export async function supersedeOpenIdentityReviews(tx: Tx, mergedId: string, now: string, reviewId: string | null): Promise<void> {
  await tx.query(
    `UPDATE identity_reviews SET status = 'superseded', decided_at = $2 WHERE status = 'open' AND (account_id = $1 OR candidate_id = $1) AND id IS DISTINCT FROM $3`,
    [mergedId, now, reviewId],
  );
}

export async function markIdentityReviewUnmerged(tx: Tx, reviewId: string, now: string, actor: string): Promise<void> {
  await tx.query(`UPDATE identity_reviews SET status = 'unmerged', decided_at = $2, decided_by = $3 WHERE id = $1`, [reviewId, now, actor]);
}

export async function recordIdentityReviewDecision(
  tx: Tx,
  id: string,
  status: string,
  now: string,
  actor: string,
  mergeId: string | null,
): Promise<void> {
  await tx.query('UPDATE identity_reviews SET status = $2, decided_at = $3, decided_by = $4, merge_id = $5 WHERE id = $1', [
    id,
    status,
    now,
    actor,
    mergeId,
  ]);
}

// ---------------------------------------------------------------------------------------------
// Settings and the fitted model (one row each, id 1).

export async function findIdentitySettings(q: Queryable): Promise<{ settings: unknown; updated_at: Date } | undefined> {
  const [row] = await q.query<{ settings: unknown; updated_at: Date }>('SELECT settings, updated_at FROM identity_settings WHERE id = 1');
  return row;
}

export async function upsertIdentitySettings(q: Queryable, settings: string, actor: string): Promise<void> {
  await q.query(
    `INSERT INTO identity_settings (id, settings, updated_by) VALUES (1, $1, $2)
     ON CONFLICT (id) DO UPDATE SET settings = EXCLUDED.settings, updated_by = EXCLUDED.updated_by, updated_at = now()`,
    [settings, actor],
  );
}

export async function upsertIdentityModel(q: Queryable, model: string, actor: string): Promise<void> {
  await q.query(
    `INSERT INTO identity_models (id, model, fitted_by) VALUES (1, $1, $2)
     ON CONFLICT (id) DO UPDATE SET model = EXCLUDED.model, fitted_by = EXCLUDED.fitted_by, fitted_at = now()`,
    [model, actor],
  );
}

/** The stored model's stamp alone, without the model document. */
export async function findIdentityModelStamp(q: Queryable): Promise<{ fitted_at: Date } | undefined> {
  const [row] = await q.query<{ fitted_at: Date }>('SELECT fitted_at FROM identity_models WHERE id = 1');
  return row;
}

export async function findIdentityModel(q: Queryable): Promise<{ model: MatchModel } | undefined> {
  const [row] = await q.query<{ model: MatchModel }>('SELECT model FROM identity_models WHERE id = 1');
  return row;
}
