import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSignal } from '../src/contracts/index.ts';
import { holdoutPoint, inHoldout } from '../src/learn/index.ts';
import { scoreSentiment } from '../src/sense/index.ts';
import {
  HAZARD,
  RESPONSE,
  RESPONSIVENESS,
  applyAction,
  applyStateChanges,
  createSimCustomer,
  createWorld,
  dailyHazard,
  drawResponsiveness,
  offerAcceptance,
  offerMultiplier,
  respond,
  simCustomerFromRecords,
  simCustomerFromTelcoRow,
  simDay,
  simulateDay,
  type SimAction,
  type SimCustomer,
  type SimCustomerInput,
  type SimOutcome,
  type SimSignal,
  type SimWorld,
} from '../src/sim/index.ts';
import { normal, poisson, stream } from '../src/lib/index.ts';

const TELCO = fileURLToPath(new URL('../data/telco_churn.csv', import.meta.url));
const START = '2025-03-01T00:00:00.000Z';
const custId = (i: number) => `CUST-${String(i).padStart(6, '0')}`;

let rows: Record<string, string>[];
let inputs: SimCustomerInput[];

beforeAll(() => {
  rows = parse(readFileSync(TELCO), { columns: true }) as Record<string, string>[];
  // The importer numbers the file's rows CUST-000001, CUST-000002, … in order.
  inputs = rows.map((row, i) => simCustomerFromTelcoRow(row, custId(i + 1)));
});

function run(world: SimWorld, days: number): { world: SimWorld; signals: SimSignal[]; outcomes: SimOutcome[] } {
  const signals: SimSignal[] = [];
  const outcomes: SimOutcome[] = [];
  for (let d = 0; d < days; d++) {
    const r = simulateDay(world, simDay(START, d));
    world = r.world;
    signals.push(...r.signals);
    outcomes.push(...r.outcomes);
  }
  return { world, signals, outcomes };
}

describe('holdout assignment', () => {
  const ids = Array.from({ length: 7043 }, (_, i) => custId(i + 1));
  // Binomial standard error of the observed share around the fraction; 4 SE fails by chance about once in 16,000 runs.
  const bound = (p: number, n: number) => 4 * Math.sqrt((p * (1 - p)) / n);

  it('is decided by the id and salt alone: same answer every time, in any order', () => {
    const forward = ids.map((id) => inHoldout(id, 'salt-a'));
    const backward = [...ids]
      .reverse()
      .map((id) => inHoldout(id, 'salt-a'))
      .reverse();
    expect(backward).toEqual(forward);
    expect(ids.map((id) => inHoldout(id, 'salt-a'))).toEqual(forward);
    // Pinned: SHA-256("salt-a:CUST-000001") starts a1b3474c25492…; its first 52 bits over 2^52 is the point.
    // A change to the hashing would silently move customers between groups mid-experiment.
    expect(holdoutPoint('CUST-000001', 'salt-a')).toBe(0xa1b3474c25492 / 2 ** 52);
  });

  it('holds out about 10% of the 7,043 Telco customers, within a binomial bound', () => {
    const share = ids.filter((id) => inHoldout(id, 'acs-holdout')).length / ids.length;
    expect(Math.abs(share - 0.1)).toBeLessThan(bound(0.1, ids.length));
  });

  it('draws a different group of the same size for another salt', () => {
    const a = new Set(ids.filter((id) => inHoldout(id, 'salt-a')));
    const b = new Set(ids.filter((id) => inHoldout(id, 'salt-b')));
    expect(Math.abs(a.size / ids.length - 0.1)).toBeLessThan(bound(0.1, ids.length));
    expect(Math.abs(b.size / ids.length - 0.1)).toBeLessThan(bound(0.1, ids.length));
    // Independent groups overlap in about 1% of customers, far from identical.
    const both = [...a].filter((id) => b.has(id)).length;
    expect(Math.abs(both / ids.length - 0.01)).toBeLessThan(bound(0.01, ids.length));
  });

  it('honours other fractions and the edges 0 and 1', () => {
    const share = ids.filter((id) => inHoldout(id, 's', 0.3)).length / ids.length;
    expect(Math.abs(share - 0.3)).toBeLessThan(bound(0.3, ids.length));
    expect(ids.some((id) => inHoldout(id, 's', 0))).toBe(false);
    expect(ids.every((id) => inHoldout(id, 's', 1))).toBe(true);
    // A smaller fraction's group is inside a larger one's: raising the fraction only adds customers.
    expect(ids.filter((id) => inHoldout(id, 's', 0.05)).every((id) => inHoldout(id, 's', 0.1))).toBe(true);
  });

  it.each([-0.1, 1.01, Number.NaN, Number.POSITIVE_INFINITY])('rejects the fraction %s', (f) => {
    expect(() => inHoldout('CUST-000001', 's', f)).toThrow(RangeError);
  });
});

