import { afterEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers.ts';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();

async function troubledCustomer(app: TestApp, customerId: string) {
  const acc = await app.call('POST', '/api/v1/accounts', { body: { name: 'Loop Co', customerId, kind: 'person' } });
  await app.call('POST', '/api/v1/subscriptions', { body: { accountId: acc.body.id, contract: 'month-to-month', monthlyAmount: 80, tenureMonths: 3 } });
  const contact = await app.call('POST', '/api/v1/contacts', { body: { accountId: acc.body.id, email: `${customerId.toLowerCase()}@example.com` } });
  await app.call('POST', '/api/v1/consents', { body: { contactId: contact.body.id, channel: 'email', purpose: 'service', status: 'granted', source: 'signup', capturedAt: daysAgo(100) } });
  return acc.body.id as string;
}

const trouble = (customerId: string, n: number) => [
  ...[1, 2].map((d) => ({ id: `${customerId}-pf-${n}-${d}`, type: 'payment_failed', occurredAt: daysAgo(d), subject: { customerId }, data: { amount: 80, currency: 'USD' } })),
  ...[1, 2, 3].map((d) => ({ id: `${customerId}-t-${n}-${d}`, type: 'support_ticket', occurredAt: daysAgo(d), subject: { customerId }, data: { text: 'Broken again, terrible, I am furious and want to cancel.' } })),
];

describe('the governed loop on accepted signals', () => {
  it('agents propose, arbitration keeps one, policy decides, the action runs, and the ledger holds it all', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    const accountId = await troubledCustomer(t, 'LOOP-1');
    expect((await t.call('POST', '/api/v1/signals', { body: trouble('LOOP-1', 1), role: 'agent' })).status).toBe(202);
    await t.bus.drain();

    const proposals = await t.db.query<{ id: string; agent_id: string; action: string; status: string; status_reason: string | null; ev_value: number }>(
      'SELECT id, agent_id, action, status, status_reason, ev_value FROM proposals WHERE account_id = $1 ORDER BY ev_value DESC', [accountId]);
    const decided = proposals.filter((p) => p.status === 'decided');
    expect(decided).toHaveLength(1);
    expect(proposals.filter((p) => p.status === 'suppressed').length).toBeGreaterThan(0);
    for (const p of proposals.filter((x) => x.status === 'suppressed')) expect(p.status_reason).toMatch(/^conflict: /);
    expect(decided[0]!.ev_value).toBe(Math.max(...proposals.map((p) => p.ev_value)));

    // Worked by hand: service recovery's proactive case is worth 0.35 × $480 − $10 − 2% × $480 = $148.40,
    // more than retention's credit; L3 low-risk service is allowed to execute.
    expect(decided[0]).toMatchObject({ agent_id: 'service-recovery', action: 'create_case', ev_value: 148.4 });
    const [decision] = await t.db.query<{ id: string; outcome: string; policy_ids: string[]; autonomy: number }>('SELECT * FROM decisions WHERE proposal_id = $1', [decided[0]!.id]);
    expect(decision).toMatchObject({ outcome: 'execute', autonomy: 3 });
    expect(decision!.policy_ids.length).toBeGreaterThan(0);
    const [execution] = await t.db.query<{ result: { caseId: string } }>('SELECT result FROM executions WHERE decision_id = $1', [decision!.id]);
    expect(execution!.result.caseId).toMatch(/^case_/);
    const types = (await t.db.query<{ type: string }>('SELECT DISTINCT type FROM ledger')).map((r) => r.type);
    expect(types).toEqual(expect.arrayContaining(['signal.accepted', 'proposal.created', 'policy.decided']));
    expect((await t.call('GET', '/api/v1/ledger/verify')).body.ok).toBe(true);
  });

  it('keeps to the cooldown on the next batch, suppressing with the reason', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    const accountId = await troubledCustomer(t, 'LOOP-2');
    await t.call('POST', '/api/v1/signals', { body: trouble('LOOP-2', 1), role: 'agent' });
    await t.bus.drain();
    const executed = await t.db.query('SELECT 1 FROM executions e JOIN decisions d ON d.id = e.decision_id JOIN proposals p ON p.id = d.proposal_id WHERE p.account_id = $1', [accountId]);
    expect(executed).toHaveLength(1);
    await t.call('POST', '/api/v1/signals', { body: trouble('LOOP-2', 2), role: 'agent' });
    await t.bus.drain();
    expect(await t.db.query("SELECT 1 FROM proposals WHERE account_id = $1 AND status = 'decided'", [accountId])).toHaveLength(1);
    const cooled = await t.db.query("SELECT 1 FROM proposals WHERE account_id = $1 AND status_reason LIKE 'cooldown%'", [accountId]);
    expect(cooled.length).toBeGreaterThan(0);
  });

  it('records proposals for held-out customers as held out and executes nothing for them', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 1 } });
    const accountId = await troubledCustomer(t, 'LOOP-3');
    await t.call('POST', '/api/v1/signals', { body: trouble('LOOP-3', 1), role: 'agent' });
    await t.bus.drain();
    const statuses = (await t.db.query<{ status: string }>('SELECT status FROM proposals WHERE account_id = $1', [accountId])).map((r) => r.status);
    expect(statuses).toContain('held_out');
    expect(statuses).not.toContain('decided');
    expect(await t.db.query('SELECT 1 FROM executions')).toHaveLength(0);
  });
});

