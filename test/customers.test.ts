import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../src/api/app.ts';
import { createMetrics } from '../src/api/metrics.ts';
import { ChurnModel, loadChurnExamples } from '../src/reason/index.ts';
import { importFirstCustomers } from '../src/world/index.ts';
import { createTestApp, type TestApp } from './helpers.ts';

const TELCO = fileURLToPath(new URL('../data/telco_churn.csv', import.meta.url));
const DAY = 86_400_000;
const NOW = Date.parse('2026-03-20T12:00:00.000Z');
const before = (days: number) => new Date(NOW - days * DAY).toISOString();

describe('Customer 360: consents and feature history', () => {
  let t: TestApp;
  let accountId: string;
  const consent: Record<string, string> = {};

  beforeAll(async () => {
    t = await createTestApp({ clock: { now: () => new Date(NOW) } });
    accountId = (await t.call('POST', '/api/v1/accounts', { body: { name: 'Hist Co', customerId: 'HIST-1', kind: 'person' } })).body.id;
    await t.call('POST', '/api/v1/subscriptions', { body: { accountId, contract: 'month-to-month', monthlyAmount: 70, tenureMonths: 5 } });
    const a = (await t.call('POST', '/api/v1/contacts', { body: { accountId, email: 'ann@hist.example' } })).body.id;
    const b = (await t.call('POST', '/api/v1/contacts', { body: { accountId, phone: '+1 555 0100 200' } })).body.id;
    const other = (await t.call('POST', '/api/v1/accounts', { body: { name: 'Other', customerId: 'HIST-2' } })).body.id;
    const x = (await t.call('POST', '/api/v1/contacts', { body: { accountId: other, email: 'x@other.example' } })).body.id;
    const add = async (name: string, body: Record<string, string>) => {
      const res = await t.call('POST', '/api/v1/consents', { body: { source: 'test', ...body } });
      expect(res.status, res.text).toBe(201);
      consent[name] = res.body.id;
    };
    await add('granted-then-withdrawn', {
      contactId: a,
      channel: 'email',
      purpose: 'service',
      status: 'granted',
      capturedAt: '2025-01-01T00:00:00Z',
    });
    await add('withdrawal', {
      contactId: a,
      channel: 'email',
      purpose: 'service',
      status: 'withdrawn',
      capturedAt: '2026-01-01T00:00:00Z',
    });
    await add('expired', {
      contactId: a,
      channel: 'email',
      purpose: 'marketing',
      status: 'granted',
      capturedAt: '2025-06-01T00:00:00Z',
      effectiveTo: '2026-01-01T00:00:00Z',
    });
    await add('not-yet', {
      contactId: a,
      channel: 'sms',
      purpose: 'service',
      status: 'granted',
      capturedAt: '2026-03-01T00:00:00Z',
      effectiveFrom: '2026-04-01T00:00:00Z',
    });
    await add('deleted', { contactId: a, channel: 'phone', purpose: 'sales', status: 'denied', capturedAt: '2025-02-01T00:00:00Z' });
    await add('phone', { contactId: b, channel: 'phone', purpose: 'service', status: 'granted', capturedAt: '2025-09-01T00:00:00Z' });
    await add('someone-else', {
      contactId: x,
      channel: 'email',
      purpose: 'service',
      status: 'granted',
      capturedAt: '2025-09-01T00:00:00Z',
    });
    expect((await t.call('DELETE', `/api/v1/consents/${consent.deleted}`)).status).toBe(204);
  });
  afterAll(async () => t.close());

  it('lists every consent record of the customer\u2019s contacts, newest captured first, marking the ones in effect now', async () => {
    const res = await t.call('GET', '/api/v1/customers/HIST-1/consents', { role: 'agent' });
    expect(res.status).toBe(200);
    // Newest captured first; the deleted record and the other customer's are not there.
    expect(res.body.data.map((c: { id: string; inEffect: boolean; state: string }) => [c.id, c.inEffect, c.state])).toEqual([
      [consent['not-yet'], false, 'scheduled'], // effective only from April
      [consent.withdrawal, true, 'in_effect'], // the latest record for email/service decides: withdrawn
      [consent.phone, true, 'in_effect'],
      [consent.expired, false, 'expired'], // its window ended in January
      [consent['granted-then-withdrawn'], false, 'superseded'], // superseded by the withdrawal
    ]);
    // The state in effect, per contact point (each contact's own, normalized), channel, purpose and brand (none: all).
    expect(res.body.effective).toEqual([
      {
        contactPoint: '15550100200',
        channel: 'phone',
        purpose: 'service',
        brand: null,
        status: 'granted',
        grants: true,
        consentId: consent.phone,
        contactId: expect.any(String),
        capturedAt: '2025-09-01T00:00:00.000Z',
      },
      {
        contactPoint: 'ann@hist.example',
        channel: 'email',
        purpose: 'service',
        brand: null,
        status: 'withdrawn',
        grants: false,
        consentId: consent.withdrawal,
        contactId: expect.any(String),
        capturedAt: '2026-01-01T00:00:00.000Z',
      },
    ]);
    expect(res.body.data[1]).toMatchObject({
      contactId: expect.any(String),
      channel: 'email',
      purpose: 'service',
      status: 'withdrawn',
      source: 'test',
      capturedAt: '2026-01-01T00:00:00.000Z',
    });
    // The same records the effective-consent route picks, contact by contact, on the same clock.
    const contacts = [...new Set(res.body.data.map((c: { contactId: string }) => c.contactId))] as string[];
    const effective = (await Promise.all(contacts.map((id) => t.call('GET', `/api/v1/contacts/${id}/consents/effective`)))).flatMap((r) =>
      r.body.data.map((c: { id: string }) => c.id),
    );
    expect(effective.sort()).toEqual(
      res.body.data
        .filter((c: { inEffect: boolean }) => c.inEffect)
        .map((c: { id: string }) => c.id)
        .sort(),
    );
    // By account id too; unknown customers are a 404; a customer without contacts has none.
    expect((await t.call('GET', `/api/v1/customers/${accountId}/consents`)).body.data).toHaveLength(5);
    expect((await t.call('GET', '/api/v1/customers/NOPE-9/consents')).status).toBe(404);
    const lonely = (await t.call('POST', '/api/v1/accounts', { body: { name: 'Lonely', customerId: 'HIST-3' } })).body.id;
    expect((await t.call('GET', `/api/v1/customers/${lonely}/consents`)).body).toEqual({ effective: [], data: [] });
  });

  it('computes the features as they were at each point from the signal history, the last one as the refresh stores it', async () => {
    const s = (type: string, days: number, data: Record<string, unknown>) => ({
      type,
      occurredAt: before(days),
      subject: { customerId: 'HIST-1' },
      data,
    });
    const posted = await t.call('POST', '/api/v1/signals', {
      role: 'agent',
      body: [
        s('usage', 1, { quantity: 10 }),
        s('usage', 5, { quantity: 20 }),
        s('usage', 10, { quantity: 40 }),
        s('usage', 16, { quantity: 80 }),
        s('usage', 25, { quantity: 160 }),
        s('payment_failed', 3, { amount: 70, currency: 'USD' }),
        s('payment_failed', 12, { amount: 70, currency: 'USD' }),
        s('nps', 20, { score: 9 }),
        s('nps', 9, { score: 3 }),
        s('support_ticket', 2, { text: 'The router keeps dropping.' }),
        s('outcome', 8, { kind: 'complaint', reason: 'dropped calls' }),
      ],
    });
    expect(posted.status).toBe(202);
    await t.bus.drain();

    const res = await t.call('GET', '/api/v1/customers/HIST-1/features/history?points=4&stepDays=7', { role: 'analyst' });
    expect(res.status).toBe(200);
    expect(res.body.data.map((p: { asOf: string }) => p.asOf)).toEqual([before(21), before(14), before(7), before(0)]);
    const f = res.body.data.map((p: { features: Record<string, unknown> }) => p.features);
    // Worked by hand from the signals above. Windows end at each point: usage7d is (asOf − 7d, asOf], usagePrior28d the 28 days before.
    expect(f[0]).toMatchObject({
      usage7d: 160,
      usagePrior28d: 0,
      usageTrend: null,
      paymentFailures30d: 0,
      lastNps: null,
      complaints90d: 0,
      tickets30d: 0,
      lastSignalAt: before(25),
    });
    expect(f[1]).toMatchObject({
      usage7d: 80,
      usagePrior28d: 160,
      usageTrend: 2,
      paymentFailures30d: 0,
      lastNps: 9,
      complaints90d: 0,
      tickets30d: 0,
      lastSignalAt: before(16),
    });
    expect(f[2]).toMatchObject({
      usage7d: 40,
      usagePrior28d: 240,
      usageTrend: 0.667,
      paymentFailures30d: 1,
      lastNps: 3,
      complaints90d: 1,
      tickets30d: 0,
      ticketSentiment30d: null,
      lastSignalAt: before(8),
    });
    expect(f[3]).toMatchObject({
      usage7d: 30,
      usagePrior28d: 280,
      usageTrend: 0.429,
      paymentFailures30d: 2,
      lastNps: 3,
      complaints90d: 1,
      tickets30d: 1,
      lastSignalAt: before(1),
    });
    // openCases is today's count at every point (the ticket opened a case), and the response says so.
    expect(f.map((x: { openCases: number }) => x.openCases)).toEqual([1, 1, 1, 1]);
    expect(res.body.notes.openCases).toMatch(/current count/);
    // The last point is exactly what the feature refresh stored as of now.
    const profile = await t.call('GET', '/api/v1/customers/HIST-1/profile');
    expect(profile.body.features.asOf).toBe(before(0));
    expect(f[3]).toEqual(profile.body.features.values);
    // No churn model in this app.
    expect(res.body.data.every((p: { churn: unknown }) => p.churn === null)).toBe(true);

    // Defaults: 12 points a week apart, ending now.
    const defaults = await t.call('GET', `/api/v1/customers/${accountId}/features/history`);
    expect(defaults.body.data).toHaveLength(12);
    expect(defaults.body.data[0].asOf).toBe(before(77));
    expect(defaults.body.data[11].asOf).toBe(before(0));
  });

  it('refuses bad points and stepDays, naming them; an unknown customer is a 404', async () => {
    for (const [query, param] of [
      ['points=1', 'points'],
      ['points=53', 'points'],
      ['points=two', 'points'],
      ['stepDays=0', 'stepDays'],
      ['stepDays=31', 'stepDays'],
      ['stepDays=1.5', 'stepDays'],
      ['pointz=3', 'pointz'],
    ]) {
      const res = await t.call('GET', `/api/v1/customers/HIST-1/features/history?${query}`);
      expect(res.status, query).toBe(400);
      expect(
        res.body.issues.map((i: { path: string }) => i.path),
        query,
      ).toEqual([`query.${param}`]);
    }
    expect((await t.call('GET', '/api/v1/customers/NOPE-9/features/history')).status).toBe(404);
  });
});

