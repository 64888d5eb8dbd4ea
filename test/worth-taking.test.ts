import { afterEach, describe, expect, it } from 'vitest';
import { PolicyGate } from '../src/assure/index.ts';
import { judgeSubject } from '../src/loop/index.ts';
import { arbitrate, DEFAULT_RULES, expectedValue, type CustomerContext, type ProposalDraft } from '../src/reason/index.ts';
import { createTestApp, trouble, troubledCustomer, type TestApp } from './helpers.ts';

// Issue 13, decisions worth taking: doing nothing is always an option (EV <= 0 never runs), and each action's
// eligibility, declared in its agent's manifest, is checked before arbitration and recorded when it refuses.

const now = new Date('2026-06-10T12:00:00Z');
const draft = (action: ProposalDraft['action'], gain: number, cost: number): ProposalDraft => ({
  agentId: 'lead-nurturing',
  action,
  params: {},
  risk: 'low',
  reason: 'Test.',
  ev: expectedValue(
    { value: 1, source: 'rule', detail: '' },
    { value: gain, source: 'rule', detail: '' },
    { value: cost, source: 'rule', detail: '' },
    'low',
  ),
});

describe('doing nothing is an option', () => {
  it('suppresses a draft whose expected value is at or below zero as not worth it, with its EV, and ranks the next', () => {
    const losing = draft('send_message', 0, 0.5);
    const even = draft('update_record', 50, 49); // 50 − 49 − 2% of 50 for low risk
    const winning = draft('route_lead', 20, 1);
    expect([losing.ev.value, even.ev.value]).toEqual([-0.5, 0]);
    const r = arbitrate([losing, even, winning], [], { ...DEFAULT_RULES, creditBudgetLeftCents: 0 }, now);
    expect(r.ranked).toEqual([winning]);
    expect(r.suppressed.map((s) => s.reason)).toEqual(['not worth it: expected value -0.5 <= 0', 'not worth it: expected value 0 <= 0']);
  });
});

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

type Row = { agent_id: string; action: string; status: string; status_reason: string | null };
const proposalsOf = (app: TestApp, accountId: string) =>
  app.db.query<Row>('SELECT agent_id, action, status, status_reason FROM proposals WHERE account_id = $1 ORDER BY agent_id, action', [
    accountId,
  ]);

describe('eligibility, before arbitration', () => {
  it('sends no retention action to a cancelled subscription, and records why; other agents still act', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    const accountId = await troubledCustomer(t, 'ELIG-1');
    const [sub] = (await t.call('GET', `/api/v1/subscriptions?accountId=${accountId}`)).body.data;
    expect((await t.call('PATCH', `/api/v1/subscriptions/${sub.id}`, { body: { status: 'cancelled' } })).status).toBe(200);
    expect((await t.call('POST', '/api/v1/signals', { body: trouble('ELIG-1', 1), role: 'agent' })).status).toBe(202);
    await t.bus.drain();

    const rows = await proposalsOf(t, accountId);
    const retention = rows.filter((r) => r.agent_id === 'retention');
    expect(retention.length).toBeGreaterThan(0);
    for (const r of retention) {
      expect(r).toMatchObject({ status: 'suppressed', status_reason: 'ineligible (subscription_live): the subscription is cancelled' });
    }
    expect(rows.filter((r) => r.status === 'decided').map((r) => r.agent_id)).toEqual(['service-recovery']);
    expect(await t.db.query('SELECT 1 FROM credits WHERE account_id = $1', [accountId])).toHaveLength(0);
    // No retention play; the play there is service recovery's (its case, then the notice that follows it, issue 13).
    const plays = await t.db.query<{ kind: string }>('SELECT kind FROM plays WHERE account_id = $1', [accountId]);
    expect(plays.map((p) => p.kind)).toEqual(['service_recovery']);
  });

  it('treats an outcome that says the customer churned like a cancelled subscription', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    const accountId = await troubledCustomer(t, 'ELIG-2');
    const churned = {
      id: 'ELIG-2-out',
      type: 'outcome',
      occurredAt: new Date().toISOString(),
      subject: { customerId: 'ELIG-2' },
      data: { kind: 'churned' },
    };
    expect((await t.call('POST', '/api/v1/signals', { body: [churned, ...trouble('ELIG-2', 1)], role: 'agent' })).status).toBe(202);
    await t.bus.drain();
    const retention = (await proposalsOf(t, accountId)).filter((r) => r.agent_id === 'retention');
    expect(retention.length).toBeGreaterThan(0);
    for (const r of retention)
      expect(r.status_reason).toBe('ineligible (subscription_live): an outcome recorded that the customer churned');
  });

  it('files no second save call while one is open', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    const accountId = await troubledCustomer(t, 'ELIG-3');
    // An open save call from an earlier run (tasks are written by the create_task tool, not the records API).
    await t.db.query("INSERT INTO tasks (id, account_id, title, status) VALUES ('task_elig3', $1, 'Save call', 'open')", [accountId]);
    expect((await t.call('POST', '/api/v1/signals', { body: trouble('ELIG-3', 1), role: 'agent' })).status).toBe(202);
    await t.bus.drain();
    const calls = (await proposalsOf(t, accountId)).filter((r) => r.agent_id === 'retention' && r.action === 'create_task');
    expect(calls).toEqual([
      {
        agent_id: 'retention',
        action: 'create_task',
        status: 'suppressed',
        status_reason: 'ineligible (no_open_save_call): a save call is already open',
      },
    ]);
  });
});

describe('eligibility of outreach', () => {
  const gate = PolicyGate.load();
  const person = (extra: Partial<CustomerContext>): CustomerContext => ({
    accountId: 'acc_reach',
    customerId: 'REACH-1',
    attributes: {},
    subscription: null,
    features: {},
    consents: [],
    contacts: [{ email: 'reach@example.com' }],
    ...extra,
  });
  const message: ProposalDraft = { ...draft('send_message', 40, 0.5), agentId: 'service-recovery', channel: 'email', purpose: 'service' };
  const judge = (ctx: CustomerContext) =>
    judgeSubject(ctx, [message], [], { ...DEFAULT_RULES, creditBudgetLeftCents: 0 }, { gate, settings: new Map(), held: false }, now);

  it('sends nothing to an erased person, or to one with no email or phone, and says which', () => {
    for (const [ctx, why] of [
      [person({ erased: true }), "ineligible (person_reachable): the person's data was erased"],
      [person({ contacts: [{ email: null, phone: null }] }), 'ineligible (person_reachable): no email or phone on record'],
    ] as const) {
      const v = judge(ctx);
      expect(v.decided).toEqual([]);
      expect(v.winner).toBeNull();
      expect(v.suppressed.map((s) => s.reason)).toEqual([why]);
    }
    // The same message to a reachable person goes on to policy.
    expect(judge(person({})).decided).toHaveLength(1);
  });
});
