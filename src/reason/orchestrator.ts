import type { ProposalDraft } from './agents/index.ts';

/** Limits the orchestrator keeps per customer. */
export interface ArbitrationRules {
  /** At most one action per customer in this window. */
  cooldownMs: number;
  /** Contacts per channel allowed in `contactWindowMs`. */
  contactCap: number;
  contactWindowMs: number;
  /** An agent does not take the same action for the same customer twice in this window. */
  repeatWindowMs: number;
  /** Credits left in today's budget, in cents. */
  creditBudgetLeftCents: number;
}

export const DEFAULT_RULES: Omit<ArbitrationRules, 'creditBudgetLeftCents'> = {
  cooldownMs: 24 * 3600_000,
  contactCap: 3,
  contactWindowMs: 14 * 24 * 3600_000,
  repeatWindowMs: 14 * 24 * 3600_000,
};

/** What already happened to this customer: actions that ran, or that policy allowed and still wait for (or got) a human's approval. */
export interface RecentAction {
  at: Date;
  agentId: string;
  action: string;
  channel: string | null;
  /**
   * A later step of another action's play (the notice after a case or a credit): it counts as a contact on its
   * channel, but not as a second action for the cooldown, because it never competed for the one slot.
   */
  followUp?: boolean;
}

export interface Arbitration {
  /** Drafts within every limit, highest expected value first: the orchestrator asks policy in this order. */
  ranked: ProposalDraft[];
  suppressed: { draft: ProposalDraft; reason: string }[];
}

/**
 * Settles one customer's proposals from all agents: drafts not worth taking (expected value at or below zero)
 * and drafts that break a limit are suppressed with the reason named; the rest are ranked by expected value. The first of them that policy allows is the one
 * action; `conflictReason` explains why the others lost.
 */
export function arbitrate(drafts: ProposalDraft[], recent: RecentAction[], rules: ArbitrationRules, now: Date): Arbitration {
  const suppressed: Arbitration['suppressed'] = [];
  const last = recent.filter((r) => !r.followUp).reduce<Date | null>((latest, r) => (!latest || r.at > latest ? r.at : latest), null);
  const inCooldown = last !== null && now.getTime() - last.getTime() < rules.cooldownMs;
  const within = (r: RecentAction, ms: number) => now.getTime() - r.at.getTime() < ms;
  const contacts = (channel: string) => recent.filter((r) => r.channel === channel && within(r, rules.contactWindowMs)).length;
  const repeated = (d: ProposalDraft) =>
    recent.find((r) => r.agentId === d.agentId && r.action === d.action && within(r, rules.repeatWindowMs));
  const ranked: ProposalDraft[] = [];
  for (const draft of drafts) {
    const repeat = repeated(draft);
    // Doing nothing is always an option: a draft that is not expected to gain more than it costs never runs.
    if (draft.ev.value <= 0) suppressed.push({ draft, reason: `not worth it: expected value ${draft.ev.value} <= 0` });
    else if (inCooldown) suppressed.push({ draft, reason: `cooldown: the customer had an action at ${last!.toISOString()}` });
    else if (repeat)
      suppressed.push({ draft, reason: `repeat: ${draft.agentId}/${draft.action} was already taken at ${repeat.at.toISOString()}` });
    else if (draft.channel && contacts(draft.channel) >= rules.contactCap)
      suppressed.push({ draft, reason: `contact cap: ${rules.contactCap} ${draft.channel} contacts already in the window` });
    else if (draft.action === 'offer_credit' && Number(draft.params.amountCents) > rules.creditBudgetLeftCents)
      suppressed.push({ draft, reason: `credit budget: ${rules.creditBudgetLeftCents} cents left today` });
    else ranked.push(draft);
  }
  ranked.sort((a, b) => b.ev.value - a.ev.value || a.agentId.localeCompare(b.agentId) || a.action.localeCompare(b.action));
  return { ranked, suppressed };
}

/** Why a ranked draft was not taken: another one won, at a higher (or equal) expected value. */
export function conflictReason(winner: ProposalDraft, loser: ProposalDraft): string {
  return `conflict: ${winner.agentId}/${winner.action} has the higher expected value (${winner.ev.value} >= ${loser.ev.value})`;
}

/**
 * Whether a step of the winner's play (a draft with `partOf`, such as service recovery's notice after its case) may
 * follow it: it does not compete for the slot, so the cooldown and the ranking do not apply, but it is not taken at
 * or below zero expected value, nor past the contact cap of its channel. The reason it may not, or null.
 */
export function followUpLimit(draft: ProposalDraft, recent: RecentAction[], rules: ArbitrationRules, now: Date): string | null {
  if (draft.ev.value <= 0) return `not worth it: expected value ${draft.ev.value} <= 0`;
  const contacts = recent.filter((r) => r.channel === draft.channel && now.getTime() - r.at.getTime() < rules.contactWindowMs).length;
  if (draft.channel && contacts >= rules.contactCap)
    return `contact cap: ${rules.contactCap} ${draft.channel} contacts already in the window`;
  return null;
}
