import { monthly } from './ev.ts';
import type { BanditChoice, BanditChooser, CustomerContext, ProposalDraft } from './types.ts';

// What agents and the loop need of the bandits (src/learn/bandit.ts samples them): which arm to play for a segment,
// and the explanation that goes with the proposal. Agents stay pure: the sampler comes in with their options.

/** The bandits in use. */
export const BANDITS = { offer: 'retention-offer', channel: 'channel' } as const;

/** The segment bandits learn per, and policy sees (`customer.segment`): the contract, or `lead`. */
export const segmentOf = (ctx: CustomerContext): string => (ctx.lead ? 'lead' : String(ctx.subscription?.contract ?? 'unknown'));

/** Whose draws these are: the business's own key (customer id, a lead's email), stable across databases, before ids. */
const subjectOf = (ctx: CustomerContext): string => ctx.customerId ?? ctx.lead?.email ?? ctx.accountId ?? ctx.lead?.id ?? '';

/** Retention's credit offers: a share of the monthly bill, between $5 and $50. 25% was the only offer before the bandit. */
export const RETENTION_OFFERS = [
  { arm: 'credit-10', percent: 10 },
  { arm: 'credit-25', percent: 25 },
  { arm: 'credit-50', percent: 50 },
] as const;
export const DEFAULT_OFFER = 'credit-25';

const creditCents = (ctx: CustomerContext, percent: number) => Math.max(500, Math.min(5000, Math.round(monthly(ctx) * percent)));

/**
 * The credit to offer. With a bandit, Thompson sampling over the offers for the customer's segment, scored as the
 * sampled acceptance × a year of the bill − the credit; without one, the 25% offer.
 */
export function chooseOffer(
  ctx: CustomerContext,
  annualValue: number,
  bandit?: BanditChooser,
): { amountCents: number; choice?: BanditChoice; note?: string } {
  if (!bandit) return { amountCents: creditCents(ctx, 25) };
  const arms = RETENTION_OFFERS.map((o) => ({ arm: o.arm, payoff: annualValue, cost: creditCents(ctx, o.percent) / 100 }));
  const choice = bandit.choose(BANDITS.offer, segmentOf(ctx), subjectOf(ctx), arms);
  const offer = RETENTION_OFFERS.find((o) => o.arm === choice.arm)!;
  const note = `the ${offer.percent}% offer chosen by Thompson sampling for ${choice.segment} customers (acceptance drawn ${choice.sampled.toFixed(2)} from Beta(${choice.posterior.alpha}, ${choice.posterior.beta}))`;
  return { amountCents: creditCents(ctx, offer.percent), choice, note };
}

/** Channels a message can be addressed to (an address or a number); push has no device token, phone is a call. */
export const MESSAGE_CHANNELS = ['email', 'sms'] as const;

/**
 * An outreach draft on the channel the bandit chose among `eligible` (the message channels whose consent grants for
 * this customer), with the choice in its EV and its sentence. Left as it is when it names its own address, is not on
 * a message channel, or no channel is eligible (policy then refuses it for want of consent).
 */
export function onChosenChannel(
  draft: ProposalDraft,
  ctx: CustomerContext,
  eligible: readonly string[],
  bandit: BanditChooser,
): ProposalDraft {
  if (
    !draft.channel ||
    !(MESSAGE_CHANNELS as readonly string[]).includes(draft.channel) ||
    draft.params.to !== undefined ||
    eligible.length === 0
  )
    return draft;
  const arms = eligible.map((arm) => ({ arm, payoff: 1, cost: 0 }));
  const choice = bandit.choose(BANDITS.channel, segmentOf(ctx), subjectOf(ctx), arms);
  const channel = choice.arm as ProposalDraft['channel'];
  const how =
    eligible.length === 1
      ? `${channel}, the only channel with consent`
      : `${channel} by Thompson sampling over ${eligible.join(', ')} for ${choice.segment}`;
  const sentence = `${draft.reason.replace(/\.$/, '')} (sent by ${how}: acceptance drawn ${choice.sampled.toFixed(2)} from Beta(${choice.posterior.alpha}, ${choice.posterior.beta})).`;
  return { ...draft, channel, params: { ...draft.params, channel }, ev: { ...draft.ev, bandit: choice }, reason: sentence };
}
