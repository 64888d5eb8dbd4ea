import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  approve,
  compensateExecution,
  deliverQueuedMessages,
  executeDecision,
  expireApprovals,
  FileTransport,
  maintenanceTick,
  playRegistry,
  recordDecision,
  reject,
  TOOL_ACTIONS,
  TOOLS,
} from '../src/act/index.ts';
import { PolicyGate, recordProposal, type PolicyRequestInput } from '../src/assure/index.ts';
import { createRecord } from '../src/records/index.ts';
import type { Db } from '../src/store/index.ts';
import { createTestApp, openTestDb } from './helpers.ts';

let db: Db;
let gate: PolicyGate;
let accountId: string;
let leadId: string;

beforeAll(async () => {
  db = await openTestDb();
  gate = PolicyGate.load();
  accountId = (await createRecord(db, 'accounts', { name: 'Act Co', customerId: 'ACT-1' }, 'test')).id;
  leadId = (await createRecord(db, 'leads', { email: 'lead@act.example' }, 'test')).id;
  // A message is queued only where consent allows when it runs: ACT-1 agreed to service email.
  const contactId = (await createRecord(db, 'contacts', { accountId, email: 'act@act.example' }, 'test')).id;
  await createRecord(
    db,
    'consents',
    {
      contactId,
      channel: 'email',
      purpose: 'service',
      status: 'granted',
      source: 'test',
      capturedAt: '2025-01-01T00:00:00Z',
      effectiveFrom: '2025-01-01T00:00:00Z',
    },
    'test',
  );
});
afterAll(async () => db.close());

const count = async (table: string) => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n;

/** Records a proposal and the gate's real decision on it, as the orchestrator will. */
async function decided(
  action: string,
  params: Record<string, unknown>,
  opts: {
    autonomy: number;
    risk?: 'low' | 'medium' | 'high';
    amountCents?: number;
    channel?: 'email';
    purpose?: 'service' | 'marketing';
    hasConsent?: boolean;
    status?: 'held_out';
    lead?: boolean;
    ttlMs?: number;
  },
) {
  const request: PolicyRequestInput = {
    agent: { id: 'test-agent', role: 'agent', autonomy: opts.autonomy },
    action: action as PolicyRequestInput['action'],
    customer: { id: 'ACT-1', segment: 'consumer', region: 'US', inHoldout: false },
    context: {
      risk: opts.risk ?? 'low',
      amountCents: opts.amountCents ?? 0,
      hasConsent: opts.hasConsent ?? false,
      ...(opts.channel ? { channel: opts.channel } : {}),
      ...(opts.purpose ? { purpose: opts.purpose } : {}),
    },
  };
  const decision = gate.decide(request);
  return db.transaction(async (tx) => {
    const proposalId = await recordProposal(tx, {
      agentId: 'test-agent',
      accountId: opts.lead ? null : accountId,
      leadId: opts.lead ? leadId : null,
      action,
      params,
      risk: opts.risk ?? 'low',
      ev: { value: 10 },
      reason: 'test proposal',
      status: opts.status,
    });
    return {
      proposalId,
      outcome: decision.outcome,
      ...(await recordDecision(tx, proposalId, request, decision, { approvalTtlMs: opts.ttlMs })),
    };
  });
}

