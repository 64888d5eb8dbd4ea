import { bernoulli, stream, type Rng } from '../lib/index.ts';
import {
  applyStateChanges,
  dailyHazard,
  isContact,
  offerAcceptance,
  respond,
  RESPONSE,
  RESPONSIVENESS,
  simDay,
  simulateDay,
  STATE,
  type SimAction,
  type SimCustomer,
  type SimDay,
  type SimOutcome,
  type SimSignal,
  type SimWorld,
  type Responsiveness,
} from '../sim/index.ts';
import { SIM_CONSENT } from './driver.ts';
import { runSimulation, SIM_START } from './simulate.ts';

/**
 * The policy-value benchmark (docs/simulation.md, "Policy-value benchmark"): five policies on the same seeded
 * world, the same customers and the same days, each judged by one accountant. Every customer draws each day from
 * its own stream (seed, customer, day), so the policies meet common random numbers and their per-customer
 * differences can be paired.
 */

export const POLICIES = ['none', 'rules', 'random', 'acs', 'oracle'] as const;
export type PolicyName = (typeof POLICIES)[number];

/**
 * What each kind of delivered action costs, in cents, the same for every policy: the cost terms ACS's own agents
 * put in their expected values (src/reason/agents: sending cost $0.50, a rep's half hour $15, agent time on a case
 * $10, a queue jump $5). A credit costs its amount on top (counted apart, as credits given).
 */
export const ACTION_COST_CENTS: Record<string, number> = {
  offer_credit: 0,
  save_call: 1500,
  outreach: 50,
  notify: 50,
  create_case: 1000,
  priority_routing: 500,
};
const costOf = (kind: string) => ACTION_COST_CENTS[kind] ?? 0;

/** The contact caps the baselines obey (ACS's arbitration: 3 contacts in 14 days, one action per customer a day). */
export const CONTACT_CAP = { contacts: 3, windowDays: 14 };
/** ACS's daily credit budget (runSimulation's loop), which the rules and the oracle share. */
export const DAILY_CREDIT_BUDGET_CENTS = 100_000;
/** Static rules: the credit for a failed payment, their contact spacing and what counts as a usage drop. */
export const RULES = { creditCents: 1000, contactSpacingDays: 14, npsAtMost: 6, usageDropBelow: 0.5 };
/**
 * The oracle's look-ahead in days (by default the rest of the run, which is what the accountant counts), and how
 * many fixed seeds it averages a response's random draw over.
 */
export const ORACLE = { horizonDays: 365, draws: 3 };

/** Per customer, in the order of the world's customers: what a policy spent on them and what befell them. */
export class Accounts {
  readonly index = new Map<string, number>();
  readonly credits: Float64Array;
  readonly costs: Float64Array;
  readonly contacts: Int32Array;
  readonly complaints: Int32Array;
  readonly actions = new Map<string, number>();
  creditTotal = 0;

  constructor(readonly world: SimWorld) {
    world.customers.forEach((c, i) => this.index.set(c.input.customerId, i));
    const n = world.customers.length;
    this.credits = new Float64Array(n);
    this.costs = new Float64Array(n);
    this.contacts = new Int32Array(n);
    this.complaints = new Int32Array(n);
  }

  /** An action that reached a customer who was still a customer. */
  delivered(customerId: string, action: SimAction): void {
    const i = this.index.get(customerId);
    if (i === undefined) return;
    const credit = action.kind === 'offer_credit' ? Math.max(0, action.amountCents ?? 0) : 0;
    this.credits[i] = this.credits[i]! + credit;
    this.creditTotal += credit;
    this.costs[i] = this.costs[i]! + costOf(action.kind);
    if (isContact(action.kind)) this.contacts[i] = this.contacts[i]! + 1;
    this.actions.set(action.kind, (this.actions.get(action.kind) ?? 0) + 1);
  }

  outcomes(list: readonly SimOutcome[]): void {
    for (const o of list) {
      if (o.type !== 'complaint' || !o.customerId) continue;
      const i = this.index.get(o.customerId);
      if (i !== undefined) this.complaints[i] = this.complaints[i]! + 1;
    }
  }
}

export interface PolicyValue {
  netValuePerCustomer: number;
  ci95: [number, number];
  churnRate: number;
  complaints: number;
  contacts: number;
}

