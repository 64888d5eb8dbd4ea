import { AppError } from '../../errors.ts';
import { appendToLedger } from '../../ledger/index.ts';
import { identityKeys } from '../../contracts/index.ts';
import {
  lockAccountForMerge,
  lockMergeSurvivor,
  markAccountMerged,
  moveIdentitiesForMerge,
  moveRecordsForMerge,
  restoreIdentitiesForUnmerge,
  restoreRecordsForUnmerge,
  reviveMergedAccount,
} from '../../records/index.ts';
import { actorNames, identityMergeRows, identityReviewRows } from '../../views/index.ts';
import { newId, type Db, type Queryable, type Tx } from '../../store/index.ts';
import { refreshFeatures } from '../features.ts';
import {
  deleteCustomerFeaturesOf,
  moveSignalsForMerge,
  moveSignalsToAccount,
  restoreSignalsForUnmerge,
  signalsReceivedSince,
} from '../sense.repo.ts';
import {
  findLiveMergeOf,
  identityMergesOfAccount,
  identityPeopleOfAccount,
  insertIdentityMerge,
  insertIdentityReview,
  lockIdentityMerge,
  lockIdentityReview,
  markIdentityMergeUndone,
  markIdentityReviewUnmerged,
  moveIdentityPeopleForMerge,
  recordIdentityReviewDecision,
  restoreIdentityPeopleForUnmerge,
  supersedeOpenIdentityReviews,
} from './identity.repo.ts';
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

type ProfileTable = (typeof PROFILE_TABLES)[number];

type Moved = Partial<Record<ProfileTable, string[]>> & { identities?: { kind: string; value: string }[] };

/** Moves a profile table's rows from the merged profile to the survivor, through the table's owner. */
function moveForMerge(tx: Tx, table: ProfileTable, survivorId: string, mergedId: string): Promise<{ id: string }[]> {
  if (table === 'signals') return moveSignalsForMerge(tx, survivorId, mergedId);
  if (table === 'identity_people') return moveIdentityPeopleForMerge(tx, survivorId, mergedId);
  return moveRecordsForMerge(tx, table, survivorId, mergedId);
}

/** Gives the merged profile back the rows (`ids`) of a profile table its merge moved. */
function restoreForUnmerge(tx: Tx, table: ProfileTable, mergedId: string, survivorId: string, ids: string[]): Promise<void> {
  if (table === 'signals') return restoreSignalsForUnmerge(tx, mergedId, survivorId, ids);
  if (table === 'identity_people') return restoreIdentityPeopleForUnmerge(tx, mergedId, survivorId, ids);
  return restoreRecordsForUnmerge(tx, table, mergedId, survivorId, ids);
}

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

async function liveAccount(tx: Tx, id: string, path: string): Promise<{ id: string; merged_into: string | null }> {
  const row = await lockAccountForMerge(tx, id);
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
  /** The comparison that decided the merge, kept with it for the merge history. */
  explanation?: PairExplanation | null;
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
    const rows = await moveForMerge(tx, table, survivor.id, merged.id);
    if (rows.length) moved[table] = rows.map((r) => r.id);
  }
  // Identifiers the survivor already holds stay with it; the rest follow the merged profile's records.
  const identities = await moveIdentitiesForMerge(tx, survivor.id, merged.id);
  if (identities.length) moved.identities = identities;
  await deleteCustomerFeaturesOf(tx, merged.id);
  await markAccountMerged(tx, merged.id, survivor.id, input.now.toISOString());
  // Open questions about the folded profile are answered by this merge.
  await supersedeOpenIdentityReviews(tx, merged.id, input.now.toISOString(), input.reviewId ?? null);
  const row = await insertIdentityMerge(tx, {
    id: newId('merge'),
    survivorId: survivor.id,
    mergedId: merged.id,
    rule: input.rule,
    score: input.score ?? null,
    reviewId: input.reviewId ?? null,
    moved: JSON.stringify(moved),
    explanation: input.explanation ? JSON.stringify(input.explanation) : null,
    actor: input.actor,
    createdAt: input.now.toISOString(),
  });
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
      at: input.now,
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
  const row = await lockIdentityMerge(tx, mergeId);
  if (!row) throw new AppError('merge.not_found', `no merge ${mergeId}`);
  if (row.unmerged_at)
    throw new AppError('merge.conflict', `merge ${mergeId} was already undone`, [{ path: 'id', message: 'already unmerged' }]);
  const survivorId = row.survivor_id as string;
  const mergedId = row.merged_id as string;
  const survivor = await lockMergeSurvivor(tx, survivorId);
  if (survivor?.merged_into) {
    const later = await findLiveMergeOf(tx, survivorId);
    throw new AppError(
      'merge.conflict',
      `${survivorId} was itself merged into ${survivor.merged_into} since: undo merge ${later?.id ?? '(unknown)'} first`,
      [{ path: 'id', message: 'survivor merged since' }],
    );
  }
  const moved = row.moved as Moved;
  for (const table of PROFILE_TABLES) {
    const ids = moved[table];
    if (ids?.length) await restoreForUnmerge(tx, table, mergedId, survivorId, ids);
  }
  if (moved.identities?.length) await restoreIdentitiesForUnmerge(tx, mergedId, survivorId, moved.identities);
  // Signals that arrived after the merge and named the merged profile by one of its identifiers belong to it.
  const brought = new Set((moved.identities ?? []).map((k) => `${k.kind}:${k.value}`));
  const later = brought.size ? await signalsReceivedSince(tx, survivorId, row.created_at, moved.signals ?? []) : [];
  const followed = later.filter((s) => identityKeys(s.subject).some((k) => brought.has(`${k.kind}:${k.value}`))).map((s) => s.id);
  if (followed.length) await moveSignalsToAccount(tx, mergedId, followed);
  await reviveMergedAccount(tx, mergedId);
  const done = await markIdentityMergeUndone(tx, mergeId, now.toISOString(), actor);
  if (row.review_id) await markIdentityReviewUnmerged(tx, row.review_id as string, now.toISOString(), actor);
  await appendToLedger(tx, [
    {
      type: 'identity.unmerged',
      actor,
      subjectType: 'accounts',
      subjectId: survivorId,
      data: { mergeId, mergedId, restored: countMoved(moved), followedSignals: followed.length },
      at: now,
    },
  ]);
  await refreshFeatures(tx, [survivorId, mergedId], now);
  return { ...toMerge(done!), followed: followed.length };
}

