import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeDecision, playRegistry, recordDecision, runDuePlays, startPlay, type PlayDefinition } from '../src/act/index.ts';
import { recordProposal, type PolicyRequestInput } from '../src/assure/index.ts';
import { createRecord } from '../src/records/index.ts';
import { createTestApp, type TestApp } from './helpers.ts';

// The agents' work items through the real HTTP app: tasks, messages and credits made by executed decisions, and
// plays run by the real runner; then assigning and completing tasks, retrying and cancelling plays.
let t: TestApp;
let acc1: string;
let acc2: string;
const made: { taskIds: string[]; creditKey?: string; messageKey?: string; taskKeys: string[] } = { taskIds: [], taskKeys: [] };
const plays: Record<string, string> = {};
const T0 = new Date('2026-06-01T00:00:00Z');

/** Records a proposal and the gate's real decision (autonomy 4: it executes), then runs it once. */
async function executed(accountId: string, customerId: string, action: string, params: Record<string, unknown>, key: string) {
  const request: PolicyRequestInput = {
    agent: { id: 'work-agent', role: 'agent', autonomy: 4 },
    action: action as PolicyRequestInput['action'],
    customer: { id: customerId, segment: 'consumer', region: 'US', inHoldout: false },
    context: {
      risk: 'low',
      amountCents: Number(params.amountCents ?? 0),
      hasConsent: action === 'send_message',
      ...(action === 'send_message' ? { channel: 'email' as const, purpose: 'service' as const } : {}),
    },
  };
  const decision = t.gate.decide(request);
  expect(decision.outcome, `${action} is allowed`).toBe('execute');
  const d = await t.db.transaction(async (tx) => {
    const proposalId = await recordProposal(tx, {
      agentId: 'work-agent',
      accountId,
      leadId: null,
      action,
      params,
      risk: 'low',
      ev: { value: 10 },
      reason: 'test',
      ...(action === 'send_message' ? { channel: 'email', purpose: 'service' } : {}),
    });
    return { proposalId, ...(await recordDecision(tx, proposalId, request, decision)) };
  });
  const run = await executeDecision(t.db, { decisionId: d.decisionId, idempotencyKey: key, actor: 'test', now: T0 });
  return { ...d, result: run.result };
}

/** A play whose steps the test controls: `one` succeeds (or fails when `failOne`), `two` always fails, `hold` waits. */
const flaky: PlayDefinition<{ failOne?: boolean; hold?: boolean }> = {
  kind: 'test_flaky',
  first: 'one',
  maxAttempts: 2,
  backoffMs: () => 3_600_000,
  steps: {
    one: {
      run: async (_tx, _p, s) => {
        if (s.failOne) throw new Error('step one broke');
        return s.hold ? { wait: 3_600_000, state: s } : { next: 'two', state: s };
      },
      compensate: async () => {},
    },
    two: {
      run: async () => {
        throw new Error('step two broke');
      },
    },
  },
};

