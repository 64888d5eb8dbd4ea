import type { SignalType } from '../contracts/index.ts';
import {
  createSimCustomer,
  dailyHazard,
  hasInternet,
  termEndDay,
  type SimCustomer,
  type SimCustomerInput,
  type SimState,
} from './customer.ts';
import { HAZARD, RESPONSE, SIGNALS, STATE } from './params.ts';
import { bernoulli, clamp, integer, normal, pick, poisson, stream, uniform, type Rng } from '../lib/index.ts';
import { applyStateChanges, respond, respondLead, type SimAction } from './response.ts';
import {
  CANCEL_PAGE,
  LEAD_INTERESTS,
  LEAD_PAGES,
  WEB_PAGES,
  disputeReason,
  leadPerson,
  npsComment,
  ticketText,
  type Tone,
  type Topic,
} from './texts.ts';
import type { SimDay, SimLead, SimOutcome, SimSignal, SimWorld } from './types.ts';

/**
 * The simulated world, one day at a time. Pure: the same world, day and seed give the same signals, outcomes and
 * next world, with no clock, database or global randomness. Each customer's day draws from its own stream
 * (seed, customer id, day), so adding or removing a customer never changes what happens to the others.
 */

const SITE = 'https://www.example-telco.com';
const SOURCE = 'sim';
const DAY_MS = 86_400_000;

export interface WorldOptions {
  /** Overrides HAZARD.baseDaily; only calibration should need this. */
  baseDaily?: number;
}

export function createWorld(customers: readonly SimCustomerInput[], seed: number, options: WorldOptions = {}): SimWorld {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  const seen = new Set<string>();
  for (const c of customers) {
    if (seen.has(c.customerId)) throw new RangeError(`customer ${c.customerId} appears twice`);
    seen.add(c.customerId);
  }
  const baseDaily = options.baseDaily ?? HAZARD.baseDaily;
  if (!(baseDaily >= 0 && baseDaily < 1)) throw new RangeError(`baseDaily must be in [0, 1), got ${baseDaily}`);
  return { seed, baseDaily, customers: customers.map((c) => createSimCustomer(c, seed)), leads: [] };
}

/** Day `index` of a run that starts at `start` (an ISO timestamp): days are 24 hours apart. */
export function simDay(start: string, index: number): SimDay {
  const t = Date.parse(start);
  if (Number.isNaN(t)) throw new RangeError(`not a timestamp: ${start}`);
  return { index, start: new Date(t + index * DAY_MS).toISOString() };
}

const atHour = (day: SimDay, hours: number) => new Date(Date.parse(day.start) + Math.floor(hours * 3_600_000)).toISOString();

/** Collects one subject's signals for the day, numbering their ids. */
class DayLog {
  readonly signals: SimSignal[] = [];
  private n = 0;
  private readonly prefix: string;
  private readonly subject: SimSignal['subject'];
  private readonly day: SimDay;
  constructor(prefix: string, subject: SimSignal['subject'], day: SimDay) {
    this.prefix = prefix;
    this.subject = subject;
    this.day = day;
  }
  add(type: SignalType, hours: number, data: Record<string, unknown>, version = 1): void {
    this.signals.push({
      id: `${this.prefix}-${++this.n}`,
      type,
      version,
      occurredAt: atHour(this.day, hours),
      source: SOURCE,
      subject: this.subject,
      data,
    });
  }
}

function toneOf(rng: Rng, satisfaction: number, inTrouble: boolean): Tone {
  const negative = clamp(1.1 * (1 - satisfaction) - 0.1 + (inTrouble ? 0.2 : 0), 0.02, 0.95);
  const positive = clamp(0.3 * satisfaction - 0.1, 0, 0.25);
  const u = rng.next();
  return u < negative ? 'negative' : u < negative + positive ? 'positive' : 'neutral';
}

