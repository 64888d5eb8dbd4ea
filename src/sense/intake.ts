import { identityKeys, type FieldIssue, type IdentityKey, type Signal } from '../contracts/index.ts';
import type { SignalGates } from '../config.ts';
import { publish } from '../bus/index.ts';
import { AppError } from '../errors.ts';
import { appendToLedger, canonicalJson, sha256, type LedgerEvent } from '../ledger/index.ts';
import {
  claimIdentities,
  deletedCustomerIds,
  insertFormConsents,
  insertSignalAccounts,
  insertSignalLeads,
  insertTicketCases,
  lookupIdentities,
  nextCustomerIds,
  type IdentityClaim,
} from '../records/index.ts';
import { newId, type Db, type Tx } from '../store/index.ts';
import { scanData, type InjectionScan } from '../trust/index.ts';
import { personFields, registerPeople, resolveNewProfiles, type PersonEntry, type Placement } from './identity/index.ts';
import { pointFor } from './consent.ts';
import { admitSignal, PLACEHOLDER_ACCOUNT_NAME } from './quality.ts';
import { closeQuarantine, lockOpenQuarantine, quarantineRows, type QuarantineInput } from './quarantine.ts';
import { insertQuarantine } from './quarantine.repo.ts';
import { insertSignals, lockSubjectPlacement, storedSignalIds } from './sense.repo.ts';
import { scoreSentiment } from './sentiment.ts';
import { SIGNALS_ACCEPTED, type SignalsAcceptedEvent } from './events.ts';

/** A ledger event before it is dated (the intake dates a batch's entries together). */
type Unstamped = Omit<LedgerEvent, 'at'>;

/**
 * One submitted item: a decoded JSON value (with its text as sent, kept in quarantine if it is refused),
 * or text that did not decode.
 */
export type IntakeItem = { value: unknown; raw?: string } | { malformed: string; error: string };

/** The text quarantine keeps for a refused item: as sent when known; a value too deep to serialise is named so. */
function rawOf(item: { value: unknown; raw?: string }): string {
  if (item.raw !== undefined) return item.raw;
  try {
    return JSON.stringify(item.value) ?? String(item.value);
  } catch (err) {
    return `(the value could not be serialised: ${(err as Error).message})`;
  }
}

export interface IntakeContext {
  actor: string;
  source: string;
  now?: Date;
  /** When false, invalid items are reported but not quarantined (a resubmission from quarantine). */
  quarantine?: boolean;
  /** Bounds on occurredAt beyond the contract (src/sense/quality.ts); defaults when absent. */
  gates?: SignalGates;
}

export interface AcceptedSignal {
  index: number;
  id: string;
  type: string;
  accountId: string | null;
  leadId: string | null;
  created?: 'account' | 'lead';
  /** For a new profile whose subject named a person: what identity resolution did with it. */
  identity?: Placement;
}

export interface IntakeOutcome {
  accepted: AcceptedSignal[];
  duplicates: { index: number; id: string }[];
  rejected: { index: number; issues: FieldIssue[]; quarantineId: string | null }[];
}

/** Ingests a batch in one transaction. Valid items are stored even when others in the batch fail. */
export async function ingestSignals(db: Db, items: IntakeItem[], ctx: IntakeContext): Promise<IntakeOutcome> {
  return db.transaction((tx) => ingestInTransaction(tx, items, ctx));
}

/**
 * Resubmits an open quarantine item as `item` (what was kept, or a correction): the signal is taken in and the item
 * closed in one transaction. A signal still invalid is refused with its issues and the item stays open.
 */
export async function resubmitQuarantined(
  db: Db,
  id: string,
  item: unknown,
  ctx: { actor: string; now: Date; corrected: boolean; gates?: SignalGates },
): Promise<IntakeOutcome> {
  return db.transaction(async (tx) => {
    await lockOpenQuarantine(tx, id);
    const result = await ingestInTransaction(tx, [{ value: item }], {
      actor: ctx.actor,
      source: 'quarantine',
      quarantine: false,
      now: ctx.now,
      ...(ctx.gates ? { gates: ctx.gates } : {}),
    });
    const rejected = result.rejected[0];
    if (rejected) throw new AppError('validation_failed', 'the signal is still invalid; the quarantine item stays open', rejected.issues);
    const signalId = result.accepted[0]?.id ?? result.duplicates[0]?.id;
    await closeQuarantine(tx, id, 'resubmitted', { signalId, corrected: ctx.corrected }, ctx.actor, ctx.now);
    return result;
  });
}