beforeAll(async () => {
  t = await createTestApp();
  acc1 = (await createRecord(t.db, 'accounts', { name: 'Work One', customerId: 'WORK-1' }, 'test')).id;
  acc2 = (await createRecord(t.db, 'accounts', { name: 'Work Two', customerId: 'WORK-2' }, 'test')).id;
  const contactId = (await createRecord(t.db, 'contacts', { accountId: acc1, email: 'one@work.example' }, 'test')).id;
  await createRecord(
    t.db,
    'consents',
    {
      contactId,
      channel: 'email',
      purpose: 'service',
      status: 'granted',
      source: 'test',
      capturedAt: '2026-01-01T00:00:00Z',
      effectiveFrom: '2026-01-01T00:00:00Z',
    },
    'test',
  );
  for (const [acc, cid, title, assignee] of [
    [acc1, 'WORK-1', 'save call', undefined],
    [acc2, 'WORK-2', 'follow up', 'rep-a'],
    [acc1, 'WORK-1', 'check usage', undefined],
  ] as const) {
    const key = `work-task-${title.replace(/ /g, '-')}`;
    const r = await executed(acc, cid, 'create_task', { title, ...(assignee ? { assignee } : {}) }, key);
    made.taskIds.push(String(r.result.taskId));
    made.taskKeys.push(key);
  }
  await executed(acc1, 'WORK-1', 'offer_credit', { amountCents: 2500, reason: 'goodwill' }, 'work-credit');
  made.creditKey = 'work-credit';
  await executed(
    acc1,
    'WORK-1',
    'send_message',
    { channel: 'email', purpose: 'service', template: 'thanks', body: 'Thank you for staying.' },
    'work-msg',
  );
  made.messageKey = 'work-msg';

  // Plays, run by the real runner: one backing off after a failure, one that gave up at its first step (nothing undone),
  // one that gave up after completing a step (undone), one waiting, and the results of the runs.
  const start = (accountId: string | null, state: object) => startPlay(t.db, flaky, { accountId, state, actor: 'test', now: T0 });
  plays.backingOff = await start(acc1, {});
  plays.gaveUpFirst = await start(acc2, { failOne: true });
  plays.waiting = await start(acc1, { hold: true });
  const registry = playRegistry(flaky);
  // Round 1: backingOff completes `one` and fails `two` once; gaveUpFirst fails `one` once; waiting waits.
  await runDuePlays(t.db, registry, { actor: 'test', now: T0 });
  // Round 2, past the backoff: gaveUpFirst fails again and gives up (maxAttempts 2); backingOff too, after completing `one`.
  plays.gaveUpAfter = plays.backingOff;
  await runDuePlays(t.db, registry, { actor: 'test', now: new Date(T0.getTime() + 4_000_000) });
  // A fresh one that only failed once: running, attempts 1.
  plays.backingOff = await start(acc1, {});
  await runDuePlays(t.db, registry, { actor: 'test', now: new Date(T0.getTime() + 4_100_000) });
});
afterAll(async () => t.close());

const ledgerOf = (subjectId: string, type: string) =>
  t.db.query<{ actor: string; body: string }>('SELECT actor, body FROM ledger WHERE subject_id = $1 AND type = $2', [subjectId, type]);