export async function listMerges(q: Queryable, accountId: string): Promise<MergeRecord[]> {
  const rows = await identityMergesOfAccount(q, accountId);
  return rows.map(toMerge);
}

/** One merge as the steward's history shows it: both profiles by customer id and name, who and what decided it. */
export interface MergeHistoryItem {
  id: string;
  survivor: { accountId: string; customerId: string | null; name: string | null };
  merged: { accountId: string; customerId: string | null; name: string | null };
  rule: string;
  /** True when identity resolution merged on its own (a rule or the probability), false for a steward's merge. */
  automatic: boolean;
  score: number | null;
  reviewId: string | null;
  /** The fields that spoke for the match, strongest first (empty when the merge kept no comparison). */
  decidingFields: { field: string; level: string; weight: number }[];
  actor: string;
  actorName: string;
  createdAt: string;
  unmergedAt: string | null;
  unmergedBy: string | null;
  unmergedByName: string | null;
  /** Whether an undo would be accepted now, and if not, why. */
  undoable: boolean;
  undoBlockedBy: string | null;
  undoBlockedReason: string | null;
}

/** The merge history, newest first; `accountId` for one profile's merges, `state` live or undone. */
export async function mergeHistory(
  q: Queryable,
  opts: { limit: number; before?: string; accountId?: string; state?: 'live' | 'undone' },
): Promise<MergeHistoryItem[]> {
  const rows = await identityMergeRows(q, opts);
  const names = await actorNames(
    q,
    rows.flatMap((r) => [r.actor as string, ...(r.unmerged_by ? [r.unmerged_by as string] : [])]),
  );
  const iso = (v: unknown) => (v ? new Date(v as string).toISOString() : null);
  return rows.map((r) => {
    const explanation = r.explanation as PairExplanation | null;
    const undone = r.unmerged_at !== null && r.unmerged_at !== undefined;
    const blockedBy = (r.blocked_by as string | null) ?? null;
    const rule = r.rule as string;
    return {
      id: r.id as string,
      survivor: {
        accountId: r.survivor_id as string,
        customerId: (r.s_customer as string | null) ?? null,
        name: (r.s_name as string | null) ?? null,
      },
      merged: {
        accountId: r.merged_id as string,
        customerId: (r.g_customer as string | null) ?? null,
        name: (r.g_name as string | null) ?? null,
      },
      rule,
      automatic: rule !== 'steward',
      score: r.score === null || r.score === undefined ? null : Number(r.score),
      reviewId: (r.review_id as string | null) ?? null,
      decidingFields: (explanation?.fields ?? []).filter((f) => f.weight > 0).sort((a, b) => b.weight - a.weight),
      actor: r.actor as string,
      actorName: names.get(r.actor as string)?.name ?? (r.actor as string),
      createdAt: iso(r.created_at)!,
      unmergedAt: iso(r.unmerged_at),
      unmergedBy: (r.unmerged_by as string | null) ?? null,
      unmergedByName: r.unmerged_by ? (names.get(r.unmerged_by as string)?.name ?? (r.unmerged_by as string)) : null,
      undoable: !undone && !blockedBy,
      undoBlockedBy: undone ? null : blockedBy,
      undoBlockedReason: undone
        ? 'already undone'
        : blockedBy
          ? `the surviving profile was merged into another since: undo merge ${blockedBy} first`
          : null,
    };
  });
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
  await insertIdentityReview(tx, {
    id,
    accountId: r.accountId,
    candidateId: r.candidateId,
    personId: r.personId,
    candidatePersonId: r.candidatePersonId,
    score: r.explanation.probability,
    explanation: JSON.stringify(r.explanation),
    createdAt: r.now.toISOString(),
  });
  await appendToLedger(tx, [
    {
      type: 'identity.review_opened',
      actor: r.actor,
      subjectType: 'accounts',
      subjectId: r.accountId,
      data: { reviewId: id, candidateId: r.candidateId, score: r.explanation.probability },
      at: r.now,
    },
  ]);
  return id;
}

/** Reviews in a status (open by default), oldest first, with both profiles side by side. */
export async function listReviews(
  q: Queryable,
  opts: { status: string; limit: number; after?: string; id?: string },
): Promise<IdentityReview[]> {
  const rows = await identityReviewRows(q, opts);
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
  const row = await lockIdentityReview(tx, id);
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
        explanation: (row.explanation as PairExplanation | null) ?? null,
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
        at: now,
      },
    ]);
  }
  await recordIdentityReviewDecision(tx, id, decision === 'merge' ? 'merged' : 'kept_apart', now.toISOString(), actor, mergeId);
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
  const rows = await identityPeopleOfAccount(q, accountId);
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
