import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileTransport, maintenanceTick } from '../src/act/index.ts';
import { runScheduledAgents } from '../src/loop/index.ts';
import { createTestApp, daysAgo, ticketTrouble, trouble, troubledCustomer, type TestApp } from './helpers.ts';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('the governed loop on accepted signals', () => {
  it('agents propose, arbitration keeps one, policy decides, the play waits on its approval, and the ledger holds it all', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    const accountId = await troubledCustomer(t, 'LOOP-1');
    expect((await t.call('POST', '/api/v1/signals', { body: trouble('LOOP-1', 1), role: 'agent' })).status).toBe(202);
    await t.bus.drain();

    const proposals = await t.db.query<{
      id: string;
      agent_id: string;
      action: string;
      status: string;
      status_reason: string | null;
      ev_value: number;
      params: { amountCents?: number };
    }>('SELECT id, agent_id, action, status, status_reason, ev_value, params FROM proposals WHERE account_id = $1 ORDER BY ev_value DESC', [
      accountId,
    ]);
    const decided = proposals.filter((p) => p.status === 'decided');
    expect(decided).toHaveLength(1);
    expect(proposals.filter((p) => p.status === 'suppressed').length).toBeGreaterThan(0);
    // Losers give way to the winner; the case's notice goes with the case that lost.
    for (const p of proposals.filter((x) => x.status === 'suppressed')) expect(p.status_reason).toMatch(/^(conflict: |part of )/);
    expect(decided[0]!.ev_value).toBe(Math.max(...proposals.map((p) => p.ev_value)));

    // Worked by hand. p(churn) by the documented rules: 10% + 15 (month-to-month) + 2 × 15 (two triggers) = 55%.
    // Retention's credit: 55% × 0.3 save rate × a year of $80 − the credit − 2% × $960 = $139.20 − the credit, where the
    // bandit draws the credit from its offers (10%, 25% or 50% of the bill, at least $5) afresh each UTC day: $99.20 for
    // the 50% offer. Service recovery's case: 0.35 × (six months of $80 × 55% at risk) − $10 − 2% × $264 = $77.12. The
    // credit wins whichever offer is drawn.
    expect(decided[0]).toMatchObject({ agent_id: 'retention', action: 'offer_credit' });
    const credit = decided[0]!.params.amountCents!;
    expect([800, 2000, 4000]).toContain(credit);
    expect(decided[0]!.ev_value).toBeCloseTo(139.2 - credit / 100, 2);
    expect(proposals.find((p) => p.action === 'create_case')).toMatchObject({ status: 'suppressed', ev_value: 77.12 });
    const [decision] = await t.db.query<{ id: string; outcome: string; policy_ids: string[]; autonomy: number }>(
      'SELECT * FROM decisions WHERE proposal_id = $1',
      [decided[0]!.id],
    );
    // Credits at L3 wait for a person: the retention play starts and waits on the approval; nothing has run yet.
    expect(decision).toMatchObject({ outcome: 'approval', autonomy: 3, policy_ids: ['credit-l3-needs-approval'] });
    expect(await t.db.query('SELECT 1 FROM executions')).toHaveLength(0);
    const plays = await t.db.query<{ kind: string; step: string }>('SELECT kind, step FROM plays WHERE account_id = $1', [accountId]);
    expect(plays).toEqual([{ kind: 'retention', step: 'await_approval' }]);
    const types = (await t.db.query<{ type: string }>('SELECT DISTINCT type FROM ledger')).map((r) => r.type);
    expect(types).toEqual(expect.arrayContaining(['signal.accepted', 'proposal.created', 'policy.decided']));
    // The API names the customer of each proposal by account and customer id.
    const listed = (await t.call('GET', `/api/v1/proposals?accountId=${accountId}&status=decided`, { role: 'analyst' })).body.data;
    expect(listed).toMatchObject([{ id: decided[0]!.id, accountId, customerId: 'LOOP-1' }]);
    expect((await t.call('GET', '/api/v1/ledger/verify')).body.ok).toBe(true);
    // Each of the five signals is timed from intake to its decisions' commit.
    const metrics = (await t.call('GET', '/metrics', { token: null })).text;
    expect(metrics).toMatch(/^acs_signal_to_decision_seconds_count 5$/m);
  });

  it('keeps to the cooldown on the next batch, suppressing with the reason', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    const accountId = await troubledCustomer(t, 'LOOP-2');
    await t.call('POST', '/api/v1/signals', { body: ticketTrouble('LOOP-2', 1), role: 'agent' });
    await t.bus.drain();
    const executed = await t.db.query(
      'SELECT 1 FROM executions e JOIN decisions d ON d.id = e.decision_id JOIN proposals p ON p.id = d.proposal_id WHERE p.account_id = $1',
      [accountId],
    );
    expect(executed).toHaveLength(1);
    await t.call('POST', '/api/v1/signals', { body: ticketTrouble('LOOP-2', 2), role: 'agent' });
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
    const statuses = (await t.db.query<{ status: string }>('SELECT status FROM proposals WHERE account_id = $1', [accountId])).map(
      (r) => r.status,
    );
    expect(statuses).toContain('held_out');
    expect(statuses).not.toContain('decided');
    expect(await t.db.query('SELECT 1 FROM executions')).toHaveLength(0);
  });
});