describe('agent registry', () => {
  it('lists agents with autonomy per action; an admin pauses one or changes a level, and the loop obeys', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    const list = await t.call('GET', '/api/v1/agents', { role: 'analyst' });
    expect(list.body.data.map((a: { id: string }) => a.id)).toEqual(['retention', 'service-recovery', 'lead-nurturing', 'data-stewardship']);
    expect(list.body.data[1].actions.create_case).toEqual({ autonomy: 3, defaultAutonomy: 3, risk: 'low' });

    expect((await t.call('PATCH', '/api/v1/agents/service-recovery', { role: 'reviewer', body: { paused: true } })).status).toBe(403);
    expect((await t.call('PATCH', '/api/v1/agents/service-recovery', { body: { autonomy: { offer_credit: 4 } } })).body.error.issues[0].path).toBe('autonomy.offer_credit');
    expect((await t.call('PATCH', '/api/v1/agents/service-recovery', { body: { autonomy: { create_case: 9 } } })).status).toBe(400);
    expect((await t.call('PATCH', '/api/v1/agents/nobody', { body: { paused: true } })).status).toBe(404);

    // With service recovery paused, retention's credit wins; at autonomy 2 it waits for a human.
    expect((await t.call('PATCH', '/api/v1/agents/service-recovery', { body: { paused: true } })).body.paused).toBe(true);
    const lowered = await t.call('PATCH', '/api/v1/agents/retention', { body: { autonomy: { offer_credit: 2 } } });
    expect(lowered.body.actions.offer_credit).toMatchObject({ autonomy: 2, defaultAutonomy: 3 });
    const accountId = await troubledCustomer(t, 'LOOP-4');
    await t.call('POST', '/api/v1/signals', { body: trouble('LOOP-4', 1), role: 'agent' });
    await t.bus.drain();
    const decided = await t.db.query<{ agent_id: string; action: string; outcome: string; autonomy: number }>(
      "SELECT p.agent_id, p.action, d.outcome, d.autonomy FROM proposals p JOIN decisions d ON d.proposal_id = p.id WHERE p.account_id = $1", [accountId]);
    expect(decided).toEqual([{ agent_id: 'retention', action: 'offer_credit', outcome: 'approval', autonomy: 2 }]);
    expect(await t.db.query("SELECT 1 FROM proposals WHERE agent_id = 'service-recovery' AND account_id = $1", [accountId])).toHaveLength(0);
    expect((await t.db.query("SELECT 1 FROM ledger WHERE type = 'agent.updated'")).length).toBe(2);
  });
});
