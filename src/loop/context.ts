import type { CustomerContext } from '../reason/index.ts';
import { consentFacts, effectiveConsents, type ConsentFact } from '../sense/index.ts';
import { findContactsOfAccounts, findContactsWithPoints } from '../records/index.ts';
import type { Queryable } from '../store/index.ts';
import { readAccountContexts, readLeadContexts } from '../views/index.ts';

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
  const contacts = await findContactsOfAccounts(q, accountIds);
  const holders = new Map(contacts.map((c) => [c.id, c]));
  const consents = await effectiveConsents(
    q,
    contacts.map((c) => c.id),
    now,
  );
  for (const id of accountIds) byAccount.set(id, { contacts: [], consents: [], raw: [] });
  for (const c of contacts) {
    const r = byAccount.get(c.account_id)!;
    r.contacts.push({ email: c.email, phone: c.phone, country: c.country });
    r.raw.push(c);
  }
  // Withdrawals and refusals too: a later one for a point outweighs an earlier, broader grant.
  for (const f of consentFacts(consents, holders)) byAccount.get(holders.get(f.holderId!)!.account_id)!.consents.push(f);
  return byAccount;
}

async function accountContexts(q: Queryable, accountIds: string[], now: Date, opts: ContextOptions): Promise<CustomerContext[]> {
  if (accountIds.length === 0) return [];
  const accounts = await readAccountContexts(q, accountIds);
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
      subscriptionStatus: a.subscription_status,
      churned: a.churned,
      erased: a.erased,
      openTasks: a.open_tasks,
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
  const matches = await findContactsWithPoints(q, emails, phones);
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
  const leads = await readLeadContexts(q, leadIds, now.toISOString());
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
