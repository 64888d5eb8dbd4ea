import type { CustomerContext } from '../reason/index.ts';
import { consentFacts, effectiveConsents, type ConsentFact } from '../sense/index.ts';
import type { Queryable } from '../store/index.ts';

/** How a customer can be reached: contacts, and the consent records in effect for their points. */
export type Reach = Pick<CustomerContext, 'contacts' | 'consents'>;

export interface ContextOptions {
  /** Load contacts and consents for these accounts now (default all); the rest get them later, with `addReach`. */
  reach?: (accountId: string) => boolean;
  /** Also look for other profiles sharing a contact point (what the data steward needs, and no one else). */
  duplicates?: boolean;
}

/**
 * What agents see, loaded for a whole batch of customers and leads in a fixed number of queries (not a
 * few per customer), so a busy delivery costs about what a quiet one does.
 */
export async function loadContexts(
  q: Queryable,
  accountIds: string[],
  leadIds: string[],
  now: Date,
  opts: ContextOptions = {},
): Promise<CustomerContext[]> {
  return [...(await accountContexts(q, accountIds, now, opts)), ...(await leadContexts(q, leadIds, now))];
}

/** Fills in contacts and consents of account contexts loaded without them (leads always have theirs). */
export async function addReach(q: Queryable, contexts: CustomerContext[], now: Date): Promise<void> {
  const missing = contexts.filter((c) => c.accountId && !c.reachLoaded);
  const reach = await loadReach(
    q,
    missing.map((c) => c.accountId!),
    now,
  );
  for (const ctx of missing) Object.assign(ctx, reach.get(ctx.accountId!) ?? { contacts: [], consents: [] }, { reachLoaded: true });
}

async function loadReach(
  q: Queryable,
  accountIds: string[],
  now: Date,
): Promise<Map<string, Reach & { raw: { account_id: string; email: string | null; phone: string | null }[] }>> {
  const byAccount = new Map<string, Reach & { raw: { account_id: string; email: string | null; phone: string | null }[] }>();
  if (accountIds.length === 0) return byAccount;
  const contacts = await q.query<{ id: string; account_id: string; email: string | null; phone: string | null }>(
    'SELECT id, account_id, email, phone FROM contacts WHERE account_id = ANY($1::text[]) AND deleted_at IS NULL ORDER BY id',
    [accountIds],
  );
  const holders = new Map(contacts.map((c) => [c.id, c]));
  const consents = await effectiveConsents(
    q,
    contacts.map((c) => c.id),
    now,
  );
  for (const id of accountIds) byAccount.set(id, { contacts: [], consents: [], raw: [] });
  for (const c of contacts) {
    const r = byAccount.get(c.account_id)!;
    r.contacts.push({ email: c.email, phone: c.phone });
    r.raw.push(c);
  }
  // Withdrawals and refusals too: a later one for a point outweighs an earlier, broader grant.
  for (const f of consentFacts(consents, holders)) byAccount.get(holders.get(f.holderId!)!.account_id)!.consents.push(f);
  return byAccount;
}

async function accountContexts(q: Queryable, accountIds: string[], now: Date, opts: ContextOptions): Promise<CustomerContext[]> {
  if (accountIds.length === 0) return [];
  const accounts = await q.query<{
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
  }>(
    `SELECT a.id, a.customer_id, a.name, a.brand, a.attributes, f.features, s.contract, s.payment_method, s.paperless_billing, s.tenure_months,
            s.monthly_amount, s.services, s.id IS NOT NULL AS has_subscription
     FROM accounts a
     LEFT JOIN LATERAL (SELECT * FROM subscriptions x WHERE x.account_id = a.id AND x.deleted_at IS NULL ORDER BY x.id LIMIT 1) s ON true
     LEFT JOIN customer_features f ON f.account_id = a.id
     WHERE a.id = ANY($1::text[]) AND a.deleted_at IS NULL ORDER BY a.id`,
    [accountIds],
  );
  const reach = await loadReach(
    q,
    accounts.map((a) => a.id).filter((id) => opts.reach?.(id) ?? true),
    now,
  );
  // Another live profile with one of this customer's email addresses or phone numbers is likely the same person.
  const twins = opts.duplicates
    ? await sharedContactPoints(
        q,
        [...reach.values()].flatMap((r) => r.raw),
      )
    : null;
  return accounts.map((a) => {
    const r = reach.get(a.id);
    return {
      accountId: a.id,
      customerId: a.customer_id,
      name: a.name,
      brand: a.brand,
      attributes: a.attributes,
      subscription: a.has_subscription
        ? {
            contract: a.contract,
            paymentMethod: a.payment_method,
            paperlessBilling: a.paperless_billing,
            tenureMonths: a.tenure_months,
            monthlyAmount: a.monthly_amount,
            services: a.services ?? {},
          }
        : null,
      features: a.features ?? {},
      consents: r?.consents ?? [],
      contacts: r?.contacts ?? [],
      reachLoaded: r !== undefined,
      ...(twins ? { possibleDuplicates: twins.get(a.id) ?? [] } : {}),
    };
  });
}