describe('agent registry', () => {
  it('lists agents with autonomy per action; an admin pauses one or changes a level, and the loop obeys', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    const list = await t.call('GET', '/api/v1/agents', { role: 'analyst' });
    expect(list.body.data.map((a: { id: string }) => a.id)).toEqual([
      'retention',
      'service-recovery',
      'lead-nurturing',
      'data-stewardship',
    ]);
    const { effective, ...createCase } = list.body.data[1].actions.create_case;
    expect(createCase).toEqual({ autonomy: 3, defaultAutonomy: 3, risk: 'low', eligibility: [] });
    expect(effective).toMatchObject({ configured: 3, inForce: 'execute' });
    expect(list.body.data[0].actions.offer_credit.eligibility).toEqual(['subscription_live']);

    expect((await t.call('PATCH', '/api/v1/agents/service-recovery', { role: 'reviewer', body: { paused: true } })).status).toBe(403);
    expect(
      (await t.call('PATCH', '/api/v1/agents/service-recovery', { body: { autonomy: { offer_credit: 4 }, reason: 'test' } })).body.issues[0]
        .path,
    ).toBe('autonomy.offer_credit');
    expect(
      (await t.call('PATCH', '/api/v1/agents/service-recovery', { body: { autonomy: { create_case: 9 }, reason: 'test' } })).status,
    ).toBe(400);
    expect((await t.call('PATCH', '/api/v1/agents/nobody', { body: { paused: true } })).status).toBe(404);

    // With service recovery paused, retention's credit wins; at autonomy 2 it waits for a human.
    expect((await t.call('PATCH', '/api/v1/agents/service-recovery', { body: { paused: true } })).body.paused).toBe(true);
    const lowered = await t.call('PATCH', '/api/v1/agents/retention', { body: { autonomy: { offer_credit: 2 }, reason: 'test' } });
    expect(lowered.body.actions.offer_credit).toMatchObject({ autonomy: 2, defaultAutonomy: 3 });
    const accountId = await troubledCustomer(t, 'LOOP-4');
    await t.call('POST', '/api/v1/signals', { body: trouble('LOOP-4', 1), role: 'agent' });
    await t.bus.drain();
    const decided = await t.db.query<{ agent_id: string; action: string; outcome: string; autonomy: number }>(
      'SELECT p.agent_id, p.action, d.outcome, d.autonomy FROM proposals p JOIN decisions d ON d.proposal_id = p.id WHERE p.account_id = $1',
      [accountId],
    );
    expect(decided).toEqual([{ agent_id: 'retention', action: 'offer_credit', outcome: 'approval', autonomy: 2 }]);
    expect(await t.db.query("SELECT 1 FROM proposals WHERE agent_id = 'service-recovery' AND account_id = $1", [accountId])).toHaveLength(
      0,
    );
    expect((await t.db.query("SELECT 1 FROM ledger WHERE type = 'agent.updated'")).length).toBe(2);
  });
});

const leadForm = (id: string, email: string, consents?: { channel: string; purpose: string }[]) => ({
  id,
  type: 'lead_form',
  ...(consents ? { version: 2 } : {}),
  subject: { email },
  data: { firstName: 'Ann', email, formId: 'demo', ...(consents ? { consents } : {}) },
});

