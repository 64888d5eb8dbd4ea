import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDecision } from '../src/act/index.ts';
import { recordProposal, type PolicyRequestInput } from '../src/assure/index.ts';
import { createTestApp, type TestApp } from './helpers.ts';

// Issue 16, the approval card: a message's recipient is a choice from the customer's contact points, with whether
// consent for the message is in effect; an edit to any other recipient is refused (422, naming params.to). Through the
// real HTTP app, on whichever backend the run uses.

const DAY = 86_400_000;
const now = Date.parse('2030-09-10T12:00:00.000Z');
let t: TestApp;
let accountId: string;
const MESSAGE = { channel: 'email', purpose: 'service', template: 'check-in' };

type Recipient = { to: string; consented: boolean; why: string | null };
type Item = { id: string; proposal: { message: { to: string | null; recipients: Recipient[] } | null } };

async function contact(email: string, consent?: 'granted' | 'withdrawn') {
  const c = await t.call('POST', '/api/v1/contacts', { body: { accountId, email } });
  expect(c.status, c.text).toBe(201);
  if (!consent) return;
  const at = new Date(now - 30 * DAY).toISOString();
  const res = await t.call('POST', '/api/v1/consents', {
    body: { contactId: c.body.id, channel: 'email', purpose: 'service', status: consent, source: 'signup', capturedAt: at },
  });
  expect(res.status, res.text).toBe(201);
}

/** A service e-mail the agent drafted at L2: it waits for a person. */
async function pendingMessage(): Promise<string> {
  const request: PolicyRequestInput = {
    agent: { id: 'service-recovery', role: 'agent', autonomy: 2 },
    action: 'send_message',
    customer: { id: 'RCP-1', segment: 'consumer', region: 'US', inHoldout: false },
    context: { risk: 'low', amountCents: 0, hasConsent: true, channel: 'email', purpose: 'service' },
  };
  const decision = t.gate.decide(request);
  expect(decision.outcome).toBe('approval');
  const r = await t.db.transaction(async (tx) => {
    const proposalId = await recordProposal(
      tx,
      {
        agentId: 'service-recovery',
        accountId,
        leadId: null,
        action: 'send_message',
        params: MESSAGE,
        channel: 'email',
        purpose: 'service',
        risk: 'low',
        ev: { value: 5 },
        reason: 'check in after the outage',
      },
      { now: new Date(now) },
    );
    return recordDecision(tx, proposalId, request, decision, { now: new Date(now) });
  });
  return r.approvalId!;
}

async function item(id: string): Promise<Item> {
  const res = await t.call('GET', '/api/v1/approvals', { role: 'reviewer' });
  expect(res.status, res.text).toBe(200);
  const found = (res.body.data as Item[]).find((a) => a.id === id);
  expect(found, `approval ${id} in the queue`).toBeDefined();
  return found!;
}

const approve = (id: string, to: string) =>
  t.call('POST', `/api/v1/approvals/${id}/approve`, { role: 'reviewer', body: { params: { ...MESSAGE, to } } });

beforeAll(async () => {
  t = await createTestApp({ clock: { now: () => new Date(now) } });
  const acc = await t.call('POST', '/api/v1/accounts', { body: { name: 'Recipient Co', customerId: 'RCP-1', kind: 'person' } });
  expect(acc.status, acc.text).toBe(201);
  accountId = acc.body.id;
  await contact('granted@example.com', 'granted');
  await contact('withdrawn@example.com', 'withdrawn');
  await contact('never-asked@example.com');
});
afterAll(async () => t?.close());

describe('the approval card offers the customer\u2019s contact points, with their consent', () => {
  it('lists each point for the channel, consented or not and why', async () => {
    const id = await pendingMessage();
    const { message } = (await item(id)).proposal;
    expect(message?.to).toBeNull();
    const byPoint = Object.fromEntries(message!.recipients.map((r) => [r.to, r]));
    expect(Object.keys(byPoint).sort()).toEqual(['granted@example.com', 'never-asked@example.com', 'withdrawn@example.com']);
    expect(byPoint['granted@example.com']).toEqual({ to: 'granted@example.com', consented: true, why: null });
    expect(byPoint['withdrawn@example.com']).toMatchObject({ consented: false, why: expect.stringMatching(/was withdrawn/) });
    expect(byPoint['never-asked@example.com']).toMatchObject({ consented: false, why: 'no consent for email for service' });
  });

  it('refuses an edit to a point without consent, or to an address that is not the customer\u2019s, naming params.to', async () => {
    const id = await pendingMessage();
    for (const to of ['withdrawn@example.com', 'never-asked@example.com', 'stranger@example.com']) {
      const res = await approve(id, to);
      expect(res.status, `${to}: ${res.text}`).toBe(422);
      expect(res.body).toMatchObject({ code: 'approval.recipient_not_consented' });
      expect(res.body.issues.map((i: { path: string }) => i.path)).toEqual(['params.to']);
    }
    expect((await approve(id, 'stranger@example.com')).body.issues[0].message).toMatch(/not one of the customer's email contact points/);
    // The live check the card runs says the same before the reviewer approves.
    const check = await t.call('POST', `/api/v1/approvals/${id}/check-edit`, {
      role: 'reviewer',
      body: { params: { ...MESSAGE, to: 'withdrawn@example.com' } },
    });
    expect(check.status, check.text).toBe(200);
    expect(check.body).toMatchObject({ ok: false, refusal: { code: 'approval.recipient_not_consented' } });
    // Nothing was sent, and the approval still waits.
    expect(await t.db.query('SELECT id FROM messages WHERE account_id = $1', [accountId])).toEqual([]);
    expect((await item(id)).id).toBe(id);
  });

  it('accepts a consented point, written in any case, and sends the message there', async () => {
    const id = await pendingMessage();
    const res = await approve(id, 'Granted@Example.com');
    expect(res.status, res.text).toBe(200);
    expect(res.body.execution.status).toBe('succeeded');
    const [sent] = await t.db.query<{ contact_point: string }>('SELECT contact_point FROM messages WHERE id = $1', [
      res.body.execution.result.messageId,
    ]);
    expect(sent?.contact_point).toBe('granted@example.com');
  });
});
