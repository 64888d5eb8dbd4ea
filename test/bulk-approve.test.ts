import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { recordDecision, TOOLS } from '../src/act/index.ts';
import { recordProposal, type PolicyRequestInput } from '../src/assure/index.ts';
import { createTestApp, type TestApp } from './helpers.ts';

let t: TestApp;
let accountId: string;

beforeAll(async () => {
  t = await createTestApp();
  accountId = (await t.call('POST', '/api/v1/accounts', { body: { name: 'Bulk Co', customerId: 'BULK-1' } })).body.id;
});
afterAll(async () => t.close());

/** A pending approval: an L2 proposal of `agentId`, decided by the real gate. */
async function pending(
  opts: {
    agentId?: string;
    action?: 'create_case' | 'create_task';
    risk?: 'low' | 'medium';
    params?: Record<string, unknown>;
    ttlMs?: number;
  } = {},
) {
  const agentId = opts.agentId ?? 'service-recovery';
  const action = opts.action ?? 'create_case';
  const risk = opts.risk ?? 'low';
  const params = opts.params ?? (action === 'create_case' ? { subject: 'bulk check-in' } : { title: 'bulk task' });
  const request: PolicyRequestInput = {
    agent: { id: agentId, role: 'agent', autonomy: 2 },
    action,
    customer: { id: 'BULK-1', segment: 'consumer', region: 'US', inHoldout: false },
    context: { risk },
  };
  const decision = t.gate.decide(request);
  expect(decision.outcome).toBe('approval');
  const { approvalId } = await t.db.transaction(async (tx) => {
    const proposalId = await recordProposal(tx, {
      agentId,
      accountId,
      leadId: null,
      action,
      params,
      risk,
      ev: { value: 10 },
      reason: 'bulk test',
    });
    return recordDecision(tx, proposalId, request, decision, { approvalTtlMs: opts.ttlMs });
  });
  return approvalId!;
}

const status = async (ids: string[]) =>
  (await t.db.query<{ id: string; status: string }>('SELECT id, status FROM approvals WHERE id = ANY($1::text[]) ORDER BY id', [ids])).map(
    (r) => r.status,
  );
