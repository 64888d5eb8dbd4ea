import { afterEach, describe, expect, it } from 'vitest';
import { fitChurnCalibration } from '../src/learn/index.ts';
import { retentionAgent, scoreChurn, type ChurnCalibration, type CustomerContext } from '../src/reason/index.ts';
import type { ChurnCalibrationRow } from '../src/views/index.ts';
import { createTestApp, daysAgo, trouble, troubledCustomer, type ResponseBody, type TestApp } from './helpers.ts';

// p(churn) calibrated to ACS's own held-out customers (src/learn/churn-calibration.ts): a score trained on an imported
// label keeps its ranking but is rescaled to the churn that came among the customers the holdout left alone.

const rows = (n: number, o: { risk: number; days: number; events: number }): ChurnCalibrationRow[] =>
  Array.from({ length: n }, (_, i) => ({ risk: o.risk, observed_days: o.days, event: i < o.events }));

describe('fitting the calibration', () => {
  it('is observed over expected churn, shrunk toward 1 by one pseudo-event', () => {
    // 1,000 held-out customers scored 50%, fully observed: 500 expected, 20 came.
    const cal = fitChurnCalibration(rows(1000, { risk: 0.5, days: 30, events: 20 }));
    expect(cal).toMatchObject({ heldOut: 1000, events: 20, expected: 500 });
    expect(cal.factor).toBeCloseTo(21 / 501, 4);
    expect(cal.detail).toContain('20 of 1000 held-out customers churned within 30 days against 500.0 the score expected');
  });

  it('counts a young proposal for the part of the horizon it has had, and stays at 1 without data', () => {
    const young = fitChurnCalibration(rows(1000, { risk: 0.5, days: 15, events: 20 }));
    expect(young.expected).toBe(250);
    expect(young.factor).toBeCloseTo(21 / 251, 4);
    const none = fitChurnCalibration([]);
    expect(none).toMatchObject({ factor: 1, heldOut: 0, events: 0, expected: 0 });
    expect(none.detail).toMatch(/not rescaled/);
    // A score that under-predicts is scaled up, within bounds.
    expect(fitChurnCalibration(rows(100, { risk: 0.01, days: 30, events: 50 })).factor).toBe(10);
  });
});

/** A month-to-month customer with two payment failures, a usage drop and a poor NPS: retention's triggers fire. */
const risky = (): CustomerContext =>
  ({
    accountId: 'acc-1',
    customerId: 'C-1',
    attributes: {},
    features: { usageTrend: 0.3, paymentFailures30d: 2, lastNps: 3 },
    subscription: { status: 'active', contract: 'month-to-month', monthlyAmount: 80 },
    consents: [],
    contacts: [],
  }) as unknown as CustomerContext;

describe('the calibrated score in the agent', () => {
  const cal: ChurnCalibration = { factor: 0.04, heldOut: 1000, events: 19, expected: 500, detail: 'calibrated to the holdout: test' };

  it('rescales the served score, keeps the raw one and the reason, and bands the segment on the raw score', () => {
    const raw = scoreChurn(risky());
    const scaled = scoreChurn(risky(), { churnCalibration: cal });
    expect(scaled.uncalibrated).toBe(raw.probability);
    expect(scaled.probability).toBeCloseTo(raw.probability * 0.04, 4);
    expect(scaled.calibration).toEqual({ factor: 0.04, detail: cal.detail });
    expect(scaled.detail).toContain('calibrated to the holdout: test');
    const [plainDraft] = retentionAgent.propose(risky());
    expect(plainDraft).toBeDefined();
    // At 4% of the raw risk no retention action is worth its cost: the agent proposes nothing.
    expect(retentionAgent.propose(risky(), { churnCalibration: cal })).toEqual([]);
    // A milder correction still proposes, on the same segment as the raw score, with the smaller p(success).
    const mild = retentionAgent.propose(risky(), { churnCalibration: { ...cal, factor: 0.9 } });
    const same = mild.find((d) => d.action === plainDraft!.action)!;
    expect(same.ev.upliftSegment).toBe(plainDraft!.ev.upliftSegment);
    expect(same.ev.pSuccess.value).toBeLessThan(plainDraft!.ev.pSuccess.value);
  });
});

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** `n` held-out retention proposals scored `risk`, `daysBack` days ago, the first `events` customers churned 5 days later. */
async function seedHeldOut(a: TestApp, o: { n: number; risk: number; events: number; daysBack: number }) {
  await a.db.query(`INSERT INTO accounts (id, name) SELECT 'cal-' || g, 'Held ' || g FROM generate_series(1, $1) g`, [o.n]);
  const ev = { value: 1, churn: { probability: o.risk, profileScore: null, source: 'rule', model: null, triggers: [], detail: 'seeded' } };
  await a.db.query(
    `INSERT INTO proposals (id, agent_id, account_id, action, params, risk, ev, ev_value, reason, status, created_at)
     SELECT 'pcal-' || g, 'retention', 'cal-' || g, 'offer_credit', '{}', 'low', $1::jsonb, 1, 'seeded', 'held_out', $2::timestamptz
     FROM generate_series(1, $3) g`,
    [JSON.stringify(ev), daysAgo(o.daysBack), o.n],
  );
  await a.db.query(
    `INSERT INTO signals (id, type, schema_version, occurred_at, account_id, subject, data)
     SELECT 'sig-cal-' || g, 'outcome', 1, $1::timestamptz, 'cal-' || g, '{}', '{"kind": "churned"}' FROM generate_series(1, $2) g`,
    [daysAgo(o.daysBack - 5), o.events],
  );
}

describe('one calibrated score through the app', () => {
  it('the proposal and the Customer 360 show the same score, calibrated to the held-out customers\u2019 churn', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    // 200 held out at 50%, fully observed: 100 expected, 30 churned. The factor is (30 + 1) / (100 + 1).
    await seedHeldOut(t, { n: 200, risk: 0.5, events: 30, daysBack: 40 });
    const accountId = await troubledCustomer(t, 'CAL-1');
    expect((await t.call('POST', '/api/v1/signals', { body: trouble('CAL-1', 1), role: 'agent' })).status).toBe(202);
    await t.bus.drain();
    const proposals = await t.call('GET', `/api/v1/proposals?accountId=${accountId}&agentId=retention`);
    expect(proposals.status).toBe(200);
    const churn = proposals.body.data.find((p: ResponseBody) => p.ev.churn)?.ev.churn;
    expect(churn, 'a retention proposal with its churn score').toBeDefined();
    expect(churn.calibration.factor).toBeCloseTo(31 / 101, 4);
    expect(churn.probability).toBeCloseTo(Math.min(0.95, churn.uncalibrated * (31 / 101)), 3);
    expect(churn.detail).toContain('30 of 200 held-out customers churned within 30 days');

    const profile = await t.call('GET', '/api/v1/customers/CAL-1/profile', { role: 'analyst' });
    expect(profile.status).toBe(200);
    expect(profile.body.churn.decided.probability).toBe(churn.probability);
    expect(profile.body.churn.current.probability).toBe(churn.probability);
    expect(profile.body.churn.current.calibration).toEqual(churn.calibration);
  });
});
