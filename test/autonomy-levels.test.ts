import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileTransport, maintenanceTick } from '../src/act/index.ts';
import { createTestApp, ticketTrouble, trouble, troubledCustomer, type TestApp } from './helpers.ts';

// Issue 13: autonomy levels L0–L5 each mean something distinct (policies/README.md "Autonomy levels"). Here the two the
// loop and the retention play make distinct beyond the policy cases: an L1 suggestion is a suggestion that takes the
// customer's one slot, and an L5 plan runs the play's cross-domain notice without a second approval where L4 waits.

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

type Proposal = {
  id: string;
  agentId: string;
  action: string;
  status: string;
  statusReason: string | null;
  decision: { outcome: string; policyIds: string[]; autonomy: number } | null;
  executions: unknown[];
};

describe('L1: suggest', () => {
  it('a suggested case is not followed by its notice: the notice is recorded as part of an action that was only suggested', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    expect(
      (await t.call('PATCH', '/api/v1/agents/service-recovery', { body: { autonomy: { create_case: 1 }, reason: 'test' } })).status,
    ).toBe(200);
    const accountId = await troubledCustomer(t, 'L1-2');
    await t.call('POST', '/api/v1/signals', { body: ticketTrouble('L1-2', 1), role: 'agent' });
    await t.bus.drain();
    const all: Proposal[] = (await t.call('GET', `/api/v1/proposals?accountId=${accountId}`, { role: 'analyst' })).body.data;
    expect(all.filter((p) => p.status === 'suggested').map((p) => `${p.agentId}/${p.action}`)).toEqual(['service-recovery/create_case']);
    const notice = all.find((p) => p.agentId === 'service-recovery' && p.action === 'send_message');
    expect(notice).toMatchObject({ status: 'suppressed', statusReason: 'part of service-recovery/create_case, which was only suggested' });
    expect(await t.db.query('SELECT 1 FROM plays')).toHaveLength(0);
    expect(await t.db.query('SELECT 1 FROM messages')).toHaveLength(0);
  });

  it('records the suggestion as suggested, shows it in the proposals API, and runs nothing else in its place', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    // Service recovery paused: retention's credit is the best draft; at L1 it may only be suggested.
    await t.call('PATCH', '/api/v1/agents/service-recovery', { body: { paused: true } });
    expect((await t.call('PATCH', '/api/v1/agents/retention', { body: { autonomy: { offer_credit: 1 }, reason: 'test' } })).status).toBe(
      200,
    );
    const accountId = await troubledCustomer(t, 'L1-1');
    await t.call('PATCH', `/api/v1/accounts/${accountId}`, { body: { attributes: { country: 'DE' } } });
    await t.call('POST', '/api/v1/signals', { body: trouble('L1-1', 1), role: 'agent' });
    await t.bus.drain();

    const all: Proposal[] = (await t.call('GET', `/api/v1/proposals?accountId=${accountId}`, { role: 'analyst' })).body.data;
    const suggested: Proposal[] = (await t.call('GET', `/api/v1/proposals?accountId=${accountId}&status=suggested`, { role: 'analyst' }))
      .body.data;
    expect(suggested).toHaveLength(1);
    expect(suggested[0]).toMatchObject({
      agentId: 'retention',
      action: 'offer_credit',
      status: 'suggested',
      statusReason: expect.stringContaining('L1 (suggest only)'),
      decision: { outcome: 'deny', policyIds: ['autonomy-l1-suggest-only'], autonomy: 1 },
      executions: [],
    });
    // The suggestion took the slot: every other draft is suppressed as a conflict with it, none was put to policy.
    const others = all.filter((p) => p.id !== suggested[0]!.id);
    expect(others.length).toBeGreaterThan(0);
    for (const p of others)
      expect(p).toMatchObject({ status: 'suppressed', statusReason: expect.stringMatching(/^conflict: /), decision: null });
    expect(await t.db.query('SELECT 1 FROM executions')).toHaveLength(0);
    expect(await t.db.query('SELECT 1 FROM plays')).toHaveLength(0);
    expect(await t.db.query('SELECT 1 FROM approvals')).toHaveLength(0);
    // Region came from the account's country, and is what policy was asked about.
    const [request] = await t.db.query<{ request: { customer: { region: string } } }>(
      'SELECT d.request FROM decisions d JOIN proposals p ON p.id = d.proposal_id WHERE p.account_id = $1',
      [accountId],
    );
    expect(request!.request.customer.region).toBe('EU');
    // A suggestion is not a policy violation: policy holding an L1 draft back is what L1 means.
    const kpis = (await t.call('GET', '/api/v1/kpis?days=1', { role: 'analyst' })).body.metrics;
    expect(kpis.aiQuality.policyViolationRate).toMatchObject({ numerator: 0, denominator: 1, value: 0 });
  });
});

