import { HAZARD, RESPONSIVENESS, STATE } from './params.ts';
import { clamp, integer, normal, stream } from '../lib/index.ts';

/**
 * A simulated customer: the real attributes of one Telco customer (as the importer stores them on the account
 * and its subscription), the latent state the model keeps for them, and their daily churn hazard.
 */

export type Contract = 'month-to-month' | 'one-year' | 'two-year';

/** What the model reads about a customer: the account's customer id and attributes and its subscription's fields. */
export interface SimCustomerInput {
  customerId: string;
  gender: 'female' | 'male' | null;
  seniorCitizen: boolean;
  partner: boolean;
  dependents: boolean;
  /** The label in the source data. Kept for reference only: the simulation never reads it. */
  historicallyChurned: boolean | null;
  contract: Contract | null;
  paymentMethod: string | null;
  paperlessBilling: boolean;
  tenureMonths: number;
  monthlyAmount: number;
  totalBilled: number | null;
  services: {
    /** 'DSL', 'Fiber optic' or 'No'. */
    internetService: string;
    phoneService: boolean;
    multipleLines: boolean;
    onlineSecurity: boolean;
    onlineBackup: boolean;
    deviceProtection: boolean;
    techSupport: boolean;
    streamingTv: boolean;
    streamingMovies: boolean;
  };
}

/** A promise of lower hazard from an action, for a while (see response.ts). */
export interface Treatment {
  source: 'offer' | 'save_call' | 'outreach' | 'provoked';
  fromDay: number;
  untilDay: number;
  hazardMultiplier: number;
  /** For offers: the credit it was given for, which later offers add to (with diminishing returns). */
  creditCents?: number;
}

export interface OpenTicket {
  ref: string;
  resolveDay: number;
  /** A case ACS opened (create_case): its id and the action's idempotency key, for the resolution to name. */
  caseId?: string;
  actionKey?: string;
}

/** What changes from day to day. Replaced, never mutated: every step returns a new state. */
export interface SimState {
  status: 'active' | 'churned';
  churnedDay: number | null;
  satisfaction: number;
  engagement: number;
  /** Where engagement drifts to: the baseline, or lower during a disengagement episode. */
  engagementTarget: number;
  disengagedUntil: number | null;
  /** Last day of a service problem in progress (outage, slow line), or null. */
  troubleUntil: number | null;
  /** Contact fatigue; hazard × exp(annoyance). Decays with a half-life. */
  annoyance: number;
  /** Days on which an action reached the customer, within the contact window. */
  contactDays: number[];
  treatments: Treatment[];
  openTickets: OpenTicket[];
  /** Tickets opened so far, to name the next one. */
  tickets: number;
}

/**
 * How a customer responds to actions, hidden from ACS (RESPONSIVENESS): a persuadable is helped by offers and
 * contact, an unmoved customer is not, a sleeping dog is pushed toward leaving by retention contact.
 */
export type Responsiveness = 'persuadable' | 'unmoved' | 'sleepingDog';

/** A customer's hidden responsiveness, from their own stream (seed, customer id, 'responsiveness'). */
export function drawResponsiveness(seed: number, customerId: string): Responsiveness {
  const u = stream(seed, customerId, 'responsiveness').next();
  const { persuadable, unmoved } = RESPONSIVENESS.shares;
  return u < persuadable ? 'persuadable' : u < persuadable + unmoved ? 'unmoved' : 'sleepingDog';
}

export interface SimCustomer {
  input: SimCustomerInput;
  /** Hidden: how they respond to actions. Absent (a customer built by hand) means persuadable. */
  responsiveness?: Responsiveness;
  /** Sum of the attribute log relative risks (HAZARD.logRisk): fixed for the run. */
  logRisk: number;
  baseline: { satisfaction: number; engagement: number; paymentReliability: number };
  /** Day (0–29) of the first monthly anniversary (billing day, tenure +1) in the run. */
  anchorDay: number;
  /** Day (0–6) of the week the customer's usage is reported. */
  usageWeekday: number;
  state: SimState;
}

