import { afterEach, describe, expect, it } from 'vitest';
import {
  executeDecision,
  recordDecision,
  retentionPlay,
  runDuePlays,
  startPlay,
  playRegistry,
  type RetentionPlayState,
} from '../src/act/index.ts';
import { recordProposal, type PolicyRequestInput } from '../src/assure/index.ts';
import { runScheduledAgents } from '../src/loop/index.ts';
import { createTestApp, trouble, troubledCustomer, type TestApp } from './helpers.ts';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** A proposal of `agentId` with the gate's real decision on it, as the loop records them. */
async function decided(
  app: TestApp,
  accountId: string,
  agentId: string,
  action: 'create_case' | 'create_task',
  autonomy: number,
  params: Record<string, unknown>,
) {
  const request: PolicyRequestInput = {
    agent: { id: agentId, role: 'agent', autonomy },
    action,
    customer: { id: 'KILL', segment: 'consumer', region: 'US', inHoldout: false },
    context: { risk: 'low' },
  };
  const decision = app.gate.decide(request);
  return app.db.transaction(async (tx) => {
    const proposalId = await recordProposal(tx, {
      agentId,
      accountId,
      leadId: null,
      action,
      params,
      risk: 'low',
      ev: { value: 5 },
      reason: 'test',
    });
    return { outcome: decision.outcome, ...(await recordDecision(tx, proposalId, request, decision)) };
  });
}

const engage = (app: TestApp, reason = 'runaway credits, investigating') =>
  app.call('POST', '/api/v1/agents/kill-switch', { body: { engaged: true, reason } });
const release = (app: TestApp) => app.call('POST', '/api/v1/agents/kill-switch', { body: { engaged: false } });
const count = async (app: TestApp, sql: string, params: unknown[] = []) => (await app.db.query(sql, params)).length;