describe('lists', () => {
  it('lists tasks newest first with the customer and what produced them, and filters them', async () => {
    const all = await t.call('GET', '/api/v1/tasks?limit=10', { role: 'analyst' });
    expect(all.status).toBe(200);
    expect(all.body.data.map((x: { id: string }) => x.id)).toEqual([...made.taskIds].reverse());
    const saveCall = all.body.data.find((x: { title: string }) => x.title === 'save call');
    expect(saveCall).toMatchObject({ status: 'open', customerId: 'WORK-1', accountId: acc1, assignee: null });
    expect(saveCall.origin).toMatchObject({ executionKey: made.taskKeys[0], agentId: 'work-agent', action: 'create_task' });
    expect(saveCall.origin.decisionId).toMatch(/^dec_/);
    // The execution is in the ledger under that key.
    expect(await ledgerOf(made.taskKeys[0]!, 'action.executed')).toHaveLength(1);

    const one = await t.call('GET', '/api/v1/tasks?customerId=WORK-1');
    expect(one.body.data.map((x: { title: string }) => x.title)).toEqual(['check usage', 'save call']);
    const byAssignee = await t.call('GET', '/api/v1/tasks?assignee=rep-a');
    expect(byAssignee.body.data.map((x: { title: string }) => x.title)).toEqual(['follow up']);
    expect((await t.call('GET', '/api/v1/tasks?customerId=NOBODY')).body.data).toEqual([]);
  });

  it('pages with a cursor, and refuses a bad filter, limit or cursor naming the parameter', async () => {
    const first = await t.call('GET', '/api/v1/tasks?limit=2');
    expect(first.body.data).toHaveLength(2);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const second = await t.call('GET', `/api/v1/tasks?limit=2&cursor=${first.body.nextCursor}`);
    expect(second.body.data).toHaveLength(1);
    expect(second.body.nextCursor).toBeNull();
    expect([...first.body.data, ...second.body.data].map((x: { id: string }) => x.id)).toEqual([...made.taskIds].reverse());

    const badStatus = await t.call('GET', '/api/v1/tasks?status=finished');
    expect(badStatus.status).toBe(400);
    expect(badStatus.body.issues.map((i: { path: string }) => i.path)).toContain('query.status');
    const badLimit = await t.call('GET', '/api/v1/credits?limit=0');
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.issues[0].path).toBe('query.limit');
    // A cursor of another list is refused, as any cursor this API did not hand out.
    const foreign = await t.call('GET', `/api/v1/messages?cursor=${first.body.nextCursor}`);
    expect(foreign.status).toBe(400);
    expect(foreign.body.issues[0].path).toBe('cursor');
    const unknown = await t.call('GET', '/api/v1/plays?colour=red');
    expect(unknown.status).toBe(400);
  });

  it('lists messages with body, recipient and delivery state, and credits', async () => {
    const msgs = await t.call('GET', '/api/v1/messages?customerId=WORK-1&status=queued', { role: 'reviewer' });
    expect(msgs.status).toBe(200);
    expect(msgs.body.data).toHaveLength(1);
    expect(msgs.body.data[0]).toMatchObject({
      template: 'thanks',
      body: 'Thank you for staying.',
      contactPoint: 'one@work.example',
      status: 'queued',
      sentAt: null,
      customerId: 'WORK-1',
      origin: { executionKey: made.messageKey, action: 'send_message' },
    });
    expect((await t.call('GET', '/api/v1/messages?status=sent')).body.data).toEqual([]);
    // An analyst reads the same list with the recipient masked, as every contact point.
    const masked = await t.call('GET', '/api/v1/messages?customerId=WORK-1', { role: 'analyst' });
    expect(masked.body.data[0].contactPoint).not.toContain('one@work.example');
    expect(masked.body.data[0].status).toBe('queued');

    const credits = await t.call('GET', '/api/v1/credits?customerId=WORK-1');
    expect(credits.body.data).toHaveLength(1);
    expect(credits.body.data[0]).toMatchObject({
      amountCents: 2500,
      currency: 'USD',
      status: 'applied',
      customerId: 'WORK-1',
      origin: { executionKey: made.creditKey, action: 'offer_credit' },
    });
    expect((await t.call('GET', '/api/v1/credits?customerId=WORK-2')).body.data).toEqual([]);
  });

  it('lists plays with their state and failures, filtered by status and customer', async () => {
    const all = await t.call('GET', '/api/v1/plays?kind=test_flaky');
    expect(all.body.data).toHaveLength(4);
    const byId = Object.fromEntries(all.body.data.map((p: { id: string }) => [p.id, p]));
    expect(byId[plays.backingOff!]).toMatchObject({
      status: 'running',
      step: 'two',
      attempts: 1,
      lastError: 'step two broke',
      customerId: 'WORK-1',
    });
    expect(byId[plays.gaveUpFirst!]).toMatchObject({ status: 'gave_up', step: 'one', completed: [], customerId: 'WORK-2' });
    expect(byId[plays.gaveUpAfter!]).toMatchObject({ status: 'gave_up', step: 'two', completed: ['one'] });
    expect(byId[plays.waiting!]).toMatchObject({ status: 'waiting', cancelled: null });
    const gaveUp = await t.call('GET', '/api/v1/plays?status=gave_up&customerId=WORK-2');
    expect(gaveUp.body.data.map((p: { id: string }) => p.id)).toEqual([plays.gaveUpFirst]);
  });
});

describe('tasks: assign and complete', () => {
  it('assigns an open task, ledgered with the previous assignee', async () => {
    const id = made.taskIds[0]!;
    const res = await t.call('POST', `/api/v1/tasks/${id}/assign`, { role: 'reviewer', body: { assignee: 'rep-b' } });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, assignee: 'rep-b', status: 'open' });
    const [entry] = await ledgerOf(id, 'task.assigned');
    expect(entry!.actor).toMatch(/^token:/);
    expect(JSON.parse(entry!.body).data).toMatchObject({ assignee: 'rep-b', previous: null });
    expect((await t.call('GET', '/api/v1/tasks?assignee=rep-b')).body.data.map((x: { id: string }) => x.id)).toEqual([id]);
  });

  it('completes an open task with a note, ledgered; a done task is a 409 naming its status', async () => {
    const id = made.taskIds[0]!;
    const res = await t.call('POST', `/api/v1/tasks/${id}/complete`, { role: 'admin', body: { note: 'called, customer stays' } });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('done');
    const [entry] = await ledgerOf(id, 'task.completed');
    expect(JSON.parse(entry!.body).data.note).toBe('called, customer stays');
    const again = await t.call('POST', `/api/v1/tasks/${id}/complete`);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('task.not_open');
    expect(again.body.detail).toMatch(/is done/);
    const reassign = await t.call('POST', `/api/v1/tasks/${id}/assign`, { body: { assignee: 'rep-c' } });
    expect(reassign.status).toBe(409);
    expect((await ledgerOf(id, 'task.assigned')).length).toBe(1);
  });

  it('completes without a body; refuses a bad body naming the field, an unknown task, and analysts and agents', async () => {
    const id = made.taskIds[2]!;
    const missing = await t.call('POST', `/api/v1/tasks/${made.taskIds[1]}/assign`, { body: {} });
    expect(missing.status).toBe(400);
    expect(missing.body.issues[0].path).toBe('assignee');
    const extra = await t.call('POST', `/api/v1/tasks/${id}/complete`, { body: { note: 'x', done: true } });
    expect(extra.status).toBe(400);
    for (const role of ['analyst', 'agent'] as const) {
      expect((await t.call('POST', `/api/v1/tasks/${id}/complete`, { role })).status, role).toBe(403);
      expect((await t.call('POST', `/api/v1/tasks/${id}/assign`, { role, body: { assignee: 'x' } })).status, role).toBe(403);
    }
    expect((await t.call('POST', '/api/v1/tasks/task_nope/complete')).status).toBe(404);
    expect((await t.call('POST', '/api/v1/tasks/task_nope/assign', { body: { assignee: 'x' } })).body.code).toBe('task.not_found');
    const done = await t.call('POST', `/api/v1/tasks/${id}/complete`, { role: 'reviewer' });
    expect(done.status).toBe(200);
    expect(done.body.status).toBe('done');
    expect(JSON.parse((await ledgerOf(id, 'task.completed'))[0]!.body).data.note).toBeNull();
  });
});