const YES = /^(yes|true|1|y)$/i;
const flag = (v: unknown): boolean => v === true || v === 1 || (typeof v === 'string' && YES.test(v.trim()));
const optFlag = (v: unknown): boolean | null => (v === undefined || v === null || v === '' ? null : flag(v));
const num = (v: unknown): number | null => {
  if (v === null || v === undefined || (typeof v === 'string' && v.trim() === '')) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};
const key = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

function contractOf(v: unknown): Contract | null {
  const k = typeof v === 'string' ? key(v) : '';
  if (k === 'monthtomonth') return 'month-to-month';
  if (k === 'oneyear') return 'one-year';
  if (k === 'twoyear') return 'two-year';
  return null;
}

function internetOf(v: unknown): string {
  const s = typeof v === 'string' ? v.trim() : '';
  if (/^fib/i.test(s)) return 'Fiber optic';
  if (/^dsl/i.test(s)) return 'DSL';
  return 'No';
}

/**
 * One row of the Telco churn CSV (as csv-parse yields it with `columns: true`), mapped the way the importer
 * maps it (src/sense/import/telco.ts). Header spelling is loose: `monthly_charges` and `MonthlyCharges` both work.
 * The CSV has no customer ids; the importer numbers rows CUST-000001, CUST-000002, … in file order.
 */
export function simCustomerFromTelcoRow(row: Record<string, string>, customerId: string): SimCustomerInput {
  const v: Record<string, string> = {};
  for (const [k, value] of Object.entries(row)) v[key(k)] = value;
  const gender =
    v.gender !== undefined
      ? /^f/i.test(v.gender)
        ? 'female'
        : 'male'
      : v.female !== undefined
        ? flag(v.female)
          ? 'female'
          : 'male'
        : null;
  return {
    customerId,
    gender,
    seniorCitizen: flag(v.seniorcitizen ?? v.senior),
    partner: flag(v.partner),
    dependents: flag(v.dependents),
    historicallyChurned: optFlag(v.churn ?? v.churned),
    contract: contractOf(v.contract),
    paymentMethod: v.paymentmethod?.trim() || null,
    paperlessBilling: flag(v.paperlessbilling),
    tenureMonths: Math.max(0, Math.round(num(v.tenure ?? v.tenuremonths) ?? 0)),
    monthlyAmount: num(v.monthlycharges ?? v.monthlyamount) ?? 0,
    totalBilled: num(v.totalcharges ?? v.totalbilled),
    services: {
      internetService: internetOf(v.internetservice),
      phoneService: flag(v.phoneservice),
      multipleLines: flag(v.multiplelines),
      onlineSecurity: flag(v.onlinesecurity),
      onlineBackup: flag(v.onlinebackup),
      deviceProtection: flag(v.deviceprotection),
      techSupport: flag(v.techsupport),
      streamingTv: flag(v.streamingtv),
      streamingMovies: flag(v.streamingmovies),
    },
  };
}

/** The account and subscription records as the API returns them (camelCase; numerics may arrive as strings). */
export interface AccountLike {
  customerId: string;
  attributes?: Record<string, unknown> | null;
}
export interface SubscriptionLike {
  contract?: string | null;
  paymentMethod?: string | null;
  paperlessBilling?: boolean | null;
  tenureMonths?: number | string | null;
  monthlyAmount?: number | string | null;
  totalBilled?: number | string | null;
  services?: Record<string, unknown> | null;
}