interface Pending {
  index: number;
  id: string;
  signal: Signal;
  keys: IdentityKey[];
  owner?: { accountId: string | null; leadId: string | null };
  created?: 'account' | 'lead';
  identity?: Placement;
  /** Why the signal cannot be placed after all (it names a deleted customer); it goes to quarantine. */
  refusal?: FieldIssue;
}

export async function ingestInTransaction(tx: Tx, items: IntakeItem[], ctx: IntakeContext): Promise<IntakeOutcome> {
  // Serialises the lookup-then-create of new profiles, so concurrent batches never make twins of one subject, and
  // keeps intake from placing a signal on a person while an erasure of them commits.
  const receivedAt = new Date().toISOString();
  await lockSubjectPlacement(tx);
  const now = ctx.now ?? new Date();
  const outcome: IntakeOutcome = { accepted: [], duplicates: [], rejected: [] };
  const rejects: (QuarantineInput & { index: number })[] = [];
  const pending: Pending[] = [];
  const seenIds = new Set<string>();

  items.forEach((item, index) => {
    if ('malformed' in item) {
      rejects.push({
        index,
        source: ctx.source,
        reason: 'malformed JSON',
        issues: [{ path: '(body)', message: `malformed JSON: ${item.error}` }],
        raw: item.malformed,
      });
      return;
    }
    const parsed = admitSignal(item.value, now, ctx.gates);
    if (!parsed.ok) {
      rejects.push({
        index,
        source: ctx.source,
        reason: parsed.reason,
        issues: parsed.issues,
        signalSource: parsed.signalSource,
        raw: rawOf(item),
      });
      return;
    }
    const id = parsed.signal.id ?? newId('sig');
    if (seenIds.has(id)) {
      outcome.duplicates.push({ index, id });
      return;
    }
    seenIds.add(id);
    pending.push({ index, id, signal: parsed.signal, keys: identityKeys(parsed.signal.subject) });
  });

  // A signal id seen before is accepted once: later copies are reported, not stored again.
  const known = pending.length
    ? new Set(
        (
          await storedSignalIds(
            tx,
            pending.map((p) => p.id),
          )
        ).map((r) => r.id),
      )
    : new Set<string>();
  const unseen = pending.filter((p) => {
    if (!known.has(p.id)) return true;
    outcome.duplicates.push({ index: p.index, id: p.id });
    return false;
  });

  const writes = await resolveSubjects(tx, unseen, ctx, now);
  const fresh = unseen.filter((p) => !p.refusal);
  for (const p of unseen) {
    if (p.refusal)
      rejects.push({
        index: p.index,
        source: ctx.source,
        reason: 'refused',
        issues: [p.refusal],
        raw: rawOf(items[p.index] as { value: unknown; raw?: string }),
      });
  }
  const signalRows = fresh.map((p) => signalRow(p, now, ctx.source));
  await insertSignals(tx, signalRows);
  const consentRows = formConsents(fresh, now);
  await insertFormConsents(tx, consentRows);
  const caseRows = ticketCases(fresh, now);
  await insertTicketCases(tx, caseRows);
  // After the rows exist, so a new profile that proves to be a known person is folded in with them.
  await resolveDescribedPeople(tx, fresh, ctx, now);

  const quarantined = ctx.quarantine === false ? null : quarantineRows(rejects, ctx.actor, now);
  if (quarantined) await insertQuarantine(tx, quarantined.rows);
  rejects.forEach((r, i) =>
    outcome.rejected.push({ index: r.index, issues: r.issues, quarantineId: (quarantined?.rows[i]?.id as string) ?? null }),
  );

  // All dated at the intake's time on the server's clock.
  const events: Unstamped[] = [
    ...writes.events,
    ...consentRows.map((c) => ({
      type: 'record.created',
      actor: ctx.actor,
      subjectType: 'consents',
      subjectId: c.id,
      data: { via: 'signal', leadId: c.lead_id, channel: c.channel, purpose: c.purpose, version: 1 },
    })),
    ...caseRows.map((c) => ({
      type: 'record.created',
      actor: ctx.actor,
      subjectType: 'cases',
      subjectId: c.id,
      data: { via: 'signal', fields: ['accountId', 'channel', 'description', 'priority', 'subject'], version: 1 },
    })),
    ...fresh.map((p, i) => ({
      type: 'signal.accepted',
      actor: ctx.actor,
      subjectType: 'signals',
      subjectId: p.id,
      data: {
        signalType: p.signal.type,
        version: p.signal.version,
        ...(p.signal.upgradedFrom ? { upgradedFrom: p.signal.upgradedFrom } : {}),
        accountId: p.owner!.accountId,
        leadId: p.owner!.leadId,
        digest: sha256(canonicalJson(signalRows[i])),
      },
    })),
    ...(quarantined?.events ?? []),
  ];
  await appendToLedger(
    tx,
    events.map((e) => ({ ...e, at: now })),
  );

  const accountIds = [...new Set(fresh.map((p) => p.owner!.accountId).filter((a): a is string => !!a))];
  // Features are computed as of the newest signal when a sender's clock runs ahead of ours, so it still counts.
  const asOf = signalRows.reduce((latest, r) => (r.occurred_at > latest ? r.occurred_at : latest), now.toISOString());
  const leadIds = [...new Set(fresh.map((p) => p.owner!.leadId).filter((l): l is string => !!l))];
  const typesBySubject: Record<string, string[]> = {};
  for (const p of fresh) {
    const subject = p.owner!.accountId ?? p.owner!.leadId;
    if (subject && !typesBySubject[subject]?.includes(p.signal.type)) (typesBySubject[subject] ??= []).push(p.signal.type);
  }
  if (fresh.length) {
    await publish(tx, SIGNALS_ACCEPTED, {
      signalIds: fresh.map((p) => p.id),
      accountIds,
      leadIds,
      typesBySubject,
      asOf: new Date(asOf).toISOString(),
      receivedAt,
    } satisfies SignalsAcceptedEvent);
  }

  for (const p of fresh) {
    outcome.accepted.push({
      index: p.index,
      id: p.id,
      type: p.signal.type,
      ...p.owner!,
      ...(p.created ? { created: p.created } : {}),
      ...(p.identity ? { identity: p.identity } : {}),
    });
  }
  outcome.accepted.sort((a, b) => a.index - b.index);
  outcome.duplicates.sort((a, b) => a.index - b.index);
  outcome.rejected.sort((a, b) => a.index - b.index);
  return outcome;
}

