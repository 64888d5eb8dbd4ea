import { AppError } from '../../errors.ts';
import { appendToLedger } from '../../ledger/index.ts';
import { identityKeys } from '../../contracts/index.ts';
import { newId, type Db, type Queryable, type Tx } from '../../store/index.ts';
import { refreshFeatures } from '../features.ts';
import type { PairExplanation } from './engine.ts';
import type { PersonFields } from './people.ts';
import { SOURCE_KINDS, survivorshipFor, type IdentitySettings } from './settings.ts';
import { PERSON_FIELDS, type PersonField } from './types.ts';

/**
 * Merging folds one profile (account) into another: every row that names the merged profile moves to the survivor,
 * and the ids of what moved are kept, so an unmerge can put exactly those rows back. The merged account stays, marked
 * `merged_into` and hidden from reads; its ids lead to the survivor.
 */

/** Tables whose rows belong to a profile through `account_id` and move with it; consents move with their contacts. */
const PROFILE_TABLES = ['contacts', 'signals', 'cases', 'interactions', 'opportunities', 'subscriptions', 'identity_people'] as const;

type Moved = Partial<Record<(typeof PROFILE_TABLES)[number], string[]>> & { identities?: { kind: string; value: string }[] };

export interface MergeRecord {
  id: string;
  survivorId: string;
  mergedId: string;
  rule: string;
  score: number | null;
  reviewId: string | null;
  moved: Record<string, number>;
  actor: string;
  createdAt: string;
  unmergedAt: string | null;
  unmergedBy: string | null;
}

const countMoved = (moved: Moved) => Object.fromEntries(Object.entries(moved).map(([t, ids]) => [t, ids.length]));

function toMerge(r: Record<string, unknown>): MergeRecord {
  const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);
  return {
    id: r.id as string,
    survivorId: r.survivor_id as string,
    mergedId: r.merged_id as string,
    rule: r.rule as string,
    score: r.score === null ? null : Number(r.score),
    reviewId: (r.review_id as string | null) ?? null,
    moved: countMoved(r.moved as Moved),
    actor: r.actor as string,
    createdAt: iso(r.created_at)!,
    unmergedAt: iso(r.unmerged_at),
    unmergedBy: (r.unmerged_by as string | null) ?? null,
  };
}

async function liveAccount(q: Queryable, id: string, path: string): Promise<{ id: string; merged_into: string | null }> {
  const [row] = await q.query<{ id: string; deleted_at: Date | null; merged_into: string | null }>(
    'SELECT id, deleted_at, merged_into FROM accounts WHERE id = $1 OR customer_id = $1 FOR UPDATE',
    [id],
  );
  if (!row) throw new AppError('customer.not_found', `no customer ${id}`, [{ path, message: 'no such customer' }]);
  if (row.merged_into)
    throw new AppError('customer.not_live', `${id} was merged into ${row.merged_into}`, [
      { path, message: `merged into ${row.merged_into}` },
    ]);
  if (row.deleted_at) throw new AppError('customer.not_live', `${id} is deleted`, [{ path, message: 'deleted' }]);
  return row;
}

export interface MergeInput {
  survivorId: string;
  mergedId: string;
  /** The rule that matched, 'probabilistic', or 'steward' for a steward's own decision. */
  rule: string;
  score?: number | null;
  reviewId?: string | null;
  actor: string;
  now: Date;
}

/** A steward's merge of two profiles, in its own transaction. */
export async function stewardMerge(db: Db, input: Omit<MergeInput, 'rule'>): Promise<MergeRecord> {
  return db.transaction((tx) => mergeProfiles(tx, { ...input, rule: 'steward' }));
}

