import { afterEach, describe, expect, it } from 'vitest';
import { runDuePlays } from '../src/act/index.ts';
import { publish } from '../src/bus/index.ts';
import { createTestApp, daysAgo, ticketTrouble, troubledCustomer, type TestApp } from './helpers.ts';

// Issue 13, "arbitration that serves the customer": service recovery's notice ("we opened a case and are on it") is
// the second step of its case's play, not a rival draft. It used to lose the one-action-per-customer slot to the case
// almost every time (338 of 340 on main). Now the case wins the slot, and the notice follows it, decided by the same
// gate when it is sent, on the consent in effect then, exactly once.

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const later = (ms = 60_000) => new Date(Date.now() + ms);
const runPlays = (app: TestApp) => runDuePlays(app.db, app.plays, { actor: 'test', now: later() });

type Proposal = { id: string; action: string; status: string; status_reason: string | null; follows_decision_id: string | null };
const proposalsOf = (app: TestApp, accountId: string) =>
  app.db.query<Proposal>(
    'SELECT id, action, status, status_reason, follows_decision_id FROM proposals WHERE account_id = $1 AND agent_id = $2 ORDER BY created_at, id',
    [accountId, 'service-recovery'],
  );
const playsOf = (app: TestApp, accountId: string) =>
  app.db.query<{ id: string; kind: string; step: string; status: string; state: { data: { sent?: string }; completed: string[] } }>(
    'SELECT id, kind, step, status, state FROM plays WHERE account_id = $1',
    [accountId],
  );
const messagesOf = (app: TestApp, accountId: string) =>
  app.db.query<{ template: string; contact_point: string; consent_id: string | null }>(
    'SELECT template, contact_point, consent_id FROM messages WHERE account_id = $1',
    [accountId],
  );
// Support tickets open cases of their own; the proactive case is the one the agent's create_case opened.
const proactiveCases = (app: TestApp, accountId: string) =>
  app.db.query<{ case_id: string }>(
    `SELECT e.result->>'caseId' AS case_id FROM executions e JOIN decisions d ON d.id = e.decision_id JOIN proposals p ON p.id = d.proposal_id
     WHERE p.account_id = $1 AND p.action = 'create_case' AND e.status = 'succeeded'`,
    [accountId],
  );
const caseDecision = async (app: TestApp, accountId: string) => {
  const [row] = await app.db.query<{ id: string; outcome: string }>(
    `SELECT d.id, d.outcome FROM decisions d JOIN proposals p ON p.id = d.proposal_id
     WHERE p.account_id = $1 AND p.action = 'create_case'`,
    [accountId],
  );
  return row!;
};

