import { agentById } from './agents/index.ts';
import { SAVE_CALL_TITLE } from './agents/retention.ts';
import type { CustomerContext, EligibilityRule, ProposalDraft } from './agents/types.ts';

/** Each rule: why the customer is not eligible, or null when it is. */
const RULES: Record<EligibilityRule, (ctx: CustomerContext) => string | null> = {
  subscription_live: (ctx) => {
    if (ctx.subscriptionStatus === 'cancelled') return 'the subscription is cancelled';
    if (ctx.churned) return 'an outcome recorded that the customer churned';
    if (ctx.attributes.churned === true) return 'the customer is recorded as churned';
    return null;
  },
  person_reachable: (ctx) => {
    if (ctx.erased) return "the person's data was erased";
    if (ctx.reachLoaded !== false && !ctx.contacts.some((c) => c.email || c.phone)) return 'no email or phone on record';
    return null;
  },
  no_open_save_call: (ctx) => (ctx.openTasks?.includes(SAVE_CALL_TITLE) ? 'a save call is already open' : null),
};

/**
 * The first eligibility rule of the draft's action (as its agent's manifest declares them) that the customer fails,
 * as `ineligible (rule): why`; null when the customer passes them all. Checked before arbitration.
 */
export function ineligibility(draft: ProposalDraft, ctx: CustomerContext): string | null {
  const rules = agentById(draft.agentId)?.manifest.actions[draft.action]?.eligibility ?? [];
  for (const rule of rules) {
    const why = RULES[rule](ctx);
    if (why) return `ineligible (${rule}): ${why}`;
  }
  return null;
}