/** Mean and normal-approximation 95% interval of a list of values. */
export function meanCi(values: ArrayLike<number>): { mean: number; ci95: [number, number] } {
  const n = values.length;
  if (n === 0) return { mean: 0, ci95: [0, 0] };
  let sum = 0;
  for (let i = 0; i < n; i++) sum += values[i]!;
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i]! - mean) ** 2;
  const se = n > 1 ? Math.sqrt(ss / (n - 1) / n) : 0;
  return { mean, ci95: [mean - 1.96 * se, mean + 1.96 * se] };
}

/**
 * The accountant: each customer's net value over the run in dollars, revenue retained (the monthly amount for
 * each day they were still a customer, a month being 30 days) less the credits they were given and the cost of
 * the actions that reached them. A customer who churns on day d paid for days 0 … d − 1.
 */
export function netValues(start: SimWorld, end: SimWorld, days: number, accounts: Accounts): Float64Array {
  const finals = new Map(end.customers.map((c) => [c.input.customerId, c]));
  const out = new Float64Array(start.customers.length);
  start.customers.forEach((c, i) => {
    const last = finals.get(c.input.customerId) ?? c;
    const activeDays = last.state.status === 'active' ? days : Math.min(days, last.state.churnedDay ?? days);
    out[i] = (c.input.monthlyAmount * activeDays) / 30 - (accounts.credits[i]! + accounts.costs[i]!) / 100;
  });
  return out;
}

export function policyValue(
  start: SimWorld,
  end: SimWorld,
  days: number,
  accounts: Accounts,
): { value: PolicyValue; perCustomer: Float64Array } {
  const perCustomer = netValues(start, end, days, accounts);
  const { mean, ci95 } = meanCi(perCustomer);
  const active = start.customers.filter((c) => c.state.status === 'active').length;
  const churned = end.customers.filter((c) => c.state.status !== 'active').length - (start.customers.length - active);
  const sum = (a: Int32Array) => a.reduce((x, y) => x + y, 0);
  return {
    value: {
      netValuePerCustomer: r4(mean),
      ci95: [r4(ci95[0]), r4(ci95[1])],
      churnRate: r4(active === 0 ? 0 : churned / active),
      complaints: sum(accounts.complaints),
      contacts: sum(accounts.contacts),
    },
    perCustomer,
  };
}

const r4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** The customers' seeded consents as the world knows them (seedContactsAndConsents draws them the same way). */
export function seededConsents(world: SimWorld, seed: number): Set<string> {
  const out = new Set<string>();
  for (const c of world.customers) {
    const rng = stream(seed, 'consent', `${c.input.customerId.toLowerCase()}@example.com`);
    if (bernoulli(rng, SIM_CONSENT.serviceEmail)) out.add(`${c.input.customerId}:service`);
    if (bernoulli(rng, SIM_CONSENT.marketingEmail)) out.add(`${c.input.customerId}:marketing`);
  }
  return out;
}

/** An action a baseline policy takes on a day. */
export interface Decision {
  customerId: string;
  action: SimAction;
}

/** A baseline policy: sees the world after the day's events and the day's signals, returns the day's actions. */
export interface Policy {
  decide(world: SimWorld, day: SimDay, signals: readonly SimSignal[]): Decision[];
}

/** Contact history per customer for the caps. */
class Caps {
  private readonly days = new Map<string, number[]>();
  private readonly acted = new Map<string, number>();
  constructor(
    private readonly maxContacts: number,
    private readonly windowDays: number,
  ) {}
  allows(id: string, kind: string, d: number): boolean {
    if (this.acted.get(id) === d) return false;
    if (!isContact(kind)) return true;
    return (this.days.get(id) ?? []).filter((x) => d - x < this.windowDays).length < this.maxContacts;
  }
  record(id: string, kind: string, d: number): void {
    this.acted.set(id, d);
    if (isContact(kind)) this.days.set(id, [...(this.days.get(id) ?? []).filter((x) => d - x < this.windowDays), d]);
  }
}