describe('leads in the loop', () => {
  it('nurtures a lead who ticked the sales-email box; for one who did not, policy denies the email and nothing else is worth doing', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    const posted = await t.call('POST', '/api/v1/signals', {
      role: 'agent',
      body: [leadForm('lf-1', 'ann@initech.example', [{ channel: 'email', purpose: 'sales' }]), leadForm('lf-2', 'bob@globex.example')],
    });
    expect(posted.status).toBe(202);
    const [withConsent, without] = posted.body.accepted.map((a: { leadId: string }) => a.leadId);
    await t.bus.drain();

    // The form's box became a consent of the lead, and the nurture email went out under it.
    const consents = await t.call('GET', `/api/v1/consents?leadId=${withConsent}`);
    expect(consents.body.data).toMatchObject([
      { leadId: withConsent, contactId: null, channel: 'email', purpose: 'sales', status: 'granted', source: 'lead_form:demo' },
    ]);
    const nurtured = (await t.call('GET', `/api/v1/proposals?leadId=${withConsent}`)).body.data;
    const sent = nurtured.find((p: { status: string }) => p.status === 'decided');
    expect(sent).toMatchObject({
      agentId: 'lead-nurturing',
      action: 'send_message',
      decision: { outcome: 'execute', policyIds: ['low-risk-outreach-l3'] },
    });
    expect(sent.executions).toHaveLength(1);
    expect(await t.db.query('SELECT 1 FROM messages WHERE lead_id = $1', [withConsent])).toHaveLength(1);

    // No consent: the email is denied by the consent policy and recorded so. The company enrichment below it is
    // worth exactly nothing by its own terms (2% of the lead's value gained, 2% charged for risk), so it does not run.
    const handled = (await t.call('GET', `/api/v1/proposals?leadId=${without}&status=decided`)).body.data;
    expect(handled.map((p: { action: string; decision: { outcome: string } }) => `${p.action}:${p.decision.outcome}`)).toEqual([
      'send_message:deny',
    ]);
    expect(handled[0].decision.policyIds).toEqual(['outreach-requires-consent']);
    const [enrichment] = (await t.call('GET', `/api/v1/proposals?leadId=${without}&status=suppressed`)).body.data;
    expect(enrichment).toMatchObject({ action: 'update_record', statusReason: 'not worth it: expected value 0 <= 0' });
    expect(await t.db.query('SELECT 1 FROM messages WHERE lead_id = $1', [without])).toHaveLength(0);
    expect((await t.call('GET', `/api/v1/leads/${without}`)).body.company).toBeNull();
    expect((await t.call('GET', '/api/v1/proposals?outcome=deny', { role: 'analyst' })).body.data).toHaveLength(1);
    expect((await t.call('GET', '/api/v1/proposals', { role: 'agent' })).status).toBe(403);
  });
});

describe('triggers', () => {
  it('runs an agent only for the signal types its manifest names', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    const accountId = await troubledCustomer(t, 'TRIG-1');
    await t.call('POST', '/api/v1/signals', {
      role: 'agent',
      body: [
        { type: 'web_visit', occurredAt: daysAgo(1), subject: { customerId: 'TRIG-1' }, data: { url: 'https://example.com/cancel' } },
        { type: 'outcome', occurredAt: daysAgo(1), subject: { customerId: 'TRIG-1' }, data: { kind: 'complaint' } },
      ],
    });
    await t.bus.drain();
    expect(await t.db.query('SELECT 1 FROM proposals WHERE account_id = $1', [accountId])).toHaveLength(0);
    await t.call('POST', '/api/v1/signals', { role: 'agent', body: trouble('TRIG-1', 1) });
    await t.bus.drain();
    const agents = (
      await t.db.query<{ agent_id: string }>('SELECT DISTINCT agent_id FROM proposals WHERE account_id = $1 ORDER BY 1', [accountId])
    ).map((r) => r.agent_id);
    expect(agents).toEqual(['retention', 'service-recovery']);
  });
});

