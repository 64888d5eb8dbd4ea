import { normalizeContactPoint } from '../contracts/index.ts';
import { AppError } from '../errors.ts';
import {
  effectiveConsentRows,
  lockConsentForConfirmation,
  outreachHolderOfLead,
  outreachHoldersOfAccount,
  patchRecord,
  toApi,
  type RecordRow,
} from '../records/index.ts';
import type { Db, Queryable } from '../store/index.ts';

// Consent as outreach reads it (README "Consent"). Each effective record speaks for one channel and purpose, one
// contact point (a record without one speaks for its holder's own point for the channel) and one brand or all of
// them (a record without one). For a message to a point under a brand, the latest captured record that speaks for
// it decides: a later word overrides an earlier one, general or specific.

/**
 * The consent records in effect at `at`: per holder, channel, purpose, contact point and brand, the latest captured
 * record whose window holds `at` decides, and this returns those. A double opt-in grant is in effect only once it
 * was confirmed (before then it neither grants nor displaces the record before it). Holders are contact ids or lead
 * ids (a lead consents on a form before it has contacts).
 */
export async function effectiveConsents(q: Queryable, holderIds: string[], at: Date): Promise<RecordRow[]> {
  if (holderIds.length === 0) return [];
  const rows = await effectiveConsentRows(q, holderIds, at);
  return rows.map(toApi);
}

/** An effective consent record as decisions read it. */
export interface ConsentFact {
  /** The consent record and its holder (a contact or lead id); absent in contexts built by hand. */
  id?: string;
  holderId?: string;
  channel: string;
  purpose: string;
  /** Absent: granted (contexts built by hand). */
  status?: 'granted' | 'denied' | 'withdrawn';
  /** The email address or phone number it speaks for, normalized; absent or null: any (push has none). */
  contactPoint?: string | null;
  /** The brand it speaks for; absent or null: every brand. */
  brand?: string | null;
  capturedAt?: string;
  /** A grant given by double opt-in (in effect only once confirmed, so a fact that has it was confirmed). */
  doubleOptIn?: boolean;
}

/** One message: its channel and purpose, where it goes (null for push) and under which brand (null: none named). */
export interface OutreachTarget {
  channel: string;
  purpose: string;
  contactPoint: string | null;
  brand: string | null;
}

/** A holder's or customer's contact details, as records hold them. */
export interface ContactDetails {
  email?: string | null;
  phone?: string | null;
}

/** The point of `who` a message on `channel` goes to, normalized; null for push (no point) or when there is none. */
export function pointFor(channel: string, who: ContactDetails): string | null {
  const raw = channel === 'email' ? who.email : channel === 'sms' || channel === 'phone' ? who.phone : null;
  return raw ? normalizeContactPoint(channel, raw) : null;
}

/** Where a message on `channel` can go: each distinct point of the contacts, in their order; push goes to no point. */
export function pointsFor(channel: string, contacts: ContactDetails[]): (string | null)[] {
  if (channel === 'push') return [null];
  return [...new Set(contacts.map((c) => pointFor(channel, c)).filter((p): p is string => p !== null))];
}

const speaksFor = (f: ConsentFact, t: OutreachTarget) =>
  f.channel === t.channel &&
  f.purpose === t.purpose &&
  (f.contactPoint == null || f.contactPoint === t.contactPoint) &&
  (f.brand == null || f.brand === t.brand);

/** The record that decides for `target`: the latest captured of those that speak for it; undefined when none does. */
export function decidingConsent(facts: ConsentFact[], target: OutreachTarget): ConsentFact | undefined {
  let best: ConsentFact | undefined;
  for (const f of facts) {
    if (!speaksFor(f, target)) continue;
    const newer =
      !best ||
      (f.capturedAt ?? '') > (best.capturedAt ?? '') ||
      ((f.capturedAt ?? '') === (best.capturedAt ?? '') && (f.id ?? '') > (best.id ?? ''));
    if (newer) best = f;
  }
  return best;
}