/** Folds `mergedId` into `survivorId` in the caller's transaction; ledgered, features recomputed. */
export async function mergeProfiles(tx: Tx, input: MergeInput): Promise<MergeRecord> {
  const survivor = await liveAccount(tx, input.survivorId, 'survivorId');
  const merged = await liveAccount(tx, input.mergedId, 'mergedId');
  if (survivor.id === merged.id)
    throw new AppError('validation_failed', 'a profile cannot be merged into itself', [
      { path: 'mergedId', message: 'same as survivorId' },
    ]);
  const moved: Moved = {};
  for (const table of PROFILE_TABLES) {
    const rows = await tx.query<{ id: string }>(`UPDATE ${table} SET account_id = $1 WHERE account_id = $2 RETURNING id`, [
      survivor.id,
      merged.id,
    ]);
    if (rows.length) moved[table] = rows.map((r) => r.id);
  }
  // Identifiers the survivor already holds stay with it; the rest follow the merged profile's records.
  const identities = await tx.query<{ kind: string; value: string }>(
    'UPDATE identities SET account_id = $1 WHERE account_id = $2 RETURNING kind, value',
    [survivor.id, merged.id],
  );
  if (identities.length) moved.identities = identities;
  await tx.query('DELETE FROM customer_features WHERE account_id = $1', [merged.id]);
  await tx.query('UPDATE accounts SET merged_into = $1, deleted_at = $2, version = version + 1, updated_at = now() WHERE id = $3', [
    survivor.id,
    input.now.toISOString(),
    merged.id,
  ]);
  // Open questions about the folded profile are answered by this merge.
  await tx.query(
    `UPDATE identity_reviews SET status = 'superseded', decided_at = $2 WHERE status = 'open' AND (account_id = $1 OR candidate_id = $1) AND id IS DISTINCT FROM $3`,
    [merged.id, input.now.toISOString(), input.reviewId ?? null],
  );
  const [row] = await tx.query<Record<string, unknown>>(
    `INSERT INTO identity_merges (id, survivor_id, merged_id, rule, score, review_id, moved, actor, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
    [
      newId('merge'),
      survivor.id,
      merged.id,
      input.rule,
      input.score ?? null,
      input.reviewId ?? null,
      JSON.stringify(moved),
      input.actor,
      input.now.toISOString(),
    ],
  );
  const record = toMerge(row!);
  await appendToLedger(tx, [
    {
      type: 'identity.merged',
      actor: input.actor,
      subjectType: 'accounts',
      subjectId: survivor.id,
      data: {
        mergeId: record.id,
        mergedId: merged.id,
        rule: input.rule,
        score: input.score ?? null,
        reviewId: input.reviewId ?? null,
        moved: record.moved,
      },
    },
  ]);
  await refreshFeatures(tx, [survivor.id], input.now);
  return record;
}

/**
 * Undoes a merge: the rows it moved go back, with the signals that reached the survivor since through an identifier
 * the merged profile brought; the merged profile is live again and both profiles' features are recomputed.
 */
export async function unmergeProfiles(db: Db, mergeId: string, actor: string, now: Date): Promise<MergeRecord & { followed: number }> {
  return db.transaction((tx) => unmergeInTransaction(tx, mergeId, actor, now));
}

async function unmergeInTransaction(tx: Tx, mergeId: string, actor: string, now: Date): Promise<MergeRecord & { followed: number }> {
  const [row] = await tx.query<Record<string, unknown>>('SELECT * FROM identity_merges WHERE id = $1 FOR UPDATE', [mergeId]);
  if (!row) throw new AppError('merge.not_found', `no merge ${mergeId}`);
  if (row.unmerged_at)
    throw new AppError('merge.conflict', `merge ${mergeId} was already undone`, [{ path: 'id', message: 'already unmerged' }]);
  const survivorId = row.survivor_id as string;
  const mergedId = row.merged_id as string;
  const [survivor] = await tx.query<{ merged_into: string | null }>('SELECT merged_into FROM accounts WHERE id = $1 FOR UPDATE', [
    survivorId,
  ]);
  if (survivor?.merged_into) {
    const [later] = await tx.query<{ id: string }>('SELECT id FROM identity_merges WHERE merged_id = $1 AND unmerged_at IS NULL', [
      survivorId,
    ]);
    throw new AppError(
      'merge.conflict',
      `${survivorId} was itself merged into ${survivor.merged_into} since: undo merge ${later?.id ?? '(unknown)'} first`,
      [{ path: 'id', message: 'survivor merged since' }],
    );
  }
  const moved = row.moved as Moved;
  for (const table of PROFILE_TABLES) {
    const ids = moved[table];
    if (ids?.length)
      await tx.query(`UPDATE ${table} SET account_id = $1 WHERE account_id = $2 AND id = ANY($3::text[])`, [mergedId, survivorId, ids]);
  }
  if (moved.identities?.length) {
    await tx.query(
      `UPDATE identities i SET account_id = $1 FROM jsonb_to_recordset($3::jsonb) AS k(kind text, value text)
       WHERE i.kind = k.kind AND i.value = k.value AND i.account_id = $2`,
      [mergedId, survivorId, JSON.stringify(moved.identities)],
    );
  }
  // Signals that arrived after the merge and named the merged profile by one of its identifiers belong to it.
  const brought = new Set((moved.identities ?? []).map((k) => `${k.kind}:${k.value}`));
  const later = brought.size
    ? await tx.query<{ id: string; subject: Record<string, string> }>(
        'SELECT id, subject FROM signals WHERE account_id = $1 AND received_at >= $2 AND NOT (id = ANY($3::text[]))',
        [survivorId, row.created_at, moved.signals ?? []],
      )
    : [];
  const followed = later.filter((s) => identityKeys(s.subject).some((k) => brought.has(`${k.kind}:${k.value}`))).map((s) => s.id);
  if (followed.length) await tx.query('UPDATE signals SET account_id = $1 WHERE id = ANY($2::text[])', [mergedId, followed]);
  await tx.query('UPDATE accounts SET merged_into = NULL, deleted_at = NULL, version = version + 1, updated_at = now() WHERE id = $1', [
    mergedId,
  ]);
  const [done] = await tx.query<Record<string, unknown>>(
    'UPDATE identity_merges SET unmerged_at = $2, unmerged_by = $3 WHERE id = $1 RETURNING *',
    [mergeId, now.toISOString(), actor],
  );
  if (row.review_id)
    await tx.query(`UPDATE identity_reviews SET status = 'unmerged', decided_at = $2, decided_by = $3 WHERE id = $1`, [
      row.review_id,
      now.toISOString(),
      actor,
    ]);
  await appendToLedger(tx, [
    {
      type: 'identity.unmerged',
      actor,
      subjectType: 'accounts',
      subjectId: survivorId,
      data: { mergeId, mergedId, restored: countMoved(moved), followedSignals: followed.length },
    },
  ]);
  await refreshFeatures(tx, [survivorId, mergedId], now);
  return { ...toMerge(done!), followed: followed.length };
}

export async function listMerges(q: Queryable, accountId: string): Promise<MergeRecord[]> {
  const rows = await q.query<Record<string, unknown>>(
    'SELECT * FROM identity_merges WHERE survivor_id = $1 OR merged_id = $1 ORDER BY created_at DESC, id DESC',
    [accountId],
  );
  return rows.map(toMerge);
}

// ---------------------------------------------------------------------------------------------
// The steward's review queue.

export interface ReviewSide {
  accountId: string;
  customerId: string | null;
  name: string | null;
  personId: string;
  fields: PersonFields | null;
}

export interface IdentityReview {
  id: string;
  status: string;
  score: number;
  explanation: PairExplanation;
  /** The profile the new record started. */
  profile: ReviewSide;
  /** The existing profile it may be. */
  candidate: ReviewSide;
  createdAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
  mergeId: string | null;
}

export const REVIEW_STATUSES = ['open', 'merged', 'kept_apart', 'superseded', 'unmerged'] as const;

export async function openReview(
  tx: Tx,
  r: {
    accountId: string;
    candidateId: string;
    personId: string;
    candidatePersonId: string;
    explanation: PairExplanation;
    actor: string;
    now: Date;
  },
): Promise<string> {
  const id = newId('idrev');
  await tx.query(
    `INSERT INTO identity_reviews (id, account_id, candidate_id, person_id, candidate_person_id, score, explanation, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      id,
      r.accountId,
      r.candidateId,
      r.personId,
      r.candidatePersonId,
      r.explanation.probability,
      JSON.stringify(r.explanation),
      r.now.toISOString(),
    ],
  );
  await appendToLedger(tx, [
    {
      type: 'identity.review_opened',
      actor: r.actor,
      subjectType: 'accounts',
      subjectId: r.accountId,
      data: { reviewId: id, candidateId: r.candidateId, score: r.explanation.probability },
    },
  ]);
  return id;
}

