import { z } from 'zod';
import { toFieldIssues } from '../contracts/index.ts';
import { AppError } from '../errors.ts';
import { appendToLedger, type LedgerEvent } from '../ledger/index.ts';
import { lockSubjectPlacement } from '../sense/index.ts';
import { newId, type Db, type Tx } from '../store/index.ts';
import { normalizeEmail, normalizeExternalId, normalizePhone } from '../contracts/index.ts';
import {
  eraseQuarantined,
  expireSubjectApprovals,
  insertErasure,
  lockErasureSubject,
  lockQuarantineMatching,
  lockRedactedRows,
  markAccountErased,
  redactSubject,
  refuseSubjectPlays,
  selectCandidateLeads,
  selectProfilesSharing,
  selectSubjectIdentifiers,
  softDeleteSubjectRecords,
} from './erasure.repo.ts';

/** What an erasure request carries: the customer repeated, so a wrong id in the path erases no one. */
export const ErasureRequest = z.strictObject({
  confirm: z.string({ error: 'required: repeat the customer id or account id being erased' }).trim().min(1).max(200),
  reason: z.string().trim().min(1).max(2000).optional(),
});
export type ErasureRequest = z.infer<typeof ErasureRequest>;

/** Validates a request body; a 400 names each bad field. */
export function parseErasureRequest(body: unknown): ErasureRequest {
  const parsed = ErasureRequest.safeParse(body);
  if (!parsed.success) throw new AppError('validation_failed', 'invalid erasure request; nothing was erased', toFieldIssues(parsed.error));
  return parsed.data;
}

export interface ErasureResult {
  erasureId: string;
  subject: { accountId: string; customerId: string };
  /** When the customer was first erased. */
  erasedAt: string;
  /** The customer had been erased before; `counts` are what this request found left (data that arrived since). */
  alreadyErased: boolean;
  reasonGiven: boolean;
  /** Rows whose personal data this request destroyed, per table. */
  counts: Record<string, number>;
  /** Leads of the same person (sharing an email or phone), erased with the customer. */
  leadIds: string[];
  /** Other live profiles sharing an email or phone with the person: possibly the same person, not erased. */
  otherProfiles: string[];
}

/** The person's identifiers, normalized as identities are: what resolves to them, and what names them in free input. */
interface Identifiers {
  emails: Set<string>;
  phones: Set<string>;
  /** Customer and external ids, matched as written. */
  keys: Set<string>;
}

/** Adds the identifiers the subject's rows carry (selectSubjectIdentifiers), normalized. */
async function gatherIdentifiers(tx: Tx, accountId: string, leadIds: string[], into: Identifiers): Promise<void> {
  const rows = await selectSubjectIdentifiers(tx, accountId, leadIds);
  for (const { kind, value } of rows) {
    if (kind === 'email') into.emails.add(normalizeEmail(value));
    else if (kind === 'phone' && normalizePhone(value)) into.phones.add(normalizePhone(value));
    else if (kind === 'customer_id' || kind === 'external_id') into.keys.add(normalizeExternalId(value));
  }
}

/** Short digit strings match too much to name anyone. */
const phoneTails = (ids: Identifiers) => [...ids.phones].filter((p) => p.length >= 7).map((p) => p.slice(-7));

/**
 * Leads of the same person: there is no link from a lead to the profile it became, so a lead belongs to the person
 * when it has their email or phone, as intake would have matched it.
 */
