import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDecisions } from '../src/act/index.ts';
import { PolicyGate, recordProposals, type Decision, type PolicyRequestInput } from '../src/assure/index.ts';
import { trackKey, trackRecords } from '../src/learn/index.ts';
import { cliEnv, openCliDb, runAcs } from './cli-helpers.ts';
import { createTestApp, daysAgo, ticketTrouble, troubledCustomer, type TestApp } from './helpers.ts';

const gate = PolicyGate.load();
const caseAt = (autonomy: number, agentDecisions?: number, agentPrecision?: number): PolicyRequestInput => ({
  agent: { id: 'service-recovery', role: 'agent', autonomy },
  action: 'create_case',
  customer: { id: 'c-1', segment: 'month-to-month', region: 'unknown', inHoldout: false },
  context: {
    risk: 'low',
    ...(agentDecisions === undefined ? {} : { agentDecisions }),
    ...(agentPrecision === undefined ? {} : { agentPrecision }),
  },
});

describe('the earned-autonomy policy', () => {
  it('at L3, precision below 80% over at least 20 decisions sends the action to approval; at 80% it executes', () => {
    expect(gate.decide(caseAt(3, 20, 7999))).toMatchObject({ outcome: 'approval', policyIds: ['earned-autonomy-l3'] });
    expect(gate.decide(caseAt(3, 20, 8000))).toMatchObject({ outcome: 'execute', policyIds: ['low-risk-service-l3'] });
    expect(gate.decide(caseAt(3, 500, 10_000))).toMatchObject({ outcome: 'execute' });
  });

  it('respects the minimum count: 19 decisions are not judged, nor is no record at all', () => {
    expect(gate.decide(caseAt(3, 19, 0))).toMatchObject({ outcome: 'execute' });
    expect(gate.decide(caseAt(3))).toMatchObject({ outcome: 'execute' });
  });

  it('applies to L3 only, and never lifts a forbid', () => {
    expect(gate.decide(caseAt(4, 50, 1000))).toMatchObject({ outcome: 'execute' });
    expect(gate.decide(caseAt(2, 50, 10_000))).toMatchObject({ outcome: 'approval', policyIds: ['l2-draft-needs-approval'] });
    expect(gate.decide(caseAt(1, 50, 10_000)).outcome).toBe('deny');
  });

  it('the request names bad track-record values', () => {
    expect(() => gate.decide(caseAt(3, -1, 0))).toThrow(/context\.agentDecisions/);
    expect(() => gate.decide(caseAt(3, 20, 10_001))).toThrow(/context\.agentPrecision/);
    expect(() => gate.decide(caseAt(3, 20, 79.5))).toThrow(/context\.agentPrecision/);
  });
});

