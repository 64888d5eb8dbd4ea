import { describe, expect, it } from 'vitest';
import { arbitrate, conflictReason, DEFAULT_RULES, expectedValue, followUpLimit, type ProposalDraft } from '../src/reason/index.ts';

const now = new Date('2026-06-10T12:00:00Z');
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3600_000);
const draft = (agentId: string, action: ProposalDraft['action'], ev: number, extra: Partial<ProposalDraft> = {}): ProposalDraft => ({
  agentId,
  action,
  params: {},
  risk: 'low',
  reason: 'Test.',
  ev: expectedValue(
    { value: 1, source: 'rule', detail: '' },
    { value: ev, source: 'rule', detail: '' },
    { value: 0, source: 'rule', detail: '' },
    'low',
  ),
  ...extra,
});
const rules = { ...DEFAULT_RULES, creditBudgetLeftCents: 10_000 };

describe('arbitration', () => {
  it('ranks the drafts within every limit by expected value, highest first, suppressing none of them', () => {
    const r = arbitrate(
      [
        draft('retention', 'create_task', 50),
        draft('service-recovery', 'create_case', 80),
        draft('retention', 'offer_credit', 60, { params: { amountCents: 1000 } }),
      ],
      [],
      rules,
      now,
    );
    expect(r.ranked.map((d) => `${d.agentId}/${d.action}`)).toEqual([
      'service-recovery/create_case',
      'retention/offer_credit',
      'retention/create_task',
    ]);
    expect(r.suppressed).toEqual([]);
    expect(conflictReason(r.ranked[0]!, r.ranked[2]!)).toBe(
      'conflict: service-recovery/create_case has the higher expected value (78.4 >= 49)',
    );
  });

  it('breaks a tie in expected value by agent, then action, so the order never depends on input order', () => {
    const a = draft('service-recovery', 'create_case', 50);
    const b = draft('retention', 'create_task', 50);
    expect(arbitrate([a, b], [], rules, now).ranked.map((d) => d.agentId)).toEqual(['retention', 'service-recovery']);
    expect(arbitrate([b, a], [], rules, now).ranked.map((d) => d.agentId)).toEqual(['retention', 'service-recovery']);
  });

  it('suppresses everything during the cooldown after a recent action', () => {
    const r = arbitrate(
      [draft('retention', 'create_task', 50)],
      [{ at: hoursAgo(3), agentId: 'service-recovery', action: 'create_case', channel: null }],
      rules,
      now,
    );
    expect(r.ranked).toEqual([]);
    expect(r.suppressed[0]!.reason).toMatch(/^cooldown/);
    expect(
      arbitrate(
        [draft('retention', 'create_task', 50)],
        [{ at: hoursAgo(30), agentId: 'service-recovery', action: 'create_case', channel: null }],
        rules,
        now,
      ).ranked,
    ).toHaveLength(1);
  });

  it('caps contacts per channel and respects the daily credit budget', () => {
    const contacts = [3, 100, 200].map((h) => ({
      at: hoursAgo(h + 24),
      agentId: 'service-recovery',
      action: 'send_message',
      channel: 'email',
    }));
    const r = arbitrate(
      [
        draft('retention', 'send_message', 90, { channel: 'email', purpose: 'service' }),
        draft('retention', 'offer_credit', 80, { params: { amountCents: 20_000 } }),
        draft('retention', 'create_task', 10),
      ],
      contacts,
      rules,
      now,
    );
    expect(r.ranked.map((d) => d.action)).toEqual(['create_task']);
    expect(r.suppressed.map((s) => s.reason.split(':')[0])).toEqual(['contact cap', 'credit budget']);
  });

  it('does not let an agent take the same action for a customer twice within the repeat window', () => {
    const credit = draft('retention', 'offer_credit', 60, { params: { amountCents: 1000 } });
    const recent = [{ at: hoursAgo(24 * 5), agentId: 'retention', action: 'offer_credit', channel: null }];
    const r = arbitrate([credit, draft('retention', 'create_task', 40)], recent, rules, now);
    expect(r.ranked.map((d) => d.action)).toEqual(['create_task']);
    expect(r.suppressed[0]!.reason).toBe(`repeat: retention/offer_credit was already taken at ${hoursAgo(24 * 5).toISOString()}`);
    // Another agent's credit, or the same one after the window, is not a repeat.
    expect(arbitrate([credit], [{ ...recent[0]!, agentId: 'service-recovery' }], rules, now).ranked).toHaveLength(1);
    expect(arbitrate([credit], [{ ...recent[0]!, at: hoursAgo(24 * 15) }], rules, now).ranked).toHaveLength(1);
  });

  it('a notice that followed its action in a play is a contact, not a second action: it starts no cooldown of its own', () => {
    // The case 30 hours ago is past the cooldown; its notice, sent 2 hours ago as the play's next step, does not restart it.
    const recent = [
      { at: hoursAgo(30), agentId: 'service-recovery', action: 'create_case', channel: null },
      { at: hoursAgo(2), agentId: 'service-recovery', action: 'send_message', channel: 'email', followUp: true },
    ];
    expect(arbitrate([draft('retention', 'create_task', 50)], recent, rules, now).ranked).toHaveLength(1);
    // The same message as an action of its own would have.
    const own = recent.map((r) => ({ ...r, followUp: false }));
    expect(arbitrate([draft('retention', 'create_task', 50)], own, rules, now).suppressed[0]!.reason).toMatch(/^cooldown/);
    // It still counts against the channel's contact cap, and a step of a play is held to the cap and to EV > 0 itself.
    const notice = draft('service-recovery', 'send_message', 40, { channel: 'email', purpose: 'service', partOf: 'create_case' });
    const full = [3, 4, 5].map((h) => ({ ...recent[1]!, at: hoursAgo(h) }));
    expect(followUpLimit(notice, full, rules, now)).toBe('contact cap: 3 email contacts already in the window');
    expect(followUpLimit(notice, recent, rules, now)).toBeNull();
    expect(followUpLimit({ ...notice, ev: { ...notice.ev, value: 0 } }, recent, rules, now)).toBe('not worth it: expected value 0 <= 0');
  });
});