describe('the service recovery play: a case, then its notice', () => {
  it('a troubled customer gets the case and its notice, with one slot used', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    const accountId = await troubledCustomer(t, 'SRP-1');
    await t.call('POST', '/api/v1/signals', { role: 'agent', body: ticketTrouble('SRP-1', 1) });
    await t.bus.drain();

    // One slot: the case is the one action the loop decided; the notice did not compete (neither decided nor a conflict loser).
    const atDecide = await proposalsOf(t, accountId);
    expect(atDecide.filter((p) => p.status === 'decided').map((p) => p.action)).toEqual(['create_case']);
    expect(atDecide.some((p) => p.action === 'send_message')).toBe(false);
    const decision = await caseDecision(t, accountId);
    expect(decision.outcome).toBe('execute');
    expect(await proactiveCases(t, accountId)).toHaveLength(1);
    const [started] = await playsOf(t, accountId);
    expect(started).toMatchObject({ kind: 'service_recovery', step: 'notify_customer', status: 'running' });

    // The play's next step sends the notice: decided by policy (consent granted, L3 service email) and queued.
    expect((await runPlays(t)).steps).toBe(1);
    const [done] = await playsOf(t, accountId);
    expect(done).toMatchObject({ status: 'done', state: { completed: ['notify_customer'], data: { sent: 'queued' } } });
    const notice = (await proposalsOf(t, accountId)).find((p) => p.action === 'send_message')!;
    // It names the case's decision it follows: a contact for the caps, not a second action for the cooldown.
    expect(notice).toMatchObject({ status: 'decided', follows_decision_id: decision.id });
    const listed = (await t.call('GET', `/api/v1/proposals?accountId=${accountId}`, { role: 'analyst' })).body.data;
    expect(listed.find((p: { id: string }) => p.id === notice.id).followsDecisionId).toBe(decision.id);
    expect(listed.find((p: { action: string }) => p.action === 'create_case').followsDecisionId).toBeNull();
    const [noticeDecision] = await t.db.query<{ outcome: string; policy_ids: string[] }>(
      'SELECT outcome, policy_ids FROM decisions WHERE proposal_id = $1',
      [notice.id],
    );
    expect(noticeDecision).toMatchObject({ outcome: 'execute', policy_ids: ['low-risk-outreach-l3'] });
    const messages = await messagesOf(t, accountId);
    expect(messages).toMatchObject([{ template: 'we-are-on-it', contact_point: 'srp-1@example.com' }]);
    expect(messages[0]!.consent_id).toMatch(/^cons_/);
    const ledger = (await t.db.query<{ type: string }>('SELECT type FROM ledger WHERE subject_id = $1 ORDER BY seq, id', [done!.id])).map(
      (r) => r.type,
    );
    expect(ledger).toEqual(['play.started', 'play.done']);
    expect((await t.call('GET', '/api/v1/ledger/verify')).body.ok).toBe(true);
  });

  it('without consent the case still runs, and the notice is refused with the reason recorded; nothing is sent', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    const accountId = await troubledCustomer(t, 'SRP-2');
    const [contact] = (await t.call('GET', `/api/v1/contacts?accountId=${accountId}`)).body.data;
    const withdrawn = await t.call('POST', '/api/v1/consents', {
      body: {
        contactId: contact.id,
        channel: 'email',
        purpose: 'service',
        status: 'withdrawn',
        source: 'unsubscribe',
        capturedAt: daysAgo(50),
      },
    });
    expect(withdrawn.status, withdrawn.text).toBe(201);
    await t.call('POST', '/api/v1/signals', { role: 'agent', body: ticketTrouble('SRP-2', 1) });
    await t.bus.drain();
    expect((await caseDecision(t, accountId)).outcome).toBe('execute');
    expect(await proactiveCases(t, accountId)).toHaveLength(1);

    await runPlays(t);
    const [play] = await playsOf(t, accountId);
    expect(play!.status).toBe('refused');
    expect(play!.state.data.sent).toMatch(/^the notice was not sent: /);
    const notice = (await proposalsOf(t, accountId)).find((p) => p.action === 'send_message')!;
    const [denied] = await t.db.query<{ outcome: string; policy_ids: string[] }>(
      'SELECT outcome, policy_ids FROM decisions WHERE proposal_id = $1',
      [notice.id],
    );
    expect(denied).toMatchObject({ outcome: 'deny', policy_ids: ['outreach-requires-consent'] });
    const entries = (await t.call('GET', `/api/v1/ledger?subjectId=${play!.id}`, { role: 'analyst' })).body.data;
    const refusal = entries.find((e: { type: string }) => e.type === 'play.refused');
    expect(refusal.data).toMatchObject({ step: 'notify_customer', why: play!.state.data.sent });
    expect(await messagesOf(t, accountId)).toEqual([]);
    // The case stays open: a refused notice ends the play without undoing what already ran.
    expect(await t.db.query("SELECT 1 FROM executions WHERE status = 'compensated'")).toHaveLength(0);
  });

  it('replaying the delivery, and running the plays again, sends the notice once', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    const accountId = await troubledCustomer(t, 'SRP-3');
    await t.call('POST', '/api/v1/signals', { role: 'agent', body: ticketTrouble('SRP-3', 1) });
    await t.bus.drain();
    await runPlays(t);

    // The same accepted batch delivered again (at-least-once delivery): the loop sees the case already taken.
    const [event] = await t.db.query<{ payload: unknown }>(
      "SELECT payload FROM outbox WHERE topic = 'signals.accepted' ORDER BY id LIMIT 1",
    );
    await t.db.transaction((tx) => publish(tx, 'signals.accepted', event!.payload));
    await t.bus.drain();
    // And the same signals posted again are duplicates; the plays run again, later.
    await t.call('POST', '/api/v1/signals', { role: 'agent', body: ticketTrouble('SRP-3', 1) });
    await t.bus.drain();
    for (const ms of [120_000, 3_600_000]) await runDuePlays(t.db, t.plays, { actor: 'test', now: later(ms) });

    expect(await playsOf(t, accountId)).toHaveLength(1);
    expect(await proactiveCases(t, accountId)).toHaveLength(1);
    expect(await messagesOf(t, accountId)).toHaveLength(1);
    const decided = (await proposalsOf(t, accountId)).filter((p) => p.status === 'decided').map((p) => p.action);
    expect(decided).toEqual(['create_case', 'send_message']);
    // The replay's drafts were held back by the case's cooldown (the first batch's losers lost to the case).
    const reasons = (await proposalsOf(t, accountId)).filter((p) => p.status === 'suppressed').map((p) => p.status_reason);
    expect(reasons.some((r) => r!.startsWith('cooldown: '))).toBe(true);
    expect(reasons.every((r) => /^(cooldown|conflict|part of service-recovery\/create_case)/.test(r!))).toBe(true);
  });
});
