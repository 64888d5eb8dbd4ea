import { afterEach, describe, expect, it } from 'vitest';
import { fitUplift, rankingQuality, shrunk, upliftEstimator, UPLIFT_PRIOR_K, type RankedUnit } from '../src/learn/index.ts';
import { retentionAgent, serviceRecoveryAgent, type CustomerContext, type Term } from '../src/reason/index.ts';
import type { UpliftModelRow } from '../src/views/index.ts';
import { createTestApp, daysAgo, trouble, troubledCustomer, type TestApp } from './helpers.ts';

// The uplift estimator behind p(success) (src/learn/uplift-model.ts): a T-learner per agent, action and segment from
// treated and held-out outcomes, shrunk toward the agent's prior; its ranking quality (Qini, AUUC); and the API route.

/** `n` rows of one arm, `events` of them with the outcome. */
function arm(o: {
  agent?: string;
  action?: string;
  segment?: string;
  held: boolean;
  n: number;
  events: number;
  prior?: number;
  tag?: string;
}) {
  return Array.from({ length: o.n }, (_, i): UpliftModelRow => ({
    agent_id: o.agent ?? 'retention',
    action: o.action ?? 'offer_credit',
    subject: `${o.tag ?? ''}${o.held ? 'h' : 't'}-${i}`,
    segment: o.segment ?? 'seg',
    held: o.held,
    prior: o.prior ?? 0.05,
    event: i < o.events,
  }));
}