/** Reviews in a status (open by default), oldest first, with both profiles side by side. */
export async function listReviews(
  q: Queryable,
  opts: { status: string; limit: number; after?: string; id?: string },
): Promise<IdentityReview[]> {
  const rows = await q.query<Record<string, unknown>>(
    `SELECT r.*, a.customer_id AS a_customer, a.name AS a_name, pa.fields AS a_fields, c.customer_id AS c_customer, c.name AS c_name, pc.fields AS c_fields
     FROM identity_reviews r
     JOIN accounts a ON a.id = r.account_id JOIN accounts c ON c.id = r.candidate_id
     LEFT JOIN identity_people pa ON pa.id = r.person_id LEFT JOIN identity_people pc ON pc.id = r.candidate_person_id
     WHERE ${opts.id ? 'r.id = $1' : 'r.status = $1 AND ($2::text IS NULL OR r.id > $2)'}
     ORDER BY r.id LIMIT ${opts.id ? 1 : '$3'}`,
    opts.id ? [opts.id] : [opts.status, opts.after ?? null, opts.limit],
  );
  const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);
  return rows.map((r) => ({
    id: r.id as string,
    status: r.status as string,
    score: Number(r.score),
    explanation: r.explanation as PairExplanation,
    profile: {
      accountId: r.account_id as string,
      customerId: r.a_customer as string,
      name: r.a_name as string,
      personId: r.person_id as string,
      fields: (r.a_fields as PersonFields) ?? null,
    },
    candidate: {
      accountId: r.candidate_id as string,
      customerId: r.c_customer as string,
      name: r.c_name as string,
      personId: r.candidate_person_id as string,
      fields: (r.c_fields as PersonFields) ?? null,
    },
    createdAt: iso(r.created_at)!,
    decidedAt: iso(r.decided_at),
    decidedBy: (r.decided_by as string | null) ?? null,
    mergeId: (r.merge_id as string | null) ?? null,
  }));
}

