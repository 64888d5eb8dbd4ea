import { AppError } from '../errors.ts';
import { accountRowById, accountRowByIdOrCustomerId, firstLiveSubscriptionTerms, toApi, type RecordRow } from '../records/index.ts';
import type { Queryable } from '../store/index.ts';
import {
  agentWorkOfAccount,
  consentRecordsOfAccount,
  contactPointsOfAccount,
  profileContacts,
  profileFeatures,
  profileIdentities,
  profileInteractions,
  profileOpenCases,
  profileSignals,
  profileSubscriptions,
} from '../views/index.ts';
import { consentFacts, decidingConsent, effectiveConsents, grants, type ConsentFact } from './consent.ts';
import { featuresAt, type CustomerFeatures } from './features.ts';
import { loadIdentitySettings, profilePeople, unify, type PersonField, type UnifiedField } from './identity/index.ts';

/**
 * One entry of a customer's timeline, newest first:
 * - `signal` (at occurred_at; type = the signal type; summary = its data and metric);
 * - `outcome`: an `outcome` signal (type = its kind: churned, renewed, converted, case_resolved, complaint, offer_accepted, offer_declined);
 * - `interaction` (at occurred_at; type = the interaction type; summary { direction, subject });
 * - `proposal`: what an agent proposed (at created_at; type = the action; summary { agentId, status, statusReason, ev, reason });
 * - `decision`: what policy decided on it (at decided_at; type = execute, approval or deny; summary { proposalId, policyIds, reasons });
 * - `action`: what ran (an execution, at created_at; type = the tool; summary { status, idempotencyKey, result }).
 */
export interface TimelineItem {
  at: string;
  kind: 'signal' | 'outcome' | 'interaction' | 'proposal' | 'decision' | 'action';
  id: string;
  type: string;
  summary: Record<string, unknown>;
}

/** On equal times the later step of the loop comes first: what ran, then the decision, then the proposal. */
const STEP_ORDER: Record<TimelineItem['kind'], number> = { action: 0, decision: 1, proposal: 2, outcome: 3, signal: 3, interaction: 3 };

export interface Profile {
  account: RecordRow;
  identities: { kind: string; value: string; source: string }[];
  contacts: RecordRow[];
  consents: RecordRow[];
  subscriptions: RecordRow[];
  openCases: RecordRow[];
  features: { asOf: string; values: Record<string, unknown> } | null;
  /** The person fields unified from the profile's source records by the survivorship rules (lineage: /customers/{id}/lineage). */
  unified: Partial<Record<PersonField, UnifiedField>>;
  timeline: TimelineItem[];
}

// Consent reads live in consent.ts; effectiveConsents is re-exported here, where it always was.
export { effectiveConsents };

/**
 * The live account named by its id or its customer id; a 404 otherwise. A profile merged into another leads to the
 * one it was merged into (its ids stay valid for callers that kept them).
 */
export async function findAccount(q: Queryable, key: string): Promise<RecordRow> {
  let row = await accountRowByIdOrCustomerId(q, key);
  // Merges chain at most as deep as there were merges; the bound only guards against a cycle.
  for (let hops = 0; row && row.deleted_at && row.merged_into && hops < 100; hops++) {
    row = await accountRowById(q, row.merged_into as string);
  }
  if (!row || row.deleted_at) throw new AppError('customer.not_found', `no customer ${key}`);
  return toApi(row);
}

/** A customer's unified view. `key` is the account id or the customer id. */
export async function getProfile(q: Queryable, key: string, opts: { timelineLimit?: number; now?: Date } = {}): Promise<Profile> {
  const account = await findAccount(q, key);
  const id = account.id;
  const limit = opts.timelineLimit ?? 50;
  const [identities, contacts, subscriptions, openCases, featureRows, signals, interactions, work, people, settings] = await Promise.all([
    profileIdentities(q, id),
    profileContacts(q, id),
    profileSubscriptions(q, id),
    profileOpenCases(q, id),
    profileFeatures(q, id),
    profileSignals(q, id, limit),
    profileInteractions(q, id, limit),
    // The agents' work (proposals, decisions, executions), at most `limit` of each kind.
    agentWorkOfAccount(q, id, limit),
    profilePeople(q, id),
    loadIdentitySettings(q),
  ]);
  const contactIds = contacts.map((c) => c.id as string);
  const timeline: TimelineItem[] = [
    ...signals.map((s): TimelineItem => {
      const data = s.data as Record<string, unknown>;
      const outcome = s.type === 'outcome';
      return {
        at: (s.occurred_at as Date).toISOString(),
        kind: outcome ? 'outcome' : 'signal',
        id: s.id as string,
        type: outcome ? String(data.kind) : (s.type as string),
        summary: { ...data, metric: s.metric },
      };
    }),
    ...interactions.map((i) => ({
      at: (i.occurred_at as Date).toISOString(),
      kind: 'interaction' as const,
      id: i.id as string,
      type: i.type as string,
      summary: { direction: i.direction, subject: i.subject },
    })),
    ...work,
  ]
    .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : STEP_ORDER[a.kind] - STEP_ORDER[b.kind]))
    .slice(0, limit);
  const feature = featureRows[0];
  return {
    account,
    identities,
    contacts: contacts.map(toApi),
    consents: await effectiveConsents(q, contactIds, opts.now ?? new Date()),
    subscriptions: subscriptions.map(toApi),
    openCases: openCases.map(toApi),
    features: feature ? { asOf: feature.as_of.toISOString(), values: feature.features } : null,
    unified: unify(people, settings),
    timeline,
  };
}

