import { describe, expect, it } from 'vitest';
import { arbitrate, DEFAULT_RULES, expectedValue, type ProposalDraft } from '../src/reason/index.ts';

const now = new Date('2026-06-10T12:00:00Z');
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3600_000);
const draft = (agentId: string, action: ProposalDraft['action'], ev: number, extra: Partial<ProposalDraft> = {}): ProposalDraft => ({
  agentId, action, params: {}, risk: 'low', reason: 'Test.',
  ev: expectedValue({ value: 1, source: 'rule', detail: '' }, { value: ev, source: 'rule', detail: '' }, { value: 0, source: 'rule', detail: '' }, 'low'),
  ...extra,
});
const rules = { ...DEFAULT_RULES, creditBudgetLeftCents: 10_000 };

describe('arbitration', () => {
  it('keeps one action per customer: the highest EV, the rest suppressed as conflicts', () => {
    const r = arbitrate([draft('retention', 'create_task', 50), draft('service-recovery', 'create_case', 80), draft('retention', 'offer_credit', 60, { params: { amountCents: 1000 } })], [], rules, now);
    expect(r.chosen).toMatchObject({ agentId: 'service-recovery', action: 'create_case' });
    expect(r.suppressed.map((s) => s.reason)).toEqual([expect.stringMatching(/^conflict: service-recovery\/create_case/), expect.stringMatching(/^conflict/)]);
  });

  it('suppresses everything during the cooldown after a recent action', () => {
    const r = arbitrate([draft('retention', 'create_task', 50)], [{ at: hoursAgo(3), action: 'create_case', channel: null }], rules, now);
    expect(r.chosen).toBeNull();
    expect(r.suppressed[0]!.reason).toMatch(/^cooldown/);
    expect(arbitrate([draft('retention', 'create_task', 50)], [{ at: hoursAgo(30), action: 'create_case', channel: null }], rules, now).chosen).not.toBeNull();
  });

  it('caps contacts per channel and respects the daily credit budget', () => {
    const contacts = [3, 100, 200].map((h) => ({ at: hoursAgo(h + 24), action: 'send_message', channel: 'email' }));
    const r = arbitrate([
      draft('retention', 'send_message', 90, { channel: 'email', purpose: 'service' }),
      draft('retention', 'offer_credit', 80, { params: { amountCents: 20_000 } }),
      draft('retention', 'create_task', 10),
    ], contacts, rules, now);
    expect(r.chosen).toMatchObject({ action: 'create_task' });
    expect(r.suppressed.map((s) => s.reason.split(':')[0])).toEqual(['contact cap', 'credit budget']);
  });
});
