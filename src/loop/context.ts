import type { CustomerContext } from '../reason/index.ts';
import { effectiveConsents } from '../sense/index.ts';
import type { Queryable } from '../store/index.ts';

/**
 * What agents see, loaded for a whole batch of customers and leads in a fixed number of queries (not a
 * few per customer), so a busy delivery costs about what a quiet one does.
 */
export async function loadContexts(q: Queryable, accountIds: string[], leadIds: string[], now: Date): Promise<CustomerContext[]> {
  return [...(await accountContexts(q, accountIds, now)), ...(await leadContexts(q, leadIds, now))];
}

async function accountContexts(q: Queryable, accountIds: string[], now: Date): Promise<CustomerContext[]> {
  if (accountIds.length === 0) return [];
  const accounts = await q.query<{
    id: string; customer_id: string; name: string; attributes: Record<string, unknown>; features: Record<string, number | string | null> | null;
    contract: string | null; payment_method: string | null; paperless_billing: boolean | null; tenure_months: number | null;
    monthly_amount: number | null; services: Record<string, unknown> | null; has_subscription: boolean;
  }>(
    `SELECT a.id, a.customer_id, a.name, a.attributes, f.features, s.contract, s.payment_method, s.paperless_billing, s.tenure_months,
            s.monthly_amount, s.services, s.id IS NOT NULL AS has_subscription
     FROM accounts a
     LEFT JOIN LATERAL (SELECT * FROM subscriptions x WHERE x.account_id = a.id AND x.deleted_at IS NULL ORDER BY x.id LIMIT 1) s ON true
     LEFT JOIN customer_features f ON f.account_id = a.id
     WHERE a.id = ANY($1::text[]) AND a.deleted_at IS NULL ORDER BY a.id`,
    [accountIds],
  );
  const contacts = await q.query<{ id: string; account_id: string; email: string | null; phone: string | null }>(
    'SELECT id, account_id, email, phone FROM contacts WHERE account_id = ANY($1::text[]) AND deleted_at IS NULL ORDER BY id', [accountIds]);
  const ownerOf = new Map(contacts.map((c) => [c.id, c.account_id]));
  const consents = await effectiveConsents(q, contacts.map((c) => c.id), now);
  // Another live profile with one of this customer's email addresses or phone numbers is likely the same person.
  const twins = await q.query<{ account_id: string; other: string }>(
    `SELECT DISTINCT c.account_id, o.account_id AS other FROM contacts c
     JOIN contacts o ON o.account_id <> c.account_id AND o.deleted_at IS NULL
       AND ((c.email IS NOT NULL AND o.email IS NOT NULL AND lower(o.email) = lower(c.email)) OR (c.phone IS NOT NULL AND o.phone IS NOT NULL AND o.phone = c.phone))
     JOIN accounts oa ON oa.id = o.account_id AND oa.deleted_at IS NULL
     WHERE c.account_id = ANY($1::text[]) AND c.deleted_at IS NULL ORDER BY 1, 2`,
    [accountIds],
  );
  return accounts.map((a) => ({
    accountId: a.id, customerId: a.customer_id, name: a.name, attributes: a.attributes,
    subscription: a.has_subscription
      ? { contract: a.contract, paymentMethod: a.payment_method, paperlessBilling: a.paperless_billing, tenureMonths: a.tenure_months, monthlyAmount: a.monthly_amount, services: a.services ?? {} }
      : null,
    features: a.features ?? {},
    consents: consents.filter((c) => c.status === 'granted' && ownerOf.get(c.contactId as string) === a.id).map((c) => ({ channel: String(c.channel), purpose: String(c.purpose) })),
    contacts: contacts.filter((c) => c.account_id === a.id).map((c) => ({ email: c.email, phone: c.phone })),
    possibleDuplicates: twins.filter((t) => t.account_id === a.id).map((t) => t.other),
  }));
}

/** Leads have no customer_features row: their few features are counted here from their signals. */
async function leadContexts(q: Queryable, leadIds: string[], now: Date): Promise<CustomerContext[]> {
  if (leadIds.length === 0) return [];
  const leads = await q.query<{
    id: string; email: string | null; phone: string | null; company: string | null; first_name: string | null; last_name: string | null;
    status: string; attributes: Record<string, unknown>; web_visits: number; engagements: number; last_signal_at: Date | null;
  }>(
    `SELECT l.id, l.email, l.phone, l.company, l.first_name, l.last_name, l.status, l.attributes, agg.*
     FROM leads l CROSS JOIN LATERAL (SELECT
       count(*) FILTER (WHERE s.type = 'web_visit' AND s.occurred_at > $2::timestamptz - interval '7 days')::int AS web_visits,
       count(*) FILTER (WHERE s.type = 'email_engagement' AND s.data->>'event' IN ('opened', 'clicked', 'replied')
                        AND s.occurred_at > $2::timestamptz - interval '30 days')::int AS engagements,
       max(s.occurred_at) AS last_signal_at
       FROM signals s WHERE s.lead_id = l.id AND s.occurred_at > $2::timestamptz - interval '30 days' AND s.occurred_at <= $2::timestamptz) agg
     WHERE l.id = ANY($1::text[]) AND l.deleted_at IS NULL ORDER BY l.id`,
    [leadIds, now.toISOString()],
  );
  const consents = await effectiveConsents(q, leads.map((l) => l.id), now);
  return leads.map((l) => ({
    accountId: null, customerId: null, name: [l.first_name, l.last_name].filter(Boolean).join(' ') || null, attributes: l.attributes, subscription: null,
    features: { webVisits7d: l.web_visits, emailEngagements30d: l.engagements, lastSignalAt: l.last_signal_at ? new Date(l.last_signal_at).toISOString() : null },
    consents: consents.filter((c) => c.status === 'granted' && c.leadId === l.id).map((c) => ({ channel: String(c.channel), purpose: String(c.purpose) })),
    contacts: [{ email: l.email, phone: l.phone }],
    lead: { id: l.id, email: l.email, phone: l.phone, company: l.company, firstName: l.first_name, lastName: l.last_name, status: l.status },
  }));
}