/**
 * Other live profiles that share an email address or phone number with these contacts: likely the same
 * person, for the data steward. By account id, sorted.
 */
async function sharedContactPoints(
  q: Queryable,
  contacts: { account_id: string; email: string | null; phone: string | null }[],
): Promise<Map<string, string[]>> {
  const emails = [...new Set(contacts.flatMap((c) => (c.email ? [c.email.toLowerCase()] : [])))];
  const phones = [...new Set(contacts.flatMap((c) => (c.phone ? [c.phone] : [])))];
  const twins = new Map<string, string[]>();
  if (emails.length + phones.length === 0) return twins;
  // Looked up by value (the contacts_email and contacts_phone indexes), not by a self-join the planner may scan.
  const matches = await q.query<{ account_id: string; email: string | null; phone: string | null }>(
    `SELECT c.account_id, lower(c.email) AS email, c.phone FROM contacts c JOIN accounts a ON a.id = c.account_id AND a.deleted_at IS NULL
     WHERE c.deleted_at IS NULL AND ((c.email IS NOT NULL AND lower(c.email) = ANY($1::text[])) OR (c.phone IS NOT NULL AND c.phone = ANY($2::text[])))`,
    [emails, phones],
  );
  for (const c of contacts) {
    const others = matches
      .filter((m) => m.account_id !== c.account_id && ((c.email && m.email === c.email.toLowerCase()) || (c.phone && m.phone === c.phone)))
      .map((m) => m.account_id);
    if (others.length) twins.set(c.account_id, [...new Set([...(twins.get(c.account_id) ?? []), ...others])].sort());
  }
  return twins;
}

/** Leads have no customer_features row: their few features are counted here from their signals. */
async function leadContexts(q: Queryable, leadIds: string[], now: Date): Promise<CustomerContext[]> {
  if (leadIds.length === 0) return [];
  const leads = await q.query<{
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
  }>(
    `SELECT l.id, l.email, l.phone, l.company, l.first_name, l.last_name, l.brand, l.status, l.attributes, agg.*
     FROM leads l CROSS JOIN LATERAL (SELECT
       count(*) FILTER (WHERE s.type = 'web_visit' AND s.occurred_at > $2::timestamptz - interval '7 days')::int AS web_visits,
       count(*) FILTER (WHERE s.type = 'email_engagement' AND s.data->>'event' IN ('opened', 'clicked', 'replied')
                        AND s.occurred_at > $2::timestamptz - interval '30 days')::int AS engagements,
       max(s.occurred_at) AS last_signal_at
       FROM signals s WHERE s.lead_id = l.id AND s.occurred_at > $2::timestamptz - interval '30 days' AND s.occurred_at <= $2::timestamptz) agg
     WHERE l.id = ANY($1::text[]) AND l.deleted_at IS NULL ORDER BY l.id`,
    [leadIds, now.toISOString()],
  );
  const facts = consentFacts(
    await effectiveConsents(
      q,
      leads.map((l) => l.id),
      now,
    ),
    new Map(leads.map((l) => [l.id, l])),
  );
  const factsOf = new Map<string, ConsentFact[]>();
  for (const f of facts) factsOf.set(f.holderId!, [...(factsOf.get(f.holderId!) ?? []), f]);
  return leads.map((l) => ({
    reachLoaded: true,
    accountId: null,
    customerId: null,
    name: [l.first_name, l.last_name].filter(Boolean).join(' ') || null,
    attributes: l.attributes,
    subscription: null,
    features: {
      webVisits7d: l.web_visits,
      emailEngagements30d: l.engagements,
      lastSignalAt: l.last_signal_at ? new Date(l.last_signal_at).toISOString() : null,
    },
    consents: factsOf.get(l.id) ?? [],
    contacts: [{ email: l.email, phone: l.phone }],
    brand: l.brand,
    lead: {
      id: l.id,
      email: l.email,
      phone: l.phone,
      company: l.company,
      firstName: l.first_name,
      lastName: l.last_name,
      status: l.status,
    },
  }));
}