describe('earned autonomy in the loop', () => {
  let t: TestApp;
  let historyAccount: string;
  beforeAll(async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    historyAccount = (await t.call('POST', '/api/v1/accounts', { body: { name: 'History', customerId: 'EA-HISTORY', kind: 'person' } }))
      .body.id;
  });
  afterAll(async () => t.close());

  /** Service recovery's past create_case decisions, two days ago (before the loop's clock, which is the newest signal's time). */
  async function history(n: number, outcome: 'execute' | 'approval') {
    const decision: Decision = {
      outcome,
      policyIds: [outcome === 'execute' ? 'low-risk-service-l3' : 'l2-draft-needs-approval'],
      reasons: ['history'],
      autonomy: 3,
      errors: [],
    };
    return t.db.transaction(async (tx) => {
      const ids = await recordProposals(
        tx,
        Array.from({ length: n }, () => ({
          agentId: 'service-recovery',
          accountId: historyAccount,
          leadId: null,
          action: 'create_case',
          params: { subject: 'history', priority: 'high' },
          risk: 'low' as const,
          ev: { value: 1 },
          reason: 'History.',
        })),
      );
      return recordDecisions(
        tx,
        ids.map((proposalId) => ({ proposalId, request: caseAt(3), decision })),
        { now: new Date(daysAgo(2)) },
      );
    });
  }

  /** The create_case decision the loop made for a new troubled customer, with the track record it was decided on. */
  async function decideFor(customerId: string) {
    const accountId = await troubledCustomer(t, customerId);
    expect((await t.call('POST', '/api/v1/signals', { body: ticketTrouble(customerId, 1), role: 'agent' })).status).toBe(202);
    await t.bus.drain();
    const [row] = await t.db.query<{
      outcome: string;
      policy_ids: string[];
      request: { context: { agentDecisions: number; agentPrecision: number } };
      approval_id: string | null;
    }>(
      `SELECT d.outcome, d.policy_ids, d.request, a.id AS approval_id FROM proposals p JOIN decisions d ON d.proposal_id = p.id LEFT JOIN approvals a ON a.decision_id = d.id
       WHERE p.account_id = $1 AND p.agent_id = 'service-recovery' AND p.action = 'create_case'`,
      [accountId],
    );
    return row!;
  }

  it('a reviewer\u2019s rejection takes a category; an unknown one is refused', async () => {
    const approvalId = (await history(1, 'approval'))[0]!.approvalId;
    const bad = await t.call('POST', `/api/v1/approvals/${approvalId}/reject`, {
      role: 'reviewer',
      body: { reason: 'no', category: 'vibes' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: { path: string }) => i.path)).toEqual(['category']);
    expect(
      (
        await t.call('POST', `/api/v1/approvals/${approvalId}/reject`, {
          role: 'reviewer',
          body: { reason: 'the customer was fine', category: 'not_needed' },
        })
      ).status,
    ).toBe(204);
    const [ledger] = await t.db.query<{ body: string }>("SELECT body FROM ledger WHERE type = 'approval.rejected' AND subject_id = $1", [
      approvalId,
    ]);
    expect(JSON.parse(ledger!.body).data).toEqual({ decisionId: expect.any(String), reasonGiven: true, category: 'not_needed' });
    const rejected = (await t.call('GET', '/api/v1/approvals?status=rejected', { role: 'analyst' })).body.data;
    expect(rejected[0]).toMatchObject({ id: approvalId, reason: 'the customer was fine', reasonCategory: 'not_needed' });
  });

  it('below the minimum count the agent executes; with 20 decisions under 80% it needs approval; approvals earn execution back', async () => {
    // 19 rejected decisions in all (one from the test above): too few to judge.
    const pending = await history(18, 'approval');
    for (const [i, { approvalId }] of pending.entries()) {
      const category = i % 2 ? 'wrong_action' : 'bad_timing';
      expect(
        (await t.call('POST', `/api/v1/approvals/${approvalId}/reject`, { role: 'reviewer', body: { reason: 'not this', category } }))
          .status,
      ).toBe(204);
    }
    const first = await decideFor('EA-1');
    expect(first).toMatchObject({ outcome: 'execute', policy_ids: ['low-risk-service-l3'] });
    expect(first.request.context).toMatchObject({ agentDecisions: 19, agentPrecision: 0 });

    // That execution makes 20 decisions, 1 approved: 5%. Now a human approves.
    const second = await decideFor('EA-2');
    expect(second).toMatchObject({ outcome: 'approval', policy_ids: ['earned-autonomy-l3'] });
    expect(second.request.context).toMatchObject({ agentDecisions: 20, agentPrecision: 500 });

    // 80 more that ran: 81 of 100 approved (the pending approval has no verdict yet), 81%: it executes again.
    await history(80, 'execute');
    const third = await decideFor('EA-3');
    expect(third).toMatchObject({ outcome: 'execute', policy_ids: ['low-risk-service-l3'] });
    expect(third.request.context).toMatchObject({ agentDecisions: 100, agentPrecision: 8100 });

    // The reviewer approves the waiting case: it runs, and counts for the agent.
    expect((await t.call('POST', `/api/v1/approvals/${second.approval_id}/approve`, { role: 'reviewer', body: {} })).status).toBe(200);
    const stats = await t.call('GET', '/api/v1/agents/stats?days=30', { role: 'analyst' });
    expect(stats.status).toBe(200);
    const record = stats.body.trackRecord.data.find(
      (r: { agentId: string; action: string }) => r.agentId === 'service-recovery' && r.action === 'create_case',
    );
    expect(stats.body.trackRecord.windowDays).toBe(30);
    expect(record).toEqual({
      agentId: 'service-recovery',
      action: 'create_case',
      decisions: 102,
      approved: 83,
      rejected: 19,
      rejectedBy: { not_needed: 1, wrong_action: 9, bad_timing: 9 },
      precisionBp: Math.floor((10_000 * 83) / 102),
    });
    // The agent's precision in its stats is the same definition: approved (run or approved) over those plus rejected.
    const agent = stats.body.data.find((s: { agentId: string }) => s.agentId === 'service-recovery');
    expect(agent.precision).toBeCloseTo(83 / 102, 10);
  });

  it('the record covers the last 30 days of decisions only', async () => {
    const now = await trackRecords(t.db, { now: new Date() });
    expect(now.get(trackKey('service-recovery', 'create_case'))?.decisions).toBe(102);
    const later = await trackRecords(t.db, { now: new Date(Date.now() + 31 * 86_400_000) });
    expect(later.get(trackKey('service-recovery', 'create_case'))).toBeUndefined();
  });
});

