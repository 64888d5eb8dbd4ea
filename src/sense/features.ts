import type { Bus } from '../bus/index.ts';
import { CASES_CHANGED } from '../records/index.ts';
import type { Queryable } from '../store/index.ts';
import { SIGNALS_ACCEPTED, type SignalsAcceptedEvent } from './events.ts';

/** How a feature folds its signals: `last` is the metric of the newest, `newest` its time. */
export type FeatureAggregate = 'sum' | 'count' | 'mean' | 'last' | 'newest';

export interface SignalFeature {
  /** The column of `w` that holds it. */
  column: string;
  aggregate: FeatureAggregate;
  /** The signal type it reads; every type when absent. */
  type?: string;
  /** The window: signals after as_of − days[0] up to as_of − days[1]. */
  days: [number, number];
  /** A further condition on the signal `s`. */
  where?: string;
}

/** Every window lies within the last 90 days, the range each account's signals are read from. */
export const FEATURE_SCAN_DAYS = 90;

/**
 * Which signals make each signal-based feature, and how: declared once, so the refresh, the history and the
 * lineage (`src/sense/lineage.ts`) read the same signals.
 */
export const SIGNAL_FEATURES: Record<string, SignalFeature> = {
  usage7d: { column: 'usage7d', aggregate: 'sum', type: 'usage', days: [7, 0] },
  usagePrior28d: { column: 'usage_prior', aggregate: 'sum', type: 'usage', days: [35, 7] },
  paymentFailures30d: { column: 'payment_failures', aggregate: 'count', type: 'payment_failed', days: [30, 0] },
  billingDisputes90d: { column: 'disputes', aggregate: 'count', type: 'billing_dispute', days: [90, 0] },
  tickets30d: { column: 'tickets', aggregate: 'count', type: 'support_ticket', days: [30, 0] },
  ticketSentiment30d: { column: 'sentiment', aggregate: 'mean', type: 'support_ticket', days: [30, 0] },
  webVisits7d: { column: 'visits', aggregate: 'count', type: 'web_visit', days: [7, 0] },
  emailEngagements30d: {
    column: 'engagements',
    aggregate: 'count',
    type: 'email_engagement',
    days: [30, 0],
    where: `s.data->>'event' IN ('opened', 'clicked', 'replied')`,
  },
  lastNps: { column: 'last_nps', aggregate: 'last', type: 'nps', days: [90, 0] },
  complaints90d: { column: 'complaints', aggregate: 'count', type: 'outcome', days: [90, 0], where: `s.data->>'kind' = 'complaint'` },
  lastSignalAt: { column: 'last_signal_at', aggregate: 'newest', days: [90, 0] },
};

/** The condition a signal `s` meets to count for feature `f`, for a window ending at `pts.as_of`. */
export function featureCondition(f: SignalFeature): string {
  return [
    ...(f.type ? [`s.type = '${f.type}'`] : []),
    `s.occurred_at > pts.as_of - interval '${f.days[0]} days'`,
    ...(f.days[1] ? [`s.occurred_at <= pts.as_of - interval '${f.days[1]} days'`] : []),
    ...(f.where ? [f.where] : []),
  ].join(' AND ');
}

/** The signals of account `pts.account_id` that any feature may read, for a window ending at `pts.as_of`. */
export const FEATURE_SCAN = `s.account_id = pts.account_id AND s.occurred_at > pts.as_of - interval '${FEATURE_SCAN_DAYS} days' AND s.occurred_at <= pts.as_of`;

/** Newest first, ties by id: the order `last` and the lineage agree on. */
export const NEWEST_FIRST = 's.occurred_at DESC, s.id DESC';

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

/** A case `c` that counts in openCases. */
export const OPEN_CASE = `c.status IN ('open', 'pending') AND c.deleted_at IS NULL`;

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
  'openCases', (SELECT count(*) FROM cases c WHERE c.account_id = w.account_id AND ${OPEN_CASE})
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
  const rows = await q.query<{ as_of: Date | string; features: CustomerFeatures }>(HISTORY_SQL, [
    accountId,
    asOf.map((d) => d.toISOString()),
  ]);
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