async function leadsOf(tx: Tx, ids: Identifiers): Promise<string[]> {
  // Phones are stored as written: a suffix finds the candidates, normalizing confirms them.
  const rows = await selectCandidateLeads(tx, [...ids.emails], [...ids.phones], phoneTails(ids));
  return rows
    .filter(
      (l) => l.claimed || (l.email && ids.emails.has(normalizeEmail(l.email))) || (l.phone && ids.phones.has(normalizePhone(l.phone))),
    )
    .map((l) => l.id);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const likePattern = (s: string) => `%${s.replace(/[\\%_]/g, '\\$&')}%`;

/**
 * Does refused input name the person? Whole identifiers only: `CUST-1` is not named by `CUST-10` or `CUST-1-2`, nor
 * `a@b.org` by `a@b.org.uk`; a full stop ending a sentence still ends one.
 */
function names(raw: string, ids: Identifiers): boolean {
  for (const term of [...ids.emails, ...ids.keys]) {
    if (new RegExp(`(?<![\\w.%+-])${escapeRegExp(term)}(?!\\.?[\\w-])`, 'i').test(raw)) return true;
  }
  const national = [...ids.phones].filter((p) => p.length >= 7).map((p) => p.slice(-10));
  for (const m of raw.matchAll(/\+?\d[\d\s().-]{5,}\d/g)) {
    const digits = m[0].replace(/\D/g, '');
    if (national.some((n) => digits.includes(n))) return true;
  }
  return false;
}

/**
 * Quarantined input that names the person, locked. Quarantine rows are locked before the ledger, as resolving one
 * does (src/sense/quarantine.ts), so an erasure and a reviewer's discard cannot deadlock.
 */
async function quarantineNaming(tx: Tx, ids: Identifiers): Promise<{ id: string; status: string }[]> {
  const terms = [...ids.emails, ...ids.keys].map(likePattern);
  const tails = phoneTails(ids).map((t) => `%${t}%`);
  if (terms.length === 0 && tails.length === 0) return [];
  const rows = await lockQuarantineMatching(tx, terms, tails);
  return rows.filter((r) => names(r.raw, ids)).map(({ id, status }) => ({ id, status }));
}

/**
 * Erases a customer (account id or customer id) in the caller's transaction: the personal fields of every row about
 * them are destroyed in the live rows (compaction.ts then removes the old copies from the database files), their identifiers stop resolving, open work about them stops, and the profile, its
 * contacts and the person's leads are soft-deleted. Ids, times, types, statuses and numbers stay, so aggregates and
 * the ledger's references survive; the ledger itself never held personal data and is not touched, only appended to.
 * Erasing an erased customer again erases what has arrived since (signals naming the customer id still reach it).
 */
export async function eraseSubject(db: Db, key: string, request: ErasureRequest, actor: string, now: Date): Promise<ErasureResult> {
  return db.transaction((tx) => eraseInTransaction(tx, key, request, actor, now));
}

async function eraseInTransaction(tx: Tx, key: string, request: ErasureRequest, actor: string, now: Date): Promise<ErasureResult> {
  let account = await lockErasureSubject(tx, key);
  // A profile folded into another by an identity merge is that person: the survivor is erased (with it).
  for (let hops = 0; account?.merged_into && hops < 100; hops++) account = await lockErasureSubject(tx, account.merged_into);
  if (!account) throw new AppError('customer.not_found', `no customer ${key}`);
  if (![key, account.id, account.customer_id].includes(request.confirm)) {
    throw new AppError('validation_failed', 'confirm does not name the customer being erased; nothing was erased', [
      { path: 'confirm', message: `must repeat the customer id '${account.customer_id}' or the account id '${account.id}'` },
    ]);
  }

  const ids: Identifiers = { emails: new Set(), phones: new Set(), keys: new Set() };
  await gatherIdentifiers(tx, account.id, [], ids);
  const leadIds = await leadsOf(tx, ids);
  if (leadIds.length) await gatherIdentifiers(tx, account.id, leadIds, ids);
  // Live profiles other than the subject that share one of the person's emails or phones.
  const otherProfiles = await selectProfilesSharing(tx, account.id, [...ids.emails], [...ids.phones]);
  // Rows first, then intake's placement lock (intake takes no row lock before it), so this cannot deadlock with an
  // edit, an approval or a play step on the same rows. Holding it, no intake can attach a signal to the person until
  // this commits.
  const quarantined = await quarantineNaming(tx, ids);
  await lockRedactedRows(tx, account.id, leadIds);
  await lockSubjectPlacement(tx);

  const erasureId = newId('era');
  // Dated together at `now` (the server's clock) when appended.
  const events: Omit<LedgerEvent, 'at'>[] = [];

  // Pending approvals would run an action for someone who is gone; they lapse, as they would at their expiry.
  const expired = await expireSubjectApprovals(tx, account.id, leadIds, now);
  events.push(
    ...expired.map((r) => ({
      type: 'approval.expired',
      actor,
      subjectType: 'approvals',
      subjectId: r.id,
      data: { decisionId: r.decision_id, via: 'erasure', erasureId },
    })),
  );

  // A play under way would go on to credit or write to someone who is gone: it stops where it is.
  const stopped = await refuseSubjectPlays(tx, account.id);
  events.push(
    ...stopped.map((p) => ({
      type: 'play.refused',
      actor,
      subjectType: 'plays',
      subjectId: p.id,
      data: { kind: p.kind, step: p.step, why: 'the customer was erased', erasureId },
    })),
  );

  const counts = await redactSubject(tx, account.id, leadIds);

  await eraseQuarantined(
    tx,
    quarantined.map((q) => q.id),
    erasureId,
  );
  counts.quarantine = quarantined.length;
  events.push(
    ...quarantined
      .filter((q) => q.status === 'open')
      .map((q) => ({
        type: 'quarantine.discarded',
        actor,
        subjectType: 'quarantine',
        subjectId: q.id,
        data: { via: 'erasure', erasureId },
      })),
  );

  // The erased profile, its contacts and the person's leads leave reads, and agents no longer work on them.
  const erased = await markAccountErased(tx, account.id, now);
  const deleted = await softDeleteSubjectRecords(tx, account.id, leadIds);
  if (!account.deleted_at) deleted.unshift({ kind: 'accounts', id: account.id, version: erased!.version });
  events.push(
    ...deleted.map((d) => ({
      type: 'record.deleted',
      actor,
      subjectType: d.kind,
      subjectId: d.id,
      data: { version: d.version, via: 'erasure', erasureId },
    })),
  );

  await insertErasure(tx, { id: erasureId, accountId: account.id, actor, reason: request.reason ?? null, counts, now });
  // Counts and ids only: the reason is free text and stays in `erasures`, which is erasable; the ledger is not.
  events.push({
    type: 'customer.erased',
    actor,
    subjectType: 'accounts',
    subjectId: account.id,
    data: { erasureId, counts, leadIds, reasonGiven: request.reason !== undefined, ...(account.erased_at ? { repeat: true } : {}) },
  });
  await appendToLedger(
    tx,
    events.map((e) => ({ ...e, at: now })),
  );

  return {
    erasureId,
    subject: { accountId: account.id, customerId: account.customer_id },
    erasedAt: new Date(erased!.erased_at).toISOString(),
    alreadyErased: account.erased_at !== null,
    reasonGiven: request.reason !== undefined,
    counts,
    leadIds,
    otherProfiles,
  };
}
