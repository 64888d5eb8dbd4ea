import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDecision } from '../src/act/index.ts';
import { DEFAULT_POLICY_DIR, PolicyGate, recordProposal, type PolicyRequestInput } from '../src/assure/index.ts';
import { createTestApp, type TestApp } from './helpers.ts';

// Issue 16, admin: the autonomy shown is the one in force after policy, and an autonomy change is previewed, made
// for a reason and ledgered with it. Through the real HTTP app, on whichever backend the run uses.

let t: TestApp;
let accountId: string;
const HOUR = 3_600_000;

type Action = {
  autonomy: number;
  effective: { configured: number; inForce: string; summary: string; cases: { outcome: string; policyIds: string[] }[] };
};
const actionOf = async (agentId: string, action: string, role: 'admin' | 'agent' = 'admin'): Promise<Action> => {
  const res = await t.call('GET', '/api/v1/agents', { role });
  expect(res.status, res.text).toBe(200);
  return res.body.data.find((a: { id: string }) => a.id === agentId).actions[action];
};
const count = async (table: string) => (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n;

/** A retention credit the running gate decides at `autonomy`, recorded `hoursAgo`, as the loop records one. */
async function recordCredit(autonomy: number, amountCents: number, hoursAgo: number) {
  const request: PolicyRequestInput = {
    agent: { id: 'retention', role: 'agent', autonomy },
    action: 'offer_credit',
    customer: { id: 'AUT-1', segment: 'consumer', region: 'US', inHoldout: false },
    context: { risk: 'low', amountCents },
  };
  const decision = t.gate.decide(request);
  await t.db.transaction(async (tx) => {
    const proposalId = await recordProposal(tx, {
      agentId: 'retention',
      accountId,
      leadId: null,
      action: 'offer_credit',
      params: { amountCents },
      risk: 'low',
      ev: { value: 1 },
      reason: 'test credit',
    });
    await recordDecision(tx, proposalId, request, decision, { now: new Date(t.clock.now().getTime() - hoursAgo * HOUR) });
  });
  return decision.outcome;
}

beforeAll(async () => {
  t = await createTestApp();
  accountId = (await t.call('POST', '/api/v1/accounts', { body: { name: 'Autonomy Co', customerId: 'AUT-1' } })).body.id;
  // Three L3 credits, all waiting for a human (credits at L3 need approval): two within the $50 limit, one above.
  expect([await recordCredit(3, 2000, 1), await recordCredit(3, 3000, 2), await recordCredit(3, 9000, 3)]).toEqual([
    'approval',
    'approval',
    'approval',
  ]);
});
afterAll(async () => t.close());

describe('GET /api/v1/agents: the autonomy in force after policy', () => {
  it('shows an L3 credit as configured L3 but in force "every credit offer needs approval", naming the policy', async () => {
    const credit = await actionOf('retention', 'offer_credit', 'agent');
    expect(credit.autonomy).toBe(3);
    expect(credit.effective.configured).toBe(3);
    expect(credit.effective.inForce).toBe('approval');
    expect(credit.effective.cases.map((c) => c.outcome)).toEqual(['approval', 'approval']);
    expect(credit.effective.cases[0]!.policyIds).toEqual(['credit-l3-needs-approval']);
    expect(credit.effective.summary).toMatch(/^every credit offer needs approval because of credit-l3-needs-approval/);
  });

  it('shows a low-risk L3 case as running without a human, and an L2 message as waiting', async () => {
    const kase = await actionOf('service-recovery', 'create_case');
    expect(kase.effective).toMatchObject({ configured: 3, inForce: 'execute' });
    expect(kase.effective.cases[0]!.policyIds).toEqual(['low-risk-service-l3']);
    const message = await actionOf('retention', 'send_message');
    expect(message.effective).toMatchObject({ configured: 2, inForce: 'approval' });
    expect(message.effective.cases[0]!.policyIds).toEqual(['l2-draft-needs-approval']);
  });
});

describe('POST /api/v1/agents/{id}/autonomy-preview', () => {
  it('shows the behaviour before and after, and which recorded decisions would have gone differently; writes nothing', async () => {
    const ledgerBefore = await count('ledger');
    const res = await t.call('POST', '/api/v1/agents/retention/autonomy-preview', { body: { autonomy: { offer_credit: 4 } } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.agentId).toBe('retention');
    expect(res.body.actions.offer_credit.before).toMatchObject({ configured: 3, inForce: 'approval' });
    const after = res.body.actions.offer_credit.after;
    expect(after).toMatchObject({ configured: 4, inForce: 'varies' });
    expect(after.cases.map((c: { outcome: string }) => c.outcome)).toEqual(['execute', 'approval']);
    expect(after.cases[1].policyIds).toEqual(['credit-above-limit-needs-approval']);
    // The two credits within the limit would have run; the one above it still waits.
    expect(res.body.replay).toMatchObject({ days: 30, considered: 3, changed: 2, transitions: { 'approval→execute': 2 } });
    expect(await count('ledger')).toBe(ledgerBefore);
    expect((await actionOf('retention', 'offer_credit')).autonomy).toBe(3);
  });

  it('a shorter window replays fewer decisions; L1 would have denied them all', async () => {
    const res = await t.call('POST', '/api/v1/agents/retention/autonomy-preview', { body: { autonomy: { offer_credit: 1 }, days: 1 } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.actions.offer_credit.after).toMatchObject({ inForce: 'deny' });
    expect(res.body.actions.offer_credit.after.cases[0].policyIds).toEqual(['autonomy-l1-suggest-only']);
    expect(res.body.replay).toMatchObject({ days: 1, considered: 3, changed: 3, transitions: { 'approval→deny': 3 } });
  });

  it('refuses an unknown action, a bad level, no action and an unknown agent, naming the field', async () => {
    const unknown = await t.call('POST', '/api/v1/agents/retention/autonomy-preview', { body: { autonomy: { create_case: 3 } } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.issues[0].path).toBe('autonomy.create_case');
    const bad = await t.call('POST', '/api/v1/agents/retention/autonomy-preview', { body: { autonomy: { offer_credit: 7 } } });
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].path).toBe('autonomy.offer_credit');
    const none = await t.call('POST', '/api/v1/agents/retention/autonomy-preview', { body: { autonomy: {} } });
    expect(none.status).toBe(400);
    expect(none.body.issues[0].path).toBe('autonomy');
    expect((await t.call('POST', '/api/v1/agents/nobody/autonomy-preview', { body: { autonomy: { offer_credit: 3 } } })).status).toBe(404);
  });

  it('is an admin’s: a reviewer and an analyst are refused', async () => {
    for (const role of ['reviewer', 'analyst'] as const)
      expect(
        (await t.call('POST', '/api/v1/agents/retention/autonomy-preview', { role, body: { autonomy: { offer_credit: 4 } } })).status,
      ).toBe(403);
  });
});

describe('PATCH /api/v1/agents/{id}: an autonomy change needs a reason, ledgered with it', () => {
  it('refuses an autonomy change without a reason (400 naming reason) and changes nothing', async () => {
    const ledgerBefore = await count('ledger');
    for (const body of [{ autonomy: { offer_credit: 4 } }, { autonomy: { offer_credit: 4 }, reason: '   ' }]) {
      const res = await t.call('PATCH', '/api/v1/agents/retention', { body });
      expect(res.status).toBe(400);
      expect(res.body.issues.map((i: { path: string }) => i.path)).toContain('reason');
    }
    expect(await count('ledger')).toBe(ledgerBefore);
    expect((await actionOf('retention', 'offer_credit')).autonomy).toBe(3);
    // A pause still needs none.
    expect((await t.call('PATCH', '/api/v1/agents/lead-nurturing', { body: { paused: true } })).status).toBe(200);
    expect((await t.call('PATCH', '/api/v1/agents/lead-nurturing', { body: { paused: false } })).status).toBe(200);
  });

  it('keeps the reason with the change, names it in the ledger entry, and answers with the new behaviour in force', async () => {
    const reason = 'credits within the limit have been approved for weeks; let them run';
    const res = await t.call('PATCH', '/api/v1/agents/retention', { body: { autonomy: { offer_credit: 4 }, reason } });
    expect(res.status, res.text).toBe(200);
    expect(res.body.actions.offer_credit).toMatchObject({ autonomy: 4, effective: { configured: 4, inForce: 'varies' } });

    const changes = await t.call('GET', '/api/v1/agents/retention/autonomy-changes', { role: 'analyst' });
    expect(changes.status, changes.text).toBe(200);
    expect(changes.body.data[0]).toMatchObject({ levels: { offer_credit: 4 }, previous: { offer_credit: 3 }, reason });
    expect(changes.body.data[0].by).toMatch(/^token:/);

    const entries = await t.call('GET', '/api/v1/ledger?type=agent.updated&subjectId=retention');
    expect(entries.status, entries.text).toBe(200);
    const ledger = entries.body.data.filter((e: { data: Record<string, unknown> }) => 'autonomyChangeId' in e.data);
    expect(ledger).toHaveLength(1);
    expect(ledger[0]!.data).toEqual({
      autonomy: { offer_credit: 4 },
      previous: { offer_credit: 3 },
      autonomyChangeId: changes.body.data[0].id,
      reasonGiven: true,
    });
    expect(ledger[0]!.actor).toBe(changes.body.data[0].by);
    expect((await t.call('GET', '/api/v1/agents/retention/autonomy-changes', { role: 'agent' })).status).toBe(403);
    expect((await t.call('GET', '/api/v1/agents/nobody/autonomy-changes')).status).toBe(404);
  });
});

describe('the behaviour in force follows the policies the server runs', () => {
  let other: TestApp;
  let dir: string;
  beforeAll(async () => {
    // The same policies without the L3 credit rule: nothing permits an L3 credit, so Cedar denies it by default.
    dir = mkdtempSync(join(tmpdir(), 'acs-policies-'));
    writeFileSync(join(dir, 'schema.cedarschema'), readFileSync(join(DEFAULT_POLICY_DIR, 'schema.cedarschema')));
    const shipped = readFileSync(join(DEFAULT_POLICY_DIR, 'default.cedar'), 'utf8');
    const start = shipped.indexOf('@id("credit-l3-needs-approval")');
    const end = shipped.indexOf('@id(', start + 1);
    expect(start).toBeGreaterThan(0);
    writeFileSync(join(dir, 'default.cedar'), shipped.slice(0, start) + shipped.slice(end));
    other = await createTestApp({ gate: PolicyGate.load(dir) });
  });
  afterAll(async () => {
    await other.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('an L3 credit within the limit is shown as denied by default, not as waiting for approval', async () => {
    const res = await other.call('GET', '/api/v1/agents');
    const credit = res.body.data.find((a: { id: string }) => a.id === 'retention').actions.offer_credit;
    expect(credit.effective.configured).toBe(3);
    expect(credit.effective.inForce).toBe('varies');
    expect(credit.effective.cases.map((c: { outcome: string }) => c.outcome)).toEqual(['deny', 'approval']);
    expect(credit.effective.summary).toContain('default deny');
  });
});