/**
 * Matches each signal to a profile by its strongest known identifier. An unknown subject gets a new
 * profile (an account), or a lead for `lead_form`; identifiers the profile did not have yet are added
 * to it. Two signals in one batch naming the same unknown subject share one new profile.
 */
async function resolveSubjects(tx: Tx, batch: Pending[], ctx: IntakeContext, now: Date): Promise<{ events: Unstamped[] }> {
  const known = await lookupIdentities(
    tx,
    batch.flatMap((p) => p.keys),
  );
  const keyOf = (k: IdentityKey) => `${k.kind}:${k.value}`;
  const newAccounts: Record<string, unknown>[] = [];
  const newLeads: Record<string, unknown>[] = [];
  const claims: IdentityClaim[] = [];
  const events: Unstamped[] = [];

  // A deleted customer's id is not reused: a signal naming only it cannot start a new profile under it.
  const named = [...new Set(batch.flatMap((p) => (p.signal.subject.customerId ? [p.signal.subject.customerId] : [])))];
  const deleted = named.length ? new Set((await deletedCustomerIds(tx, named)).map((r) => r.customer_id)) : new Set<string>();

  for (const p of batch) {
    const hit = p.keys.map((k) => known.get(keyOf(k))).find((r) => r);
    const customerId = p.signal.subject.customerId;
    if (!hit && p.signal.type !== 'lead_form' && customerId && deleted.has(customerId)) {
      p.refusal = {
        path: 'subject.customerId',
        message: `customer ${customerId} was deleted; a deleted customer's id is not given to a new profile`,
      };
      continue;
    }
    if (hit) {
      p.owner = { accountId: hit.account_id, leadId: hit.account_id ? null : hit.lead_id };
    } else if (p.signal.type === 'lead_form') {
      const lead = leadFromForm(p.signal);
      newLeads.push(lead);
      p.owner = { accountId: null, leadId: lead.id as string };
      p.created = 'lead';
      events.push({
        type: 'record.created',
        actor: ctx.actor,
        subjectType: 'leads',
        subjectId: lead.id as string,
        data: { via: 'signal', signalId: p.id, version: 1 },
      });
    } else {
      const account = {
        id: newId('acc'),
        customer_id: p.signal.subject.customerId ?? null,
        name: PLACEHOLDER_ACCOUNT_NAME,
        kind: 'person',
        attributes: { createdFrom: 'signal' },
        created_at: now,
      };
      newAccounts.push(account);
      p.owner = { accountId: account.id, leadId: null };
      p.created = 'account';
      events.push({
        type: 'record.created',
        actor: ctx.actor,
        subjectType: 'accounts',
        subjectId: account.id,
        data: { via: 'signal', signalId: p.id, version: 1 },
      });
    }
    for (const k of p.keys) {
      // Customer ids belong to the account that carries them; a signal never hands one to another profile.
      if (known.has(keyOf(k)) || (k.kind === 'customer_id' && p.created !== 'account')) continue;
      const claim = {
        ...k,
        account_id: p.owner.accountId ?? undefined,
        lead_id: p.owner.leadId ?? undefined,
        source: `signal:${p.signal.type}`,
      };
      claims.push(claim);
      known.set(keyOf(k), { kind: k.kind, value: k.value, account_id: claim.account_id ?? null, lead_id: claim.lead_id ?? null });
    }
  }

  if (newAccounts.length) {
    // Accounts without a customer id get one from the same generator the table default uses.
    const missing = newAccounts.filter((a) => !a.customer_id);
    const generated = missing.length ? await nextCustomerIds(tx, missing.length) : [];
    missing.forEach((a, i) => (a.customer_id = generated[i]!.id));
    await insertSignalAccounts(tx, newAccounts);
    for (const a of missing)
      claims.push({ kind: 'customer_id', value: a.customer_id as string, account_id: a.id as string, source: 'generated' });
  }
  await insertSignalLeads(tx, newLeads);
  await claimIdentities(tx, claims);
  return { events };
}