describe('Customer 360: the churn score in the feature history', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
    await importFirstCustomers(t.db, TELCO, 60, 'test');
  });
  afterAll(async () => t.close());

  it('scores the customer with the model in use, when the server passes one', async () => {
    const examples = await loadChurnExamples(t.db);
    const model = ChurnModel.train(examples, 'test-version');
    const app = createApp({
      db: t.db,
      bus: t.bus,
      auth: t.auth,
      gate: t.gate,
      clock: t.clock,
      log: t.log,
      metrics: createMetrics(),
      config: { maxBodyBytes: 1 << 20 },
      churn: () => model,
    });
    const target = examples[3]!;
    const res = await app.request(`/api/v1/customers/${target.customerId}/features/history?points=3&stepDays=2`, {
      headers: { authorization: `Bearer ${t.tokens.analyst}` },
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { churn: unknown }[]; notes: { churn: string } };
    expect(body.data).toHaveLength(3);
    const expected = { probability: model.predict(target.input).probability, modelId: 'churn-logistic', modelVersion: 'test-version' };
    expect(expected.probability).toBeGreaterThan(0);
    for (const p of body.data) expect(p.churn).toEqual(expected);
    expect(body.notes.churn).toMatch(/as it is now/);
    // The test app has no model: null.
    expect((await t.call('GET', `/api/v1/customers/${target.customerId}/features/history?points=2`)).body.data[0].churn).toBeNull();
  });
});