function topicOf(rng: Rng, c: SimCustomer, inTrouble: boolean, hazard: number): Topic {
  if (inTrouble && rng.next() < 0.7) return rng.next() < 0.5 ? 'outage' : 'internet';
  const s = c.input.services;
  const weights: [Topic, number][] = [
    ['internet', hasInternet(c.input) ? 0.3 : 0],
    ['billing', 0.25],
    ['tv', s.streamingTv || s.streamingMovies ? 0.1 : 0],
    ['phone', s.phoneService ? 0.1 : 0],
    ['account', 0.15],
    ['cancel', SIGNALS.cancelTopicPerHazard * hazard],
  ];
  let u = rng.next() * weights.reduce((a, [, w]) => a + w, 0);
  for (const [topic, w] of weights) if ((u -= w) < 0) return topic;
  return 'account';
}

/** One customer's day: state dynamics, churn, then the signals they produce. */
function customerDay(
  world: SimWorld,
  c: SimCustomer,
  day: SimDay,
): { customer: SimCustomer; signals: SimSignal[]; outcomes: SimOutcome[] } {
  const d = day.index;
  const id = c.input.customerId;
  const rng = stream(world.seed, id, 'day', d);
  const s = c.state;
  const outcomes: SimOutcome[] = [];
  const log = new DayLog(`sim-${world.seed}-d${d}-${id}`, { customerId: id }, day);
  const outcomeId = (type: string, extra = '') => `sim-${world.seed}-d${d}-${id}-${type}${extra}`;

  // 1. Fatigue and treatments wear off.
  const annoyance = s.annoyance * 0.5 ** (1 / RESPONSE.annoyanceHalfLifeDays);
  const contactDays = s.contactDays.filter((x) => d - x < RESPONSE.contactWindowDays);
  const treatments = s.treatments.filter((t) => t.untilDay >= d);

  // 2. Episodes start and end.
  let { engagementTarget, disengagedUntil, troubleUntil } = s;
  if (disengagedUntil !== null && d > disengagedUntil) {
    disengagedUntil = null;
    engagementTarget = c.baseline.engagement;
  }
  if (disengagedUntil === null && bernoulli(rng, STATE.disengageDaily)) {
    disengagedUntil = d + integer(rng, ...STATE.disengageDays) - 1;
    engagementTarget = Math.max(0.02, c.baseline.engagement - STATE.disengageDepth);
  }
  if (troubleUntil !== null && d > troubleUntil) troubleUntil = null;
  const troubleDaily =
    c.input.services.internetService === 'Fiber optic' ? STATE.troubleDaily.fiber : hasInternet(c.input) ? STATE.troubleDaily.dsl : 0;
  if (troubleUntil === null && bernoulli(rng, troubleDaily)) troubleUntil = d + integer(rng, ...STATE.troubleDays) - 1;
  const inTrouble = troubleUntil !== null;

  // 3. Satisfaction and engagement drift toward their targets, with noise.
  let satisfaction = s.satisfaction + STATE.reversion * (c.baseline.satisfaction - s.satisfaction) + normal(rng, 0, STATE.dailyNoiseSd);
  if (inTrouble) satisfaction -= STATE.troubleSatisfactionPerDay;
  const engagement = clamp(s.engagement + STATE.reversion * (engagementTarget - s.engagement) + normal(rng, 0, STATE.dailyNoiseSd), 0, 1);

  // 4. Tickets due today are resolved.
  const resolved = s.openTickets.filter((t) => t.resolveDay <= d);
  for (const t of resolved) {
    outcomes.push({
      id: outcomeId('case_resolved', `-${t.ref}`),
      type: 'case_resolved',
      customerId: id,
      day: d,
      occurredAt: atHour(day, uniform(rng, 8, 18)),
      ticketId: t.ref,
      ...(t.caseId ? { caseId: t.caseId } : {}),
      ...(t.actionKey ? { actionKey: t.actionKey } : {}),
    });
    satisfaction += STATE.caseResolvedSatisfaction;
  }
  let openTickets = resolved.length ? s.openTickets.filter((t) => t.resolveDay > d) : s.openTickets;

  // 5. Billing day: the monthly payment may fail.
  const billingDay = d >= c.anchorDay && (d - c.anchorDay) % 30 === 0;
  let paymentFailed = false;
  if (billingDay && !bernoulli(rng, c.baseline.paymentReliability)) {
    paymentFailed = true;
    satisfaction += STATE.paymentFailureSatisfaction;
  }

  let state: SimState = {
    ...s,
    satisfaction: clamp(satisfaction, 0, 1),
    engagement,
    engagementTarget,
    disengagedUntil,
    troubleUntil,
    annoyance,
    contactDays,
    treatments,
    openTickets,
  };
  const customer: SimCustomer = { ...c, state };

  // 6. Churn.
  const hazard = dailyHazard(customer, d, world.baseDaily);
  if (bernoulli(rng, hazard)) {
    state = { ...state, status: 'churned', churnedDay: d, openTickets: [] };
    outcomes.push({
      id: outcomeId('churned'),
      type: 'churned',
      customerId: id,
      day: d,
      occurredAt: atHour(day, uniform(rng, 0, 24)),
      hazard,
      contract: c.input.contract ?? 'unknown',
    });
    return { customer: { ...c, state }, signals: [], outcomes };
  }
  if (termEndDay(customer, d) === d) {
    outcomes.push({
      id: outcomeId('renewed'),
      type: 'renewed',
      customerId: id,
      day: d,
      occurredAt: atHour(day, 0),
      contract: c.input.contract ?? 'unknown',
    });
  }

  // 7. Signals.
  if (paymentFailed) {
    log.add('payment_failed', uniform(rng, 1, 6), {
      amount: Math.round(c.input.monthlyAmount * 100) / 100,
      currency: 'USD',
      reason: pick(rng, ['insufficient funds', 'card declined', 'expired card', 'bank rejected the debit']),
      invoiceId: `INV-${id}-${d}`,
    });
  }
  if ((d - c.usageWeekday) % SIGNALS.usageCadenceDays === 0) {
    const factor = Math.exp(normal(rng, 0, SIGNALS.usageNoiseSd));
    const internet = hasInternet(c.input);
    const weekly = (internet ? SIGNALS.weeklyDataGb : SIGNALS.weeklyVoiceMinutes) * engagement * factor;
    log.add('usage', uniform(rng, 1, 3), {
      feature: internet ? 'data' : 'voice',
      quantity: Math.round(weekly * 100) / 100,
      unit: internet ? 'GB' : 'minutes',
      attributes: { periodDays: SIGNALS.usageCadenceDays },
    });
  }
  const sat = state.satisfaction;
  const ticketP = SIGNALS.ticketBase * (1 + SIGNALS.ticketPerDissatisfaction * (1 - sat)) * (inTrouble ? SIGNALS.ticketTroubleFactor : 1);
  let tickets = s.tickets;
  if (bernoulli(rng, ticketP)) {
    const tone = toneOf(rng, sat, inTrouble);
    const topic = topicOf(rng, customer, inTrouble, hazard);
    const { subject, text } = ticketText(rng, topic, tone);
    const ticketId = `T-${id}-${++tickets}`;
    const priority = topic === 'outage' || topic === 'cancel' ? 'high' : tone === 'negative' ? 'normal' : 'low';
    log.add('support_ticket', uniform(rng, 7, 22), {
      ticketId,
      subject,
      text,
      priority,
      channel: pick(rng, ['email', 'phone', 'chat', 'web'] as const),
    });
    openTickets = [...openTickets, { ref: ticketId, resolveDay: d + integer(rng, ...STATE.resolutionDays) }];
    if (tone === 'negative' && sat < SIGNALS.complaintBelowSatisfaction && bernoulli(rng, SIGNALS.complaintProbability)) {
      outcomes.push({
        id: outcomeId('complaint', `-${ticketId}`),
        type: 'complaint',
        customerId: id,
        day: d,
        occurredAt: atHour(day, 22.5),
        reason: 'service',
        ticketId,
      });
    }
  }
  if (bernoulli(rng, SIGNALS.disputeBase * (1 + SIGNALS.disputePerDissatisfaction * (1 - sat)))) {
    const amount = Math.round(c.input.monthlyAmount * uniform(rng, 0.1, 1) * 100) / 100;
    log.add('billing_dispute', uniform(rng, 8, 20), {
      amount,
      currency: 'USD',
      reason: disputeReason(rng),
      invoiceId: `INV-${id}-${Math.max(0, d - integer(rng, 1, 30))}`,
    });
  }
  if (bernoulli(rng, SIGNALS.npsDaily)) {
    const score = Math.round(clamp(10 * sat + normal(rng, 0, SIGNALS.npsNoiseSd), 0, 10));
    const data: Record<string, unknown> = { score };
    if (rng.next() < 0.4) data.comment = npsComment(rng, score <= 6 ? 'negative' : score <= 8 ? 'neutral' : 'positive');
    log.add('nps', uniform(rng, 9, 21), data);
  }
  if (bernoulli(rng, SIGNALS.webBase * (0.5 + engagement))) {
    log.add('web_visit', uniform(rng, 7, 23), { url: SITE + pick(rng, WEB_PAGES), durationSeconds: Math.round(uniform(rng, 10, 400)) });
  }
  if (bernoulli(rng, Math.min(0.3, SIGNALS.cancelPagePerHazard * hazard))) {
    log.add('web_visit', uniform(rng, 7, 23), { url: SITE + CANCEL_PAGE, durationSeconds: Math.round(uniform(rng, 20, 300)) });
  }
  if (c.input.paperlessBilling && d % SIGNALS.emailCadenceDays === 3) {
    const campaignId = `newsletter-w${Math.floor(d / 7)}`;
    if (bernoulli(rng, SIGNALS.emailBounce)) log.add('email_engagement', 10, { event: 'bounced', campaignId });
    else if (bernoulli(rng, SIGNALS.emailOpen * (0.5 + engagement))) {
      const hour = uniform(rng, 10, 23);
      log.add('email_engagement', hour, { event: 'opened', campaignId });
      if (bernoulli(rng, SIGNALS.emailClick))
        log.add('email_engagement', hour + 0.01, { event: 'clicked', campaignId, link: `${SITE}/offers` });
      if (bernoulli(rng, SIGNALS.emailUnsubscribe * (1 + 10 * annoyance)))
        log.add('email_engagement', hour + 0.02, { event: 'unsubscribed', campaignId });
    }
  }

  state = { ...state, openTickets, tickets };
  return { customer: { ...c, state }, signals: log.signals, outcomes };
}