/** Runs the retention play at `level` for its credit (notices stay at retention's default L2) and returns the finished play. */
async function playAt(app: TestApp, level: 4 | 5, customerId: string) {
  await app.call('PATCH', '/api/v1/agents/service-recovery', { body: { paused: true } });
  expect(
    (await app.call('PATCH', '/api/v1/agents/retention', { body: { autonomy: { offer_credit: level }, reason: 'test' } })).status,
  ).toBe(200);
  const accountId = await troubledCustomer(app, customerId);
  await app.call('POST', '/api/v1/signals', { role: 'agent', body: trouble(customerId, 1) });
  await app.bus.drain();
  const transport = new FileTransport(join(mkdtempSync(join(tmpdir(), 'acs-levels-')), 'messages.jsonl'));
  for (const later of [1, 2, 3]) await maintenanceTick(app.db, { transport, plays: app.plays }, new Date(Date.now() + later * 120_000));
  const [play] = await app.db.query<{ status: string; state: { data: { notice: string }; completed: string[] } }>(
    'SELECT status, state FROM plays WHERE account_id = $1',
    [accountId],
  );
  const decisions = await app.db.query<{ action: string; outcome: string; policy_ids: string[]; autonomy: number }>(
    'SELECT p.action, d.outcome, d.policy_ids, d.autonomy FROM decisions d JOIN proposals p ON p.id = d.proposal_id WHERE p.account_id = $1 ORDER BY d.decided_at, p.action',
    [accountId],
  );
  const messages = await app.db.query('SELECT 1 FROM messages WHERE account_id = $1', [accountId]);
  return { play: play!, decisions, messages: messages.length };
}

describe('L4 and L5: within bounds, and planning across domains', () => {
  it('at L4 the credit runs within the limit, and the cross-domain notice (retention holds email at L2) waits for a human', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    const r = await playAt(t, 4, 'L4-1');
    expect(r.decisions).toEqual([
      { action: 'offer_credit', outcome: 'execute', policy_ids: ['credit-within-limit-l4'], autonomy: 4 },
      { action: 'send_message', outcome: 'approval', policy_ids: ['l2-draft-needs-approval'], autonomy: 2 },
    ]);
    expect(r.play.state.data.notice).toMatch(/^waiting for approval/);
    expect(r.messages).toBe(0);
  });

  it('at L5 the play planned at L5 runs its notice without a second approval, under the same gate', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    const r = await playAt(t, 5, 'L5-1');
    expect(r.decisions).toEqual([
      { action: 'offer_credit', outcome: 'execute', policy_ids: ['credit-within-limit-l4'], autonomy: 5 },
      {
        action: 'send_message',
        outcome: 'execute',
        policy_ids: ['l5-plan-across-domains'],
        autonomy: 2,
      },
    ]);
    expect(r.play).toMatchObject({ status: 'done' });
    expect(r.play.state.completed).toEqual(['apply_credit', 'notify_customer']);
    expect(r.messages).toBe(1);
  });
});