/** A steward's answer: merge the two profiles (the candidate, the older, survives) or keep them apart. */
export async function decideReview(
  db: Db,
  id: string,
  decision: 'merge' | 'keep_apart',
  actor: string,
  now: Date,
): Promise<IdentityReview> {
  return db.transaction((tx) => decideInTransaction(tx, id, decision, actor, now));
}

async function decideInTransaction(
  tx: Tx,
  id: string,
  decision: 'merge' | 'keep_apart',
  actor: string,
  now: Date,
): Promise<IdentityReview> {
  const [row] = await tx.query<{ status: string; account_id: string; candidate_id: string; score: string }>(
    'SELECT * FROM identity_reviews WHERE id = $1 FOR UPDATE',
    [id],
  );
  if (!row) throw new AppError('review.not_found', `no identity review ${id}`);
  if (row.status !== 'open')
    throw new AppError('review.already_decided', `review ${id} is ${row.status}, not open`, [
      { path: 'id', message: `already ${row.status}` },
    ]);
  let mergeId: string | null = null;
  if (decision === 'merge') {
    mergeId = (
      await mergeProfiles(tx, {
        survivorId: row.candidate_id,
        mergedId: row.account_id,
        rule: 'steward',
        score: Number(row.score),
        reviewId: id,
        actor,
        now,
      })
    ).id;
  } else {
    await appendToLedger(tx, [
      {
        type: 'identity.kept_apart',
        actor,
        subjectType: 'accounts',
        subjectId: row.account_id,
        data: { reviewId: id, candidateId: row.candidate_id },
      },
    ]);
  }
  await tx.query('UPDATE identity_reviews SET status = $2, decided_at = $3, decided_by = $4, merge_id = $5 WHERE id = $1', [
    id,
    decision === 'merge' ? 'merged' : 'kept_apart',
    now.toISOString(),
    actor,
    mergeId,
  ]);
  return (await listReviews(tx, { status: '', limit: 1, id }))[0]!;
}

