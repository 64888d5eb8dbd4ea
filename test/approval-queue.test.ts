import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDecision } from '../src/act/index.ts';
import { recordProposal, type PolicyRequestInput } from '../src/assure/index.ts';
import { createTestApp, daysAgo, type TestApp } from './helpers.ts';

// The queue as a reviewer triages it: tabs, filters, sort choices and what each card needs to be decided,
// through the real HTTP app and database.
let t: TestApp;
let accountId: string;
const ids: Record<string, string> = {};
const HOUR = 3_600_000;

async function open(name: string, o: { agent: string; action: string; risk: 'low' | 'medium' | 'high'; ev: number; ttlMs: number }) {
  const request: PolicyRequestInput = {
    agent: { id: o.agent, role: 'agent', autonomy: 2 },
    action: o.action as PolicyRequestInput['action'],
    customer: { id: 'QF-1', segment: 'consumer', region: 'US', inHoldout: false },
    context: { risk: o.risk },
  };
  const decision = t.gate.decide(request);
  expect(decision.outcome).toBe('approval');
  const r = await t.db.transaction(async (tx) => {
    const proposalId = await recordProposal(tx, {
      agentId: o.agent,
      accountId,
      leadId: null,
      action: o.action,
      params: { subject: name },
      risk: o.risk,
      ev: { value: o.ev },
      reason: name,
    });
    return recordDecision(tx, proposalId, request, decision, { approvalTtlMs: o.ttlMs });
  });
  ids[name] = r.approvalId!;
}

const list = async (query: string, role: 'reviewer' | 'analyst' = 'reviewer') => {
  const res = await t.call('GET', `/api/v1/approvals${query}`, { role });
  expect(res.status, query).toBe(200);
  return res.body.data as { id: string; proposal: { reason: string }; customer: Record<string, unknown> }[];
};
const names = (rows: { proposal: { reason: string } }[]) => rows.map((r) => r.proposal.reason);

beforeAll(async () => {
  t = await createTestApp();
  const product = await t.call('POST', '/api/v1/products', { body: { sku: 'FIBER-1G', name: 'Fiber 1 Gbps' } });
  expect(product.status).toBe(201);
  accountId = (await t.call('POST', '/api/v1/accounts', { body: { name: 'Filter Co', customerId: 'QF-1' } })).body.id;
  const sub = await t.call('POST', '/api/v1/subscriptions', {
    body: { accountId, productId: product.body.id, contract: 'month-to-month', monthlyAmount: 80.5, tenureMonths: 7 },
  });
  expect(sub.status).toBe(201);
  // Opened in this order, so `newest` is the reverse of it.
  await open('a-case-low', { agent: 'service', action: 'create_case', risk: 'low', ev: 30, ttlMs: 48 * HOUR });
  await open('b-task-medium', { agent: 'retention', action: 'create_task', risk: 'medium', ev: 50, ttlMs: 2 * HOUR });
  await open('c-case-high', { agent: 'retention', action: 'create_case', risk: 'high', ev: 10, ttlMs: 5 * HOUR });
  await open('d-case-low', { agent: 'service', action: 'create_case', risk: 'low', ev: 20, ttlMs: 100 * HOUR });
  // Two credits and a message in the last 90 days; one credit and one message older than that, and a reversed credit: none of those count.
  const credit = (id: string, cents: number, at: string, status = 'applied') =>
    t.db.query('INSERT INTO credits (id, account_id, amount_cents, reason, status, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [
      id,
      accountId,
      cents,
      'test',
      status,
      at,
    ]);
  await credit('cred_a', 1500, daysAgo(10));
  await credit('cred_b', 2500, daysAgo(80));
  await credit('cred_c', 9900, daysAgo(120));
  await credit('cred_d', 7000, daysAgo(5), 'reversed');
  const message = (id: string, at: string) =>
    t.db.query(
      "INSERT INTO messages (id, account_id, channel, purpose, template, body, status, created_at) VALUES ($1, $2, 'email', 'service', 'check_in', 'Hello', 'sent', $3)",
      [id, accountId, at],
    );
  await message('msg_a', daysAgo(3));
  await message('msg_b', daysAgo(200));
});
afterAll(async () => t.close());