/** Where a consent record stands at a moment. */
export type ConsentRecordState = 'in_effect' | 'superseded' | 'awaiting_confirmation' | 'scheduled' | 'expired';

/**
 * A consent record of a customer's contact and where it stands now: `in_effect` (it decides for its channel,
 * purpose, contact point and brand), `superseded` (a later record decides), `awaiting_confirmation` (a double
 * opt-in not confirmed yet), `scheduled` (its window has not begun) or `expired`. `inEffect` is `state === 'in_effect'`.
 */
export type ConsentHistoryItem = RecordRow & { contactId: string; inEffect: boolean; state: ConsentRecordState };

/**
 * What consent allows now for one contact point (null for push), channel, purpose and brand. A row with brand null
 * speaks for every brand that has no row of its own; `consentId` is the record that decides.
 */
export interface EffectiveConsent {
  contactPoint: string | null;
  channel: string;
  purpose: string;
  brand: string | null;
  status: string;
  grants: boolean;
  consentId: string;
  contactId: string;
  capturedAt: string;
}

/** A customer's consent: the state in effect (`effective`) and every record behind it (`data`, newest captured first). */
export interface ConsentOverview {
  effective: EffectiveConsent[];
  data: ConsentHistoryItem[];
}

const targetOf = (f: ConsentFact) => ({
  channel: f.channel,
  purpose: f.purpose,
  contactPoint: f.contactPoint ?? null,
  brand: f.brand ?? null,
});

function recordState(r: RecordRow, decides: boolean, now: Date): ConsentRecordState {
  if (decides) return 'in_effect';
  const t = now.getTime();
  if (r.effectiveTo && Date.parse(String(r.effectiveTo)) <= t) return 'expired';
  if (Date.parse(String(r.effectiveFrom)) > t) return 'scheduled';
  if (r.doubleOptIn && (!r.confirmedAt || Date.parse(String(r.confirmedAt)) > t)) return 'awaiting_confirmation';
  return 'superseded';
}

/**
 * Every consent record of a customer's (live) contacts, superseded, expired, pending and withdrawn ones included,
 * newest captured first, each with where it stands at `now`; and the state in effect at `now`, per contact point,
 * channel, purpose and brand, as outreach reads it (src/sense/consent.ts).
 */
export async function consentHistory(q: Queryable, key: string, now: Date): Promise<ConsentOverview> {
  const account = await findAccount(q, key);
  const [rows, contacts] = await Promise.all([consentRecordsOfAccount(q, account.id), contactPointsOfAccount(q, account.id)]);
  const holders = new Map(contacts.map((c) => [c.id, c]));
  const current = await effectiveConsents(q, [...new Set(rows.map((r) => r.contact_id as string))], now);
  const facts = consentFacts(current, holders);
  // A record in effect decides for its own point and brand unless a later, broader one speaks for them too; one
  // whose holder has no point for its channel speaks for nothing and still counts as in effect.
  const inEffect = new Set(current.map((c) => c.id));
  for (const f of facts) if (decidingConsent(facts, targetOf(f))?.id !== f.id) inEffect.delete(f.id!);
  const targets = new Map(facts.map((f) => [JSON.stringify(targetOf(f)), targetOf(f)]));
  const effective = [...targets.values()].map((t): EffectiveConsent => {
    const d = decidingConsent(facts, t)!;
    return { ...t, status: d.status!, grants: grants(d), consentId: d.id!, contactId: d.holderId!, capturedAt: d.capturedAt! };
  });
  const order = (e: EffectiveConsent) => [e.contactPoint ?? '', e.channel, e.purpose, e.brand ?? ''].join('\u0000');
  effective.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  return {
    effective,
    data: rows.map((r) => {
      const record = toApi(r);
      const state = recordState(record, inEffect.has(record.id), now);
      return { ...record, contactId: r.contact_id as string, inEffect: state === 'in_effect', state };
    }),
  };
}

/** What a churn model reads of a customer: the account's attributes and its first live subscription, as the API returns them. */
export interface ChurnInput {
  attributes: Record<string, unknown>;
  subscription: {
    contract: string | null;
    paymentMethod: string | null;
    paperlessBilling: boolean | null;
    tenureMonths: number | null;
    monthlyAmount: number | null;
    services: Record<string, unknown>;
  };
}

export interface FeatureHistory {
  accountId: string;
  points: { asOf: string; features: CustomerFeatures }[];
  /** Null when the customer has no subscription (a churn model cannot score them). */
  churnInput: ChurnInput | null;
}

/**
 * A customer's features at `points` times, `stepDays` apart, the last at `now` (oldest first), computed from the
 * signal history as the feature refresh computes them.
 */
export async function featureHistory(
  q: Queryable,
  key: string,
  opts: { points: number; stepDays: number; now: Date },
): Promise<FeatureHistory> {
  const account = await findAccount(q, key);
  const times = Array.from(
    { length: opts.points },
    (_, i) => new Date(opts.now.getTime() - (opts.points - 1 - i) * opts.stepDays * 86_400_000),
  );
  const [points, [sub]] = await Promise.all([featuresAt(q, account.id, times), firstLiveSubscriptionTerms(q, account.id)]);
  return {
    accountId: account.id,
    points,
    churnInput: sub
      ? {
          attributes: (account.attributes as Record<string, unknown> | undefined) ?? {},
          subscription: {
            contract: sub.contract,
            paymentMethod: sub.payment_method,
            paperlessBilling: sub.paperless_billing,
            tenureMonths: sub.tenure_months,
            monthlyAmount: sub.monthly_amount,
            services: sub.services ?? {},
          },
        }
      : null,
  };
}