describe('execution', () => {
  it('runs an allowed action once per idempotency key, even when repeated concurrently', async () => {
    const d = await decided('offer_credit', { amountCents: 2000, reason: 'goodwill' }, { autonomy: 4, amountCents: 2000 });
    expect(d.outcome).toBe('execute');
    const before = await count('credits');
    const runs = await Promise.all(
      Array.from({ length: 5 }, () =>
        executeDecision(db, { decisionId: d.decisionId, idempotencyKey: `credit-${d.decisionId}`, actor: 'test' }),
      ),
    );
    expect(await count('credits')).toBe(before + 1);
    expect(runs.filter((r) => !r.replayed)).toHaveLength(1);
    expect(new Set(runs.map((r) => r.result.creditId)).size).toBe(1);
    const ledger = await db.query("SELECT 1 FROM ledger WHERE type = 'action.executed' AND subject_id = $1", [`credit-${d.decisionId}`]);
    expect(ledger).toHaveLength(1);
  });

  it('refuses a denied decision, a missing one, and a held-out customer, with no effect', async () => {
    const denied = await decided(
      'send_message',
      { channel: 'email', purpose: 'marketing', template: 'winback' },
      { autonomy: 4, channel: 'email', purpose: 'marketing', hasConsent: false },
    );
    expect(denied.outcome).toBe('deny');
    await expect(executeDecision(db, { decisionId: denied.decisionId, idempotencyKey: 'k-denied', actor: 'test' })).rejects.toThrow(
      /policy outcome was deny/,
    );
    await expect(executeDecision(db, { decisionId: 'dec_nope', idempotencyKey: 'k-missing', actor: 'test' })).rejects.toThrow(
      /no recorded policy decision/,
    );
    const heldOut = await decided('create_task', { title: 'call' }, { autonomy: 4, status: 'held_out' });
    await expect(executeDecision(db, { decisionId: heldOut.decisionId, idempotencyKey: 'k-held', actor: 'test' })).rejects.toThrow(
      /holdout/,
    );
    expect(await count('messages')).toBe(0);
    expect(await db.query("SELECT 1 FROM executions WHERE idempotency_key IN ('k-denied', 'k-missing', 'k-held')")).toHaveLength(0);
  });

  it('no tool can be called directly without an allowing decision for that very action', async () => {
    const allowedCredit = await decided('offer_credit', { amountCents: 100 }, { autonomy: 4, amountCents: 100 });
    const denied = await decided('create_task', { title: 'x' }, { autonomy: 1 });
    const valid: Record<string, unknown> = {
      create_case: { subject: 'direct' },
      create_task: { title: 'direct' },
      priority_routing: { priority: 'high' },
      route_lead: { owner: 'rep-1' },
      update_record: { kind: 'accounts', id: accountId, fields: { tier: 'premium' } },
      offer_credit: { amountCents: 100, currency: 'USD' },
      apply_credit: { amountCents: 100, currency: 'USD' },
      send_message: { channel: 'email', purpose: 'service', template: 'x' },
    };
    const tables = ['cases', 'tasks', 'credits', 'messages'];
    const before = await Promise.all(tables.map(count));
    for (const action of TOOL_ACTIONS) {
      const run = TOOLS[action].run as (tx: unknown, g: object, p: unknown) => Promise<unknown>;
      for (const decisionId of ['dec_forged', denied.decisionId, ...(action === 'offer_credit' ? [] : [allowedCredit.decisionId])]) {
        await expect(
          db.transaction((tx) => run(tx, { decisionId, idempotencyKey: `direct-${action}`, actor: 'mallory' }, valid[action])),
          `${action} with ${decisionId}`,
        ).rejects.toThrow(/forbidden|does not allow|no recorded|allows offer_credit/);
      }
    }
    expect(await Promise.all(tables.map(count))).toEqual(before);
    const account = await db.query<{ tier: string | null }>('SELECT tier FROM accounts WHERE id = $1', [accountId]);
    expect(account[0]!.tier).toBeNull();
  });

  it('runs nothing for a paused agent, and runs the same decision once the agent is resumed', async () => {
    const d = await decided('create_task', { title: 'paused work' }, { autonomy: 3 });
    // The proposing agent here is a test one, so its setting is written directly.
    await db.query("INSERT INTO agent_settings (agent_id, paused) VALUES ('test-agent', true)");
    await expect(executeDecision(db, { decisionId: d.decisionId, idempotencyKey: 'k-paused', actor: 'test' })).rejects.toThrow(
      /agent test-agent is paused/,
    );
    expect(await db.query("SELECT 1 FROM tasks WHERE title = 'paused work'")).toHaveLength(0);
    await db.query("UPDATE agent_settings SET paused = false WHERE agent_id = 'test-agent'");
    expect((await executeDecision(db, { decisionId: d.decisionId, idempotencyKey: 'k-paused', actor: 'test' })).replayed).toBe(false);
    expect(await db.query("SELECT 1 FROM tasks WHERE title = 'paused work'")).toHaveLength(1);
  });

  it('compensates what can be undone, and records what cannot', async () => {
    const credit = await decided('offer_credit', { amountCents: 1500 }, { autonomy: 4, amountCents: 1500 });
    const run = await executeDecision(db, { decisionId: credit.decisionId, idempotencyKey: 'k-comp', actor: 'test' });
    expect(await compensateExecution(db, 'k-comp', 'play', 'customer left anyway', new Date())).toEqual({ compensated: true });
    expect(await compensateExecution(db, 'k-comp', 'play', 'again', new Date())).toEqual({ compensated: true });
    const [row] = await db.query<{ status: string }>('SELECT status FROM credits WHERE id = $1', [run.result.creditId]);
    expect(row!.status).toBe('reversed');
    expect(await db.query("SELECT 1 FROM ledger WHERE type = 'action.compensated' AND subject_id = 'k-comp'")).toHaveLength(1);

    await createRecord(db, 'cases', { accountId, subject: 'slow line' }, 'test');
    const routing = await decided('priority_routing', { priority: 'urgent' }, { autonomy: 4 });
    await executeDecision(db, { decisionId: routing.decisionId, idempotencyKey: 'k-route', actor: 'test' });
    expect(await compensateExecution(db, 'k-route', 'play', 'gave up', new Date())).toEqual({ compensated: false });
    expect(await db.query("SELECT 1 FROM ledger WHERE type = 'action.not_compensable' AND subject_id = 'k-route'")).toHaveLength(1);
  });
});