describe('the kill switch', () => {
  it('is shown with the agents, only an admin moves it, engaging needs a reason, and each change is ledgered', async () => {
    t = await createTestApp();
    const initial = await t.call('GET', '/api/v1/agents', { role: 'agent' });
    expect(initial.body.killSwitch).toEqual({ engaged: false, by: null, at: null, reason: null });
    expect(initial.body.data).toHaveLength(4);

    expect((await t.call('POST', '/api/v1/agents/kill-switch', { role: 'reviewer', body: { engaged: true, reason: 'x' } })).status).toBe(
      403,
    );
    const paths = async (body: unknown) =>
      (await t!.call('POST', '/api/v1/agents/kill-switch', { body })).body.issues.map((i: { path: string }) => i.path);
    expect(await paths({})).toEqual(['engaged']);
    expect(await paths({ engaged: true })).toEqual(['reason']);
    expect(await paths({ engaged: true, reason: '   ' })).toEqual(['reason']);
    expect(await paths({ engaged: true, reason: 'x'.repeat(501) })).toEqual(['reason']);
    expect(await paths({ engaged: 'yes', reason: 'x' })).toEqual(['engaged']);
    expect((await t.call('GET', '/api/v1/agents')).body.killSwitch.engaged).toBe(false);

    const on = await engage(t);
    expect(on.status).toBe(200);
    expect(on.body).toEqual({
      engaged: true,
      by: expect.stringMatching(/^token:/),
      at: expect.any(String),
      reason: 'runaway credits, investigating',
    });
    expect(Math.abs(Date.parse(on.body.at) - Date.now())).toBeLessThan(60_000);
    expect((await t.call('GET', '/api/v1/agents', { role: 'analyst' })).body.killSwitch).toEqual(on.body);
    const [row] = await t.db.query<{ stopped: boolean }>("SELECT agent_stopped('retention') AS stopped");
    expect(row!.stopped).toBe(true);

    const off = await release(t);
    // Released, it still says why it was engaged.
    expect(off.body).toMatchObject({ engaged: false, reason: 'runaway credits, investigating', by: on.body.by });
    const entries = await t.db.query<{ body: string }>("SELECT body FROM ledger WHERE type = 'agents.kill_switch' ORDER BY seq, id");
    expect(entries.map((e) => JSON.parse(e.body).data)).toEqual([
      { engaged: true, reasonGiven: true },
      { engaged: false, reasonGiven: false },
    ]);
    // The reason is kept in the table, not in the ledger.
    expect(entries[0]!.body).not.toContain('runaway');
  });

  it('while engaged the loop proposes nothing, on signals or on the daily schedule; after release it runs again', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    const accountId = await troubledCustomer(t, 'KILL-1');
    await engage(t);
    await t.call('POST', '/api/v1/signals', { role: 'agent', body: trouble('KILL-1', 1) });
    await t.bus.drain();
    expect(await count(t, 'SELECT 1 FROM proposals WHERE account_id = $1', [accountId])).toBe(0);
    // Features were still refreshed: only the agents are stopped, not intake.
    expect(await count(t, 'SELECT 1 FROM customer_features WHERE account_id = $1', [accountId])).toBe(1);

    await t.call('POST', '/api/v1/accounts', { body: { name: 'Unidentified customer', customerId: 'KILL-GHOST' } });
    const loop = { gate: t.gate, churn: () => undefined, holdout: { salt: 'test', fraction: 0 }, dailyCreditBudgetCents: 0 };
    expect(await runScheduledAgents(t.db, loop, new Date())).toMatchObject({
      customers: 0,
      proposals: 0,
      executed: 0,
    });
    expect(await count(t, 'SELECT 1 FROM proposals')).toBe(0);

    await release(t);
    await t.call('POST', '/api/v1/signals', { role: 'agent', body: trouble('KILL-1', 2) });
    await t.bus.drain();
    expect(await count(t, "SELECT 1 FROM proposals WHERE account_id = $1 AND status = 'decided'", [accountId])).toBe(1);
    expect((await runScheduledAgents(t.db, loop, new Date())).customers).toBeGreaterThan(0);
  });

  it('while engaged a pending approval cannot be approved (409), rejecting still works, and nothing already allowed runs', async () => {
    t = await createTestApp();
    const accountId = (await t.call('POST', '/api/v1/accounts', { body: { name: 'Kill Co', customerId: 'KILL-2' } })).body.id as string;
    const waiting = await decided(t, accountId, 'service-recovery', 'create_case', 2, { subject: 'waits for a human' });
    const other = await decided(t, accountId, 'service-recovery', 'create_case', 2, { subject: 'to be rejected' });
    const allowed = await decided(t, accountId, 'data-stewardship', 'create_task', 3, { title: 'allowed, not run yet' });
    expect([waiting.outcome, other.outcome, allowed.outcome]).toEqual(['approval', 'approval', 'execute']);
    await engage(t);

    const refused = await t.call('POST', `/api/v1/approvals/${waiting.approvalId}/approve`, { role: 'reviewer' });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('kill_switch.on');
    expect(refused.body.detail).toContain('kill switch is engaged');
    expect((await t.db.query<{ status: string }>('SELECT status FROM approvals WHERE id = $1', [waiting.approvalId]))[0]!.status).toBe(
      'pending',
    );
    expect(
      (await t.call('POST', `/api/v1/approvals/${other.approvalId}/reject`, { role: 'reviewer', body: { reason: 'not now' } })).status,
    ).toBe(204);

    await expect(executeDecision(t.db, { decisionId: allowed.decisionId, idempotencyKey: 'kill-allowed', actor: 'test' })).rejects.toThrow(
      /kill switch is engaged/,
    );
    expect(await count(t, 'SELECT 1 FROM executions')).toBe(0);
    expect(await count(t, 'SELECT 1 FROM cases')).toBe(0);
    expect(await count(t, 'SELECT 1 FROM tasks')).toBe(0);

    await release(t);
    const approved = await t.call('POST', `/api/v1/approvals/${waiting.approvalId}/approve`, { role: 'reviewer' });
    expect(approved.status).toBe(200);
    expect(approved.body.execution.result.caseId).toMatch(/^case_/);
    expect((await executeDecision(t.db, { decisionId: allowed.decisionId, idempotencyKey: 'kill-allowed', actor: 'test' })).replayed).toBe(
      false,
    );
    expect(await count(t, 'SELECT 1 FROM executions')).toBe(2);
  });

  it('a retention play waits while it is engaged, without failing, and applies the credit once after release', async () => {
    t = await createTestApp();
    const accountId = (await t.call('POST', '/api/v1/accounts', { body: { name: 'Kill Co', customerId: 'KILL-3' } })).body.id as string;
    const state: RetentionPlayState = {
      agent: { id: 'retention', offerAutonomy: 4, notifyAutonomy: 4 },
      customer: { id: 'KILL-3', segment: 'consumer', region: 'US', inHoldout: false },
      amountCents: 2000,
      ev: { value: 42 },
      reason: 'usage fell',
    };
    const play = retentionPlay(t.gate, { approvalPollMs: 1000 });
    const T0 = new Date();
    const id = await startPlay(t.db, play, { accountId, state, actor: 'test', now: T0 });
    await engage(t);
    await runDuePlays(t.db, playRegistry(play), { actor: 'test', now: T0 });
    const row = async () =>
      (
        await t!.db.query<{ status: string; step: string; attempts: number }>('SELECT status, step, attempts FROM plays WHERE id = $1', [
          id,
        ])
      )[0]!;
    expect(await row()).toMatchObject({ status: 'waiting', step: 'apply_credit', attempts: 0 });
    // Still waiting on later rounds: it never fails, retries or gives up (which would reverse credits).
    await runDuePlays(t.db, playRegistry(play), { actor: 'test', now: new Date(T0.getTime() + 60_000) });
    expect(await row()).toMatchObject({ status: 'waiting', step: 'apply_credit', attempts: 0 });
    expect(await count(t, 'SELECT 1 FROM credits')).toBe(0);

    await release(t);
    await runDuePlays(t.db, playRegistry(play), { actor: 'test', now: new Date(T0.getTime() + 120_000) });
    expect(await row()).toMatchObject({ status: 'done', step: 'notify_customer' });
    expect(await count(t, "SELECT 1 FROM credits WHERE status = 'applied'")).toBe(1);
  });

  it('releasing it does not resume an agent that was paused on its own', async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    expect((await t.call('PATCH', '/api/v1/agents/service-recovery', { body: { paused: true } })).body.paused).toBe(true);
    await engage(t);
    await release(t);
    const agents = (await t.call('GET', '/api/v1/agents')).body;
    expect(agents.killSwitch.engaged).toBe(false);
    expect(Object.fromEntries(agents.data.map((a: { id: string; paused: boolean }) => [a.id, a.paused]))).toEqual({
      retention: false,
      'service-recovery': true,
      'lead-nurturing': false,
      'data-stewardship': false,
    });
    const stopped = await t.db.query<{ id: string }>(
      "SELECT id FROM unnest(ARRAY['retention', 'service-recovery']) AS a(id) WHERE agent_stopped(id)",
    );
    expect(stopped.map((r) => r.id)).toEqual(['service-recovery']);

    // The loop runs again, without the paused agent; its pending approvals stay unapprovable.
    const accountId = await troubledCustomer(t, 'KILL-4');
    await t.call('POST', '/api/v1/signals', { role: 'agent', body: trouble('KILL-4', 1) });
    await t.bus.drain();
    const agentsThatProposed = (
      await t.db.query<{ agent_id: string }>('SELECT DISTINCT agent_id FROM proposals WHERE account_id = $1', [accountId])
    ).map((r) => r.agent_id);
    expect(agentsThatProposed).toEqual(['retention']);
    const paused = await decided(t, accountId, 'service-recovery', 'create_case', 2, { subject: 'paused agent' });
    const refused = await t.call('POST', `/api/v1/approvals/${paused.approvalId}/approve`);
    expect(refused.status).toBe(409);
    expect(refused.body.detail).toContain('agent service-recovery is paused');
  });
});