export const grants = (f: ConsentFact | undefined): boolean => f !== undefined && (f.status ?? 'granted') === 'granted';

/**
 * Effective records (API shape, as `effectiveConsents` returns them) as facts. A record without a contact point
 * speaks for its holder's point for the channel as the holder has it now; if the holder has none, it speaks for
 * nothing and is left out.
 */
export function consentFacts(records: RecordRow[], holders: Map<string, ContactDetails>): ConsentFact[] {
  return records.flatMap((r) => {
    const channel = String(r.channel);
    const holderId = String(r.contactId ?? r.leadId);
    const contactPoint = (r.contactPoint as string | null) ?? pointFor(channel, holders.get(holderId) ?? {});
    if (contactPoint === null && channel !== 'push') return [];
    return [
      {
        id: r.id,
        holderId,
        channel,
        purpose: String(r.purpose),
        status: r.status as ConsentFact['status'],
        contactPoint,
        brand: (r.brand as string | null) ?? null,
        capturedAt: String(r.capturedAt),
        doubleOptIn: r.doubleOptIn === true,
      },
    ];
  });
}

export interface OutreachRequest {
  channel: string;
  purpose: string;
  /** The point the message must go to; absent: the first of the customer's points whose consent grants. */
  to?: string | null;
  brand: string | null;
}

/** Where an outreach goes and whether consent allows it. */
export interface Addressed {
  /** The point it goes to (normalized); null for push, or when the customer has no point for the channel. */
  to: string | null;
  brand: string | null;
  granted: boolean;
  /** It grants, by a double opt-in the person confirmed (what policy's `doubleOptIn` says: EU marketing needs it). */
  doubleOptIn: boolean;
  /** The record that decided, if any: a grant, or the refusal or withdrawal that stops the message. */
  consent: ConsentFact | undefined;
}

/**
 * Addresses a message: to the point it names, or else to the first of `contacts`' points for the channel whose
 * consent grants (with none granting, to the first point, so the refusal is about a real one). A message on a
 * channel the customer has no point for goes nowhere and is not granted.
 */
export function addressOutreach(facts: ConsentFact[], contacts: ContactDetails[], req: OutreachRequest): Addressed {
  const candidates = req.to
    ? [req.channel === 'push' ? null : normalizeContactPoint(req.channel, req.to)]
    : pointsFor(req.channel, contacts);
  const decided = candidates.map((to) => ({
    to,
    consent: decidingConsent(facts, { channel: req.channel, purpose: req.purpose, contactPoint: to, brand: req.brand }),
  }));
  // A point whose grant was double opt-in first (EU marketing needs one), then any that grants.
  const chosen = decided.find((d) => grants(d.consent) && d.consent?.doubleOptIn) ?? decided.find((d) => grants(d.consent)) ?? decided[0];
  if (!chosen) return { to: null, brand: req.brand, granted: false, doubleOptIn: false, consent: undefined };
  const granted = grants(chosen.consent);
  return {
    to: chosen.to,
    brand: req.brand,
    granted,
    doubleOptIn: granted && chosen.consent?.doubleOptIn === true,
    consent: chosen.consent,
  };
}

/** Whom an outreach is for: an account (its live contacts hold its consents) or a lead. */
export interface OutreachSubject {
  accountId: string | null;
  leadId: string | null;
}

/**
 * `addressOutreach` on the database as of `at`: the consents in effect then, and the customer's contacts and brand
 * as they are. The brand is the request's, or else the customer's. What execution and late approvals check.
 */
export async function outreachConsent(
  q: Queryable,
  subject: OutreachSubject,
  req: Omit<OutreachRequest, 'brand'> & { brand?: string | null },
  at: Date,
): Promise<Addressed> {
  const holders = subject.accountId ? await outreachHoldersOfAccount(q, subject.accountId) : await outreachHolderOfLead(q, subject.leadId);
  const contacts = holders.filter((h): h is typeof h & { id: string } => h.id !== null);
  const records = await effectiveConsents(
    q,
    contacts.map((c) => c.id),
    at,
  );
  const facts = consentFacts(records, new Map(contacts.map((c) => [c.id, c])));
  return addressOutreach(facts, contacts, { ...req, brand: req.brand ?? holders[0]?.brand ?? null });
}

