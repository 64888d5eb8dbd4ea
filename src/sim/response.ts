import type { Responsiveness, SimCustomer, SimState, Treatment } from './customer.ts';
import { RESPONSE, RESPONSIVENESS } from './params.ts';
import { bernoulli, clamp, type Rng } from '../lib/index.ts';
import type { SimDay, SimLead, SimOutcome } from './types.ts';

/**
 * The response model: what an action does to the customer it reaches. Pure: it returns the state changes and
 * outcomes and leaves applying them to the caller (applyStateChanges). The constants are RESPONSE in params.ts.
 */

export type ActionKind =
  | 'offer_credit'
  | 'save_call'
  | 'outreach'
  | 'create_case'
  | 'priority_routing'
  | 'notify'
  | 'route_lead'
  | 'create_task'
  | 'enrich_lead'
  | 'score_lead'
  | 'update_record';

export interface SimAction {
  kind: ActionKind | (string & {});
  channel?: 'email' | 'sms' | 'phone' | 'push';
  /** Credit for offer_credit, in cents. */
  amountCents?: number;
  /** Whether the customer had an effective consent for this channel and purpose when contacted. */
  hadConsent: boolean;
  /** Tells apart two actions of one kind on one day (e.g. its count that day); used in outcome ids and draws. */
  key?: string;
  /** The idempotency key of the ACS execution this is: carried into the outcomes that answer it, never into a draw or an id. */
  actionKey?: string;
  /** For create_case: the ACS case it opened, which its resolution names. */
  caseId?: string;
}

export interface Response<S> {
  stateChanges: Partial<S>;
  outcomes: SimOutcome[];
  /** What happened, in words, for logs and tests. */
  effects: string[];
}

/** Actions the customer hears about. Cases, routing, tasks and record updates happen inside the company. */
const CONTACTS = new Set(['offer_credit', 'save_call', 'outreach', 'notify', 'route_lead']);
export const isContact = (kind: string) => CONTACTS.has(kind);

/** Contacts that ask the customer to stay: a sleeping dog reached by one of these is pushed toward leaving. */
const RETENTION_CONTACTS = new Set(['offer_credit', 'save_call', 'outreach']);

/** A customer's hidden kind; one built by hand without it is persuadable. */
export const responsivenessOf = (customer: SimCustomer): Responsiveness => customer.responsiveness ?? 'persuadable';

/**
 * The probability the customer accepts a credit of `creditCents`: offerAcceptMax for their kind × (1 − exp(−credit /
 * (offerScale × monthly bill))). Exported so an evaluator can take the expectation over respond()'s draw.
 */
export function offerAcceptance(customer: SimCustomer, creditCents: number): number {
  const bill = Math.max(1, customer.input.monthlyAmount) * 100;
  const max = RESPONSE.offerAcceptMax[responsivenessOf(customer)];
  return max * (1 - Math.exp(-Math.max(0, creditCents) / (RESPONSE.offerScale * bill)));
}

/**
 * The expected hazard multiplier of a credit for a persuadable customer with this bill, over the acceptance draw:
 * 1 − acceptance × offerMaxReduction. (Kept for callers of the earlier model; respond() is where the effect lives.)
 */
export function offerMultiplier(creditCents: number, monthlyAmount: number): number {
  const bill = Math.max(1, monthlyAmount) * 100;
  const accept = RESPONSE.offerAcceptMax.persuadable * (1 - Math.exp(-Math.max(0, creditCents) / (RESPONSE.offerScale * bill)));
  return 1 - accept * RESPONSE.offerMaxReduction;
}

/** Hazard multiplier of an accepted credit for the customer's kind: 1 − offerMaxReduction for a persuadable, else 1. */
export function acceptedOfferMultiplier(customer: SimCustomer): number {
  return responsivenessOf(customer) === 'persuadable' ? 1 - RESPONSE.offerMaxReduction : 1;
}

const outcomeId = (type: string, who: string, d: number, a: SimAction) => `sim-${type}-${who}-d${d}-${a.kind}${a.key ? `-${a.key}` : ''}`;

const at = (day: SimDay, hours: number) => new Date(Date.parse(day.start) + hours * 3_600_000).toISOString();

/** Contact days still inside the fatigue window, with this one added. */
function contactsWith(days: readonly number[], today: number): number[] {
  return [...days.filter((d) => today - d < RESPONSE.contactWindowDays), today];
}

/** A treatment of one source replaces the earlier one of that source (they do not stack). */
const withTreatment = (list: readonly Treatment[], t: Treatment) => [
  ...list.filter((x) => x.source !== t.source && x.untilDay >= t.fromDay),
  t,
];

