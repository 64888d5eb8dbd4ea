import type { ProposalDraft } from './agents/index.ts';

/** Limits the orchestrator keeps per customer. */
export interface ArbitrationRules {
  /** At most one action per customer in this window. */
  cooldownMs: number;
  /** Contacts per channel allowed in `contactWindowMs`. */
  contactCap: number;
  contactWindowMs: number;
  /** Credits left in today's budget, in cents. */
  creditBudgetLeftCents: number;
}

export const DEFAULT_RULES: Omit<ArbitrationRules, 'creditBudgetLeftCents'> = {
  cooldownMs: 24 * 3600_000,
  contactCap: 3,
  contactWindowMs: 14 * 24 * 3600_000,
};

/** What already happened to this customer: executed or approved actions, newest first. */
export interface RecentAction {
  at: Date;
  action: string;
  channel: string | null;
}

export interface Arbitration {
  chosen: ProposalDraft | null;
  suppressed: { draft: ProposalDraft; reason: string }[];
}

/**
 * Settles one customer's proposals from all agents: drafts that break a limit are suppressed with the
 * limit named; of the rest, the highest expected value wins and the others are suppressed as conflicts.
 */
export function arbitrate(drafts: ProposalDraft[], recent: RecentAction[], rules: ArbitrationRules, now: Date): Arbitration {
  const suppressed: Arbitration['suppressed'] = [];
  const last = recent.reduce<Date | null>((latest, r) => (!latest || r.at > latest ? r.at : latest), null);
  const inCooldown = last !== null && now.getTime() - last.getTime() < rules.cooldownMs;
  const contacts = (channel: string) => recent.filter((r) => r.channel === channel && now.getTime() - r.at.getTime() < rules.contactWindowMs).length;
  const eligible: ProposalDraft[] = [];
  for (const draft of drafts) {
    if (inCooldown) suppressed.push({ draft, reason: `cooldown: the customer had an action at ${last!.toISOString()}` });
    else if (draft.channel && contacts(draft.channel) >= rules.contactCap) suppressed.push({ draft, reason: `contact cap: ${rules.contactCap} ${draft.channel} contacts already in the window` });
    else if (draft.action === 'offer_credit' && Number(draft.params.amountCents) > rules.creditBudgetLeftCents) suppressed.push({ draft, reason: `credit budget: ${rules.creditBudgetLeftCents} cents left today` });
    else eligible.push(draft);
  }
  eligible.sort((a, b) => b.ev.value - a.ev.value || a.agentId.localeCompare(b.agentId) || a.action.localeCompare(b.action));
  const [chosen = null, ...rest] = eligible;
  for (const draft of rest) suppressed.push({ draft, reason: `conflict: ${chosen!.agentId}/${chosen!.action} has the higher expected value (${chosen!.ev.value} > ${draft.ev.value})` });
  return { chosen, suppressed };
}