describe('seeded randomness', () => {
  it('gives the same draws for the same stream name and different ones otherwise', () => {
    const draws = (rng: { next(): number }) => Array.from({ length: 5 }, () => rng.next());
    expect(draws(stream(7, 'CUST-000001', 'day', 3))).toEqual(draws(stream(7, 'CUST-000001', 'day', 3)));
    expect(draws(stream(7, 'CUST-000001', 'day', 3))).not.toEqual(draws(stream(8, 'CUST-000001', 'day', 3)));
    expect(draws(stream(7, 'CUST-000001', 'day', 3))).not.toEqual(draws(stream(7, 'CUST-000002', 'day', 3)));
  });

  it('has the documented moments', () => {
    const rng = stream(1, 'moments');
    const n = 20_000;
    const xs = Array.from({ length: n }, () => normal(rng));
    const mean = xs.reduce((a, b) => a + b, 0) / n;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    expect(Math.abs(mean)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(variance - 1)).toBeLessThan(0.05);
    const ks = Array.from({ length: n }, () => poisson(rng, 3));
    expect(Math.abs(ks.reduce((a, b) => a + b, 0) / n - 3)).toBeLessThan(4 * Math.sqrt(3 / n));
  });
});

describe('customers from the Telco data', () => {
  it('maps a CSV row the way the importer stores it, and the stored records to the same input', () => {
    // "No",1,0,1,0,1,0,"No phone service","DSL","No","Yes","No","No","No","No","Month-to-month",1,"Electronic check",29.85,29.85
    const first = inputs[0]!;
    expect(first).toMatchObject({
      customerId: 'CUST-000001',
      gender: 'female',
      seniorCitizen: false,
      partner: true,
      dependents: false,
      historicallyChurned: false,
      contract: 'month-to-month',
      paymentMethod: 'Electronic check',
      paperlessBilling: true,
      tenureMonths: 1,
      monthlyAmount: 29.85,
      totalBilled: 29.85,
      services: { internetService: 'DSL', phoneService: false, multipleLines: false, onlineBackup: true, techSupport: false },
    });
    const fromRecords = simCustomerFromRecords(
      {
        customerId: 'CUST-000001',
        attributes: { gender: 'female', seniorCitizen: false, partner: true, dependents: false, churned: false },
      },
      {
        contract: 'month-to-month',
        paymentMethod: 'Electronic check',
        paperlessBilling: true,
        tenureMonths: 1,
        monthlyAmount: '29.85',
        totalBilled: '29.85',
        services: {
          phoneService: false,
          multipleLines: false,
          internetService: 'DSL',
          onlineSecurity: false,
          onlineBackup: true,
          deviceProtection: false,
          techSupport: false,
          streamingTv: false,
          streamingMovies: false,
        },
      },
    );
    expect(fromRecords).toEqual(first);
  });

  it('gives riskier attributes a higher hazard', () => {
    const base = inputs[0]!;
    const h = (x: SimCustomerInput) => dailyHazard(createSimCustomer(x, 1), 0);
    expect(h({ ...base, contract: 'two-year' })).toBeLessThan(h({ ...base, contract: 'one-year' }));
    expect(h({ ...base, contract: 'one-year' })).toBeLessThan(h(base));
    expect(h({ ...base, tenureMonths: 48 })).toBeLessThan(h(base));
    expect(h({ ...base, services: { ...base.services, internetService: 'Fiber optic' } })).toBeGreaterThan(h(base));
    expect(h({ ...base, services: { ...base.services, techSupport: true } })).toBeLessThan(h(base));
    expect(h({ ...base, paymentMethod: 'Credit card (automatic)' })).toBeLessThan(h(base));
    expect(h({ ...base, monthlyAmount: 95 })).toBeGreaterThan(h(base));
  });
});