describe('approvals', () => {
  it('holds an L2 action until a reviewer approves it, then runs it', async () => {
    const d = await decided('create_case', { subject: 'proactive check-in' }, { autonomy: 2 });
    expect(d.outcome).toBe('approval');
    await expect(executeDecision(db, { decisionId: d.decisionId, idempotencyKey: 'k-l2', actor: 'test' })).rejects.toThrow(
      /approval is pending/,
    );
    await approve(db, gate, d.approvalId!, { actor: 'reviewer:ann' });
    const run = await executeDecision(db, { decisionId: d.decisionId, idempotencyKey: 'k-l2', actor: 'test' });
    expect(run.result.caseId).toMatch(/^case_/);
    await expect(approve(db, gate, d.approvalId!, { actor: 'reviewer:bob' })).rejects.toThrow(/already approved/);
  });

  it('a rejection needs a reason and stops the action', async () => {
    const d = await decided('create_case', { subject: 'maybe' }, { autonomy: 2 });
    await expect(reject(db, d.approvalId!, { actor: 'reviewer:ann', reason: '  ' })).rejects.toThrow(/needs a reason/);
    await reject(db, d.approvalId!, { actor: 'reviewer:ann', reason: 'customer asked not to be contacted' });
    await expect(executeDecision(db, { decisionId: d.decisionId, idempotencyKey: 'k-rej', actor: 'test' })).rejects.toThrow(
      /approval is rejected/,
    );
    const ledger = await db.query<{ body: string }>("SELECT body FROM ledger WHERE type = 'approval.rejected' AND subject_id = $1", [
      d.approvalId,
    ]);
    expect(ledger[0]!.body).not.toContain('not to be contacted');
  });

  it('edited parameters are validated, re-checked by policy, and used', async () => {
    const d = await decided('offer_credit', { amountCents: 9000 }, { autonomy: 4, amountCents: 9000 });
    expect(d.outcome).toBe('approval');
    await expect(approve(db, gate, d.approvalId!, { actor: 'reviewer:ann', editedParams: { amountCents: -5 } })).rejects.toThrow(
      /do not fit offer_credit/,
    );
    await approve(db, gate, d.approvalId!, { actor: 'reviewer:ann', editedParams: { amountCents: 4000, currency: 'USD' } });
    const run = await executeDecision(db, { decisionId: d.decisionId, idempotencyKey: 'k-edit', actor: 'test' });
    expect(run.result.amountCents).toBe(4000);
  });

  it('expired approvals cannot be decided and are swept', async () => {
    const d = await decided('create_case', { subject: 'late' }, { autonomy: 2, ttlMs: 1000 });
    const later = new Date(Date.now() + 5000);
    await expect(approve(db, gate, d.approvalId!, { actor: 'reviewer:ann', now: later })).rejects.toThrow(/expired/);
    expect(await expireApprovals(db, later)).toBeGreaterThanOrEqual(1);
    const [row] = await db.query<{ status: string }>('SELECT status FROM approvals WHERE id = $1', [d.approvalId]);
    expect(row!.status).toBe('expired');
  });
});