describe('GET /api/v1/approvals: tabs, filters and sort', () => {
  it('orders pending by expected value by default, and by expiry or newest on request', async () => {
    expect(names(await list(''))).toEqual(['b-task-medium', 'a-case-low', 'd-case-low', 'c-case-high']);
    expect(names(await list('?sort=ev'))).toEqual(['b-task-medium', 'a-case-low', 'd-case-low', 'c-case-high']);
    expect(names(await list('?sort=expiry'))).toEqual(['b-task-medium', 'c-case-high', 'a-case-low', 'd-case-low']);
    expect(names(await list('?sort=newest'))).toEqual(['d-case-low', 'c-case-high', 'b-task-medium', 'a-case-low']);
  });

  it('filters by agent, action, risk and expiry, together', async () => {
    expect(names(await list('?agent=retention'))).toEqual(['b-task-medium', 'c-case-high']);
    expect(names(await list('?action=create_case'))).toEqual(['a-case-low', 'd-case-low', 'c-case-high']);
    expect(names(await list('?risk=low&sort=expiry'))).toEqual(['a-case-low', 'd-case-low']);
    expect(names(await list('?expiresWithinHours=6'))).toEqual(['b-task-medium', 'c-case-high']);
    expect(names(await list('?expiresWithinHours=6&action=create_case&agent=retention&risk=high'))).toEqual(['c-case-high']);
    expect(await list('?agent=nobody')).toEqual([]);
  });

  it('pages a filtered, sorted list without repeating or skipping an item', async () => {
    const seen: string[] = [];
    let cursor: string | null = '';
    while (cursor !== null) {
      const res = await t.call('GET', `/api/v1/approvals?sort=expiry&action=create_case&limit=2${cursor ? `&cursor=${cursor}` : ''}`, {
        role: 'reviewer',
      });
      seen.push(...names(res.body.data));
      cursor = res.body.nextCursor;
    }
    expect(seen).toEqual(['c-case-high', 'a-case-low', 'd-case-low']);
  });

  it('moves decided items to the decided tab and expired ones to the expired tab', async () => {
    const ok = await t.call('POST', `/api/v1/approvals/${ids['a-case-low']}/approve`, { role: 'reviewer' });
    expect(ok.status).toBe(200);
    const no = await t.call('POST', `/api/v1/approvals/${ids['c-case-high']}/reject`, { role: 'reviewer', body: { reason: 'not now' } });
    expect(no.status).toBe(204);
    await t.db.query("UPDATE approvals SET status = 'expired' WHERE id = $1", [ids['d-case-low']]);

    expect(names(await list(''))).toEqual(['b-task-medium']);
    const decided = await list('?status=decided&sort=newest');
    expect(names(decided)).toEqual(['c-case-high', 'a-case-low']);
    expect(decided.map((d) => (d as unknown as { status: string }).status)).toEqual(['rejected', 'approved']);
    expect(names(await list('?status=approved'))).toEqual(['a-case-low']);
    expect(names(await list('?status=decided&risk=high'))).toEqual(['c-case-high']);
    expect(names(await list('?status=expired'))).toEqual(['d-case-low']);
  });

  it('refuses a bad parameter with a 400 naming it', async () => {
    for (const [query, path] of [
      ['?status=done', 'status'],
      ['?sort=cheapest', 'sort'],
      ['?risk=extreme', 'risk'],
      ['?expiresWithinHours=-1', 'expiresWithinHours'],
      ['?expiresWithinHours=soon', 'expiresWithinHours'],
      ['?agent=', 'agent'],
      ['?action=' + 'x'.repeat(101), 'action'],
      ['?colour=red', ''],
    ] as const) {
      const res = await t.call('GET', `/api/v1/approvals${query}`, { role: 'reviewer' });
      expect(res.status, query).toBe(400);
      expect(res.body.code, query).toBe('validation_failed');
      const paths = res.body.issues.map((i: { path: string; message: string }) => `${i.path} ${i.message}`).join(' | ');
      expect(paths, query).toContain(path || 'colour');
    }
  });
});

describe('the approval card: what decides it', () => {
  it('carries the subscription, tenure, and the credits and messages of the last 90 days', async () => {
    const [item] = await list('', 'analyst');
    expect(item!.customer).toMatchObject({
      customerId: 'QF-1',
      subscription: { status: 'active', plan: 'Fiber 1 Gbps', contract: 'month-to-month', tenureMonths: 7, monthlyAmount: 80.5 },
      recent: { days: 90, credits: { count: 2, amountCents: 4000 }, messages: { count: 1, lastAt: expect.any(String) } },
    });
  });
});