/**
 * Records that the person confirmed a double opt-in grant (clicked the link, say), at `confirmedAt` or now; from
 * then on it grants. Ledgered as an update of the consent. Only a live, unconfirmed double opt-in grant can be
 * confirmed, and not before it was captured nor in the future.
 */
export async function confirmConsent(db: Db, id: string, opts: { actor: string; confirmedAt?: string; now: Date }): Promise<RecordRow> {
  return db.transaction(async (tx) => {
    const row = await lockConsentForConfirmation(tx, id);
    if (!row) throw new AppError('record.not_found', `no consents record ${id}`);
    if (!row.double_opt_in)
      throw new AppError('consent.not_confirmable', `consent ${id} was not given by double opt-in: there is nothing to confirm`);
    if (row.status !== 'granted')
      throw new AppError('consent.not_confirmable', `consent ${id} is ${row.status}: only a grant is confirmed`);
    if (row.confirmed_at)
      throw new AppError('consent.not_confirmable', `consent ${id} was already confirmed at ${new Date(row.confirmed_at).toISOString()}`);
    const at = opts.confirmedAt ? new Date(opts.confirmedAt) : opts.now;
    const bad =
      at < new Date(row.captured_at) ? 'must not be before the consent was captured' : at > opts.now ? 'must not be in the future' : null;
    if (bad) throw new AppError('validation_failed', `confirmedAt ${bad}`, [{ path: 'confirmedAt', message: bad }]);
    return patchRecord(tx, 'consents', id, { confirmedAt: at.toISOString() }, opts.actor, undefined, opts.now);
  });
}

/** One point a message may be sent to, as the approval card offers it: whether consent lets this message go there. */
export interface RecipientChoice {
  /** The email address or phone number, normalized. */
  to: string;
  /** Consent in effect now grants this message's channel and purpose (and brand) for this point. */
  consented: boolean;
  /** Why not, in words, when not consented: no record speaks for it, or the one that does refused or was withdrawn. */
  why: string | null;
}

/**
 * The points of the customer's live contacts (a lead's own, for a lead) that a message on `req.channel` could go to,
 * each with whether the consent in effect at `at` grants it for the message's purpose and brand, decided as
 * `outreachConsent` decides (the same records, the same latest-captured rule). Push has no point, so no choices.
 */
export async function recipientChoices(
  q: Queryable,
  subject: OutreachSubject,
  req: { channel: string; purpose: string; brand?: string | null },
  at: Date,
): Promise<RecipientChoice[]> {
  if (req.channel === 'push') return [];
  const holders = subject.accountId ? await outreachHoldersOfAccount(q, subject.accountId) : await outreachHolderOfLead(q, subject.leadId);
  const contacts = holders.filter((h): h is typeof h & { id: string } => h.id !== null);
  const records = await effectiveConsents(
    q,
    contacts.map((c) => c.id),
    at,
  );
  const facts = consentFacts(records, new Map(contacts.map((c) => [c.id, c])));
  const brand = req.brand ?? holders[0]?.brand ?? null;
  return pointsFor(req.channel, contacts).flatMap((to): RecipientChoice[] => {
    if (to === null) return [];
    const deciding = decidingConsent(facts, { channel: req.channel, purpose: req.purpose, contactPoint: to, brand });
    if (grants(deciding)) return [{ to, consented: true, why: null }];
    const what = `${req.channel} for ${req.purpose}`;
    const why = deciding
      ? `consent for ${what} was ${deciding.status}${deciding.capturedAt ? ` on ${deciding.capturedAt.slice(0, 10)}` : ''}`
      : `no consent for ${what}`;
    return [{ to, consented: false, why }];
  });
}