describe('approvals API', () => {
  it('lists the queue by EV with its explanation, approves (running the action once) and rejects with a reason', async () => {
    const t = await createTestApp();
    try {
      const acc = await t.call('POST', '/api/v1/accounts', { body: { name: 'Queue Co', customerId: 'Q-1' } });
      const gateLocal = t.gate;
      const make = async (subject: string, ev: number) => {
        const request: PolicyRequestInput = {
          agent: { id: 'svc', role: 'agent', autonomy: 2 },
          action: 'create_case',
          customer: { id: 'Q-1', segment: 'consumer', region: 'US', inHoldout: false },
          context: { risk: 'low' },
        };
        return t.db.transaction(async (tx) => {
          const proposalId = await recordProposal(tx, {
            agentId: 'svc',
            accountId: acc.body.id,
            leadId: null,
            action: 'create_case',
            params: { subject },
            risk: 'low',
            ev: { value: ev },
            reason: `check ${subject}`,
          });
          return recordDecision(tx, proposalId, request, gateLocal.decide(request));
        });
      };
      const low = await make('low value', 5);
      const high = await make('high value', 50);
      const queue = await t.call('GET', '/api/v1/approvals', { role: 'analyst' });
      expect(queue.body.data.map((a: { id: string }) => a.id)).toEqual([high.approvalId, low.approvalId]);
      expect(queue.body.data[0]).toMatchObject({
        proposal: { action: 'create_case', reason: 'check high value' },
        decision: { outcome: 'approval', policyIds: ['l2-draft-needs-approval'] },
        customer: { customerId: 'Q-1' },
      });

      expect((await t.call('POST', `/api/v1/approvals/${high.approvalId}/approve`, { role: 'agent' })).status).toBe(403);
      const ok = await t.call('POST', `/api/v1/approvals/${high.approvalId}/approve`, { role: 'reviewer' });
      expect(ok.status).toBe(200);
      expect(ok.body.execution.result.caseId).toMatch(/^case_/);
      expect((await t.call('POST', `/api/v1/approvals/${high.approvalId}/approve`, { role: 'reviewer' })).status).toBe(409);

      expect((await t.call('POST', `/api/v1/approvals/${low.approvalId}/reject`, { role: 'reviewer', body: {} })).body.issues[0].path).toBe(
        'reason',
      );
      expect(
        (await t.call('POST', `/api/v1/approvals/${low.approvalId}/reject`, { role: 'reviewer', body: { reason: 'not needed' } })).status,
      ).toBe(204);
      expect((await t.call('GET', '/api/v1/approvals?status=pending', { role: 'reviewer' })).body.data).toHaveLength(0);
    } finally {
      await t.close();
    }
  });
});

describe('message transport', () => {
  it('delivers queued messages once to the file transport and marks them sent; a failing transport marks them failed', async () => {
    const d = await decided(
      'send_message',
      { channel: 'email', purpose: 'service', template: 'outage-notice' },
      { autonomy: 4, channel: 'email', purpose: 'service', hasConsent: true },
    );
    expect(d.outcome).toBe('execute');
    const run = await executeDecision(db, { decisionId: d.decisionId, idempotencyKey: 'k-msg', actor: 'test' });
    const file = join(mkdtempSync(join(tmpdir(), 'acs-msg-')), 'messages.jsonl');
    expect(await deliverQueuedMessages(db, new FileTransport(file))).toEqual({ sent: 1, failed: 0 });
    expect(await deliverQueuedMessages(db, new FileTransport(file))).toEqual({ sent: 0, failed: 0 });
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    // It goes to the address whose consent was checked when it was queued.
    expect(lines[0]).toMatchObject({
      id: run.result.messageId,
      channel: 'email',
      template: 'outage-notice',
      accountId,
      to: 'act@act.example',
      brand: null,
    });

    const d2 = await decided(
      'send_message',
      { channel: 'email', purpose: 'service', template: 'second' },
      { autonomy: 4, channel: 'email', purpose: 'service', hasConsent: true },
    );
    await executeDecision(db, { decisionId: d2.decisionId, idempotencyKey: 'k-msg-2', actor: 'test' });
    const broken = {
      name: 'broken',
      deliver: async () => {
        throw new Error('gateway down');
      },
    };
    expect(await deliverQueuedMessages(db, broken)).toEqual({ sent: 0, failed: 1 });
  });
});

describe('maintenance', () => {
  it('expires stale approvals, advances due plays and delivers queued messages in one round', async () => {
    const stale = await decided('create_case', { subject: 'stale' }, { autonomy: 2, ttlMs: 1000 });
    const msg = await decided(
      'send_message',
      { channel: 'email', purpose: 'service', template: 'tick' },
      { autonomy: 4, channel: 'email', purpose: 'service', hasConsent: true },
    );
    await executeDecision(db, { decisionId: msg.decisionId, idempotencyKey: 'k-tick', actor: 'test' });
    const file = join(mkdtempSync(join(tmpdir(), 'acs-tick-')), 'm.jsonl');
    const r = await maintenanceTick(db, { transport: new FileTransport(file), plays: playRegistry() }, new Date(Date.now() + 10_000));
    expect(r.plays).toEqual({ steps: 0, failures: 0, gaveUp: 0 });
    expect(r.expired).toBeGreaterThanOrEqual(1);
    expect(r.sent).toBeGreaterThanOrEqual(1);
    const [row] = await db.query<{ status: string }>('SELECT status FROM approvals WHERE id = $1', [stale.approvalId]);
    expect(row!.status).toBe('expired');
    expect(readFileSync(file, 'utf8')).toContain('"template":"tick"');
  });
});