/** Runs a baseline policy over the world, delivering its actions through the response model like ACS's driver does. */
export function runPolicy(
  start: SimWorld,
  days: number,
  policy: Policy,
  onDay?: (done: number, total: number) => void,
): { end: SimWorld; accounts: Accounts } {
  const accounts = new Accounts(start);
  let world = start;
  for (let d = 0; d < days; d++) {
    const day = simDay(SIM_START, d);
    const r = simulateDay(world, day);
    world = r.world;
    accounts.outcomes(r.outcomes);
    const byId = new Map(world.customers.map((c, i) => [c.input.customerId, i]));
    const counts = new Map<string, number>();
    const customers = world.customers.slice();
    for (const { customerId, action } of policy.decide(world, day, r.signals)) {
      const i = byId.get(customerId);
      if (i === undefined || customers[i]!.state.status !== 'active') continue;
      const slot = `${customerId}:${action.kind}`;
      const ordinal = counts.get(slot) ?? 0;
      counts.set(slot, ordinal + 1);
      const keyed = { ...action, key: `${action.kind}-${ordinal}` };
      const c = customers[i]!;
      // The same draw applyAction makes (seed, customer, 'respond', day, kind, key), without its linear search.
      const resp = respond(c, keyed, day, stream(world.seed, customerId, 'respond', d, keyed.kind, keyed.key));
      customers[i] = applyStateChanges(c, resp.stateChanges);
      accounts.delivered(customerId, keyed);
      accounts.outcomes(resp.outcomes);
    }
    world = { ...world, customers };
    onDay?.(d + 1, days);
  }
  return { end: world, accounts };
}

export const nonePolicy: Policy = { decide: () => [] };

/**
 * What a CRM admin would write, on observable signals only: a failed payment earns a fixed credit; an NPS of 6 or
 * less, a save call; weekly usage below half of the customer's previous report, a check-in email (with service
 * consent). At most one contact per customer in 14 days, and the daily credit budget.
 */
export function rulesPolicy(consents: Set<string>): Policy {
  const lastUsage = new Map<string, number>();
  const lastContact = new Map<string, number>();
  return {
    decide(_world, day, signals) {
      const d = day.index;
      const out: Decision[] = [];
      let budget = DAILY_CREDIT_BUDGET_CENTS;
      const chosen = new Map<string, SimAction>();
      for (const s of signals) {
        const id = (s.subject as { customerId?: string }).customerId;
        if (!id) continue;
        let action: SimAction | null = null;
        if (s.type === 'payment_failed') action = { kind: 'offer_credit', amountCents: RULES.creditCents, hadConsent: true };
        else if (s.type === 'nps' && Number(s.data.score) <= RULES.npsAtMost)
          action = { kind: 'save_call', channel: 'phone', hadConsent: true };
        else if (s.type === 'usage') {
          const q = Number(s.data.quantity);
          const before = lastUsage.get(id);
          lastUsage.set(id, q);
          if (before !== undefined && before > 0 && q < RULES.usageDropBelow * before && consents.has(`${id}:service`))
            action = { kind: 'outreach', channel: 'email', hadConsent: true };
        }
        if (!action || chosen.has(id)) continue;
        const last = lastContact.get(id);
        if (last !== undefined && d - last < RULES.contactSpacingDays) continue;
        if (action.kind === 'offer_credit') {
          if (budget < RULES.creditCents) continue;
          budget -= RULES.creditCents;
        }
        chosen.set(id, action);
        lastContact.set(id, d);
        out.push({ customerId: id, action });
      }
      return out;
    },
  };
}

/** One action ACS delivered to a customer who was still a customer: what the random policy replays. */
export interface DeliveredAction {
  day: number;
  kind: string;
  amountCents?: number;
  channel?: SimAction['channel'];
  /** For messages: the consent purpose they needed. */
  purpose?: string;
}

/**
 * The same actions ACS delivered, kind for kind, day for day and credit for credit, each given to a customer drawn
 * at random among the active ones (with the consent a message needs), under ACS's contact caps.
 */
export function randomPolicy(acs: readonly DeliveredAction[], consents: Set<string>, seed: number): Policy {
  const byDay = new Map<number, DeliveredAction[]>();
  for (const a of acs) byDay.set(a.day, [...(byDay.get(a.day) ?? []), a]);
  const caps = new Caps(CONTACT_CAP.contacts, CONTACT_CAP.windowDays);
  return {
    decide(world, day) {
      const todo = byDay.get(day.index) ?? [];
      if (todo.length === 0) return [];
      const active = world.customers.filter((c) => c.state.status === 'active').map((c) => c.input.customerId);
      const rng = stream(seed, 'random-policy', day.index);
      const out: Decision[] = [];
      for (const a of todo) {
        for (let attempt = 0; attempt < 100 && active.length > 0; attempt++) {
          const id = active[Math.floor(rng.next() * active.length)]!;
          if (a.purpose && !consents.has(`${id}:${a.purpose}`)) continue;
          if (!caps.allows(id, a.kind, day.index)) continue;
          caps.record(id, a.kind, day.index);
          out.push({
            customerId: id,
            action: {
              kind: a.kind,
              hadConsent: true,
              ...(a.amountCents !== undefined ? { amountCents: a.amountCents } : {}),
              ...(a.channel ? { channel: a.channel } : {}),
            },
          });
          break;
        }
      }
      return out;
    },
  };
}