/** The same input, read from the stored account and its subscription. */
export function simCustomerFromRecords(account: AccountLike, subscription: SubscriptionLike): SimCustomerInput {
  const a = account.attributes ?? {};
  const s = subscription.services ?? {};
  return {
    customerId: account.customerId,
    gender: a.gender === 'female' || a.gender === 'male' ? a.gender : null,
    seniorCitizen: flag(a.seniorCitizen),
    partner: flag(a.partner),
    dependents: flag(a.dependents),
    historicallyChurned: optFlag(a.churned),
    contract: contractOf(subscription.contract),
    paymentMethod: subscription.paymentMethod ?? null,
    paperlessBilling: flag(subscription.paperlessBilling),
    tenureMonths: Math.max(0, Math.round(num(subscription.tenureMonths) ?? 0)),
    monthlyAmount: num(subscription.monthlyAmount) ?? 0,
    totalBilled: num(subscription.totalBilled),
    services: {
      internetService: internetOf(s.internetService),
      phoneService: flag(s.phoneService),
      multipleLines: flag(s.multipleLines),
      onlineSecurity: flag(s.onlineSecurity),
      onlineBackup: flag(s.onlineBackup),
      deviceProtection: flag(s.deviceProtection),
      techSupport: flag(s.techSupport),
      streamingTv: flag(s.streamingTv),
      streamingMovies: flag(s.streamingMovies),
    },
  };
}

export type PaymentKind = 'automatic' | 'electronicCheck' | 'mailedCheck' | 'other';

export function paymentKind(method: string | null): PaymentKind {
  const m = (method ?? '').toLowerCase();
  if (m.includes('automatic')) return 'automatic';
  if (m.includes('electronic check')) return 'electronicCheck';
  if (m.includes('mailed check')) return 'mailedCheck';
  return 'other';
}

export const hasInternet = (x: SimCustomerInput) => x.services.internetService !== 'No';

/** Each attribute's contribution to the log hazard (HAZARD.logRisk), by name: the explanation of a customer's risk. */
export function riskContributions(x: SimCustomerInput): Record<string, number> {
  const r = HAZARD.logRisk;
  const internet = hasInternet(x);
  const pay = paymentKind(x.paymentMethod);
  const out: Record<string, number> = {
    contract: x.contract === 'one-year' ? r.contractOneYear : x.contract === 'two-year' ? r.contractTwoYear : 0,
    internet: x.services.internetService === 'Fiber optic' ? r.fiberInternet : internet ? 0 : r.noInternet,
    payment: pay === 'electronicCheck' ? r.electronicCheck : pay === 'automatic' ? r.automaticPayment : 0,
    paperlessBilling: x.paperlessBilling ? r.paperlessBilling : 0,
    tenure: r.tenure * Math.log(1 + x.tenureMonths / 12),
    monthlyCharges: r.perDollarMonthly * (x.monthlyAmount - HAZARD.referenceMonthly),
    techSupport: internet && !x.services.techSupport ? r.noTechSupport : 0,
    onlineSecurity: internet && !x.services.onlineSecurity ? r.noOnlineSecurity : 0,
    seniorCitizen: x.seniorCitizen ? r.seniorCitizen : 0,
    partner: x.partner ? r.partner : 0,
    dependents: x.dependents ? r.dependents : 0,
  };
  return out;
}

export function attributeLogRisk(x: SimCustomerInput): number {
  return Object.values(riskContributions(x)).reduce((a, b) => a + b, 0);
}

const SERVICE_KEYS = [
  'phoneService',
  'multipleLines',
  'onlineSecurity',
  'onlineBackup',
  'deviceProtection',
  'techSupport',
  'streamingTv',
  'streamingMovies',
] as const;

export function serviceCount(x: SimCustomerInput): number {
  return SERVICE_KEYS.filter((k) => x.services[k]).length + (hasInternet(x) ? 1 : 0);
}

/**
 * Builds the simulated customer. Individual noise (baseline offsets, billing day, usage weekday) comes from the
 * customer's own stream (seed, customer id), so it does not depend on who else is simulated.
 */