describe('the simulated world', () => {
  it('is deterministic: the same seed gives identical signals and outcomes, another seed differs', () => {
    const sample = inputs.slice(0, 400);
    const a = run(createWorld(sample, 7), 10);
    const b = run(createWorld(sample, 7), 10);
    expect(b.signals).toEqual(a.signals);
    expect(b.outcomes).toEqual(a.outcomes);
    expect(b.world).toEqual(a.world);
    const c = run(createWorld(sample, 8), 10);
    expect(c.signals).not.toEqual(a.signals);
  });

  it('gives each customer their own stream: adding customers does not change anybody else', () => {
    const few = run(createWorld(inputs.slice(0, 50), 3), 10);
    const many = run(createWorld(inputs.slice(0, 200), 3), 10);
    const mine = (xs: { id: string }[]) => xs.filter((x) => /-CUST-0000([0-4]\d|50)-/.test(x.id));
    expect(mine(many.signals)).toEqual(mine(few.signals));
    expect(mine(many.outcomes)).toEqual(mine(few.outcomes));
  });

  it('produces signals that pass the contracts, with unique ids, inside their day', () => {
    const { signals } = run(createWorld(inputs.slice(0, 1500), 11), 14);
    const types = new Set<string>();
    for (const s of signals) {
      const parsed = parseSignal(s);
      if (!parsed.ok) throw new Error(`${s.id} rejected: ${JSON.stringify(parsed.issues)}`);
      types.add(s.type);
      const day = Number(/-d(\d+)-/.exec(s.id)![1]);
      const t = Date.parse(s.occurredAt) - Date.parse(START);
      expect(t).toBeGreaterThanOrEqual(day * 86_400_000);
      expect(t).toBeLessThan((day + 1) * 86_400_000);
    }
    expect(new Set(signals.map((s) => s.id)).size).toBe(signals.length);
    expect([...types].sort()).toEqual([
      'billing_dispute',
      'email_engagement',
      'lead_form',
      'nps',
      'payment_failed',
      'support_ticket',
      'usage',
      'web_visit',
    ]);
    const leads = signals.filter((s) => s.type === 'lead_form');
    expect(leads.every((s) => /^lead-11-\d+-\d+@example\.com$/.test(s.subject.email ?? ''))).toBe(true);
    expect(new Set(signals.filter((s) => s.type === 'support_ticket').map((s) => s.data.text)).size).toBeGreaterThan(20);
  });

  it('silences churned customers after their one churn outcome', () => {
    const { signals, outcomes } = run(createWorld(inputs.slice(0, 2000), 5), 20);
    const churned = outcomes.filter((o) => o.type === 'churned');
    expect(churned.length).toBeGreaterThan(0);
    expect(new Set(churned.map((o) => o.customerId)).size).toBe(churned.length);
    for (const o of churned) {
      const later = signals.filter((s) => s.subject.customerId === o.customerId && s.occurredAt >= `${simDay(START, o.day).start}`);
      expect(later).toEqual([]);
    }
  });

  describe('over 30 days with all 7,043 customers', () => {
    let month: ReturnType<typeof run>;
    beforeAll(() => {
      month = run(createWorld(inputs, 7), 30);
    });

    it(`churns at a plausible telco rate (documented band 1.5–3%, calibration target ${HAZARD.target30d * 100}%)`, () => {
      const rate = month.outcomes.filter((o) => o.type === 'churned').length / inputs.length;
      expect(rate).toBeGreaterThan(0.015);
      expect(rate).toBeLessThan(0.03);
    });

    it('churns month-to-month customers more than one- and two-year ones', () => {
      const rateOf = (contract: string) => {
        const group = month.world.customers.filter((c) => c.input.contract === contract);
        return group.filter((c) => c.state.status === 'churned').length / group.length;
      };
      // 3,875 month-to-month against 1,695 two-year customers: a 1-point gap is several standard errors wide.
      expect(rateOf('month-to-month')).toBeGreaterThan(rateOf('two-year') + 0.01);
      expect(rateOf('month-to-month')).toBeGreaterThan(rateOf('one-year'));
    });

    it('writes angrier tickets for less satisfied customers', () => {
      const baseline = new Map(month.world.customers.map((c) => [c.input.customerId, c.baseline.satisfaction]));
      const sorted = [...baseline.values()].sort((a, b) => a - b);
      const median = sorted[Math.floor(sorted.length / 2)]!;
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const tickets = month.signals.filter((s) => s.type === 'support_ticket');
      const sentiment = (low: boolean) =>
        mean(
          tickets
            .filter((s) => baseline.get(s.subject.customerId!)! < median === low)
            .map((s) => scoreSentiment(String(s.data.text)).score),
        );
      expect(sentiment(true)).toBeLessThan(sentiment(false) - 0.05);
    });
  });
});