/**
 * Expected customer-days over the next `horizon` days from day `from`, reading the hidden state: the daily
 * hazard on a projected state, which drifts back to baseline at the world's own reversion rate and whose
 * annoyance fades at its half-life (the world's expected path, without its noise).
 */
export function expectedActiveDays(c: SimCustomer, from: number, horizon: number, baseDaily: number): number {
  let survive = 1;
  let total = 0;
  const s = c.state;
  const keep = 1 - STATE.reversion;
  const fade = 0.5 ** (1 / RESPONSE.annoyanceHalfLifeDays);
  const state = { ...s };
  const projected: SimCustomer = { ...c, state };
  for (let k = 1; k <= horizon; k++) {
    state.satisfaction = c.baseline.satisfaction + (state.satisfaction - c.baseline.satisfaction) * keep;
    state.engagement = s.engagementTarget + (state.engagement - s.engagementTarget) * keep;
    state.annoyance *= fade;
    survive *= 1 - dailyHazard(projected, from + k, baseDaily);
    total += survive;
  }
  return total;
}

/** The oracle's candidate actions for a customer: the credits ACS's offers span, a save call, and the rest. */
function candidates(c: SimCustomer, consents: Set<string>): SimAction[] {
  const id = c.input.customerId;
  const bill = c.input.monthlyAmount * 100;
  const credits = [0.1, 0.25, 0.5].map((p) => Math.max(500, Math.min(5000, Math.round(bill * p))));
  const list: SimAction[] = credits.map((amountCents) => ({ kind: 'offer_credit', amountCents, hadConsent: true }));
  list.push({ kind: 'save_call', channel: 'phone', hadConsent: true });
  if (consents.has(`${id}:service`)) list.push({ kind: 'outreach', channel: 'email', hadConsent: true });
  if (c.state.troubleUntil !== null) list.push({ kind: 'create_case', hadConsent: true });
  if (c.state.openTickets.length > 0) list.push({ kind: 'priority_routing', hadConsent: true });
  if ((c.state.openTickets.length > 0 || c.state.troubleUntil !== null) && consents.has(`${id}:service`))
    list.push({ kind: 'notify', channel: 'email', hadConsent: true });
  return list;
}

/**
 * Expected customer-days over the horizon after `action`. A response with one random draw (an offer's acceptance, a
 * save call's reach) is averaged exactly over both branches, weighted by the draw's true probability: a few sampled
 * draws would let the oracle pick the options whose samples came out lucky. Anything else is sampled `draws` times.
 */
function expectedDaysAfter(
  c: SimCustomer,
  action: SimAction,
  day: SimDay,
  horizon: number,
  baseDaily: number,
  rngFor: (k: number) => Rng,
  draws: number,
): number {
  const after = (rng: Rng) =>
    expectedActiveDays(applyStateChanges(c, respond(c, action, day, rng).stateChanges), day.index, horizon, baseDaily);
  let drawn = 0;
  const counting = rngFor(0);
  const first = after({ next: () => (drawn++, counting.next()) });
  if (drawn === 0) return first;
  const p = drawn === 1 ? oneDrawProbability(c, action) : null;
  if (p !== null) return p * after({ next: () => 0 }) + (1 - p) * after({ next: () => 1 - Number.EPSILON });
  let total = first;
  for (let k = 1; k < draws; k++) total += after(rngFor(k));
  return total / draws;
}

/** The true probability of the one draw in respond() for the actions that make one. */
function oneDrawProbability(c: SimCustomer, action: SimAction): number | null {
  if (action.kind === 'offer_credit') return offerAcceptance(c, Math.max(0, action.amountCents ?? 0));
  if (action.kind === 'save_call') return RESPONSE.saveCallReach;
  return null;
}

/**
 * The customer as each hidden kind (persuadable, unmoved, sleeping dog) with the world's share of it: what an
 * evaluator that cannot see the kind has to average over.
 */
