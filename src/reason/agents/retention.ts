import { chooseOffer } from './bandit.ts';
import { cents, expectedValue, firedTriggers, monthly } from './ev.ts';
import { learnedPSuccess, retentionSegment } from './segments.ts';
import type { Agent, AgentManifest, ChurnCalibration, ChurnScore, CustomerContext, ProposalDraft, ProposeOptions, Term } from './types.ts';

/** The title of the task a save call is; eligibility looks for an open one (src/reason/eligibility.ts). */
export const SAVE_CALL_TITLE = 'Save call';

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
    // Retention is for customers still with us: nothing goes to a cancelled or churned subscription.
    offer_credit: { autonomy: 3, risk: 'low', eligibility: ['subscription_live'] },
    create_task: { autonomy: 3, risk: 'low', eligibility: ['subscription_live', 'no_open_save_call'] },
    send_message: { autonomy: 2, risk: 'low', eligibility: ['subscription_live', 'person_reachable'] },
  },
  riskClass: 'medium',
  measure: { outcome: 'churned', better: 'lower' },
};

// How much each action lowers the chance of losing the customer, given they were going to churn.
// Assumptions stated here, not measurements: a credit 30%, a save call 20%, an email 5%. p(churn) × the save rate is
// the prior the uplift learned from the holdout is shrunk toward (src/learn/uplift-model.ts).
const SAVE_RATE = { offer_credit: 0.3, create_task: 0.2, send_message: 0.05 } as const;

const TRIGGER_POINTS = 'recent trouble adds 10 points per trigger, capped at 95%';
const RULES_DETAIL = '10% base, +15 month-to-month, +15 per trigger';
const pct = (x: number) => `${(x * 100).toFixed(x < 0.1 ? 1 : 0)}%`;
const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** A profile score plus recent trouble: each fired signal trigger adds 10 points, capped. */
const withTriggers = (p: number, fired: string[]) => cents(Math.min(0.95, p + 0.1 * fired.length));

type Scored = Omit<ChurnScore, 'scoredAt' | 'triggers'>;

/**
 * p(churn), from the first of: the model registry's champion for `churn`; the model trained at server start;
 * the documented rules. The registry can also choose rules on purpose (its champion was demoted for drift).
 */
function servingChurn(ctx: CustomerContext, fired: string[], opts?: ProposeOptions): Scored {
  const served = opts?.registry?.churn;
  const sub = ctx.subscription;
  if (served?.champion && sub) {
    const c = served.champion;
    const p = c.predict({ attributes: ctx.attributes, subscription: sub });
    return {
      probability: withTriggers(p, fired),
      profileScore: p,
      source: 'model',
      detail: `registry champion ${c.name} v${c.version}: profile score ${pct(p)}; ${TRIGGER_POINTS}`,
      model: { name: c.name, version: String(c.version) },
    };
  }
  const model = opts?.churn;
  // The registry's word on rules wins over the start-up model: a demoted model must stop deciding.
  if (model && sub && !served?.rules) {
    const p = model.predict({ attributes: ctx.attributes, subscription: sub });
    const drivers = p.drivers.map((d) => d.feature).join(', ');
    return {
      probability: withTriggers(p.probability, fired),
      profileScore: p.probability,
      source: 'model',
      detail: `model trained at start (no registry champion): profile score ${pct(p.probability)} (drivers: ${drivers}); ${TRIGGER_POINTS}`,
      model: { name: 'churn-logistic', version: model.version },
    };
  }
  const contract = sub?.contract === 'month-to-month' ? 0.15 : 0;
  const why = served?.rules ? `no model: ${served.rules}` : !sub ? 'no subscription to score' : 'no model available';
  return {
    probability: cents(Math.min(0.9, 0.1 + contract + 0.15 * fired.length)),
    profileScore: null,
    source: 'rule',
    detail: `${RULES_DETAIL} (${why})`,
    model: null,
  };
}

/**
 * The customer's churn score: the one function that computes it, for the retention agent's proposals and for the
 * Customer 360's fresh score alike. The retention triggers that fire (a month-to-month contract counts once another
 * fires) add to the serving model's profile score; a registry challenger's score is recorded beside it, shadow only.
 * Dated `opts.now`.
 */
export function scoreChurn(ctx: CustomerContext, opts?: ProposeOptions): ChurnScore {
  const fired = firedTriggers(retentionManifest, ctx);
  if (ctx.subscription?.contract === 'month-to-month' && fired.length > 0) fired.push('month-to-month contract');
  // Without held-out customers there is nothing to calibrate to: the score stands as served.
  const cal = opts?.churnCalibration?.heldOut ? opts.churnCalibration : undefined;
  const served = servingChurn(ctx, fired, opts);
  const score: ChurnScore = {
    ...(cal ? calibrated(served, cal) : served),
    scoredAt: (opts?.now ?? new Date()).toISOString(),
    triggers: fired,
  };
  const challenger = opts?.registry?.churn?.challenger;
  if (!challenger || !ctx.subscription) return score;
  const p = challenger.predict({ attributes: ctx.attributes, subscription: ctx.subscription });
  const detail = `challenger ${challenger.name} v${challenger.version}: profile score ${pct(p)}; shadow only, not used to decide`;
  const shadow = withTriggers(p, fired);
  return {
    ...score,
    shadow: {
      model: { name: challenger.name, version: String(challenger.version) },
      probability: cal ? rescale(shadow, cal) : shadow,
      detail,
    },
  };
}