function leadDay(world: SimWorld, lead: SimLead, day: SimDay): { lead: SimLead; signals: SimSignal[]; outcomes: SimOutcome[] } {
  if (lead.status !== 'open') return { lead, signals: [], outcomes: [] };
  const rng = stream(world.seed, lead.leadKey, 'day', day.index);
  const log = new DayLog(`sim-${world.seed}-d${day.index}-${lead.leadKey}`, { email: lead.email }, day);
  if (bernoulli(rng, SIGNALS.leadWebDaily * lead.warmth)) {
    log.add('web_visit', uniform(rng, 7, 23), { url: SITE + pick(rng, LEAD_PAGES), durationSeconds: Math.round(uniform(rng, 10, 600)) });
  }
  if (bernoulli(rng, SIGNALS.leadSelfConvertDaily * lead.warmth)) {
    const outcome: SimOutcome = {
      id: `sim-${world.seed}-d${day.index}-${lead.leadKey}-converted`,
      type: 'converted',
      email: lead.email,
      day: day.index,
      occurredAt: atHour(day, uniform(rng, 9, 20)),
      reason: 'self',
    };
    return { lead: { ...lead, status: 'converted' }, signals: log.signals, outcomes: [outcome] };
  }
  return { lead, signals: log.signals, outcomes: [] };
}