function asEachKind(c: SimCustomer): { customer: SimCustomer; weight: number }[] {
  return (Object.entries(RESPONSIVENESS.shares) as [Responsiveness, number][]).map(([kind, weight]) => ({
    customer: { ...c, responsiveness: kind },
    weight,
  }));
}

/**
 * Knows each customer's true response: for every candidate it applies respond() to the customer (averaging its
 * random draw over a few fixed seeds) and compares the expected revenue over the horizon with and without it,
 * less the credit and the action's cost. It takes each customer's best action of positive net value, best
 * first, within ACS's daily credit budget and contact caps.
 *
 * With `knowsKind: false` it is the same oracle without the one thing no policy can observe: whether a customer is
 * persuadable, unmoved or a sleeping dog (drawn independently of every attribute). It averages each action's
 * expected days over the three kinds by their shares. It still reads the rest of the hidden state, so it bounds
 * from above what any policy that sees only the customer's signals and attributes can gain.
 */
export function oraclePolicy(
  consents: Set<string>,
  days: number,
  horizon = ORACLE.horizonDays,
  draws = ORACLE.draws,
  { knowsKind = true }: { knowsKind?: boolean } = {},
): Policy {
  const caps = new Caps(CONTACT_CAP.contacts, CONTACT_CAP.windowDays);
  return {
    decide(world, day) {
      const d = day.index;
      const h = Math.min(horizon, days - 1 - d);
      if (h <= 0) return [];
      const picks: { id: string; options: { action: SimAction; gain: number }[] }[] = [];
      for (const c of world.customers) {
        if (c.state.status !== 'active') continue;
        const id = c.input.customerId;
        const perDay = c.input.monthlyAmount / 30;
        const base = expectedActiveDays(c, d, h, world.baseDaily);
        const kinds = knowsKind ? [{ customer: c, weight: 1 }] : asEachKind(c);
        const options: { action: SimAction; gain: number }[] = [];
        for (const action of candidates(c, consents)) {
          if (!caps.allows(id, action.kind, d)) continue;
          let days = 0;
          for (const { customer, weight } of kinds)
            days +=
              weight *
              expectedDaysAfter(
                customer,
                action,
                day,
                h,
                world.baseDaily,
                (k) => stream(world.seed, id, 'oracle', d, action.kind, k),
                draws,
              );
          const gain = perDay * (days - base) - ((action.amountCents ?? 0) + costOf(action.kind)) / 100;
          if (gain > 0) options.push({ action, gain });
        }
        if (options.length) picks.push({ id, options: options.sort((a, b) => b.gain - a.gain) });
      }
      picks.sort((a, b) => b.options[0]!.gain - a.options[0]!.gain || (a.id < b.id ? -1 : 1));
      let budget = DAILY_CREDIT_BUDGET_CENTS;
      const out: Decision[] = [];
      for (const p of picks) {
        const best = p.options.find((o) => (o.action.amountCents ?? 0) <= budget);
        if (!best) continue;
        budget -= best.action.amountCents ?? 0;
        caps.record(p.id, best.action.kind, d);
        out.push({ customerId: p.id, action: best.action });
      }
      return out;
    },
  };
}

export interface ValueBenchOptions {
  csvFile: string;
  customers: number;
  days: number;
  seed: number;
  /** ACS's holdout share (runSimulation's default 0.1). */
  holdout?: number;
  /** Progress: which policy, days done of the total. */
  onProgress?: (policy: PolicyName, done: number, total: number) => void;
}

export interface ValueBenchReport {
  customers: number;
  days: number;
  seed: number;
  policies: Record<PolicyName, PolicyValue>;
  differences: { acsVsRules: { mean: number; ci95: [number, number] }; acsVsRandom: { mean: number; ci95: [number, number] } };
  oracleShare: number | null;
  uplift: { outcome: 'churned'; difference: number; ci95: [number, number] };
}

export interface BlindOracleReference {
  blindOracle: PolicyValue;
  /** Paired per customer against no action. */
  blindOracleVsNone: { mean: number; ci95: [number, number] };
  /** Its gain over no action as a share of the oracle's (null when the oracle gains nothing). */
  blindOracleShare: number | null;
  blindOracleActions: Record<string, number>;
}

