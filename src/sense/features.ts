import type { Bus } from '../bus/index.ts';
import { CASES_CHANGED } from '../records/index.ts';
import type { Queryable } from '../store/index.ts';
import { SIGNALS_ACCEPTED, type SignalsAcceptedEvent } from './intake.ts';

/**
 * Rolling features per customer, recomputed from the signal history in one statement for a whole
 * batch of customers. Windows end at `asOf`:
 * - usage7d / usagePrior28d: usage in the last 7 days and in the 28 days before them; usageTrend is
 *   usage7d divided by the prior weekly average (1 = steady, below 1 = falling, null = no history);
 * - paymentFailures30d, billingDisputes90d, tickets30d, webVisits7d, emailEngagements30d: counts;
 * - ticketSentiment30d: mean lexicon sentiment of support tickets, in [-1, 1];
 * - complaints90d: `outcome` signals of kind complaint;
 * - lastNps, lastSignalAt; openCases: open or pending cases on the account.
 *
 * The computation is shared by the refresh and the history: one row of `w` per row of a CTE
 * `pts(account_id, as_of)` that the statement defines first, with windows ending at that row's as_of.
 */
const FEATURES_CTE = `
w AS (
  SELECT pts.account_id, pts.as_of, agg.*
  FROM pts
  -- Per account, so each aggregate reads that account's index range, not the whole table.
  CROSS JOIN LATERAL (SELECT
    coalesce(sum(s.metric) FILTER (WHERE s.type = 'usage' AND s.occurred_at > pts.as_of - interval '7 days'), 0) AS usage7d,
    coalesce(sum(s.metric) FILTER (WHERE s.type = 'usage' AND s.occurred_at <= pts.as_of - interval '7 days'
                                   AND s.occurred_at > pts.as_of - interval '35 days'), 0) AS usage_prior,
    count(*) FILTER (WHERE s.type = 'payment_failed' AND s.occurred_at > pts.as_of - interval '30 days') AS payment_failures,
    count(*) FILTER (WHERE s.type = 'billing_dispute') AS disputes,
    count(*) FILTER (WHERE s.type = 'support_ticket' AND s.occurred_at > pts.as_of - interval '30 days') AS tickets,
    avg(s.metric) FILTER (WHERE s.type = 'support_ticket' AND s.occurred_at > pts.as_of - interval '30 days') AS sentiment,
    count(*) FILTER (WHERE s.type = 'web_visit' AND s.occurred_at > pts.as_of - interval '7 days') AS visits,
    count(*) FILTER (WHERE s.type = 'email_engagement' AND s.data->>'event' IN ('opened', 'clicked', 'replied')
                     AND s.occurred_at > pts.as_of - interval '30 days') AS engagements,
    (array_agg(s.metric ORDER BY s.occurred_at DESC) FILTER (WHERE s.type = 'nps'))[1] AS last_nps,
    count(*) FILTER (WHERE s.type = 'outcome' AND s.data->>'kind' = 'complaint') AS complaints,
    max(s.occurred_at) AS last_signal_at
    FROM signals s
    WHERE s.account_id = pts.account_id AND s.occurred_at > pts.as_of - interval '90 days' AND s.occurred_at <= pts.as_of
  ) agg
)`;

/** The features object of a row of `w`. `openCases` is the current count: cases keep no history of their status. */
const FEATURES_JSON = `jsonb_build_object(
  'usage7d', w.usage7d,
  'usagePrior28d', w.usage_prior,
  'usageTrend', CASE WHEN w.usage_prior > 0 THEN round(w.usage7d / (w.usage_prior / 4.0), 3) END,
  'paymentFailures30d', w.payment_failures,
  'billingDisputes90d', w.disputes,
  'tickets30d', w.tickets,
  'ticketSentiment30d', round(w.sentiment, 3),
  'webVisits7d', w.visits,
  'emailEngagements30d', w.engagements,
  'lastNps', w.last_nps,
  'complaints90d', w.complaints,
  'lastSignalAt', to_char(w.last_signal_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
  'openCases', (SELECT count(*) FROM cases c WHERE c.account_id = w.account_id AND c.status IN ('open', 'pending') AND c.deleted_at IS NULL)
)`;

// Many accounts, one time.
const REFRESH_SQL = `
WITH pts AS (SELECT a.id AS account_id, $2::timestamptz AS as_of FROM unnest($1::text[]) AS a(id)),
${FEATURES_CTE}
INSERT INTO customer_features (account_id, as_of, features, updated_at)
SELECT w.account_id, w.as_of, ${FEATURES_JSON}, now()
FROM w
ON CONFLICT (account_id) DO UPDATE SET as_of = EXCLUDED.as_of, features = EXCLUDED.features, updated_at = now()`;

// One account, many times.
const HISTORY_SQL = `
WITH pts AS (SELECT $1::text AS account_id, t.as_of FROM unnest($2::timestamptz[]) AS t(as_of)),
${FEATURES_CTE}
SELECT w.as_of, ${FEATURES_JSON} AS features
FROM w
ORDER BY w.as_of`;

export async function refreshFeatures(q: Queryable, accountIds: string[], asOf: Date): Promise<void> {
  if (accountIds.length === 0) return;
  await q.query(REFRESH_SQL, [accountIds, asOf.toISOString()]);
}

export type CustomerFeatures = Record<string, number | string | null>;

/**
 * One account's features as they were at each of `asOf` (oldest first), from the signal history, by the same
 * computation as the refresh. `openCases` is the current count at every point.
 */
export async function featuresAt(q: Queryable, accountId: string, asOf: Date[]): Promise<{ asOf: string; features: CustomerFeatures }[]> {
  if (asOf.length === 0) return [];
  const rows = await q.query<{ as_of: Date | string; features: CustomerFeatures }>(HISTORY_SQL, [accountId, asOf.map((d) => d.toISOString())]);
  return rows.map((r) => ({ asOf: new Date(r.as_of).toISOString(), features: r.features }));
}

/**
 * Keeps features current: each delivery refreshes every customer it touched once, as of the newest
 * event in it (features as of a later time are still current for the earlier events).
 */
export function subscribeFeatureUpdates(bus: Bus): void {
  bus.subscribe(SIGNALS_ACCEPTED, async (messages, q) => {
    const events = messages.map((m) => m.payload as SignalsAcceptedEvent);
    const accountIds = [...new Set(events.flatMap((e) => e.accountIds))];
    const asOf = events.reduce((latest, e) => (e.asOf > latest ? e.asOf : latest), '');
    await refreshFeatures(q, accountIds, new Date(asOf));
  });
  bus.subscribe(CASES_CHANGED, async (messages, q) => {
    const accountIds = [...new Set(messages.flatMap((m) => (m.payload as { accountIds: string[] }).accountIds))];
    await refreshFeatures(q, accountIds, new Date());
  });
}
