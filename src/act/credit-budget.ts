import type { Queryable } from '../store/index.ts';
import { pendingCreditOfferCents } from '../views/index.ts';
import { sumCreditsAppliedOn } from './act.repo.ts';

/**
 * What the daily credit budget has left on the UTC day of `now`, in cents: the budget less the credits applied that
 * day and the credit offers still waiting for approval (spoken for until a person decides them). Arbitration and an
 * approver's edit keep within it; the credit tool holds the hard line on what is applied.
 */
export async function creditBudgetLeft(
  q: Queryable,
  budgetCents: number,
  now: Date,
  opts: { exceptApprovalId?: string } = {},
): Promise<number> {
  const at = now.toISOString();
  return budgetCents - (await sumCreditsAppliedOn(q, at)) - (await pendingCreditOfferCents(q, at, opts.exceptApprovalId ?? null));
}
