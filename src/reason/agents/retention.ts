import { cents, expectedValue, firedTriggers, monthly } from './ev.ts';
import type { Agent, AgentManifest, CustomerContext, ProposalDraft, Term } from './types.ts';

export const retentionManifest: AgentManifest = {
  id: 'retention',
  owner: 'customer-success',
  objective: 'keep customers at risk of churning',
  triggers: {
    signalTypes: ['usage', 'payment_failed', 'nps', 'billing_dispute'],
    features: [
      { feature: 'usageTrend', op: '<', value: 0.6 },
      { feature: 'paymentFailures30d', op: '>=', value: 1 },
      { feature: 'lastNps', op: '<=', value: 6 },
    ],
  },
  actions: {
    offer_credit: { autonomy: 3, risk: 'low' },
    create_task: { autonomy: 3, risk: 'low' },
    send_message: { autonomy: 2, risk: 'low' },
  },
  riskClass: 'medium',
  measure: { outcome: 'churned', better: 'lower' },
};

// How much each action lowers the chance of losing the customer, given they were going to churn.
// Assumptions stated here, to be replaced by learned values (issue 6): a credit 30%, a save call 20%, an email 5%.
const SAVE_RATE = { offer_credit: 0.3, create_task: 0.2, send_message: 0.05 } as const;

function churnProbability(ctx: CustomerContext, fired: string[], churn?: Parameters<Agent['propose']>[1]): Term {
  const model = churn?.churn;
  if (model && ctx.subscription) {
    const p = model.predict({ attributes: ctx.attributes, subscription: ctx.subscription });
    // Recent trouble on top of the profile-based score: each fired signal trigger adds 10 points, capped.
    const p2 = Math.min(0.95, p.probability + 0.1 * fired.length);
    const drivers = p.drivers.map((d) => d.feature).join(', ');
    return { value: cents(p2), source: 'model', detail: `profile score ${(p.probability * 100).toFixed(0)}% (drivers: ${drivers}) + 10 points per trigger`, model: { id: 'churn-logistic', version: model.version } };
  }
  const contract = ctx.subscription?.contract === 'month-to-month' ? 0.15 : 0;
  return { value: cents(Math.min(0.9, 0.1 + contract + 0.15 * fired.length)), source: 'rule', detail: '10% base, +15 month-to-month, +15 per trigger (no model available)' };
}

export const retentionAgent: Agent = {
  manifest: retentionManifest,
  propose(ctx, opts) {
    if (!ctx.accountId) return [];
    const fired = firedTriggers(retentionManifest, ctx);
    if (ctx.subscription?.contract === 'month-to-month' && fired.length > 0) fired.push('month-to-month contract');
    if (fired.length === 0) return [];
    const pChurn = churnProbability(ctx, fired, opts);
    const annual = monthly(ctx) * 12;
    const impact: Term = { value: cents(annual), source: 'features', detail: `a year of the $${monthly(ctx).toFixed(2)} monthly charge` };
    const creditCents = Math.max(500, Math.min(5000, Math.round(monthly(ctx) * 25)));
    const why = `churn risk ${(pChurn.value * 100).toFixed(0)}% (${fired.join('; ')})`;
    const options: ProposalDraft[] = [
      {
        agentId: 'retention', action: 'offer_credit', risk: 'low',
        params: { amountCents: creditCents, currency: 'USD', reason: 'retention offer' },
        ev: expectedValue({ value: cents(pChurn.value * SAVE_RATE.offer_credit), source: pChurn.source, detail: `p(churn) × ${SAVE_RATE.offer_credit} save rate`, model: pChurn.model }, impact, { value: creditCents / 100, source: 'rule', detail: 'the credit' }, 'low'),
        reason: `Offer a $${(creditCents / 100).toFixed(2)} credit: ${why}.`,
      },
      {
        agentId: 'retention', action: 'create_task', risk: 'low',
        params: { title: 'Save call', details: why, dueInDays: 2 },
        ev: expectedValue({ value: cents(pChurn.value * SAVE_RATE.create_task), source: pChurn.source, detail: `p(churn) × ${SAVE_RATE.create_task} save rate`, model: pChurn.model }, impact, { value: 15, source: 'rule', detail: 'a rep\u2019s half hour' }, 'low'),
        reason: `Call the customer: ${why}.`,
      },
      {
        agentId: 'retention', action: 'send_message', risk: 'low', channel: 'email', purpose: 'service',
        params: { channel: 'email', purpose: 'service', template: 'check-in' },
        ev: expectedValue({ value: cents(pChurn.value * SAVE_RATE.send_message), source: pChurn.source, detail: `p(churn) × ${SAVE_RATE.send_message} save rate`, model: pChurn.model }, impact, { value: 0.5, source: 'rule', detail: 'sending cost' }, 'low'),
        reason: `Send a check-in email: ${why}.`,
      },
    ];
    return options.filter((o) => o.ev.value > 0).sort((a, b) => b.ev.value - a.ev.value).slice(0, 2);
  },
};