describe('acs track-record', () => {
  it('prints each agent\u2019s precision per action as policy sees it, as text or JSON, and refuses arguments', async () => {
    const cli = await cliEnv();
    try {
      const empty = await runAcs(['track-record'], cli.env);
      expect(empty.code, empty.stderr).toBe(0);
      expect(empty.stdout).toContain('every agent starts with no track record');
      // Three decisions of one agent and action yesterday: one ran on its own, one approved, one rejected as the wrong offer.
      const db = await openCliDb(cli);
      try {
        for (const [n, outcome, status, category] of [
          [1, 'execute', null, null],
          [2, 'approval', 'approved', null],
          [3, 'approval', 'rejected', 'wrong_offer'],
        ] as const) {
          await db.query(
            `INSERT INTO proposals (id, agent_id, action, params, risk, ev, ev_value, reason, status, created_at) VALUES ($1, 'retention', 'offer_credit', '{}', 'low', '{}', 1, 'r', 'decided', $2)`,
            [`prop_${n}`, daysAgo(1)],
          );
          await db.query(
            `INSERT INTO decisions (id, proposal_id, outcome, policy_ids, reasons, autonomy, request, decided_at) VALUES ($1, $2, $3, '[]', '[]', 2, '{}', $4)`,
            [`dec_${n}`, `prop_${n}`, outcome, daysAgo(1)],
          );
          if (status)
            await db.query('INSERT INTO approvals (id, decision_id, status, expires_at, reason_category) VALUES ($1, $2, $3, $4, $5)', [
              `appr_${n}`,
              `dec_${n}`,
              status,
              daysAgo(-1),
              category,
            ]);
        }
      } finally {
        await db.close();
      }
      const json = await runAcs(['track-record', '--json'], cli.env);
      expect(json.code, json.stderr).toBe(0);
      expect(JSON.parse(json.stdout)).toEqual([
        {
          agentId: 'retention',
          action: 'offer_credit',
          decisions: 3,
          approved: 2,
          rejected: 1,
          rejectedBy: { wrong_offer: 1 },
          precisionBp: 6666,
        },
      ]);
      const text = await runAcs(['track-record'], cli.env);
      expect(text.stdout).toMatch(
        /retention \/ offer_credit\s+decisions\s+3\s+precision\s+66\.66%\s+approved 2\s+rejected 1 \(wrong_offer 1\)/,
      );
      const bad = await runAcs(['track-record', 'now'], cli.env);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("acs track-record takes no arguments, got 'now'");
    } finally {
      await cli.cleanup();
    }
  }, 60_000);
});