export function respond(customer: SimCustomer, action: SimAction, day: SimDay, rng: Rng): Response<SimState> {
  const s = customer.state;
  const id = customer.input.customerId;
  if (s.status !== 'active') return { stateChanges: {}, outcomes: [], effects: ['customer has left: no effect'] };

  const changes: Partial<SimState> = {};
  const outcomes: SimOutcome[] = [];
  const effects: string[] = [];
  let satisfaction = s.satisfaction;
  let annoyance = s.annoyance;
  const d = day.index;
  let treatments: readonly Treatment[] = s.treatments;

  if (isContact(action.kind)) {
    const contactDays = contactsWith(s.contactDays, d);
    changes.contactDays = contactDays;
    const excess = contactDays.length - RESPONSE.contactLimit;
    if (excess > 0) {
      annoyance += RESPONSE.annoyancePerExcessContact;
      satisfaction += RESPONSE.annoyanceSatisfaction;
      effects.push(`contact ${contactDays.length} in ${RESPONSE.contactWindowDays} days: annoyed`);
    }
    if (!action.hadConsent) {
      annoyance += RESPONSE.noConsentAnnoyance;
      satisfaction += RESPONSE.noConsentSatisfaction;
      outcomes.push({
        id: outcomeId('complaint', id, d, action),
        type: 'complaint',
        customerId: id,
        day: d,
        occurredAt: at(day, 12),
        reason: 'no_consent',
      });
      effects.push('contacted without consent: complaint');
    }
  }

  const kind = responsivenessOf(customer);
  // A sleeping dog reminded that it could leave: the rise comes with the contact, whatever the answer.
  if (kind === 'sleepingDog' && RETENTION_CONTACTS.has(action.kind)) {
    treatments = withTreatment(treatments, {
      source: 'provoked',
      fromDay: d,
      untilDay: d + RESPONSIVENESS.sleepingDogDays - 1,
      hazardMultiplier: RESPONSIVENESS.sleepingDogMultiplier,
    });
    effects.push(
      `retention contact provoked a sleeping dog: hazard × ${RESPONSIVENESS.sleepingDogMultiplier} for ${RESPONSIVENESS.sleepingDogDays} days`,
    );
  }

  switch (action.kind) {
    case 'offer_credit': {
      // The credit lands on the bill with or without consent (only its announcement is a contact); the customer
      // accepts it (and, if persuadable, stays more readily) or declines it, and says so the same day.
      const credit = Math.max(0, action.amountCents ?? 0);
      const p = offerAcceptance(customer, credit);
      const accepted = bernoulli(rng, p);
      outcomes.push({
        id: outcomeId(accepted ? 'offer_accepted' : 'offer_declined', id, d, action),
        type: accepted ? 'offer_accepted' : 'offer_declined',
        customerId: id,
        day: d,
        occurredAt: at(day, 19),
        ...(action.actionKey ? { actionKey: action.actionKey } : {}),
      });
      const multiplier = accepted ? acceptedOfferMultiplier(customer) : 1;
      if (multiplier !== 1) {
        treatments = withTreatment(treatments, {
          source: 'offer',
          fromDay: d,
          untilDay: d + RESPONSE.offerDays - 1,
          hazardMultiplier: multiplier,
          creditCents: credit,
        });
      }
      effects.push(
        `credit ${credit} cents ${accepted ? 'accepted' : 'declined'} (p ${p.toFixed(3)}): hazard × ${multiplier.toFixed(3)}${multiplier !== 1 ? ` for ${RESPONSE.offerDays} days` : ''}`,
      );
      break;
    }
    case 'save_call': {
      if (!action.hadConsent) break;
      if (bernoulli(rng, RESPONSE.saveCallReach)) {
        if (kind === 'persuadable') {
          treatments = withTreatment(treatments, {
            source: 'save_call',
            fromDay: d,
            untilDay: d + RESPONSE.saveCallDays - 1,
            hazardMultiplier: RESPONSE.saveCallMultiplier,
          });
          effects.push(`save call answered: hazard × ${RESPONSE.saveCallMultiplier} for ${RESPONSE.saveCallDays} days`);
        } else effects.push('save call answered: not moved');
      } else effects.push('save call not answered');
      break;
    }
    case 'outreach': {
      if (!action.hadConsent) break;
      if (kind !== 'persuadable') {
        effects.push('outreach: not moved');
        break;
      }
      treatments = withTreatment(treatments, {
        source: 'outreach',
        fromDay: d,
        untilDay: d + RESPONSE.outreachDays - 1,
        hazardMultiplier: RESPONSE.outreachMultiplier,
      });
      changes.engagement = clamp(s.engagement + RESPONSE.outreachEngagement, 0, 1);
      effects.push(`outreach: hazard × ${RESPONSE.outreachMultiplier} for ${RESPONSE.outreachDays} days`);
      break;
    }
    case 'create_case': {
      satisfaction += RESPONSE.caseSatisfaction;
      const fixBy = d + RESPONSE.caseFixDays;
      if (s.troubleUntil !== null && s.troubleUntil > fixBy) changes.troubleUntil = fixBy;
      changes.openTickets = [
        ...s.openTickets,
        {
          ref: `case-d${d}${action.key ? `-${action.key}` : ''}`,
          resolveDay: fixBy,
          ...(action.caseId ? { caseId: action.caseId } : {}),
          ...(action.actionKey ? { actionKey: action.actionKey } : {}),
        },
      ];
      effects.push(`proactive case: satisfaction +${RESPONSE.caseSatisfaction}, resolved by day ${fixBy}`);
      break;
    }
    case 'priority_routing': {
      satisfaction += RESPONSE.prioritySatisfaction;
      changes.openTickets = s.openTickets.map((t) => ({ ...t, resolveDay: Math.min(t.resolveDay, d + 1) }));
      effects.push(`priority routing: satisfaction +${RESPONSE.prioritySatisfaction}, open tickets resolve tomorrow`);
      break;
    }
    case 'notify': {
      if (action.hadConsent && (s.openTickets.length > 0 || s.troubleUntil !== null)) {
        satisfaction += RESPONSE.notifySatisfaction;
        effects.push(`notice about an open problem: satisfaction +${RESPONSE.notifySatisfaction}`);
      }
      break;
    }
    default:
      if (!isContact(action.kind)) effects.push(`${action.kind}: internal, no effect on the customer`);
  }

  if (satisfaction !== s.satisfaction) changes.satisfaction = clamp(satisfaction, 0, 1);
  if (annoyance !== s.annoyance) changes.annoyance = annoyance;
  if (treatments !== s.treatments) changes.treatments = [...treatments];
  return { stateChanges: changes, outcomes, effects };
}

