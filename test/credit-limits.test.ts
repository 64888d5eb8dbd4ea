import { afterEach, describe, expect, it } from 'vitest';
import { approveAndRun, creditBudgetLeft, recordDecision } from '../src/act/index.ts';
import { PolicyGate, recordProposal, type PolicyRequestInput } from '../src/assure/index.ts';
import { createTestApp, type TestApp } from './helpers.ts';

// Issue 13: no edited parameter escapes a limit, and the daily credit budget counts offers waiting for approval
// and holds where credits are written, also under concurrent approvals (on PostgreSQL, truly concurrent).

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const BUDGET = 5000;
const budgetGate = () => PolicyGate.load(undefined, { dailyCreditBudgetCents: BUDGET });

/** A customer and a credit offer of `amountCents` that policy sends for approval (L3), as the loop records one. */
async function pendingOffer(app: TestApp, amountCents: number, n: number): Promise<string> {
  const account = await app.call('POST', '/api/v1/accounts', { body: { name: `Limits ${n}`, customerId: `LIM-${n}` } });
  const request: PolicyRequestInput = {
    agent: { id: 'retention', role: 'agent', autonomy: 3 },
    action: 'offer_credit',
    customer: { id: `LIM-${n}`, segment: 'consumer', region: 'US', inHoldout: false },
    context: { risk: 'low', amountCents, hasConsent: false },
  };
  const decision = app.gate.decide(request);
  expect(decision.outcome).toBe('approval');
  return app.db.transaction(async (tx) => {
    const proposalId = await recordProposal(tx, {
      agentId: 'retention',
      accountId: account.body.id,
      leadId: null,
      action: 'offer_credit',
      params: { amountCents, currency: 'USD', reason: 'retention offer' },
      risk: 'low',
      ev: { value: 10 },
      reason: 'test offer',
    });
    return (await recordDecision(tx, proposalId, request, decision)).approvalId!;
  });
}

const approveWith = (app: TestApp, id: string, params?: Record<string, unknown>) =>
  app.call('POST', `/api/v1/approvals/${id}/approve`, { role: 'reviewer', body: params ? { params } : {} });
const statusOf = async (app: TestApp, id: string) =>
  (await app.db.query<{ status: string }>('SELECT status FROM approvals WHERE id = $1', [id]))[0]!.status;
const appliedCents = async (app: TestApp) =>
  (await app.db.query<{ cents: number }>("SELECT coalesce(sum(amount_cents), 0)::int AS cents FROM credits WHERE status = 'applied'"))[0]!
    .cents;

describe("an approver's edit keeps to the limits", () => {
  it('refuses a credit raised above the approval limit, naming it, and leaves the approval pending', async () => {
    t = await createTestApp();
    const id = await pendingOffer(t, 2000, 1);
    for (const amountCents of [999_999, 9000]) {
      const r = await approveWith(t, id, { amountCents, currency: 'USD' });
      expect(r.status).toBe(409);
      expect(r.body.code).toBe('approval.edit_over_limit');
      expect(r.body.issues).toEqual([{ path: 'params.amountCents', message: 'credit approval limit: at most 5000 cents' }]);
    }
    expect(await statusOf(t, id)).toBe('pending');
    expect(await appliedCents(t)).toBe(0);
    // Within the limit, the edit is approved and the edited credit applied.
    expect((await approveWith(t, id, { amountCents: 4000, currency: 'USD' })).status).toBe(200);
    expect(await appliedCents(t)).toBe(4000);
  });

  it('checks an edit before approving, as approving would, and changes nothing (the console’s live check)', async () => {
    t = await createTestApp({ gate: budgetGate() });
    const id = await pendingOffer(t, 2000, 4);
    await pendingOffer(t, 2500, 5);
    const check = (params: Record<string, unknown>) =>
      t!.call('POST', `/api/v1/approvals/${id}/check-edit`, { role: 'reviewer', body: { params } });
    // Within the limits: ok, with what is left (5000 − the other offer's 2500 waiting).
    const fine = await check({ amountCents: 2400, currency: 'USD' });
    expect(fine.status).toBe(200);
    expect(fine.body).toEqual({ ok: true, refusal: null, limits: { creditApprovalLimitCents: 5000, creditBudgetLeftCents: 2500 } });
    // Over the budget left: the refusal approving would give, naming the field and the limit.
    const over = await check({ amountCents: 3000, currency: 'USD' });
    expect(over.status).toBe(200);
    expect(over.body.ok).toBe(false);
    expect(over.body.refusal).toMatchObject({
      code: 'approval.edit_over_limit',
      issues: [{ path: 'params.amountCents', message: 'daily credit budget: 2500 of 5000 cents left' }],
    });
    // A malformed edit is named too; a missing params object is a 400; an analyst may not check.
    expect((await check({ amountCents: 'lots' })).body.refusal.issues[0].path).toBe('params.amountCents');
    expect((await t.call('POST', `/api/v1/approvals/${id}/check-edit`, { role: 'reviewer', body: {} })).status).toBe(400);
    expect((await t.call('POST', `/api/v1/approvals/${id}/check-edit`, { role: 'analyst', body: { params: {} } })).status).toBe(403);
    // Nothing changed: still pending, nothing applied, no ledger entry for it.
    expect(await statusOf(t, id)).toBe('pending');
    expect(await appliedCents(t)).toBe(0);
    const [row] = await t.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM ledger WHERE subject_id = $1 AND type LIKE 'approval.%'",
      [id],
    );
    expect(row!.n).toBe(0);
    // And approving what was checked ok goes through.
    expect((await approveWith(t, id, { amountCents: 2400, currency: 'USD' })).status).toBe(200);
  });

  it('counts offers waiting for approval against the daily budget, and refuses an edit that would pass it', async () => {
    t = await createTestApp({ gate: budgetGate() });
    const first = await pendingOffer(t, 2000, 2);
    await pendingOffer(t, 2500, 3);
    expect(await creditBudgetLeft(t.db, BUDGET, new Date())).toBe(500);
    // Left for the first offer's edit: 5000 − 2500 waiting on the other offer.
    const over = await approveWith(t, first, { amountCents: 3000, currency: 'USD' });
    expect(over.status).toBe(409);
    expect(over.body.issues).toEqual([{ path: 'params.amountCents', message: 'daily credit budget: 2500 of 5000 cents left' }]);
    expect((await approveWith(t, first, { amountCents: 2500, currency: 'USD' })).status).toBe(200);
    expect(await creditBudgetLeft(t.db, BUDGET, new Date())).toBe(0);
  });
});

describe('the credit tool holds the daily budget', () => {
  it('applies concurrent approved credits only while they fit, and records the rest as refused', async () => {
    t = await createTestApp({ gate: budgetGate() });
    const ids: string[] = [];
    for (let n = 0; n < 5; n++) ids.push(await pendingOffer(t, 2000, 10 + n));
    const runs = await Promise.all(ids.map((id) => approveAndRun(t!.db, t!.gate, id, { actor: 'reviewer:test', now: new Date() })));
    const statuses = runs.map((r) => r.execution.status).sort();
    expect(statuses).toEqual(['refused', 'refused', 'refused', 'succeeded', 'succeeded']);
    expect(await appliedCents(t)).toBe(4000);
    const refused = runs.find((r) => r.execution.status === 'refused')!;
    expect(refused.execution.result).toMatchObject({ cause: 'credit_budget', budgetCents: BUDGET, appliedCents: 4000 });
  });
});