// ---------------------------------------------------------------------------------------------
// Lineage and the unified profile.

export interface PersonLineage {
  id: string;
  sourceKind: string;
  sourceId: string;
  source: string;
  fields: PersonFields;
  observedAt: string;
  matchedBy: string;
  score: number | null;
  matchedPerson: string | null;
}

export interface UnifiedField {
  value: string | null;
  rule: string;
  /** The person record the value came from. */
  from: string | null;
  /** How many different values the sources hold. */
  alternatives: number;
}

export async function profilePeople(q: Queryable, accountId: string): Promise<PersonLineage[]> {
  const rows = await q.query<Record<string, unknown>>('SELECT * FROM identity_people WHERE account_id = $1 ORDER BY observed_at, id', [
    accountId,
  ]);
  return rows.map((r) => ({
    id: r.id as string,
    sourceKind: r.source_kind as string,
    sourceId: r.source_id as string,
    source: r.source as string,
    fields: r.fields as PersonFields,
    observedAt: new Date(r.observed_at as string).toISOString(),
    matchedBy: r.matched_by as string,
    score: r.score === null ? null : Number(r.score),
    matchedPerson: (r.matched_person as string | null) ?? null,
  }));
}

/** A source's rank under source_priority: its system (a signal's source) or its kind; unlisted sources rank last. */
const rankOf = (sources: string[], p: PersonLineage) => {
  const i = sources.findIndex((s) => s === p.source || s === p.sourceKind);
  return i < 0 ? sources.length : i;
};

/**
 * The profile's best value of each person field from its source records, by the field's survivorship rule:
 * most recent, most frequent (ties to the most recent), or source priority (then most recent). With `ignoreEmpty`
 * off, a newer source that left the field empty empties it under most_recent.
 */
export function unify(people: PersonLineage[], settings: IdentitySettings): Partial<Record<PersonField, UnifiedField>> {
  const out: Partial<Record<PersonField, UnifiedField>> = {};
  const newestFirst = [...people].sort((a, b) =>
    a.observedAt < b.observedAt ? 1 : a.observedAt > b.observedAt ? -1 : a.id < b.id ? 1 : -1,
  );
  for (const field of PERSON_FIELDS) {
    const policy = survivorshipFor(settings, field);
    const holders = policy.ignoreEmpty ? newestFirst.filter((p) => p.fields[field]) : newestFirst;
    if (!holders.some((p) => p.fields[field])) continue;
    let chosen: PersonLineage;
    if (policy.rule === 'most_frequent') {
      const counts = new Map<string, number>();
      for (const p of holders) if (p.fields[field]) counts.set(p.fields[field]!, (counts.get(p.fields[field]!) ?? 0) + 1);
      const top = Math.max(...counts.values());
      chosen = holders.find((p) => p.fields[field] && counts.get(p.fields[field]!) === top)!;
    } else if (policy.rule === 'source_priority') {
      const sources = policy.sources ?? [...SOURCE_KINDS];
      chosen = [...holders].sort((a, b) => rankOf(sources, a) - rankOf(sources, b))[0]!;
    } else {
      chosen = holders[0]!;
    }
    out[field] = {
      value: chosen.fields[field] ?? null,
      rule: policy.rule,
      from: chosen.id,
      alternatives: new Set(holders.flatMap((p) => (p.fields[field] ? [p.fields[field]] : []))).size,
    };
  }
  return out;
}
