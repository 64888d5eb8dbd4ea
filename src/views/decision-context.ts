/**
 * What the governed loop decides on (src/loop/context.ts, src/loop/loop.ts): a customer's account with its first
 * live subscription and its features (records, sense), a lead with features counted from its signals (records,
 * sense), and what each subject already had lately (proposals and decisions of assure, approvals of act).
 */
import type { Queryable } from '../store/index.ts';

export interface AccountContextRow {
  id: string;
  customer_id: string;
  name: string;
  brand: string | null;
  attributes: Record<string, unknown>;
  features: Record<string, number | string | null> | null;
  contract: string | null;
  payment_method: string | null;
  paperless_billing: boolean | null;
  tenure_months: number | null;
  monthly_amount: number | null;
  services: Record<string, unknown> | null;
  has_subscription: boolean;
  subscription_status: string | null;
  /** An outcome signal said the customer churned. */
  churned: boolean;
  /** The customer's personal data was erased (privacy's register). */
  erased: boolean;
  /** Titles of the customer's open tasks. */
  open_tasks: string[];
}

/**
 * Live accounts among `accountIds`, by id, each with its first live subscription (by id) and its features, and what
 * eligibility asks: whether the customer churned or was erased, and its open tasks.
 */
export async function readAccountContexts(q: Queryable, accountIds: string[]): Promise<AccountContextRow[]> {
  return q.query<AccountContextRow>(
    `SELECT a.id, a.customer_id, a.name, a.brand, a.attributes, f.features, s.contract, s.payment_method, s.paperless_billing, s.tenure_months,
            s.monthly_amount, s.services, s.id IS NOT NULL AS has_subscription, s.status AS subscription_status,
            EXISTS (SELECT 1 FROM signals o WHERE o.account_id = a.id AND o.type = 'outcome' AND o.data->>'kind' = 'churned') AS churned,
            EXISTS (SELECT 1 FROM erasures e WHERE e.account_id = a.id) AS erased,
            ARRAY(SELECT t.title FROM tasks t WHERE t.account_id = a.id AND t.status = 'open' ORDER BY t.created_at, t.id) AS open_tasks
     FROM accounts a
     LEFT JOIN LATERAL (SELECT * FROM subscriptions x WHERE x.account_id = a.id AND x.deleted_at IS NULL ORDER BY x.id LIMIT 1) s ON true
     LEFT JOIN customer_features f ON f.account_id = a.id
     WHERE a.id = ANY($1::text[]) AND a.deleted_at IS NULL ORDER BY a.id`,
    [accountIds],
  );
}

export interface LeadContextRow {
  id: string;
  email: string | null;
  phone: string | null;
  company: string | null;
  first_name: string | null;
  last_name: string | null;
  brand: string | null;
  status: string;
  attributes: Record<string, unknown>;
  web_visits: number;
  engagements: number;
  last_signal_at: Date | null;
}

/** Live leads among `leadIds`, by id, with their web visits (7 days), email engagements (30 days) and last signal up to `now`. */
export async function readLeadContexts(q: Queryable, leadIds: string[], now: string): Promise<LeadContextRow[]> {
  return q.query<LeadContextRow>(
    `SELECT l.id, l.email, l.phone, l.company, l.first_name, l.last_name, l.brand, l.status, l.attributes, agg.*
     FROM leads l CROSS JOIN LATERAL (SELECT
       count(*) FILTER (WHERE s.type = 'web_visit' AND s.occurred_at > $2::timestamptz - interval '7 days')::int AS web_visits,
       count(*) FILTER (WHERE s.type = 'email_engagement' AND s.data->>'event' IN ('opened', 'clicked', 'replied')
                        AND s.occurred_at > $2::timestamptz - interval '30 days')::int AS engagements,
       max(s.occurred_at) AS last_signal_at
       FROM signals s WHERE s.lead_id = l.id AND s.occurred_at > $2::timestamptz - interval '30 days' AND s.occurred_at <= $2::timestamptz) agg
     WHERE l.id = ANY($1::text[]) AND l.deleted_at IS NULL ORDER BY l.id`,
    [leadIds, now],
  );
}

/**
 * The subjects' actions of the last 30 days before `now`: those that ran, and those policy allowed that wait for (or
 * got) approval, dated by the decision. `follow_up`: a later step of another action's play (its notice).
 */
export async function readRecentActions(
  q: Queryable,
  accountIds: string[],
  leadIds: string[],
  now: string,
): Promise<{ subject: string; at: Date; agent_id: string; action: string; channel: string | null; follow_up: boolean }[]> {
  return q.query<{ subject: string; at: Date; agent_id: string; action: string; channel: string | null; follow_up: boolean }>(
    `SELECT coalesce(p.account_id, p.lead_id) AS subject, d.decided_at AS at, p.agent_id, p.action, p.channel,
            p.follows_decision_id IS NOT NULL AS follow_up
     FROM (SELECT * FROM proposals WHERE account_id = ANY($1::text[]) UNION ALL SELECT * FROM proposals WHERE lead_id = ANY($2::text[])) p
     JOIN decisions d ON d.proposal_id = p.id LEFT JOIN approvals a ON a.decision_id = d.id
     WHERE d.outcome <> 'deny' AND (a.id IS NULL OR a.status IN ('pending', 'approved')) AND d.decided_at > $3::timestamptz - interval '30 days'`,
    [accountIds, leadIds, now],
  );
}
