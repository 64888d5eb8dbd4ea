import { loadChurnCalibration, servingChurn } from '../learn/index.ts';
import { scoreChurn, type ChurnModel, type ChurnScore } from '../reason/index.ts';
import type { Queryable } from '../store/index.ts';
import { loadContexts } from './context.ts';

/**
 * A customer's churn score now, as the retention agent would score them in a decision at `now`: the same function
 * (`scoreChurn`), the same serving model (the registry's champion, else the model trained at start, else the rules),
 * the same context, the same calibration to the holdout. Null when there is no such live account.
 */
export async function churnScoreNow(q: Queryable, accountId: string, opts: { churn?: ChurnModel; now: Date }): Promise<ChurnScore | null> {
  const [ctx] = await loadContexts(q, [accountId], [], opts.now, { reach: () => false });
  if (!ctx) return null;
  const churnCalibration = await loadChurnCalibration(q, opts.now);
  return scoreChurn(ctx, { churn: opts.churn, registry: { churn: await servingChurn(q) }, now: opts.now, churnCalibration });
}
