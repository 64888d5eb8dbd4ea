import { cents, expectedValue, firedTriggers, monthly } from './ev.ts';
import { scoreChurn } from './retention.ts';
import { learnedPSuccess, serviceSegment } from './segments.ts';
import type { Agent, AgentManifest, ProposalDraft, Term } from './types.ts';

export const serviceRecoveryManifest: AgentManifest = {
  id: 'service-recovery',
  owner: 'support',
  objective: 'fix repeated problems before the customer asks twice',
  triggers: {
    signalTypes: ['support_ticket', 'payment_failed'],
    features: [
      { feature: 'tickets30d', op: '>=', value: 2 },
      { feature: 'paymentFailures30d', op: '>=', value: 2 },
      { feature: 'ticketSentiment30d', op: '<', value: -0.3 },
      { feature: 'openCases', op: '>=', value: 2 },
    ],
  },
  actions: {
    create_case: { autonomy: 3, risk: 'low' },
    priority_routing: { autonomy: 3, risk: 'low' },
    send_message: { autonomy: 3, risk: 'low', eligibility: ['person_reachable'] },
  },
  riskClass: 'low',
  measure: { outcome: 'complaint', better: 'lower' },
};

// Chance that each step resolves the trouble (assumptions, documented here): the prior of the learned uplift.
const RESOLVE = { create_case: 0.35, priority_routing: 0.25, send_message: 0.1 } as const;

export const serviceRecoveryAgent: Agent = {
  manifest: serviceRecoveryManifest,
  propose(ctx, opts) {
    if (!ctx.accountId) return [];
    const fired = firedTriggers(serviceRecoveryManifest, ctx);
    if (fired.length === 0) return [];
    const why = fired.join('; ');
    // What is at stake: half a year of revenue, times the chance this customer leaves (the one churn score, calibrated
    // to the holdout). Unresolved trouble does not lose every customer: valuing it as if it did paid for cases that
    // kept nobody.
    const churn = scoreChurn(ctx, opts);
    const impact: Term = {
      value: cents(monthly(ctx) * 6 * churn.probability),
      source: churn.source,
      detail: `six months of the $${monthly(ctx).toFixed(2)} monthly charge × p(churn) ${(churn.probability * 100).toFixed(1)}% (${churn.detail})`,
      ...(churn.model ? { model: { id: churn.model.name, version: churn.model.version } } : {}),
    };
    const open = typeof ctx.features.openCases === 'number' ? ctx.features.openCases : 0;
    // p(success): the uplift learned from the holdout for this segment, shrunk toward the documented resolution rate.
    const segment = serviceSegment(fired.length, open);
    const p = (a: keyof typeof RESOLVE): Term =>
      learnedPSuccess(opts, 'service-recovery', a, segment, { value: RESOLVE[a], source: 'rule', detail: `resolution rate for ${a}` });
    const proposals: ProposalDraft[] = [
      {
        agentId: 'service-recovery',
        action: 'create_case',
        risk: 'low',
        params: { subject: 'Proactive check: repeated problems', description: why, priority: 'high' },
        ev: {
          ...expectedValue(p('create_case'), impact, { value: 10, source: 'rule', detail: 'agent time' }, 'low'),
          upliftSegment: segment,
        },
        reason: `Open a proactive case: ${why}.`,
      },
      {
        agentId: 'service-recovery',
        action: 'send_message',
        risk: 'low',
        channel: 'email',
        purpose: 'service',
        params: { channel: 'email', purpose: 'service', template: 'we-are-on-it' },
        ev: {
          ...expectedValue(p('send_message'), impact, { value: 0.5, source: 'rule', detail: 'sending cost' }, 'low'),
          upliftSegment: segment,
        },
        reason: `Tell the customer we opened a case and are on it: ${why}.`,
        // The notice is the case's second step, not an action of its own: it never competes with the case for the slot.
        partOf: 'create_case',
      },
    ];
    if (open >= 1) {
      proposals.push({
        agentId: 'service-recovery',
        action: 'priority_routing',
        risk: 'low',
        params: { priority: 'urgent' },
        ev: {
          ...expectedValue(p('priority_routing'), impact, { value: 5, source: 'rule', detail: 'queue jump' }, 'low'),
          upliftSegment: segment,
        },
        reason: `Move the ${open} open case(s) to the front: ${why}.`,
      });
    }
    return proposals.filter((x) => x.ev.value > 0).sort((a, b) => b.ev.value - a.ev.value);
  },
};