/** The kind-blind oracle's lines, printed beside the pinned report (not part of it). */
export function referenceLines(r: BlindOracleReference): string[] {
  const money = (x: number) => `${x < 0 ? '-' : ''}$${Math.abs(x).toFixed(2)}`;
  const kinds = Object.entries(r.blindOracleActions).map(([k, n]) => `${k} ${n}`);
  return [
    'Oracle without the hidden kind (knows all but whether a customer is persuadable, unmoved or a sleeping dog):',
    `  net value / customer ${money(r.blindOracle.netValuePerCustomer)}; against no action ${money(r.blindOracleVsNone.mean)}, ` +
      `95% CI [${money(r.blindOracleVsNone.ci95[0])}, ${money(r.blindOracleVsNone.ci95[1])}]; ` +
      `share of the oracle's gain ${r.blindOracleShare === null ? 'n/a' : `${(r.blindOracleShare * 100).toFixed(1)}%`}; ` +
      `actions: ${kinds.length ? kinds.join(', ') : 'none'}`,
  ];
}

function paired(a: Float64Array, b: Float64Array): { mean: number; ci95: [number, number] } {
  const diff = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) diff[i] = a[i]! - b[i]!;
  const { mean, ci95 } = meanCi(diff);
  return { mean: r4(mean), ci95: [r4(ci95[0]), r4(ci95[1])] };
}

/** Runs the five policies on one seeded world and reports them in the pinned shape (issue 13, §6). */
export async function runValueBench(opts: ValueBenchOptions): Promise<ValueBenchReport> {
  return (await runValueBenchDetailed(opts)).report;
}

/** The same, with each policy's per-customer net values (in the world's customer order) and whom ACS acted on. */
export async function runValueBenchDetailed(opts: ValueBenchOptions): Promise<{
  report: ValueBenchReport;
  customerIds: string[];
  perCustomer: Record<PolicyName, Float64Array>;
  actedOn: Set<string>;
  /** What each policy spent: actions that reached a customer, by kind, and the credit given in all. */
  spend: Record<PolicyName, { actions: Record<string, number>; creditCents: number }>;
  /** Beside the pinned report: the oracle without the hidden kind, the ceiling of a policy that cannot see it. */
  reference: BlindOracleReference;
}> {
  const actedOn = new Set<string>();
  let start: SimWorld | null = null;
  let end: SimWorld | null = null;
  let acsAccounts: Accounts | null = null;
  const delivered: DeliveredAction[] = [];
  const sim = await runSimulation({
    csvFile: opts.csvFile,
    customers: opts.customers,
    days: opts.days,
    seed: opts.seed,
    holdout: opts.holdout ?? 0.1,
    onDay: (done, total) => opts.onProgress?.('acs', done, total),
    observer: {
      start: (w) => {
        start = w;
        acsAccounts = new Accounts(w);
      },
      delivered: ({ action, target, day, result, purpose }) => {
        if (!('customerId' in target) || !result.found) return;
        actedOn.add(target.customerId);
        const after = result.world.customers.find((c) => c.input.customerId === target.customerId);
        // respond() leaves a departed customer untouched: only what reached a customer counts, for every policy.
        if (!after || after.state.status !== 'active') return;
        acsAccounts!.delivered(target.customerId, action);
        delivered.push({
          day: day.index,
          kind: action.kind,
          ...(action.amountCents !== undefined ? { amountCents: action.amountCents } : {}),
          ...(action.channel ? { channel: action.channel } : {}),
          ...(action.channel === 'email' && purpose ? { purpose } : {}),
        });
      },
      day: (tally, w) => {
        // The day's outcomes, the world's own and those the delivered actions caused.
        acsAccounts!.outcomes(tally.outcomes);
        end = w;
      },
    },
  });
  if (!start || !acsAccounts) throw new Error('the ACS run reported no world');
  const world0: SimWorld = start;
  const acsValue = policyValue(world0, end ?? world0, opts.days, acsAccounts);
  const acs = { ...acsValue, accounts: acsAccounts as Accounts };
  const consents = seededConsents(world0, opts.seed);
  const run = (name: PolicyName, policy: Policy) => {
    const r = runPolicy(world0, opts.days, policy, (done, total) => opts.onProgress?.(name, done, total));
    return { ...policyValue(world0, r.end, opts.days, r.accounts), accounts: r.accounts };
  };
  const none = run('none', nonePolicy);
  const rules = run('rules', rulesPolicy(consents));
  const random = run('random', randomPolicy(delivered, consents, opts.seed));
  const oracle = run('oracle', oraclePolicy(consents, opts.days));
  const blind = run('oracle', oraclePolicy(consents, opts.days, undefined, undefined, { knowsKind: false }));
  const gain = (p: typeof none) => meanCi(p.perCustomer).mean - meanCi(none.perCustomer).mean;
  const oracleGain = gain(oracle);
  const report: ValueBenchReport = {
    // The N asked for, as the pinned shape says; the per-customer figures are over the ones still customers on day 0
    // (the world leaves out subscriptions already cancelled in the data).
    customers: opts.customers,
    days: opts.days,
    seed: opts.seed,
    policies: { none: none.value, rules: rules.value, random: random.value, acs: acs.value, oracle: oracle.value },
    differences: { acsVsRules: paired(acs.perCustomer, rules.perCustomer), acsVsRandom: paired(acs.perCustomer, random.perCustomer) },
    oracleShare: oracleGain > 0 ? r4(gain(acs) / oracleGain) : null,
    uplift: { outcome: 'churned', difference: sim.outcomes.uplift, ci95: sim.outcomes.upliftCI95 },
  };
  return {
    report,
    customerIds: world0.customers.map((c) => c.input.customerId),
    perCustomer: {
      none: none.perCustomer,
      rules: rules.perCustomer,
      random: random.perCustomer,
      acs: acs.perCustomer,
      oracle: oracle.perCustomer,
    },
    actedOn,
    reference: {
      blindOracle: blind.value,
      blindOracleVsNone: paired(blind.perCustomer, none.perCustomer),
      blindOracleShare: oracleGain > 0 ? r4(gain(blind) / oracleGain) : null,
      blindOracleActions: Object.fromEntries([...blind.accounts.actions].sort()),
    },
    spend: Object.fromEntries(
      (
        [
          ['none', none],
          ['rules', rules],
          ['random', random],
          ['acs', acs],
          ['oracle', oracle],
        ] as const
      ).map(([name, p]) => [name, { actions: Object.fromEntries([...p.accounts.actions].sort()), creditCents: p.accounts.creditTotal }]),
    ) as Record<PolicyName, { actions: Record<string, number>; creditCents: number }>,
  };
}