function newLeads(world: SimWorld, day: SimDay): { leads: SimLead[]; signals: SimSignal[] } {
  const rng = stream(world.seed, 'leads', day.index);
  const count = poisson(rng, SIGNALS.leadsPerDay);
  const leads: SimLead[] = [];
  const signals: SimSignal[] = [];
  for (let k = 1; k <= count; k++) {
    const leadKey = `lead-${world.seed}-${day.index}-${k}`;
    const email = `${leadKey}@example.com`;
    const person = leadPerson(rng);
    const interest = pick(rng, LEAD_INTERESTS);
    // Its own stream, so adding the opt-in left every other draw of the world as it was.
    const optIn = bernoulli(stream(world.seed, leadKey, 'consent'), SIGNALS.leadSalesEmailOptIn);
    const consents: SimLead['consents'] = optIn ? [{ channel: 'email', purpose: 'sales' }] : [];
    const lead: SimLead = {
      leadKey,
      email,
      ...person,
      interest,
      createdDay: day.index,
      warmth: uniform(rng, 0.1, 0.9),
      status: 'open',
      contactDays: [],
      consents,
    };
    leads.push(lead);
    const data: Record<string, unknown> = {
      firstName: lead.firstName,
      lastName: lead.lastName,
      email,
      formId: 'contact-us',
      interest,
      consents,
    };
    if (lead.company) data.company = lead.company;
    if (rng.next() < 0.5) data.message = `Please contact me about ${interest.toLowerCase()}.`;
    const log = new DayLog(`sim-${world.seed}-d${day.index}-${leadKey}`, { email }, day);
    log.add('lead_form', uniform(rng, 8, 22), data, 2);
    signals.push(...log.signals);
  }
  return { leads, signals };
}