export function createSimCustomer(input: SimCustomerInput, seed: number): SimCustomer {
  const rng = stream(seed, input.customerId, 'init');
  const logRisk = attributeLogRisk(input);
  const satisfaction = clamp(
    STATE.satisfactionIntercept - STATE.satisfactionPerLogRisk * logRisk + normal(rng, 0, STATE.satisfactionNoiseSd),
    0.05,
    0.95,
  );
  const engagement = clamp(
    STATE.engagementIntercept + STATE.engagementPerService * serviceCount(input) + normal(rng, 0, STATE.engagementNoiseSd),
    0.05,
    0.95,
  );
  const paymentReliability = STATE.paymentReliability[paymentKind(input.paymentMethod)] ?? STATE.paymentReliability.other!;
  return {
    input,
    logRisk,
    baseline: { satisfaction, engagement, paymentReliability },
    anchorDay: integer(rng, 0, 29),
    usageWeekday: integer(rng, 0, 6),
    // Its own stream, so drawing it left every other draw of the customer as it was.
    responsiveness: drawResponsiveness(seed, input.customerId),
    state: {
      status: 'active',
      churnedDay: null,
      satisfaction,
      engagement,
      engagementTarget: engagement,
      disengagedUntil: null,
      troubleUntil: null,
      annoyance: 0,
      contactDays: [],
      treatments: [],
      openTickets: [],
      tickets: 0,
    },
  };
}

const TERM_DAYS: Partial<Record<Contract, number>> = { 'one-year': 360, 'two-year': 720 };

/** The simulated day a term contract next ends on (at or after `day`), or null for month-to-month. Months are 30 days. */
export function termEndDay(c: SimCustomer, day: number): number | null {
  const termDays = c.input.contract ? TERM_DAYS[c.input.contract] : undefined;
  if (!termDays) return null;
  const termMonths = termDays / 30;
  const monthsLeft = termMonths - (c.input.tenureMonths % termMonths);
  const first = c.anchorDay + (monthsLeft - 1) * 30;
  return day <= first ? first : first + Math.ceil((day - first) / termDays) * termDays;
}

/** Tenure in months on a simulated day: one more at each monthly anniversary. */
export function tenureOn(c: SimCustomer, day: number): number {
  return c.input.tenureMonths + (day >= c.anchorDay ? 1 + Math.floor((day - c.anchorDay) / 30) : 0);
}

/** Multiplier from the latent state and any treatments, relative to the customer's usual self (1 when all is as usual). */
export function stateMultiplier(c: SimCustomer, day: number): number {
  const s = c.state;
  let m = Math.exp(HAZARD.satisfactionSensitivity * (c.baseline.satisfaction - s.satisfaction));
  m *= Math.exp(HAZARD.engagementSensitivity * (c.baseline.engagement - s.engagement));
  m *= Math.exp(s.annoyance);
  for (const t of s.treatments) if (day >= t.fromDay && day <= t.untilDay) m *= t.hazardMultiplier;
  return m;
}

export function inRenewalWindow(c: SimCustomer, day: number): boolean {
  const end = termEndDay(c, day);
  return end !== null && end - day < HAZARD.renewalWindowDays;
}

/** The probability the customer leaves on this day, given everything the model knows about them. */
export function dailyHazard(c: SimCustomer, day: number, baseDaily: number = HAZARD.baseDaily): number {
  if (c.state.status !== 'active') return 0;
  const tenureNow = tenureOn(c, day);
  // The attribute risk was computed at the start; only tenure moves during a run.
  const tenureShift = HAZARD.logRisk.tenure * (Math.log(1 + tenureNow / 12) - Math.log(1 + c.input.tenureMonths / 12));
  const window = inRenewalWindow(c, day) ? HAZARD.renewalWindowMultiplier : 1;
  return Math.min(HAZARD.maxDaily, baseDaily * Math.exp(c.logRisk + tenureShift) * window * stateMultiplier(c, day));
}