/** How a lead responds: routing to a rep may convert it; consented outreach warms it; unconsented contact is a complaint. */
export function respondLead(lead: SimLead, action: SimAction, day: SimDay, rng: Rng): Response<SimLead> {
  if (lead.status !== 'open') return { stateChanges: {}, outcomes: [], effects: ['lead already converted: no effect'] };
  const changes: Partial<SimLead> = {};
  const outcomes: SimOutcome[] = [];
  const effects: string[] = [];
  const d = day.index;
  let warmth = lead.warmth;
  if (isContact(action.kind)) {
    const contactDays = contactsWith(lead.contactDays, d);
    changes.contactDays = contactDays;
    if (contactDays.length > RESPONSE.contactLimit) {
      warmth -= RESPONSE.leadOutreachWarmth;
      effects.push('too many contacts: cooler');
    }
    if (!action.hadConsent) {
      warmth -= RESPONSE.leadOutreachWarmth;
      outcomes.push({
        id: outcomeId('complaint', lead.leadKey, d, action),
        type: 'complaint',
        email: lead.email,
        day: d,
        occurredAt: at(day, 12),
        reason: 'no_consent',
      });
      effects.push('contacted without consent: complaint');
    }
  }
  if (action.kind === 'route_lead') {
    // Routing is the rep calling back someone who asked to be contacted, so it converts regardless of marketing consent.
    if (bernoulli(rng, RESPONSE.routeConversion * clamp(warmth, 0, 1))) {
      changes.status = 'converted';
      outcomes.push({
        id: `sim-converted-${lead.leadKey}`,
        type: 'converted',
        email: lead.email,
        day: d,
        occurredAt: at(day, 15),
        reason: 'route_lead',
      });
      effects.push('routed to a rep: converted');
    } else effects.push('routed to a rep: not yet');
  } else if (action.kind === 'outreach' && action.hadConsent) {
    warmth += RESPONSE.leadOutreachWarmth;
    effects.push(`consented outreach: warmth +${RESPONSE.leadOutreachWarmth}`);
  }
  if (warmth !== lead.warmth) changes.warmth = clamp(warmth, 0, 1);
  return { stateChanges: changes, outcomes, effects };
}

export function applyStateChanges(customer: SimCustomer, changes: Partial<SimState>): SimCustomer {
  return Object.keys(changes).length ? { ...customer, state: { ...customer.state, ...changes } } : customer;
}