describe('the response model', () => {
  const day = (index: number) => simDay(START, index);
  const rng = () => stream(1, 'test-respond');
  const act = (kind: SimAction['kind'], extra: Partial<SimAction> = {}): SimAction => ({
    kind,
    hadConsent: true,
    channel: 'email',
    ...extra,
  });
  let customer: SimCustomer;
  beforeAll(() => {
    customer = createSimCustomer(inputs[0]!, 1);
  });
  const after = (c: SimCustomer, a: SimAction, d = 0) => {
    const r = respond(c, a, day(d), rng());
    return { customer: applyStateChanges(c, r.stateChanges), outcomes: r.outcomes };
  };

  /** A draw that always says yes (u = 0) or always no (u just below 1). */
  const yes = { next: () => 0 };
  const no = { next: () => 0.999999 };
  const as = (kind: 'persuadable' | 'unmoved' | 'sleepingDog'): SimCustomer => ({ ...customer, responsiveness: kind });
  const offerTo = (c: SimCustomer, amountCents: number, draw: { next(): number }, d = 0) => {
    const r = respond(c, act('offer_credit', { amountCents, actionKey: 'approval:appr_1', key: 'k' }), day(d), draw);
    return { customer: applyStateChanges(c, r.stateChanges), outcomes: r.outcomes };
  };

  it('has customers accept an offer more often the bigger the credit, with diminishing returns, and by kind', () => {
    const p = as('persuadable');
    const small = offerAcceptance(p, 1000);
    const large = offerAcceptance(p, 2000);
    expect(small).toBeGreaterThan(0);
    expect(large).toBeGreaterThan(small);
    expect(large).toBeLessThan(2 * small);
    expect(offerAcceptance(p, 1e9)).toBeCloseTo(RESPONSE.offerAcceptMax.persuadable, 6);
    expect(offerAcceptance(as('unmoved'), 1e9)).toBeCloseTo(RESPONSE.offerAcceptMax.unmoved, 6);
    expect(offerAcceptance(as('sleepingDog'), 1e9)).toBeCloseTo(RESPONSE.offerAcceptMax.sleepingDog, 6);
    expect(offerMultiplier(1e9, 50)).toBeCloseTo(1 - RESPONSE.offerAcceptMax.persuadable * RESPONSE.offerMaxReduction, 6);
  });

  it("answers an offer the same day, naming the action; an accepted credit lowers only a persuadable's hazard, for a while", () => {
    const before = dailyHazard(customer, 0);
    const accepted = offerTo(as('persuadable'), 2000, yes);
    expect(accepted.outcomes).toEqual([
      expect.objectContaining({ type: 'offer_accepted', customerId: 'CUST-000001', day: 0, actionKey: 'approval:appr_1' }),
    ]);
    expect(dailyHazard(accepted.customer, 0)).toBeCloseTo(before * (1 - RESPONSE.offerMaxReduction), 12);
    // The effect ends after the documented number of days.
    expect(dailyHazard(accepted.customer, RESPONSE.offerDays)).toBeCloseTo(dailyHazard(customer, RESPONSE.offerDays), 12);
    const declined = offerTo(as('persuadable'), 2000, no);
    expect(declined.outcomes).toEqual([expect.objectContaining({ type: 'offer_declined', actionKey: 'approval:appr_1' })]);
    expect(dailyHazard(declined.customer, 0)).toBeCloseTo(before, 12);
    // Someone the offer does not move takes the money and is as likely to leave as before.
    const unmoved = offerTo(as('unmoved'), 2000, yes);
    expect(unmoved.outcomes[0]!.type).toBe('offer_accepted');
    expect(dailyHazard(unmoved.customer, 0)).toBeCloseTo(before, 12);
  });

  it('pushes a sleeping dog toward leaving when a retention contact reaches it, whatever it answers', () => {
    const dog = as('sleepingDog');
    const before = dailyHazard(dog, 0);
    for (const a of [act('offer_credit', { amountCents: 2000 }), act('outreach'), act('save_call')]) {
      const c = applyStateChanges(dog, respond(dog, a, day(0), yes).stateChanges);
      expect(dailyHazard(c, 0)).toBeCloseTo(before * RESPONSIVENESS.sleepingDogMultiplier, 12);
      expect(dailyHazard(c, RESPONSIVENESS.sleepingDogDays)).toBeCloseTo(dailyHazard(dog, RESPONSIVENESS.sleepingDogDays), 12);
    }
    // Work inside the company is no contact: a proactive case does not wake it.
    const cased = applyStateChanges(dog, respond(dog, act('create_case'), day(0), yes).stateChanges);
    expect(dailyHazard(cased, 0)).toBeLessThanOrEqual(before);
    // Outreach and save calls help only persuadables.
    for (const a of [act('outreach'), act('save_call')]) {
      const p = as('persuadable');
      const u = as('unmoved');
      expect(dailyHazard(applyStateChanges(p, respond(p, a, day(0), yes).stateChanges), 0)).toBeLessThan(dailyHazard(p, 0));
      expect(dailyHazard(applyStateChanges(u, respond(u, a, day(0), yes).stateChanges), 0)).toBeCloseTo(dailyHazard(u, 0), 12);
    }
  });

  it("draws each customer's hidden responsiveness from their own stream, in the documented shares", () => {
    expect(createSimCustomer(inputs[0]!, 1).responsiveness).toBe(drawResponsiveness(1, inputs[0]!.customerId));
    const kinds = inputs.map((x) => drawResponsiveness(7, x.customerId));
    const n = kinds.length;
    for (const [kind, share] of Object.entries(RESPONSIVENESS.shares)) {
      const seen = kinds.filter((k) => k === kind).length / n;
      // Within 4 binomial standard errors of the documented share.
      expect(Math.abs(seen - share)).toBeLessThan(4 * Math.sqrt((share * (1 - share)) / n));
    }
  });

  it('annoys with too many contacts: a 5th contact in a week raises the hazard and lowers satisfaction', () => {
    let c = customer;
    for (let d = 0; d < 4; d++) c = after(c, act('outreach'), d).customer;
    const fifth = after(c, act('outreach'), 5).customer;
    expect(dailyHazard(fifth, 5)).toBeGreaterThan(dailyHazard(c, 5));
    expect(fifth.state.satisfaction).toBeLessThan(c.state.satisfaction);
    // Up to the limit, a consented outreach does not annoy.
    let calm = customer;
    for (let d = 0; d < RESPONSE.contactLimit; d++) calm = after(calm, act('outreach'), d).customer;
    expect(calm.state.annoyance).toBe(0);
  });

  it('answers contact without consent with a complaint and annoyance', () => {
    const r = respond(customer, act('outreach', { hadConsent: false }), day(2), rng());
    expect(r.outcomes).toEqual([expect.objectContaining({ type: 'complaint', customerId: 'CUST-000001', reason: 'no_consent', day: 2 })]);
    const c = applyStateChanges(customer, r.stateChanges);
    expect(dailyHazard(c, 2)).toBeGreaterThan(dailyHazard(customer, 2));
    // Internal actions are not contacts, so consent does not matter to them.
    expect(respond(customer, act('create_task', { hadConsent: false }), day(2), rng()).outcomes).toEqual([]);
  });

  it('raises satisfaction with proactive case handling, and the case is resolved on schedule', () => {
    const handled = after(customer, act('create_case', { caseId: 'case_acs1', actionKey: 'exec:1' }), 0).customer;
    expect(handled.state.satisfaction).toBeGreaterThan(customer.state.satisfaction);
    let world: SimWorld = { ...createWorld([], 1), customers: [handled] };
    const resolved: SimOutcome[] = [];
    for (let d = 1; d <= RESPONSE.caseFixDays; d++) {
      const r = simulateDay(world, day(d));
      world = r.world;
      resolved.push(...r.outcomes.filter((o) => o.type === 'case_resolved' && o.ticketId === 'case-d0'));
    }
    if (world.customers[0]!.state.status === 'active') {
      // The resolution names the ACS case the action opened and the action itself.
      expect(resolved).toEqual([expect.objectContaining({ caseId: 'case_acs1', actionKey: 'exec:1', day: RESPONSE.caseFixDays })]);
    }
  });

  it('does nothing to a customer who has left', () => {
    const gone: SimCustomer = { ...customer, state: { ...customer.state, status: 'churned', churnedDay: 0 } };
    expect(respond(gone, act('offer_credit', { amountCents: 5000 }), day(1), rng())).toMatchObject({ stateChanges: {}, outcomes: [] });
  });

  it('applies actions to the world deterministically, leads included', () => {
    const { world } = run(createWorld(inputs.slice(0, 20), 9), 5);
    const lead = world.leads[0]!;
    const routed = (w: SimWorld) => applyAction(w, { email: lead.email }, act('route_lead', { key: 'exec-1' }), day(5));
    expect(routed(world)).toEqual(routed(world));
    expect(routed(world).found).toBe(true);
    expect(applyAction(world, { customerId: 'NOPE' }, act('outreach'), day(5)).found).toBe(false);
    const offer = (w: SimWorld) => applyAction(w, { customerId: 'CUST-000002' }, act('offer_credit', { amountCents: 1500 }), day(5));
    const r = offer(world);
    expect(offer(world)).toEqual(r);
    const c = r.world.customers.find((x) => x.input.customerId === 'CUST-000002')!;
    expect(r.outcomes.map((o) => o.type)).toEqual([expect.stringMatching(/^offer_(accepted|declined)$/)]);
    const helped = r.outcomes[0]!.type === 'offer_accepted' && c.responsiveness === 'persuadable';
    expect(c.state.treatments.some((t) => t.source === 'offer')).toBe(helped);
    expect(world.customers.find((x) => x.input.customerId === 'CUST-000002')!.state.treatments).toEqual([]);
  });
});