describe('Customer 360: the timeline holds the agents\u2019 work', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
  });
  afterAll(async () => t.close());

  it('shows proposals, decisions, actions and outcomes beside signals and interactions, newest first, within the limit', async () => {
    const accountId = (await t.call('POST', '/api/v1/accounts', { body: { name: 'Work Co', customerId: 'WORK-1', kind: 'person' } })).body
      .id;
    await t.call('POST', '/api/v1/subscriptions', { body: { accountId, contract: 'month-to-month', monthlyAmount: 80, tenureMonths: 3 } });
    await t.call('POST', '/api/v1/interactions', {
      body: {
        accountId,
        type: 'call',
        direction: 'inbound',
        subject: 'asked about the bill',
        occurredAt: new Date(Date.now() - 3 * DAY).toISOString(),
      },
    });
    const ago = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
    // Tickets only, so service recovery's case wins the slot and runs (a payment failure would give retention's credit it, to wait for a person).
    const trouble = [
      ...[3, 4, 5].map((h) => ({
        type: 'support_ticket',
        occurredAt: ago(h),
        subject: { customerId: 'WORK-1' },
        data: { text: 'Broken again, terrible, I am furious and want to cancel.' },
      })),
    ];
    expect((await t.call('POST', '/api/v1/signals', { role: 'agent', body: trouble })).status).toBe(202);
    await t.bus.drain();
    expect(
      (
        await t.call('POST', '/api/v1/signals', {
          role: 'agent',
          body: { type: 'outcome', subject: { customerId: 'WORK-1' }, data: { kind: 'complaint', reason: 'still broken' } },
        })
      ).status,
    ).toBe(202);
    await t.bus.drain();

    const profile = await t.call('GET', '/api/v1/customers/WORK-1/profile', { role: 'agent' });
    const timeline = profile.body.timeline as { at: string; kind: string; id: string; type: string; summary: Record<string, unknown> }[];
    const [decision] = await t.db.query<{ id: string; proposal_id: string; policy_ids: string[]; reasons: string[]; decided_at: Date }>(
      'SELECT d.* FROM decisions d JOIN proposals p ON p.id = d.proposal_id WHERE p.account_id = $1',
      [accountId],
    );
    const proposals = await t.db.query<{
      id: string;
      action: string;
      agent_id: string;
      status: string;
      status_reason: string | null;
      ev_value: number;
      reason: string;
      created_at: Date;
    }>('SELECT * FROM proposals WHERE account_id = $1', [accountId]);
    const [execution] = await t.db.query<{ idempotency_key: string; action: string; result: Record<string, unknown>; created_at: Date }>(
      'SELECT * FROM executions WHERE decision_id = $1',
      [decision!.id],
    );
    expect(proposals.length).toBeGreaterThan(1);

    // Every kind is there, as many as the tables hold.
    const count = (kind: string) => timeline.filter((i) => i.kind === kind).length;
    expect({
      signal: count('signal'),
      outcome: count('outcome'),
      interaction: count('interaction'),
      proposal: count('proposal'),
      decision: count('decision'),
      action: count('action'),
    }).toEqual({ signal: 3, outcome: 1, interaction: 1, proposal: proposals.length, decision: 1, action: 1 });
    expect(timeline.find((i) => i.kind === 'outcome')).toMatchObject({
      type: 'complaint',
      summary: { kind: 'complaint', reason: 'still broken' },
    });
    expect(timeline.find((i) => i.kind === 'decision')).toEqual({
      at: new Date(decision!.decided_at).toISOString(),
      kind: 'decision',
      id: decision!.id,
      type: 'execute',
      summary: { proposalId: decision!.proposal_id, policyIds: ['low-risk-service-l3'], reasons: decision!.reasons },
    });
    expect(timeline.find((i) => i.kind === 'action')).toEqual({
      at: new Date(execution!.created_at).toISOString(),
      kind: 'action',
      id: execution!.idempotency_key,
      type: 'create_case',
      summary: { status: 'succeeded', idempotencyKey: `decision:${decision!.id}`, result: execution!.result },
    });
    for (const p of proposals) {
      expect(timeline.find((i) => i.id === p.id)).toEqual({
        at: new Date(p.created_at).toISOString(),
        kind: 'proposal',
        id: p.id,
        type: p.action,
        summary: { agentId: p.agent_id, status: p.status, statusReason: p.status_reason, ev: p.ev_value, reason: p.reason },
      });
    }
    expect(timeline.find((i) => i.id === decision!.proposal_id)).toMatchObject({
      type: 'create_case',
      summary: { agentId: 'service-recovery', status: 'decided', statusReason: null },
    });

    // Newest first; a smaller limit gives the newest items of the same list.
    const times = timeline.map((i) => i.at);
    expect([...times].sort().reverse()).toEqual(times);
    for (const limit of [1, 3, 7]) {
      const short = await t.call('GET', `/api/v1/customers/WORK-1/profile?timelineLimit=${limit}`);
      expect(short.body.timeline, `limit ${limit}`).toEqual(timeline.slice(0, limit));
    }
  });
});