describe('the retention play from the loop', () => {
  it('an offer waits for approval, the credit is applied once whoever runs it, and the play finishes with the notice; a paused agent cannot be approved', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    await t.call('PATCH', '/api/v1/agents/service-recovery', { body: { paused: true } });
    const accountId = await troubledCustomer(t, 'PLAY-9');
    await t.call('POST', '/api/v1/signals', { role: 'agent', body: trouble('PLAY-9', 1) });
    await t.bus.drain();
    const [play] = await t.db.query<{ id: string; step: string; status: string }>(
      'SELECT id, step, status FROM plays WHERE account_id = $1',
      [accountId],
    );
    expect(play).toMatchObject({ step: 'await_approval', status: 'running' });
    const queue = (await t.call('GET', '/api/v1/approvals', { role: 'reviewer' })).body.data;
    expect(queue).toHaveLength(1);
    expect(queue[0].proposal).toMatchObject({ agentId: 'retention', action: 'offer_credit' });
    expect(queue[0].decision.policyIds).toEqual(['credit-l3-needs-approval']);

    await t.call('PATCH', '/api/v1/agents/retention', { body: { paused: true } });
    const refused = await t.call('POST', `/api/v1/approvals/${queue[0].id}/approve`, { role: 'reviewer', body: {} });
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain('agent retention is paused');
    await t.call('PATCH', '/api/v1/agents/retention', { body: { paused: false } });

    const approved = await t.call('POST', `/api/v1/approvals/${queue[0].id}/approve`, { role: 'reviewer', body: {} });
    expect(approved.status).toBe(200);
    expect(approved.body.execution.action).toBe('offer_credit');
    const rounds = [];
    for (const later of [1, 2, 3])
      rounds.push(
        await maintenanceTick(
          t.db,
          { transport: new FileTransport(join(mkdtempSync(join(tmpdir(), 'acs-loop-')), 'messages.jsonl')), plays: t.plays },
          new Date(Date.now() + later * 120_000),
        ),
      );
    expect(rounds.reduce((n, r) => n + r.plays.steps, 0)).toBeGreaterThanOrEqual(3);
    const [done] = await t.db.query<{ status: string; state: { data: { creditKey: string; notice: string }; completed: string[] } }>(
      'SELECT status, state FROM plays WHERE id = $1',
      [play!.id],
    );
    expect(done!.status).toBe('done');
    expect(done!.state.completed).toEqual(['await_approval', 'apply_credit', 'notify_customer']);
    expect(done!.state.data.creditKey).toBe(`approval:${queue[0].id}`);
    // Retention's emails are L2: the notice is a new item in the queue, not sent on its own.
    expect(done!.state.data.notice).toMatch(/^waiting for approval/);
    expect(await t.db.query("SELECT 1 FROM credits WHERE account_id = $1 AND status = 'applied'", [accountId])).toHaveLength(1);
    expect((await t.call('GET', '/api/v1/ledger/verify')).body.ok).toBe(true);
  });
});

describe('scheduled agents', () => {
  it('the daily data-stewardship sweep files one task per problem record, and not again the next day', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    // A signal from an unknown address makes a profile with no name; two customers share a phone.
    await t.call('POST', '/api/v1/signals', {
      role: 'agent',
      body: { type: 'nps', subject: { email: 'ghost@example.com' }, data: { score: 9 } },
    });
    const twins: string[] = [];
    for (const n of [1, 2]) {
      const acc = await t.call('POST', '/api/v1/accounts', { body: { name: `Twin ${n}`, customerId: `TWIN-${n}` } });
      await t.call('POST', '/api/v1/contacts', { body: { accountId: acc.body.id, phone: '+14155550100' } });
      twins.push(acc.body.id as string);
    }
    await t.call('POST', '/api/v1/contacts', {
      body: {
        accountId: (await t.call('POST', '/api/v1/accounts', { body: { name: 'Fine', customerId: 'FINE-1' } })).body.id,
        email: 'fine@example.com',
      },
    });
    await t.bus.drain();
    expect(await t.db.query("SELECT 1 FROM proposals WHERE agent_id = 'data-stewardship'")).toHaveLength(0);

    const loop = { gate: t.gate, churn: () => undefined, holdout: { salt: 'test', fraction: 0 }, dailyCreditBudgetCents: 0 };
    const first = await runScheduledAgents(t.db, loop, new Date());
    expect(first).toMatchObject({ customers: 3, executed: 3 });
    const tasks = await t.db.query<{ account_id: string; details: string; assignee: string }>(
      'SELECT account_id, details, assignee FROM tasks ORDER BY account_id',
    );
    expect(tasks.every((x) => x.assignee === 'data-stewards')).toBe(true);
    expect(tasks.find((x) => x.account_id === twins[0])!.details).toContain(`possible duplicate of ${twins[1]}`);
    expect(tasks.some((x) => x.details.includes('no name'))).toBe(true);

    const next = await runScheduledAgents(t.db, loop, new Date(Date.now() + 86_400_000));
    expect(next).toMatchObject({ executed: 0, suppressed: 3 });
    expect(await t.db.query('SELECT 1 FROM tasks')).toHaveLength(3);
  });
});

describe('world route', () => {
  it('tells the server clock, and that no live world runs here', async () => {
    t = await createTestApp();
    const r = await t.call('GET', '/api/v1/world', { role: 'agent' });
    expect(r.status).toBe(200);
    expect(r.body.world).toBeNull();
    expect(Math.abs(Date.parse(r.body.now) - Date.now())).toBeLessThan(60_000);
  });
});