describe('plays: retry and cancel, admins only', () => {
  it('retries a play backing off after a failure, now, with a fresh count; ledgered', async () => {
    const id = plays.backingOff!;
    expect((await t.call('POST', `/api/v1/plays/${id}/retry`, { role: 'reviewer' })).status).toBe(403);
    const res = await t.call('POST', `/api/v1/plays/${id}/retry`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'running', attempts: 0, step: 'two' });
    expect(await ledgerOf(id, 'play.retried')).toHaveLength(1);
    // Not failed since: nothing to retry.
    const again = await t.call('POST', `/api/v1/plays/${id}/retry`);
    expect(again.status).toBe(409);
    expect(again.body.code).toBe('play.wrong_state');
  });

  it('retries a play that gave up at its first step, but not one that undid completed steps', async () => {
    const first = await t.call('POST', `/api/v1/plays/${plays.gaveUpFirst}/retry`);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'running', step: 'one', attempts: 0 });
    const after = await t.call('POST', `/api/v1/plays/${plays.gaveUpAfter}/retry`);
    expect(after.status).toBe(409);
    expect(after.body.detail).toMatch(/is gave_up: it undid its completed steps \(one\)/);
    expect(await ledgerOf(plays.gaveUpAfter!, 'play.retried')).toHaveLength(0);
  });

  it('cancels a waiting play, ledgered with the reason; an ended play is a 409 naming its status', async () => {
    const id = plays.waiting!;
    expect((await t.call('POST', `/api/v1/plays/${id}/cancel`, { role: 'analyst' })).status).toBe(403);
    const bad = await t.call('POST', `/api/v1/plays/${id}/cancel`, { body: { reason: '' } });
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].path).toBe('reason');
    const res = await t.call('POST', `/api/v1/plays/${id}/cancel`, { body: { reason: 'customer asked us to stop' } });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('refused');
    expect(res.body.cancelled).toMatchObject({ reason: 'customer asked us to stop', by: expect.stringMatching(/^token:/) });
    const [entry] = await ledgerOf(id, 'play.cancelled');
    expect(JSON.parse(entry!.body).data).toMatchObject({ from: 'waiting', reason: 'customer asked us to stop' });
    const again = await t.call('POST', `/api/v1/plays/${id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.detail).toMatch(/is refused/);
    expect((await t.call('POST', `/api/v1/plays/${plays.gaveUpAfter}/cancel`)).body.detail).toMatch(/is gave_up/);
    // A cancelled play is not run again.
    await runDuePlays(t.db, playRegistry(flaky), { actor: 'test', now: new Date(T0.getTime() + 90_000_000) });
    expect((await t.call('GET', `/api/v1/plays?status=refused`)).body.data.map((p: { id: string }) => p.id)).toEqual([id]);
  });

  it('answers 404 for an unknown play', async () => {
    expect((await t.call('POST', '/api/v1/plays/play_nope/retry')).body.code).toBe('play.not_found');
    expect((await t.call('POST', '/api/v1/plays/play_nope/cancel')).status).toBe(404);
  });
});
