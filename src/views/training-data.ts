import type { Queryable } from '../store/index.ts';

// The read models the churn model trains on and scores (src/reason/churn-training.ts, src/learn/datasets.ts):
// customers (accounts) with their subscription, one row per customer (its first live subscription).

export interface CustomerSubscriptionRow {
  attributes: Record<string, unknown>;
  contract: string | null;
  payment_method: string | null;
  paperless_billing: boolean | null;
  tenure_months: number | null;
  monthly_amount: number | null;
  services: Record<string, unknown>;
}

/** Customers whose churn outcome is recorded (the Telco import keeps it in `attributes.churned`), with their subscription. */
export async function churnLabelledCustomers(q: Queryable): Promise<(CustomerSubscriptionRow & { customer_id: string })[]> {
  return q.query<CustomerSubscriptionRow & { customer_id: string }>(
    `SELECT DISTINCT ON (a.id) a.customer_id, a.attributes, s.contract, s.payment_method, s.paperless_billing, s.tenure_months, s.monthly_amount, s.services
     FROM accounts a JOIN subscriptions s ON s.account_id = a.id AND s.deleted_at IS NULL
     WHERE a.deleted_at IS NULL AND jsonb_typeof(a.attributes->'churned') = 'boolean'
     ORDER BY a.id, s.id`,
  );
}

/** Everyone with a subscription, as training reads them (cancelled ones included), newest accounts first, at most `limit`. */
export async function churnLiveCustomers(q: Queryable, limit: number): Promise<CustomerSubscriptionRow[]> {
  return q.query<CustomerSubscriptionRow>(
    `SELECT * FROM (
         SELECT DISTINCT ON (a.id) a.id, a.attributes, s.contract, s.payment_method, s.paperless_billing, s.tenure_months, s.monthly_amount, s.services
         FROM accounts a JOIN subscriptions s ON s.account_id = a.id AND s.deleted_at IS NULL
         WHERE a.deleted_at IS NULL ORDER BY a.id, s.id
       ) live ORDER BY id DESC LIMIT $1`,
    [limit],
  );
}

/**
 * The churn model's live-outcome labels (src/learn/datasets.ts): customers at risk at `snapshot` and whether ACS
 * recorded a `churned` outcome signal for them in [snapshot, asOf). At risk means: not deleted, with a subscription,
 * no churned outcome recorded before the snapshot, and not a subscription already cancelled with no churned outcome
 * in the window (it ended outside ACS's record, at an unknown time: censored, left out). Outcomes dated at or after
 * `asOf` are not read.
 */
export async function churnOutcomeCustomers(
  q: Queryable,
  snapshot: Date,
  asOf: Date,
): Promise<(CustomerSubscriptionRow & { customer_id: string; churned: boolean })[]> {
  return q.query<CustomerSubscriptionRow & { customer_id: string; churned: boolean }>(
    `WITH o AS (
       SELECT account_id,
              bool_or(occurred_at < $1::timestamptz) AS before,
              bool_or(occurred_at >= $1::timestamptz AND occurred_at < $2::timestamptz) AS within
       FROM signals WHERE type = 'outcome' AND data->>'kind' = 'churned' AND account_id IS NOT NULL AND occurred_at < $2::timestamptz
       GROUP BY account_id
     )
     SELECT * FROM (
       SELECT DISTINCT ON (a.id) a.customer_id, a.attributes, s.contract, s.payment_method, s.paperless_billing, s.tenure_months,
              s.monthly_amount, s.services, s.status, coalesce(o.within, false) AS churned, coalesce(o.before, false) AS before
       FROM accounts a JOIN subscriptions s ON s.account_id = a.id AND s.deleted_at IS NULL
       LEFT JOIN o ON o.account_id = a.id
       WHERE a.deleted_at IS NULL AND a.customer_id IS NOT NULL
       ORDER BY a.id, s.id
     ) c
     WHERE NOT c.before AND NOT (c.status = 'cancelled' AND NOT c.churned)
     ORDER BY c.customer_id`,
    [snapshot.toISOString(), asOf.toISOString()],
  );
}
