import { openCaseCountSql } from '../records/index.ts';
import type { Queryable } from '../store/index.ts';
import { FEATURE_SCAN, featureCondition, NEWEST_FIRST, SIGNAL_FEATURES, type FeatureAggregate } from './feature-signals.ts';

// The SQL of customer_features: the refresh, the history and the lineage of the features (src/sense/features.ts,
// src/sense/lineage.ts).

const AGGREGATE_SQL: Record<FeatureAggregate, (cond: string) => string> = {
  sum: (c) => `coalesce(sum(s.metric) FILTER (WHERE ${c}), 0)`,
  count: (c) => `count(*) FILTER (WHERE ${c})`,
  mean: (c) => `avg(s.metric) FILTER (WHERE ${c})`,
  last: (c) => `(array_agg(s.metric ORDER BY ${NEWEST_FIRST}) FILTER (WHERE ${c}))[1]`,
  newest: (c) => `max(s.occurred_at) FILTER (WHERE ${c})`,
};

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
    ${Object.values(SIGNAL_FEATURES)
      .map((f) => `${AGGREGATE_SQL[f.aggregate](featureCondition(f))} AS ${f.column}`)
      .join(',\n    ')}
    FROM signals s
    WHERE ${FEATURE_SCAN}
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
  'openCases', ${openCaseCountSql('w.account_id')}
)`;

// Many accounts, one time.
const REFRESH_SQL = `
WITH pts AS (SELECT a.id AS account_id, $2::timestamptz AS as_of FROM unnest($1::text[]) AS a(id)),
${FEATURES_CTE}
INSERT INTO customer_features (account_id, as_of, features, updated_at)
SELECT w.account_id, w.as_of, ${FEATURES_JSON}, now()
FROM w
-- Rows are locked in account order, so two workers refreshing overlapping customers wait on each other instead
-- of deadlocking (each delivery's order is its events' order).
ORDER BY w.account_id
ON CONFLICT (account_id) DO UPDATE SET as_of = EXCLUDED.as_of, features = EXCLUDED.features, updated_at = now()`;

// One account, many times.
const HISTORY_SQL = `
WITH pts AS (SELECT $1::text AS account_id, t.as_of FROM unnest($2::timestamptz[]) AS t(as_of)),
${FEATURES_CTE}
SELECT w.as_of, ${FEATURES_JSON} AS features
FROM w
ORDER BY w.as_of`;

/** Recomputes and stores the features of `accountIds` as of `asOf`. */
export async function upsertCustomerFeatures(q: Queryable, accountIds: string[], asOf: Date): Promise<void> {
  await q.query(REFRESH_SQL, [[...accountIds].sort(), asOf.toISOString()]);
}

/** One account's features at each of `asOf`, oldest first, from the signal history. */
export async function customerFeatureHistoryRows(
  q: Queryable,
  accountId: string,
  asOf: Date[],
): Promise<{ as_of: Date | string; features: Record<string, number | string | null> }[]> {
  return q.query<{ as_of: Date | string; features: Record<string, number | string | null> }>(HISTORY_SQL, [
    accountId,
    asOf.map((d) => d.toISOString()),
  ]);
}

// One pass over the account's signals in the scanned range: per feature, how many count, their ids and metric sum.
// Columns n<i>, ids<i>, sum<i> follow the order of Object.entries(SIGNAL_FEATURES).
const LINEAGE_SQL = `
WITH pts AS (SELECT $1::text AS account_id, $2::timestamptz AS as_of)
SELECT ${Object.values(SIGNAL_FEATURES)
  .map((f, i) => {
    const cond = featureCondition(f);
    return `count(*) FILTER (WHERE ${cond}) AS n${i}, (array_agg(s.id ORDER BY ${NEWEST_FIRST}) FILTER (WHERE ${cond}))[1:$3::int] AS ids${i}, sum(s.metric) FILTER (WHERE ${cond}) AS sum${i}`;
  })
  .join(',\n  ')}
FROM pts JOIN signals s ON ${FEATURE_SCAN}`;

/** Per signal feature of an account as of `asOf`: how many signals count, the newest `limit` ids, their metric sum. */
export async function featureLineageCounts(q: Queryable, accountId: string, asOf: Date, limit: number): Promise<Record<string, unknown>[]> {
  return q.query<Record<string, unknown>>(LINEAGE_SQL, [accountId, asOf.toISOString(), limit]);
}

/** The time an account's stored features were computed for, when there are any. */
export async function storedFeaturesAsOf(q: Queryable, accountId: string): Promise<{ as_of: Date | string }[]> {
  return q.query<{ as_of: Date | string }>('SELECT as_of FROM customer_features WHERE account_id = $1', [accountId]);
}
