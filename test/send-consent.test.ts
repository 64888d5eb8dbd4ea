import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeDecision, recordDecision } from '../src/act/index.ts';
import { PolicyGate, recordProposal, type PolicyRequestInput } from '../src/assure/index.ts';
import { createRecord } from '../src/records/index.ts';
import type { Db } from '../src/store/index.ts';
import { openTestDb } from './helpers.ts';

// Issue 13, the consent leak seen in a long run: whether a message went out after a withdrawal must be tellable from
// the data. The send-time check is recorded with the message, on the clock that dates it, and a withdrawal effective
// before that time stops the send.

let db: Db;
let accountId: string;
let contactId: string;
const gate = PolicyGate.load();
const T = (iso: string) => new Date(iso);

beforeAll(async () => {
  db = await openTestDb();
  accountId = (await createRecord(db, 'accounts', { name: 'Consent Clock', customerId: 'CC-1' }, 'test')).id;
  contactId = (await createRecord(db, 'contacts', { accountId, email: 'cc@example.com' }, 'test')).id;
});
afterAll(async () => db.close());

const consent = async (status: 'granted' | 'withdrawn', at: string) =>
  (
    await createRecord(
      db,
      'consents',
      { contactId, channel: 'email', purpose: 'service', status, source: 'test', capturedAt: at, effectiveFrom: at },
      'test',
    )
  ).id;

/** A service e-mail policy lets run (L3, consent in effect when decided), executed at `sendAt`. */
async function sendAt(sendAt: string, n: number) {
  const request: PolicyRequestInput = {
    agent: { id: 'service-recovery', role: 'agent', autonomy: 3 },
    action: 'send_message',
    customer: { id: 'CC-1', segment: 'consumer', region: 'US', inHoldout: false },
    context: { risk: 'low', amountCents: 0, hasConsent: true, channel: 'email', purpose: 'service' },
  };
  const decision = gate.decide(request);
  expect(decision.outcome).toBe('execute');
  const { decisionId } = await db.transaction(async (tx) => {
    const proposalId = await recordProposal(tx, {
      agentId: 'service-recovery',
      accountId,
      leadId: null,
      action: 'send_message',
      params: { channel: 'email', purpose: 'service', template: 'check-in' },
      channel: 'email',
      purpose: 'service',
      risk: 'low',
      ev: { value: 5 },
      reason: 'test message',
    });
    return recordDecision(tx, proposalId, request, decision);
  });
  return executeDecision(db, { decisionId, idempotencyKey: `cc-${n}`, actor: 'test', now: T(sendAt) });
}

describe('the consent a message was sent under', () => {
  it('is recorded with the message, checked at the time the message is dated', async () => {
    const granted = await consent('granted', '2027-03-01T00:00:00Z');
    const sent = await sendAt('2027-03-26T05:00:00Z', 1);
    expect(sent.status).toBe('succeeded');
    const [message] = await db.query<{ consent_id: string; consent_checked_at: Date; created_at: Date }>(
      'SELECT consent_id, consent_checked_at, created_at FROM messages WHERE id = $1',
      [sent.result.messageId],
    );
    expect(message!.consent_id).toBe(granted);
    expect(new Date(message!.consent_checked_at).toISOString()).toBe('2027-03-26T05:00:00.000Z');
    expect(new Date(message!.created_at).getTime()).toBe(new Date(message!.consent_checked_at).getTime());
  });

  it('a withdrawal effective earlier the same day stops a send dated after it', async () => {
    // The case seen: withdrawal effective 06:01:28, message dated 23:59:59.999 the same day.
    const withdrawal = await consent('withdrawn', '2027-03-26T06:01:28Z');
    const late = await sendAt('2027-03-26T23:59:59.999Z', 2);
    expect(late.status).toBe('refused');
    expect(late.result).toMatchObject({ cause: 'consent', consentId: withdrawal });
    expect(await db.query('SELECT 1 FROM messages WHERE execution_key = $1', ['cc-2'])).toHaveLength(0);
    // Every message on record was checked no later than any withdrawal that was in effect when it was dated.
    const leaks = await db.query(
      `SELECT m.id FROM messages m JOIN consents c ON c.contact_id = $1 AND c.status = 'withdrawn'
        WHERE m.account_id = $2 AND c.effective_from <= m.consent_checked_at`,
      [contactId, accountId],
    );
    expect(leaks).toEqual([]);
  });
});