const executions = async () => (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM executions'))[0]!.n;
const bulk = (ids: unknown, role: 'admin' | 'reviewer' | 'analyst' | 'agent' = 'reviewer') =>
  t.call('POST', '/api/v1/approvals/bulk-approve', { role, body: { ids } });

describe('POST /api/v1/approvals/bulk-approve', () => {
  it('approves two low-risk items of the same agent and action, running each once', async () => {
    const [a, b] = [await pending(), await pending()];
    const before = await executions();
    const res = await bulk([a, b]);
    expect(res.status).toBe(200);
    expect(res.body.results).toEqual([
      {
        id: a,
        ok: true,
        execution: expect.objectContaining({
          idempotencyKey: `approval:${a}`,
          action: 'create_case',
          status: 'succeeded',
          replayed: false,
        }),
      },
      {
        id: b,
        ok: true,
        execution: expect.objectContaining({
          idempotencyKey: `approval:${b}`,
          action: 'create_case',
          status: 'succeeded',
          replayed: false,
        }),
      },
    ]);
    expect(res.body.results[0].execution.result.caseId).not.toBe(res.body.results[1].execution.result.caseId);
    expect(await status([a, b])).toEqual(['approved', 'approved']);
    expect(await executions()).toBe(before + 2);
    for (const id of [a, b]) {
      expect(await t.db.query('SELECT 1 FROM executions WHERE idempotency_key = $1', [`approval:${id}`])).toHaveLength(1);
      expect(await t.db.query("SELECT 1 FROM ledger WHERE type = 'action.executed' AND subject_id = $1", [`approval:${id}`])).toHaveLength(
        1,
      );
      const [approved] = await t.db.query<{ actor: string }>(
        "SELECT actor FROM ledger WHERE type = 'approval.approved' AND subject_id = $1",
        [id],
      );
      expect(approved!.actor).toMatch(/^token:/);
    }
    expect(await t.db.query("SELECT 1 FROM cases WHERE subject = 'bulk check-in'")).toHaveLength(2);

    // Asking again is a 400 (already approved) and runs nothing twice.
    const again = await bulk([a, b]);
    expect(again.status).toBe(400);
    expect(again.body.issues).toEqual([
      { path: 'ids.0', message: expect.stringContaining('already approved') },
      { path: 'ids.1', message: expect.stringContaining('already approved') },
    ]);
    expect(await executions()).toBe(before + 2);
  });

  it('a mixed-risk request is a 400 naming the odd id, and approves nothing', async () => {
    const low = await pending();
    const medium = await pending({ risk: 'medium' });
    const before = await executions();
    const res = await bulk([low, medium]);
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.issues).toEqual([{ path: 'ids.1', message: expect.stringContaining('medium risk') }]);
    expect(await status([low, medium])).toEqual(['pending', 'pending']);
    expect(await executions()).toBe(before);
  });

  it('a mixed-action or mixed-agent request is a 400 naming the odd ids, and approves nothing', async () => {
    const cases = [await pending(), await pending()];
    const task = await pending({ action: 'create_task' });
    const otherAgent = await pending({ agentId: 'data-stewardship' });
    const before = await executions();
    const res = await bulk([cases[0], task, cases[1], otherAgent]);
    expect(res.status).toBe(400);
    expect(res.body.issues).toEqual([
      { path: 'ids.1', message: expect.stringContaining('service-recovery/create_task; the others are service-recovery/create_case') },
      { path: 'ids.3', message: expect.stringContaining('data-stewardship/create_case') },
    ]);
    expect(await status([...cases, task, otherAgent])).toEqual(['pending', 'pending', 'pending', 'pending']);
    expect(await executions()).toBe(before);
  });

  it('refuses unknown, expired, duplicate, missing or too many ids, naming each', async () => {
    const ok = await pending();
    const expired = await pending({ ttlMs: 1 });
    await new Promise((r) => setTimeout(r, 5));
    const unknown = await bulk([ok, 'appr_nope', expired]);
    expect(unknown.body.issues.map((i: { path: string }) => i.path)).toEqual(['ids.1', 'ids.2']);
    expect(unknown.body.issues[1].message).toContain('expired');
    expect((await bulk([ok, ok])).body.issues).toEqual([{ path: 'ids.1', message: 'duplicate of ids.0' }]);
    expect((await bulk([])).body.issues[0].path).toBe('ids');
    expect((await bulk(Array.from({ length: 101 }, (_, i) => `appr_${i}`))).body.issues[0].path).toBe('ids');
    expect((await t.call('POST', '/api/v1/approvals/bulk-approve', { body: {} })).body.issues[0].path).toBe('ids');
    expect(await status([ok])).toEqual(['pending']);
  });

  it('is for admins and reviewers only', async () => {
    const id = await pending();
    expect((await bulk([id], 'analyst')).status).toBe(403);
    expect((await bulk([id], 'agent')).status).toBe(403);
    expect(await status([id])).toEqual(['pending']);
    expect((await bulk([id], 'admin')).status).toBe(200);
  });

  it('approves each item independently: one whose action cannot run does not stop the others', async () => {
    const good = await pending({ action: 'create_task', params: { title: 'fine' } });
    // Passes the bulk checks, but its parameters do not fit the tool, so running it fails after the approval.
    const broken = await pending({ action: 'create_task', params: { title: 'x'.repeat(300) } });
    const last = await pending({ action: 'create_task', params: { title: 'also fine' } });
    const res = await bulk([good, broken, last]);
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { id: string; ok: boolean }) => [r.id, r.ok])).toEqual([
      [good, true],
      [broken, false],
      [last, true],
    ]);
    expect(res.body.results[1].error).toEqual({
      code: 'validation_failed',
      message: expect.stringContaining('parameters do not fit create_task'),
    });
    expect(await t.db.query("SELECT title FROM tasks WHERE title IN ('fine', 'also fine') ORDER BY title")).toEqual([
      { title: 'also fine' },
      { title: 'fine' },
    ]);
    expect(await t.db.query('SELECT 1 FROM executions WHERE idempotency_key = $1', [`approval:${broken}`])).toHaveLength(0);
    // Not approved with nothing run: it stays pending, saying why, for a reviewer to reject (or approve with fitting parameters).
    expect(await status([broken])).toEqual(['pending']);
    expect((await approvalBody(broken))?.lastError).toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining('parameters do not fit create_task'),
    });
  });

  it('while the kill switch is engaged each item is refused with a 409 in its result, and nothing runs', async () => {
    const [a, b] = [await pending(), await pending()];
    const before = await executions();
    await t.call('POST', '/api/v1/agents/kill-switch', { body: { engaged: true, reason: 'bulk test' } });
    try {
      const res = await bulk([a, b]);
      expect(res.status).toBe(200);
      for (const r of res.body.results)
        expect(r).toEqual({
          id: expect.any(String),
          ok: false,
          error: { code: 'kill_switch.on', message: expect.stringContaining('kill switch is engaged') },
        });
      expect(await status([a, b])).toEqual(['pending', 'pending']);
      expect(await executions()).toBe(before);
    } finally {
      await t.call('POST', '/api/v1/agents/kill-switch', { body: { engaged: false } });
    }
  });
});

/**
 * Makes the create_task tool fail for tasks titled `title`: it writes its task, then throws (as a transport that
 * times out after the write would), so the test also sees that nothing it wrote survives the failure.
 */
function fakeFailingTaskTool(title: string) {
  const realRun = TOOLS.create_task.run;
  return vi.spyOn(TOOLS.create_task, 'run').mockImplementation(async (tx, ctx, params) => {
    const result = await realRun(tx, ctx, params);
    if (params.title === title) throw new Error('task gateway timed out');
    return result;
  });
}