/** A seeded generator (mulberry32), so the constructed data are the same in every run. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const prior: Term = { value: 0.05, source: 'rule', detail: 'p(churn) 50% × 0.1 save rate' };

describe('the uplift estimator', () => {
  it('recovers a known treated-against-holdout difference, in the direction the measure calls better', () => {
    // Churn: 10% of treated against 20% of held-out customers, 2,000 each: the action saves 10 points.
    const rows = [...arm({ held: false, n: 2000, events: 200 }), ...arm({ held: true, n: 2000, events: 400 })];
    const [s] = fitUplift(rows, { retention: 'lower' }).segments;
    expect(s!.treated).toEqual({ customers: 2000, events: 200, rate: 0.1 });
    expect(s!.holdout).toEqual({ customers: 2000, events: 400, rate: 0.2 });
    expect(s!.observed).toBeCloseTo(0.1, 12);
    expect(s!.effectiveN).toBe(1000);
    expect(s!.weight).toBeCloseTo(1000 / (1000 + UPLIFT_PRIOR_K), 12);
    // Without a prior (k = 0) the estimate is the difference itself; with k = 100 it is 91% of the way there.
    expect(shrunk(fitUplift(rows, { retention: 'lower' }, 0).segments[0], 0.05)).toBeCloseTo(0.1, 12);
    expect(shrunk(s, 0.05)).toBeCloseTo((1000 / 1100) * 0.1 + (100 / 1100) * 0.05, 12);
    // More of the outcome is better (conversion): the same counts are a harm of 10 points.
    expect(fitUplift(rows, { retention: 'higher' }).segments[0]!.observed).toBeCloseTo(-0.1, 12);
  });

  it('keeps thin data near the prior, and the prior alone without both groups', () => {
    // 5 treated with no churn against 2 held out who both churned: a 100-point difference on 7 customers.
    const thin = fitUplift([...arm({ held: false, n: 5, events: 0 }), ...arm({ held: true, n: 2, events: 2 })], { retention: 'lower' });
    const s = thin.segments[0]!;
    expect(s.observed).toBe(1);
    expect(s.weight).toBeLessThan(0.02);
    expect(Math.abs(shrunk(s, 0.05) - 0.05)).toBeLessThan(0.02);
    // No held-out customers: nothing to compare, the prior stands.
    const oneSided = fitUplift(arm({ held: false, n: 500, events: 10 }), { retention: 'lower' }).segments[0]!;
    expect(oneSided.observed).toBeNull();
    expect(oneSided.weight).toBe(0);
    expect(shrunk(oneSided, 0.05)).toBe(0.05);
  });

  it('records where p(success) came from: the figures, k and the prior it was shrunk toward', () => {
    const rows = [
      ...arm({ held: false, n: 400, events: 20, segment: 'churn high × month-to-month' }),
      ...arm({ held: true, n: 100, events: 15, segment: 'churn high × month-to-month' }),
    ];
    const est = upliftEstimator(fitUplift(rows, { retention: 'lower' }), { retention: 'churned' });
    const term = est.pSuccess('retention', 'offer_credit', 'churn high × month-to-month', prior);
    expect(term.source).toBe('uplift');
    // 5% treated against 15% held out: 10 points, effective n 80, weight 80 / 180.
    expect(term.value).toBeCloseTo((80 / 180) * 0.1 + (100 / 180) * 0.05, 4);
    expect(term.detail).toContain('treated 5.0% vs holdout 15.0% churned within 30 days in segment churn high × month-to-month');
    expect(term.detail).toContain('n=400 treated, 100 held out');
    expect(term.detail).toContain(`shrunk toward prior 5.0% with k=${UPLIFT_PRIOR_K}`);
    expect(term.prior).toEqual(prior);
    // A segment it has no data for keeps the prior, its source, and says so.
    const none = est.pSuccess('retention', 'offer_credit', 'churn low × two-year', prior);
    expect(none).toMatchObject({ value: 0.05, source: 'rule' });
    expect(none.detail).toContain('prior only: no treated or held-out customers in segment churn low × two-year');
  });

  it('ranks: a perfect ranking has a Qini well above 0, a random one about 0', () => {
    // Half the customers respond (treated: 90% retained, control 50%); the rest are retained at 50% either way.
    const next = rng(7);
    const units: (RankedUnit & { responder: boolean })[] = [];
    for (let i = 0; i < 4000; i++) {
      const responder = i % 2 === 0;
      const treated = next() < 0.5;
      const p = responder && treated ? 0.9 : 0.5;
      units.push({ responder, treated, success: next() < p ? 1 : 0, score: 0 });
    }
    const perfect = rankingQuality(units.map((u) => ({ ...u, score: u.responder ? 1 : 0 })));
    const random = rankingQuality(units.map((u) => ({ ...u, score: next() })));
    const worst = rankingQuality(units.map((u) => ({ ...u, score: u.responder ? 0 : 1 })));
    expect(perfect.customers).toBe(4000);
    expect(perfect.treated + perfect.holdout).toBe(4000);
    // The ideal here: all of the gain (0.2 per treated-share customer) in the first half, ≈ 0.1·(3/4) − 0.1·(1/2).
    expect(perfect.qini!).toBeGreaterThan(0.015);
    expect(Math.abs(random.qini!)).toBeLessThan(0.006);
    expect(worst.qini!).toBeLessThan(-0.015);
    expect(perfect.auuc!).toBeGreaterThan(random.auuc!);
    // One group only: nothing to compare.
    expect(rankingQuality(units.filter((u) => u.treated)).qini).toBeNull();
  });
});

const risky = (contract: string): CustomerContext => ({
  accountId: 'acc_1',
  customerId: 'CUST-1',
  attributes: {},
  subscription: { contract, tenureMonths: 3, monthlyAmount: 80, paymentMethod: 'Electronic check', services: {} },
  features: { usageTrend: 0.3, paymentFailures30d: 2, lastNps: 3, tickets30d: 3, ticketSentiment30d: -0.8, openCases: 0 },
  consents: [{ channel: 'email', purpose: 'service' }],
  contacts: [{ email: 'c1@example.com' }],
});

describe('EV terms record the source of p(success)', () => {
  it('the agents price p(success) from the estimate for their segment, and record the segment', () => {
    const ctx = risky('month-to-month');
    const plain = retentionAgent.propose(ctx);
    const segment = plain[0]!.ev.upliftSegment!;
    expect(segment).toMatch(/^churn (low|medium|high) × month-to-month$/);
    expect(plain.every((p) => p.ev.pSuccess.source === 'rule')).toBe(true);
    // Every retention action saves 20 points in that segment, on plenty of customers.
    const rows = ['offer_credit', 'create_task', 'send_message'].flatMap((action) => [
      ...arm({ action, segment, held: false, n: 2000, events: 100, tag: action }),
      ...arm({ action, segment, held: true, n: 2000, events: 500, tag: action }),
    ]);
    const uplift = upliftEstimator(fitUplift(rows, { retention: 'lower' }), { retention: 'churned' });
    const learned = retentionAgent.propose(ctx, { uplift });
    expect(learned.length).toBeGreaterThan(0);
    for (const p of learned) {
      expect(p.ev.pSuccess.source).toBe('uplift');
      expect(p.ev.pSuccess.value).toBeGreaterThan(0.18);
      expect(p.ev.pSuccess.prior?.source).toBe('rule');
      expect(p.ev.value).toBeCloseTo(p.ev.pSuccess.value * p.ev.impact.value - p.ev.cost.value - p.ev.riskPenalty.value, 1);
    }
    // Service recovery records its own segment, and keeps its rule where there is no data.
    const service = serviceRecoveryAgent.propose(ctx, { uplift });
    expect(service[0]!.ev.upliftSegment).toBe('2+ triggers × no open case');
    expect(service.every((p) => p.ev.pSuccess.source === 'rule')).toBe(true);
  });
});

// Through the real app: history seeded straight into the tables (proposals, decisions, executions, outcome signals),
// then the route reports the fit and its ranking quality, and the loop prices a new customer's proposals with it.
let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

let seq = 0;
async function seedArm(
  a: TestApp,
  o: { action: string; segment: string; held: boolean; n: number; events: number; prior: number; daysBack: number },
) {
  const p = `u${++seq}-`;
  const at = daysAgo(o.daysBack);
  await a.db.query(`INSERT INTO accounts (id, name) SELECT $1 || g, 'Seeded ' || g FROM generate_series(1, $2) g`, [p, o.n]);
  const ev = { pSuccess: { value: o.prior, source: 'rule', detail: 'seeded' }, value: 1, upliftSegment: o.segment };
  await a.db.query(
    `INSERT INTO proposals (id, agent_id, account_id, action, params, risk, ev, ev_value, reason, status, created_at)
     SELECT 'p' || $1 || g, 'retention', $1 || g, $2, '{}', 'low', $3::jsonb, 1, 'seeded', $4, $5::timestamptz FROM generate_series(1, $6) g`,
    [p, o.action, JSON.stringify(ev), o.held ? 'held_out' : 'decided', at, o.n],
  );
  if (!o.held) {
    await a.db.query(
      `INSERT INTO decisions (id, proposal_id, outcome, policy_ids, reasons, autonomy, request, decided_at)
       SELECT 'd' || id, id, 'execute', '[]', '[]', 3, '{}', created_at FROM proposals WHERE id LIKE 'p' || $1 || '%'`,
      [p],
    );
    await a.db.query(
      `INSERT INTO executions (idempotency_key, decision_id, action, params, status, result, created_at)
       SELECT 'k' || d.id, d.id, $2, '{}', 'succeeded', '{}', d.decided_at FROM decisions d WHERE d.proposal_id LIKE 'p' || $1 || '%'`,
      [p, o.action],
    );
  }
  // The first `events` customers churn 5 days after the proposal (inside the 30-day horizon).
  await a.db.query(
    `INSERT INTO signals (id, type, schema_version, occurred_at, account_id, subject, data)
     SELECT 'sig-' || $1 || g, 'outcome', 1, $2::timestamptz, $1 || g, '{}', '{"kind": "churned"}' FROM generate_series(1, $3) g`,
    [p, daysAgo(o.daysBack - 5), o.events],
  );
}

describe('the uplift model through the API', () => {
  it('GET /api/v1/agents/uplift-model reports the fit per segment and its Qini on customers held out of the fit', async () => {
    t = await createTestApp();
    const segment = 'churn high × month-to-month';
    await seedArm(t, { action: 'offer_credit', segment, held: false, n: 300, events: 30, prior: 0.1, daysBack: 20 });
    await seedArm(t, { action: 'offer_credit', segment, held: true, n: 100, events: 30, prior: 0.1, daysBack: 20 });
    // Another segment where the credit does nothing.
    await seedArm(t, {
      action: 'offer_credit',
      segment: 'churn low × two-year',
      held: false,
      n: 200,
      events: 20,
      prior: 0.02,
      daysBack: 20,
    });
    await seedArm(t, { action: 'offer_credit', segment: 'churn low × two-year', held: true, n: 60, events: 6, prior: 0.02, daysBack: 20 });
    const res = await t.call('GET', '/api/v1/agents/uplift-model', { role: 'analyst' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ windowDays: 180, horizonDays: 30, k: UPLIFT_PRIOR_K, fitShare: 0.7 });
    const retention = res.body.agents.find((a: { agentId: string }) => a.agentId === 'retention');
    expect(retention).toMatchObject({ outcome: 'churned', better: 'lower' });
    const high = retention.segments.find((s: { segment: string }) => s.segment === segment);
    expect(high).toMatchObject({
      action: 'offer_credit',
      treated: { customers: 300, events: 30 },
      holdout: { customers: 100, events: 30 },
      effectiveN: 75,
      meanPrior: 0.1,
    });
    expect(high.observed).toBeCloseTo(0.2, 4);
    expect(high.weight).toBeCloseTo(75 / 175, 4);
    const low = retention.segments.find((s: { segment: string }) => s.segment === 'churn low × two-year');
    expect(low.observed).toBeCloseTo(0, 4);
    // About 30% of the 660 customers are held out of the fit and ranked; both groups are among them.
    const e = retention.evaluation;
    expect(e.customers).toBeGreaterThan(100);
    expect(e.customers).toBeLessThan(300);
    expect(e.treated).toBeGreaterThan(0);
    expect(e.holdout).toBeGreaterThan(0);
    expect(typeof e.qini).toBe('number');
    expect(typeof e.auuc).toBe('number');
    // A measured agent without history: no ranking.
    const lead = res.body.agents.find((a: { agentId: string }) => a.agentId === 'lead-nurturing');
    expect(lead).toMatchObject({ segments: [], evaluation: { customers: 0, qini: null, auuc: null } });
    // The route is for staff, like the other insights.
    expect((await t.call('GET', '/api/v1/agents/uplift-model', { role: 'agent' })).status).toBe(403);
  });

  it('the loop prices a new customer\u2019s proposals with the uplift learned for their segment', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    for (const band of ['medium', 'high'])
      for (const action of ['offer_credit', 'create_task', 'send_message']) {
        const segment = `churn ${band} × month-to-month`;
        await seedArm(t, { action, segment, held: false, n: 150, events: 15, prior: 0.1, daysBack: 40 });
        await seedArm(t, { action, segment, held: true, n: 150, events: 45, prior: 0.1, daysBack: 40 });
      }
    const accountId = await troubledCustomer(t, 'UPLIFT-1');
    expect((await t.call('POST', '/api/v1/signals', { body: trouble('UPLIFT-1', 1), role: 'agent' })).status).toBe(202);
    await t.bus.drain();
    const res = await t.call('GET', `/api/v1/proposals?accountId=${accountId}&agentId=retention`);
    expect(res.status).toBe(200);
    expect(res.body.data.length).toBeGreaterThan(0);
    for (const p of res.body.data) {
      expect(p.ev.upliftSegment).toMatch(/^churn (medium|high) × month-to-month$/);
      expect(p.ev.pSuccess.source).toBe('uplift');
      expect(p.ev.pSuccess.detail).toContain('treated 10.0% vs holdout 30.0% churned');
      expect(p.ev.pSuccess.prior.source).toBe('rule');
    }
  });
});