/** A score times the holdout's calibration factor, capped like the score itself; four decimals, as it is often small. */
const rescale = (p: number, cal: ChurnCalibration) => Math.round(Math.min(0.95, p * cal.factor) * 10_000) / 10_000;

/** The served score rescaled to the churn of ACS's own held-out customers, its raw value and the reason kept. */
function calibrated(score: Scored, cal: ChurnCalibration): Scored & Pick<ChurnScore, 'uncalibrated' | 'calibration'> {
  return {
    ...score,
    probability: rescale(score.probability, cal),
    uncalibrated: score.probability,
    calibration: { factor: cal.factor, detail: cal.detail },
    detail: `${score.detail}; ${cal.detail}`,
  };
}

/** The EV term of a churn score, its shadow beside it. */
function churnTerm(score: ChurnScore): Term {
  return {
    value: score.probability,
    source: score.source,
    detail: score.detail,
    ...(score.model ? { model: { id: score.model.name, version: score.model.version } } : {}),
    ...(score.shadow
      ? {
          shadow: {
            model: { id: score.shadow.model.name, version: score.shadow.model.version },
            value: score.shadow.probability,
            detail: score.shadow.detail,
          },
        }
      : {}),
  };
}

/** p(churn) × a save rate, explained with where p(churn) came from; its shadow scaled alike. */
const scaled = (p: Term, rate: number): Term => ({
  value: round4(p.value * rate),
  source: p.source,
  detail: `p(churn) ${pct(p.value)} × ${rate} save rate; p(churn) from ${p.detail}`,
  ...(p.model ? { model: p.model } : {}),
  ...(p.shadow
    ? {
        shadow: {
          ...p.shadow,
          value: round4(p.shadow.value * rate),
          detail: `p(churn) ${pct(p.shadow.value)} × ${rate} save rate; ${p.shadow.detail}`,
        },
      }
    : {}),
});

export const retentionAgent: Agent = {
  manifest: retentionManifest,
  propose(ctx, opts) {
    if (!ctx.accountId) return [];
    const churn = scoreChurn(ctx, opts);
    const fired = churn.triggers;
    if (fired.length === 0) return [];
    const pChurn = churnTerm(churn);
    const annual = monthly(ctx) * 12;
    const impact: Term = { value: cents(annual), source: 'features', detail: `a year of the $${monthly(ctx).toFixed(2)} monthly charge` };
    // Which credit to offer is the offer bandit's choice for the customer's segment (25% of the bill without one).
    const offer = chooseOffer(ctx, annual, opts?.bandit);
    const creditCents = offer.amountCents;
    // p(success) is the incremental effect learned from the holdout for this segment, shrunk toward p(churn) × save rate.
    // Banded on the score before calibration: the bands rank customers, and must not move when the calibration does.
    const segment = retentionSegment(churn.uncalibrated ?? pChurn.value, ctx.subscription?.contract);
    const p = (action: keyof typeof SAVE_RATE) => learnedPSuccess(opts, 'retention', action, segment, scaled(pChurn, SAVE_RATE[action]));
    const why = `churn risk ${pct(pChurn.value)} (${fired.join('; ')})`;
    const options: ProposalDraft[] = [
      {
        agentId: 'retention',
        action: 'offer_credit',
        risk: 'low',
        params: { amountCents: creditCents, currency: 'USD', reason: 'retention offer' },
        ev: {
          ...expectedValue(p('offer_credit'), impact, { value: creditCents / 100, source: 'rule', detail: 'the credit' }, 'low'),
          ...(offer.choice ? { bandit: offer.choice } : {}),
          churn,
          upliftSegment: segment,
        },
        reason: `Offer a $${(creditCents / 100).toFixed(2)} credit: ${why}${offer.note ? `; ${offer.note}` : ''}.`,
      },
      {
        agentId: 'retention',
        action: 'create_task',
        risk: 'low',
        params: { title: SAVE_CALL_TITLE, details: why, dueInDays: 2 },
        ev: {
          ...expectedValue(p('create_task'), impact, { value: 15, source: 'rule', detail: 'a rep\u2019s half hour' }, 'low'),
          churn,
          upliftSegment: segment,
        },
        reason: `Call the customer: ${why}.`,
      },
      {
        agentId: 'retention',
        action: 'send_message',
        risk: 'low',
        channel: 'email',
        purpose: 'service',
        params: { channel: 'email', purpose: 'service', template: 'check-in' },
        ev: {
          ...expectedValue(p('send_message'), impact, { value: 0.5, source: 'rule', detail: 'sending cost' }, 'low'),
          churn,
          upliftSegment: segment,
        },
        reason: `Send a check-in email: ${why}.`,
      },
    ];
    return options
      .filter((o) => o.ev.value > 0)
      .sort((a, b) => b.ev.value - a.ev.value)
      .slice(0, 2);
  },
};