/**
 * Signals that describe their person (`subject.person`) add a person record to identity resolution. A profile made
 * for a newcomer is resolved against the people already known and may be folded into one of them; the batch's
 * signals then belong to that profile. A known subject's person record just joins its profile, for survivorship.
 */
async function resolveDescribedPeople(tx: Tx, batch: Pending[], ctx: IntakeContext, now: Date): Promise<void> {
  const entry = (p: Pending): PersonEntry => ({
    id: `signals:${p.id}`,
    sourceKind: 'signals',
    sourceId: p.id,
    source: p.signal.source ?? ctx.source,
    accountId: p.owner!.accountId,
    leadId: p.owner!.leadId,
    fields: personFields({ ...p.signal.subject.person, email: p.signal.subject.email, phone: p.signal.subject.phone }),
    observedAt: p.signal.occurredAt ?? now.toISOString(),
    matchedBy: p.created ? 'new profile' : 'identifier',
  });
  const described = batch.filter((p) => p.signal.subject.person);
  const newcomers = described.filter((p) => p.created === 'account');
  await registerPeople(tx, described.filter((p) => p.created !== 'account').map(entry));
  const placements = await resolveNewProfiles(tx, newcomers.map(entry), { actor: ctx.actor, now });
  newcomers.forEach((p, i) => {
    const placement = placements[i]!;
    p.identity = placement;
    if (placement.outcome !== 'merged') return;
    const folded = p.owner!.accountId;
    for (const other of batch) if (other.owner!.accountId === folded) other.owner = { accountId: placement.survivorId, leadId: null };
  });
}

function leadFromForm(s: Signal): Record<string, unknown> {
  const d = s.data as {
    firstName?: string;
    lastName?: string;
    email?: string;
    phone?: string;
    company?: string;
    formId?: string;
    interest?: string;
  };
  return {
    id: newId('lead'),
    first_name: d.firstName ?? null,
    last_name: d.lastName ?? null,
    email: d.email ?? s.subject.email ?? null,
    phone: d.phone ?? s.subject.phone ?? null,
    company: d.company ?? null,
    source: s.source ?? 'lead_form',
    attributes: { formId: d.formId, interest: d.interest },
  };
}