const approvalBody = async (id: string, status = 'pending') =>
  ((await t.call('GET', `/api/v1/approvals?status=${status}&limit=200`)).body.data as { id: string }[]).find((a) => a.id === id) as
    Record<string, unknown> | undefined;
const tasksTitled = async (title: string) => (await t.db.query('SELECT 1 FROM tasks WHERE title = $1', [title])).length;
const executionsOf = async (id: string) =>
  (await t.db.query('SELECT 1 FROM executions WHERE idempotency_key = $1', [`approval:${id}`])).length;

describe('approving when the action fails (create_task tool faked to throw after its write)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('leaves the approval pending with the error, and a retry runs the action once', async () => {
    const id = await pending({ action: 'create_task', params: { title: 'flaky gateway' } });
    const spy = fakeFailingTaskTool('flaky gateway');
    const failed = await t.call('POST', `/api/v1/approvals/${id}/approve`, { body: {} });
    expect(failed.status).toBe(500);
    expect(spy).toHaveBeenCalledTimes(1);
    expect(await status([id])).toEqual(['pending']);
    expect(await executionsOf(id)).toBe(0);
    expect(await tasksTitled('flaky gateway')).toBe(0);
    expect(await approvalBody(id)).toMatchObject({
      status: 'pending',
      lastError: { code: 'internal', message: expect.stringContaining('task gateway timed out'), at: expect.any(String) },
    });
    expect(await t.db.query("SELECT 1 FROM ledger WHERE type = 'approval.approved' AND subject_id = $1", [id])).toHaveLength(0);
    expect(await t.db.query("SELECT 1 FROM ledger WHERE type = 'approval.run_failed' AND subject_id = $1", [id])).toHaveLength(1);

    spy.mockRestore();
    const retried = await t.call('POST', `/api/v1/approvals/${id}/approve`, { body: {} });
    expect(retried.status).toBe(200);
    expect(retried.body.execution).toMatchObject({ idempotencyKey: `approval:${id}`, status: 'succeeded', replayed: false });
    expect(await status([id])).toEqual(['approved']);
    expect(await executionsOf(id)).toBe(1);
    expect(await tasksTitled('flaky gateway')).toBe(1);
    expect(await approvalBody(id, 'approved')).toMatchObject({ status: 'approved', lastError: null });
  });

  it('in a bulk approval, leaves the failing item pending with its error while the others run; a retry runs it once', async () => {
    const [good, flaky] = [
      await pending({ action: 'create_task', params: { title: 'steady' } }),
      await pending({ action: 'create_task', params: { title: 'flaky in bulk' } }),
    ];
    fakeFailingTaskTool('flaky in bulk');
    const res = await bulk([good, flaky]);
    expect(res.status).toBe(200);
    expect(res.body.results.map((r: { ok: boolean }) => r.ok)).toEqual([true, false]);
    expect(await status([good, flaky].sort())).toEqual(good < flaky ? ['approved', 'pending'] : ['pending', 'approved']);
    expect(await executionsOf(flaky)).toBe(0);
    expect(await tasksTitled('flaky in bulk')).toBe(0);
    expect((await approvalBody(flaky))?.lastError).toMatchObject({
      code: 'internal',
      message: expect.stringContaining('task gateway timed out'),
    });

    vi.restoreAllMocks();
    const retry = await bulk([flaky]);
    expect(retry.body.results).toEqual([
      { id: flaky, ok: true, execution: expect.objectContaining({ status: 'succeeded', replayed: false }) },
    ]);
    expect(await executionsOf(flaky)).toBe(1);
    expect(await tasksTitled('flaky in bulk')).toBe(1);
  });
});

describe('approval errors carry domain codes', () => {
  const approveOne = (id: string) => t.call('POST', `/api/v1/approvals/${id}/approve`, { body: {} });

  it('names an unknown, decided or expired approval, and a paused agent', async () => {
    expect((await approveOne('appr_nope')).body).toMatchObject({
      status: 404,
      code: 'approval.not_found',
      type: 'urn:acs:problem:approval.not_found',
    });

    const once = await pending();
    expect((await approveOne(once)).status).toBe(200);
    expect((await approveOne(once)).body).toMatchObject({
      status: 409,
      code: 'approval.already_decided',
      detail: expect.stringContaining('already approved'),
    });

    const expired = await pending({ ttlMs: 1 });
    await new Promise((r) => setTimeout(r, 5));
    expect((await approveOne(expired)).body).toMatchObject({ status: 409, code: 'approval.expired' });

    const waiting = await pending({ agentId: 'data-stewardship' });
    expect((await t.call('PATCH', '/api/v1/agents/data-stewardship', { body: { paused: true } })).status).toBe(200);
    try {
      expect((await approveOne(waiting)).body).toMatchObject({ status: 409, code: 'agent.paused' });
      expect(await status([waiting])).toEqual(['pending']);
    } finally {
      await t.call('PATCH', '/api/v1/agents/data-stewardship', { body: { paused: false } });
    }
  });
});
