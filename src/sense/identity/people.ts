import type { Queryable } from '../../store/index.ts';
import { identityCandidates } from '../../views/index.ts';
import { blockingKeys, type Matcher, type PairExplanation } from './engine.ts';
import { deleteIdentityBlocksOf, deleteIdentityPeople, insertIdentityBlocks, upsertIdentityPeople } from './identity.repo.ts';
import { normalizeValue, personFieldNamed } from './people-csv.ts';
import type { PersonRecord } from './types.ts';

/**
 * The product's person records: the identifying fields of each contact, lead and signal subject that named a person,
 * stored with the profile it joined and how (lineage), and found again through their blocking keys, so a new record
 * is compared with the few people sharing a key, never with the whole base.
 */

export type PersonFields = PersonRecord['fields'];

export interface PersonEntry {
  /** `<source kind>:<source id>`, e.g. `contacts:con_…`. */
  id: string;
  sourceKind: 'contacts' | 'leads' | 'signals';
  sourceId: string;
  source: string;
  accountId: string | null;
  leadId: string | null;
  fields: PersonFields;
  observedAt: string;
  matchedBy: string;
  score?: number | null;
  matchedPerson?: string | null;
}

/** Raw values under person field names, or names that mean one (`Date of birth`, `zip`), normalized as the comparators expect. */
export function personFields(raw: Record<string, unknown>): PersonFields {
  const fields: PersonFields = {};
  for (const [name, value] of Object.entries(raw)) {
    const field = personFieldNamed(name);
    if (!field || fields[field] || (typeof value !== 'string' && typeof value !== 'number')) continue;
    const normalized = normalizeValue(field, String(value));
    if (normalized) fields[field] = normalized;
  }
  return fields;
}

/** A contact's or lead's person fields: its names and contact points, plus address and birth date kept in attributes. */
export function recordPersonFields(record: Record<string, unknown>): PersonFields {
  const attributes = (record.attributes ?? {}) as Record<string, unknown>;
  return personFields({ givenName: record.firstName, surname: record.lastName, email: record.email, phone: record.phone, ...attributes });
}

/** Worth resolving by similarity: a name and something else to tell two people of that name apart. */
export function identifiesPerson(fields: PersonFields): boolean {
  return !!(fields.givenName || fields.surname) && Object.keys(fields).length >= 2;
}

const blockRows = (person: { id: string; fields: PersonFields }) =>
  blockingKeys(person.fields).flatMap((key, kind) => (key ? [{ key: `${kind}:${key}`, person_id: person.id }] : []));

/** Stores person records (replacing earlier versions of the same records) with their blocking keys. */
export async function registerPeople(q: Queryable, people: PersonEntry[]): Promise<void> {
  if (people.length === 0) return;
  const ids = people.map((p) => p.id);
  await deleteIdentityBlocksOf(q, ids);
  await upsertIdentityPeople(
    q,
    people.map((p) => ({
      id: p.id,
      source_kind: p.sourceKind,
      source_id: p.sourceId,
      source: p.source,
      account_id: p.accountId,
      lead_id: p.leadId,
      fields: p.fields,
      observed_at: p.observedAt,
      matched_by: p.matchedBy,
      score: p.score ?? null,
      matched_person: p.matchedPerson ?? null,
    })),
  );
  await insertIdentityBlocks(q, people.flatMap(blockRows));
}

/** Forgets person records (a deleted contact or lead). */
export async function forgetPeople(q: Queryable, ids: string[]): Promise<void> {
  if (ids.length) await deleteIdentityPeople(q, ids);
}

export interface Candidate {
  personId: string;
  accountId: string | null;
  leadId: string | null;
  explanation: PairExplanation;
}

/**
 * The most probable existing person for `fields` among those sharing a blocking key (with a live profile or lead),
 * or null when there is none to compare with. `accountId` (the record's own profile) is left out; `accountsOnly`
 * leaves out leads.
 */
export async function bestCandidate(
  q: Queryable,
  matcher: Matcher,
  fields: PersonFields,
  opts: { accountId?: string | null; accountsOnly?: boolean } = {},
): Promise<(Candidate & { compared: number }) | null> {
  const keys = blockingKeys(fields).flatMap((key, kind) => (key ? [`${kind}:${key}`] : []));
  if (keys.length === 0) return null;
  const rows = await identityCandidates(q, keys, opts.accountId ?? null, opts.accountsOnly ?? false);
  const probe: PersonRecord = { id: '(new)', source: 0, fields };
  let best: (typeof rows)[number] | null = null;
  let bestProbability = -1;
  for (const r of rows) {
    const probability = matcher.probability(probe, { id: r.id, source: 0, fields: r.fields });
    if (probability > bestProbability) [best, bestProbability] = [r, probability];
  }
  if (!best) return null;
  const explanation = matcher.explain(probe, { id: best.id, source: 0, fields: best.fields });
  return { personId: best.id, accountId: best.account_id, leadId: best.lead_id, explanation, compared: rows.length };
}

/**
 * Keeps the person records of contacts (of a profile) and leads in step with the records: written ones that name a
 * person are registered (replacing their earlier version), the rest forgotten.
 */
export async function syncRecordPeople(q: Queryable, kind: string, records: Record<string, unknown>[], source: string): Promise<void> {
  if (kind !== 'contacts' && kind !== 'leads') return;
  const keep: PersonEntry[] = [];
  const drop: string[] = [];
  for (const r of records) {
    const id = `${kind}:${r.id as string}`;
    const fields = recordPersonFields(r);
    const accountId = kind === 'contacts' ? ((r.accountId as string | null) ?? null) : null;
    const leadId = kind === 'leads' ? (r.id as string) : null;
    if (r.deletedAt || !(accountId || leadId) || !identifiesPerson(fields)) drop.push(id);
    else
      keep.push({
        id,
        sourceKind: kind,
        sourceId: r.id as string,
        source,
        accountId,
        leadId,
        fields,
        observedAt: String(r.updatedAt ?? new Date().toISOString()),
        matchedBy: 'record',
      });
  }
  await forgetPeople(q, drop);
  await registerPeople(q, keep);
}