/** The one number per signal type that features aggregate. */
function metricOf(s: Signal): number | null {
  const d = s.data as Record<string, number | string | undefined>;
  switch (s.type) {
    case 'usage':
      return d.quantity as number;
    case 'payment_failed':
    case 'billing_dispute':
      return d.amount as number;
    case 'nps':
      return d.score as number;
    case 'web_visit':
      return (d.durationSeconds as number | undefined) ?? null;
    case 'support_ticket':
      return scoreSentiment(`${d.subject ?? ''} ${d.text}`).score;
    default:
      return null;
  }
}

/**
 * The free-text fields of each signal type: untrusted text a person wrote (a ticket, an NPS comment, a form's message,
 * a dispute's reason). Only these are scanned for prompt injection, so intake stays cheap for usage and web visits.
 */
export const FREE_TEXT_FIELDS: Partial<Record<string, readonly string[]>> = {
  support_ticket: ['subject', 'text'],
  nps: ['comment'],
  billing_dispute: ['reason'],
  payment_failed: ['reason'],
  outcome: ['reason'],
  lead_form: ['message', 'interest', 'company'],
};

/** The trust layer's finding on a signal's free text (src/trust), as stored in `signals.trust`; null: nothing to scan. */
export function signalTrust(type: string, data: Record<string, unknown>): { injection: InjectionScan } | null {
  const fields = FREE_TEXT_FIELDS[type];
  if (!fields) return null;
  const text = Object.fromEntries(fields.filter((f) => typeof data[f] === 'string').map((f) => [f, data[f]]));
  const injection = scanData(text);
  return injection ? { injection } : null;
}

function signalRow(p: Pending, now: Date, source: string) {
  return {
    id: p.id,
    type: p.signal.type,
    schema_version: p.signal.version,
    occurred_at: p.signal.occurredAt ?? now.toISOString(),
    received_at: now.toISOString(),
    account_id: p.owner!.accountId,
    lead_id: p.owner!.leadId,
    subject: p.signal.subject,
    data: p.signal.data,
    metric: metricOf(p.signal),
    source: p.signal.source ?? source,
    trust: signalTrust(p.signal.type, p.signal.data as Record<string, unknown>),
  };
}

/**
 * The consent boxes ticked on a lead form (version 2), as granted consents of the lead, captured when the form
 * was sent, each for the address or number the form gave for its channel (the signal's subject when the form has
 * none; with neither, the lead's own) and for the box's brand. A form from someone already known as a customer
 * keeps its boxes in the signal only: the customer's contacts hold their consents.
 */
function formConsents(batch: Pending[], now: Date) {
  return batch.flatMap((p) => {
    if (p.signal.type !== 'lead_form' || !p.owner!.leadId) return [];
    const data = p.signal.data as {
      consents?: { channel: string; purpose: string; brand?: string }[];
      formId?: string;
      email?: string;
      phone?: string;
    };
    const at = p.signal.occurredAt ?? now.toISOString();
    const given = { email: data.email ?? p.signal.subject.email, phone: data.phone ?? p.signal.subject.phone };
    return (data.consents ?? []).map((b) => ({
      id: newId('cons'),
      lead_id: p.owner!.leadId,
      channel: b.channel,
      purpose: b.purpose,
      status: 'granted',
      source: `lead_form${data.formId ? `:${data.formId}` : ''}`.slice(0, 200),
      captured_at: at,
      effective_from: at,
      contact_point: pointFor(b.channel, given),
      brand: b.brand ?? null,
    }));
  });
}

/** A support ticket attached to a customer (known, or just created for it) opens a case, so open cases are part of the record. */
function ticketCases(batch: Pending[], now: Date) {
  return batch
    .filter((p) => p.signal.type === 'support_ticket' && p.owner!.accountId)
    .map((p) => {
      const d = p.signal.data as { subject?: string; text: string; priority?: string; channel?: string };
      return {
        id: newId('case'),
        account_id: p.owner!.accountId,
        subject: d.subject ?? d.text.slice(0, 120),
        description: d.text,
        priority: d.priority ?? 'normal',
        channel: d.channel ?? null,
        opened_at: p.signal.occurredAt ?? now.toISOString(),
      };
    });
}