export interface DayResult {
  world: SimWorld;
  /** The day's signals, in time order (ties by id). */
  signals: SimSignal[];
  outcomes: SimOutcome[];
}

const byTimeThenId = (a: { occurredAt: string; id: string }, b: { occurredAt: string; id: string }) =>
  a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;

/** Runs one day of the world: returns the next world and what happened. Customers who left produce nothing. */
export function simulateDay(world: SimWorld, day: SimDay): DayResult {
  const signals: SimSignal[] = [];
  const outcomes: SimOutcome[] = [];
  const customers = world.customers.map((c) => {
    if (c.state.status !== 'active') return c;
    const r = customerDay(world, c, day);
    signals.push(...r.signals);
    outcomes.push(...r.outcomes);
    return r.customer;
  });
  const leads = world.leads.map((l) => {
    const r = leadDay(world, l, day);
    signals.push(...r.signals);
    outcomes.push(...r.outcomes);
    return r.lead;
  });
  const fresh = newLeads(world, day);
  signals.push(...fresh.signals);
  return {
    world: { ...world, customers, leads: [...leads, ...fresh.leads] },
    signals: signals.sort(byTimeThenId),
    outcomes: outcomes.sort(byTimeThenId),
  };
}

export type ActionTarget = { customerId: string } | { email: string };

export interface ActionResult {
  world: SimWorld;
  outcomes: SimOutcome[];
  effects: string[];
  /** False when no simulated customer or lead matches the target (then nothing changes). */
  found: boolean;
}

/**
 * Delivers an executed action to the customer or lead it names, through the response model. The draw comes from
 * the stream (seed, subject, 'respond', day, kind, key), so it does not depend on other actions.
 */
export function applyAction(world: SimWorld, target: ActionTarget, action: SimAction, day: SimDay): ActionResult {
  if ('customerId' in target) {
    const i = world.customers.findIndex((c) => c.input.customerId === target.customerId);
    if (i < 0) return { world, outcomes: [], effects: [], found: false };
    const c = world.customers[i]!;
    const r = respond(c, action, day, stream(world.seed, c.input.customerId, 'respond', day.index, action.kind, action.key ?? ''));
    const customers = world.customers.slice();
    customers[i] = applyStateChanges(c, r.stateChanges);
    return { world: { ...world, customers }, outcomes: r.outcomes, effects: r.effects, found: true };
  }
  const email = target.email.trim().toLowerCase();
  const i = world.leads.findIndex((l) => l.email === email);
  if (i < 0) return { world, outcomes: [], effects: [], found: false };
  const lead = world.leads[i]!;
  const r = respondLead(lead, action, day, stream(world.seed, lead.leadKey, 'respond', day.index, action.kind, action.key ?? ''));
  const leads = world.leads.slice();
  leads[i] = { ...lead, ...r.stateChanges };
  return { world: { ...world, leads }, outcomes: r.outcomes, effects: r.effects, found: true };
}

/** The share of customers active at the start who churned, over the given outcomes. */
export function churnRate(customersAtStart: number, outcomes: readonly SimOutcome[]): number {
  return customersAtStart === 0 ? 0 : outcomes.filter((o) => o.type === 'churned').length / customersAtStart;
}
