// Which signals make each feature: the declarations the feature refresh, the history and the lineage share.

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
