import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers.ts';

// Issue 16, the ledger: one clock. With the server on a business clock years away from real time (as the live demo
// world runs it), the ledger dates what happens on that clock, as the decisions, approvals and messages it records
// are; through the real HTTP app, on whichever backend the run uses.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const c0 = Date.parse('2031-03-04T09:00:00.000Z');
let clockAt = c0;
let t: TestApp;
let accountId: string;

interface Entry {
  seq: number;
  ts: string;
  type: string;
  subjectId: string | null;
  data: Record<string, unknown>;
}

async function entries(query: string): Promise<Entry[]> {
  const res = await t.call('GET', `/api/v1/ledger?limit=200&${query}`, { role: 'admin' });
  expect(res.status, res.text).toBe(200);
  return res.body.data as Entry[];
}

beforeAll(async () => {
  t = await createTestApp({ loop: { holdoutFraction: 0 }, clock: { now: () => new Date(clockAt) } });
  const acc = await t.call('POST', '/api/v1/accounts', { body: { name: 'Clock Co', customerId: 'CLK-1', kind: 'person' } });
  expect(acc.status, acc.text).toBe(201);
  accountId = acc.body.id;
  await t.call('POST', '/api/v1/subscriptions', { body: { accountId, contract: 'month-to-month', monthlyAmount: 80, tenureMonths: 3 } });
  const contact = await t.call('POST', '/api/v1/contacts', { body: { accountId, email: 'clk-1@example.com' } });
  const consent = await t.call('POST', '/api/v1/consents', {
    body: {
      contactId: contact.body.id,
      channel: 'email',
      purpose: 'service',
      status: 'granted',
      source: 'signup',
      capturedAt: new Date(c0 - 100 * DAY).toISOString(),
    },
  });
  expect(consent.status, consent.text).toBe(201);
  // An unhappy score an hour ago on the business clock: the agents decide on it, and one decision waits for a person.
  const res = await t.call('POST', '/api/v1/signals', {
    role: 'agent',
    body: [{ type: 'nps', occurredAt: new Date(c0 - HOUR).toISOString(), subject: { customerId: 'CLK-1' }, data: { score: 2 } }],
  });
  expect(res.status, res.text).toBe(202);
  await t.bus.drain();
}, 60_000);

afterAll(async () => {
  await t?.close();
});

describe('ledger times are on the business clock', () => {
  it('dates records, the signal and the decisions at the business time, as the decisions are dated', async () => {
    const created = await entries(`subjectId=${accountId}`);
    expect(created.find((e) => e.type === 'record.created')?.ts).toBe(new Date(c0).toISOString());
    expect((await entries('type=signal.accepted')).map((e) => e.ts)).toEqual([new Date(c0).toISOString()]);
    const decided = await entries('type=policy.decided');
    expect(decided.length).toBeGreaterThan(0);
    const rows = await t.db.query<{ id: string; decided_at: Date }>('SELECT id, decided_at FROM decisions');
    const decidedAt = new Map(rows.map((r) => [r.id, new Date(r.decided_at).toISOString()]));
    for (const e of decided) {
      expect(e.ts).toBe(new Date(c0).toISOString());
      expect(e.ts).toBe(decidedAt.get(e.subjectId!));
    }
  });

  it('dates an approval decided through the API, and the action it ran, at the business time of the approval', async () => {
    clockAt = c0 + 2 * HOUR;
    const queue = await t.call('GET', '/api/v1/approvals', { role: 'reviewer' });
    expect(queue.status, queue.text).toBe(200);
    const item = (queue.body.data as { id: string; customer: { accountId: string } }[]).find((a) => a.customer.accountId === accountId);
    expect(item, 'an approval for the customer').toBeDefined();
    const approved = await t.call('POST', `/api/v1/approvals/${item!.id}/approve`, { role: 'reviewer', body: {} });
    expect(approved.status, approved.text).toBe(200);
    const [approval] = await entries(`type=approval.approved&subjectId=${item!.id}`);
    expect(approval?.ts).toBe(new Date(clockAt).toISOString());
    const [row] = await t.db.query<{ decided_at: Date }>('SELECT decided_at FROM approvals WHERE id = $1', [item!.id]);
    expect(new Date(row!.decided_at).toISOString()).toBe(approval!.ts);
    const executed = (await entries('type=action.executed')).filter((e) => e.data.decisionId === approval!.data.decisionId);
    expect(executed.map((e) => e.ts)).toEqual([new Date(clockAt).toISOString()]);
  });

  it('dates an autonomy change at the business time it was made', async () => {
    clockAt = c0 + 5 * HOUR;
    const res = await t.call('PATCH', '/api/v1/agents/retention', {
      body: { autonomy: { offer_credit: 2 }, reason: 'hold credits for review while we check the clock' },
    });
    expect(res.status, res.text).toBe(200);
    const [change] = await entries('type=agent.updated&subjectId=retention');
    expect(change?.data.autonomyChangeId).toBeTruthy();
    expect(change?.ts).toBe(new Date(clockAt).toISOString());
  });

  it('keeps the chain whole: order is by sequence, not by time', async () => {
    // An entry dated earlier on the business clock than one before it still chains after it.
    clockAt = c0 - 30 * DAY;
    const late = await t.call('POST', '/api/v1/accounts', { body: { name: 'Earlier Co', customerId: 'CLK-2' } });
    expect(late.status, late.text).toBe(201);
    const [entry] = await entries(`subjectId=${late.body.id}`);
    expect(entry?.ts).toBe(new Date(clockAt).toISOString());
    const verify = await t.call('GET', '/api/v1/ledger/verify', { role: 'admin' });
    expect(verify.status, verify.text).toBe(200);
    expect(verify.body).toMatchObject({ ok: true, firstBadSeq: null });
    expect(verify.body.entries).toBeGreaterThan(10);
  });
});
