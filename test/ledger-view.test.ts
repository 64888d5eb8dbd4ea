import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDecision } from '../src/act/index.ts';
import { recordProposal, type PolicyRequestInput } from '../src/assure/index.ts';
import { createTestApp, type TestApp } from './helpers.ts';

/** The ledger as people read it: actors by name, and what each approval entry was about. */
describe('the ledger names its actors and says what an approval was about', () => {
  let t: TestApp;
  let approvalId = '';
  let accountId = '';

  beforeAll(async () => {
    t = await createTestApp();
    accountId = (await t.call('POST', '/api/v1/accounts', { body: { name: 'Ledger Reader', customerId: 'LEDG-1', kind: 'person' } })).body
      .id;
    const request: PolicyRequestInput = {
      agent: { id: 'retention', role: 'agent', autonomy: 4 },
      action: 'offer_credit',
      customer: { id: 'LEDG-1', segment: 'consumer', region: 'US', inHoldout: false },
      context: { risk: 'low', amountCents: 9000, hasConsent: false },
    };
    const decision = t.gate.decide(request);
    expect(decision.outcome).toBe('approval');
    ({ approvalId } = (await t.db.transaction(async (tx) => {
      const proposalId = await recordProposal(tx, {
        agentId: 'retention',
        accountId,
        leadId: null,
        action: 'offer_credit',
        params: { amountCents: 9000, reason: 'goodwill' },
        risk: 'low',
        ev: { value: 10 },
        reason: 'ledger view test',
      });
      return recordDecision(tx, proposalId, request, decision);
    })) as { approvalId: string });
  });
  afterAll(async () => t.close());

  it('an approval entry carries the action, customer and amount, and its actor by token name and role', async () => {
    const edited = await t.call('POST', `/api/v1/approvals/${approvalId}/approve`, {
      role: 'reviewer',
      body: { params: { amountCents: 7500 } },
    });
    expect(edited.status, edited.text).toBe(200);
    const res = await t.call('GET', `/api/v1/ledger?subjectId=${approvalId}&type=approval.approved`, { role: 'reviewer' });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toHaveLength(1);
    expect(res.body.data[0]).toMatchObject({
      actor: expect.stringMatching(/^token:/),
      actorName: 'test reviewer',
      actorKind: 'person',
      actorRole: 'reviewer',
      // The amount approved is the edited one.
      about: {
        action: 'offer_credit',
        agentId: 'retention',
        customer: { customerId: 'LEDG-1', name: 'Ledger Reader' },
        amountCents: 7500,
        status: 'approved',
      },
    });
  });

  it('agents and the system are named too; entries about other things have no approval details', async () => {
    const all = (await t.call('GET', '/api/v1/ledger?limit=200')).body.data as {
      actor: string;
      actorName: string;
      actorKind: string;
      subjectType: string | null;
      about: unknown;
    }[];
    expect(all.length).toBeGreaterThan(1);
    for (const e of all) {
      if (e.actor.startsWith('token:')) expect(e.actorName).toMatch(/^test /);
      if (e.actor.startsWith('agent:')) expect(e).toMatchObject({ actorKind: 'agent', actorName: `${e.actor.slice(6)} agent` });
      if (e.actor === 'system') expect(e).toMatchObject({ actorKind: 'system', actorName: 'the system' });
      if (e.subjectType !== 'approvals') expect(e.about).toBeNull();
    }
    const created = all.find((e) => e.subjectType === 'accounts');
    expect(created?.actorName).toBe('test admin');
  });
});