/** What each policy spent, one line each (for stderr or under the table). */
export function spendLines(spend: Record<PolicyName, { actions: Record<string, number>; creditCents: number }>): string[] {
  return POLICIES.map((name) => {
    const s = spend[name];
    const kinds = Object.entries(s.actions).map(([k, n]) => `${k} ${n}`);
    return `${name}: ${kinds.length ? kinds.join(', ') : 'no actions'}; credits $${(s.creditCents / 100).toFixed(2)}`;
  });
}

/** The report as a table, for people. */
export function valueTable(r: ValueBenchReport): string {
  const money = (x: number) => `${x < 0 ? '-' : ''}$${Math.abs(x).toFixed(2)}`;
  const ci = (c: [number, number]) => `[${money(c[0])}, ${money(c[1])}]`;
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const lines = [
    `Policy value: ${r.customers} customers × ${r.days} days, seed ${r.seed}`,
    '',
    `${'policy'.padEnd(8)} ${'net value / customer'.padStart(20)}  ${'95% CI'.padEnd(22)} ${'churn'.padStart(7)} ${'complaints'.padStart(10)} ${'contacts'.padStart(9)}`,
  ];
  for (const name of POLICIES) {
    const p = r.policies[name];
    lines.push(
      `${name.padEnd(8)} ${money(p.netValuePerCustomer).padStart(20)}  ${ci(p.ci95).padEnd(22)} ${pct(p.churnRate).padStart(7)} ${String(p.complaints).padStart(10)} ${String(p.contacts).padStart(9)}`,
    );
  }
  lines.push(
    '',
    `ACS − rules (paired):  ${money(r.differences.acsVsRules.mean)} per customer, 95% CI ${ci(r.differences.acsVsRules.ci95)}`,
    `ACS − random (paired): ${money(r.differences.acsVsRandom.mean)} per customer, 95% CI ${ci(r.differences.acsVsRandom.ci95)}`,
    `Share of the oracle's gain over no action that ACS captures: ${r.oracleShare === null ? 'n/a (the oracle gained nothing)' : pct(r.oracleShare)}`,
    `ACS treated − holdout churn: ${pct(r.uplift.difference)}, 95% CI [${pct(r.uplift.ci95[0])}, ${pct(r.uplift.ci95[1])}]`,
  );
  return lines.join('\n');
}
