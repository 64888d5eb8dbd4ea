import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expireApprovals } from '../src/act/index.ts';
import { createTestApp, type TestApp } from './helpers.ts';

// The Overview's "expired without review" count: GET /api/v1/kpis `approvalsExpired`, through the real HTTP app.
const HOUR = 3_600_000;
const c0 = Date.parse('2026-05-04T09:00:00.000Z');
let clockAt = c0;
let t: TestApp;
const approvalOf: Record<string, string> = {};

async function customer(customerId: string) {
  const acc = await t.call('POST', '/api/v1/accounts', { body: { name: customerId, customerId, kind: 'person' } });
  expect(acc.status, acc.text).toBe(201);
  await t.call('POST', '/api/v1/subscriptions', {
    body: { accountId: acc.body.id, contract: 'month-to-month', monthlyAmount: 80, tenureMonths: 3 },
  });
  const contact = await t.call('POST', '/api/v1/contacts', {
    body: { accountId: acc.body.id, email: `${customerId.toLowerCase()}@example.com` },
  });
  await t.call('POST', '/api/v1/consents', {
    body: {
      contactId: contact.body.id,
      channel: 'email',
      purpose: 'service',
      status: 'granted',
      source: 'signup',
      capturedAt: new Date(c0 - 100 * 24 * HOUR).toISOString(),
    },
  });
  return acc.body.id as string;
}

const expiredKpi = async (days: number) => {
  const res = await t.call('GET', `/api/v1/kpis?days=${days}`, { role: 'reviewer' });
  expect(res.status, res.text).toBe(200);
  return res.body.approvalsExpired as { total: number; inRange: number };
};

beforeAll(async () => {
  t = await createTestApp({ loop: { holdoutFraction: 0 }, clock: { now: () => new Date(clockAt) } });
  const ids = ['EXP-DECIDED', 'EXP-IGNORED', 'EXP-ERASED'];
  const accounts: Record<string, string> = {};
  for (const id of ids) accounts[id] = await customer(id);
  const res = await t.call('POST', '/api/v1/signals', {
    role: 'agent',
    body: ids.map((customerId) => ({
      type: 'nps',
      occurredAt: new Date(c0 - HOUR).toISOString(),
      subject: { customerId },
      data: { score: 2 },
    })),
  });
  expect(res.status, res.text).toBe(202);
  await t.bus.drain();
  const queue = (await t.call('GET', '/api/v1/approvals', { role: 'reviewer' })).body.data as {
    id: string;
    customer: { accountId: string };
  }[];
  for (const id of ids) approvalOf[id] = queue.find((a) => a.customer.accountId === accounts[id])!.id;
  expect(Object.values(approvalOf).every(Boolean)).toBe(true);
}, 60_000);

afterAll(async () => {
  await t?.close();
});

describe('approvals that expired without review', () => {
  it('counts none while every approval is pending or decided', async () => {
    expect(await expiredKpi(1)).toEqual({ total: 0, inRange: 0 });
    clockAt = c0 + HOUR;
    const approved = await t.call('POST', `/api/v1/approvals/${approvalOf['EXP-DECIDED']}/approve`, { role: 'reviewer' });
    expect(approved.status, approved.text).toBe(200);
    expect(await expiredKpi(1)).toEqual({ total: 0, inRange: 0 });
  });

  it('counts one left to expire, not one that lapsed because its customer was erased', async () => {
    clockAt = c0 + 2 * HOUR;
    const erased = await t.call('POST', '/api/v1/customers/EXP-ERASED/erase', { body: { confirm: 'EXP-ERASED' } });
    expect(erased.status, erased.text).toBe(200);
    expect(await expiredKpi(1)).toEqual({ total: 0, inRange: 0 });

    // Past the approvals' time to live (72 hours by default), maintenance marks the one nobody decided as expired.
    clockAt = c0 + 80 * HOUR;
    expect(await expireApprovals(t.db, new Date(clockAt))).toBe(1);
    expect(await expiredKpi(1)).toEqual({ total: 1, inRange: 1 });
    const listed = await t.call('GET', '/api/v1/approvals?status=expired', { role: 'reviewer' });
    expect(listed.body.data.map((a: { id: string }) => a.id).sort()).toEqual([approvalOf['EXP-ERASED'], approvalOf['EXP-IGNORED']].sort());
  });

  it('counts it in a range only when it was marked expired within it', async () => {
    clockAt = c0 + 10 * 24 * HOUR;
    expect(await expiredKpi(1)).toEqual({ total: 1, inRange: 0 });
    expect(await expiredKpi(30)).toEqual({ total: 1, inRange: 1 });
  });
});
