import type { Queryable } from '../store/index.ts';

/**
 * What the demo world (src/world) reads of ACS to drive it: the customers it simulates, the consents they really
 * gave, the approval queue its simulated reviewer works and the executions that reach its people.
 */

/**
 * A customer with a subscription, as the world's response model needs it, and whether they are gone: recorded as
 * churned (a `churned` outcome) or their subscription is cancelled (as the Telco import records its churned rows).
 */
export interface WorldCustomerRow {
  customer_id: string;
  attributes: Record<string, unknown>;
  contract: string;
  payment_method: string;
  paperless_billing: boolean;
  tenure_months: number;
  monthly_amount: number;
  total_billed: number | null;
  services: Record<string, unknown>;
  churned: boolean;
}

export function listWorldCustomers(q: Queryable): Promise<WorldCustomerRow[]> {
  return q.query<WorldCustomerRow>(
    `SELECT a.customer_id, a.attributes, s.contract, s.payment_method, s.paperless_billing, s.tenure_months, s.monthly_amount, s.total_billed, s.services,
            (s.status = 'cancelled' OR EXISTS (SELECT 1 FROM signals g WHERE g.account_id = a.id AND g.type = 'outcome' AND g.data->>'kind' = 'churned')) AS churned
     FROM accounts a JOIN subscriptions s ON s.account_id = a.id
     WHERE a.deleted_at IS NULL AND s.deleted_at IS NULL AND s.monthly_amount IS NOT NULL AND s.tenure_months IS NOT NULL
     ORDER BY a.customer_id`,
  );
}

/** `<customer id>:<purpose>` for each consent granted at signup (the seeded ones). */
export async function listSignupConsentKeys(q: Queryable): Promise<string[]> {
  return (
    await q.query<{ k: string }>(
      `SELECT a.customer_id || ':' || c.purpose AS k FROM consents c JOIN contacts ct ON ct.id = c.contact_id JOIN accounts a ON a.id = ct.account_id
       WHERE c.status = 'granted' AND c.source = 'signup'`,
    )
  ).map((r) => r.k);
}

/** Pending approvals not expired at `now`, of agents that are not stopped; highest EV first. */
export function listReviewableApprovals(
  q: Queryable,
  now: Date,
): Promise<{ id: string; ev_value: number; action: string; params: { amountCents?: number } }[]> {
  return q.query<{ id: string; ev_value: number; action: string; params: { amountCents?: number } }>(
    // Ties in EV go in the order of the world's own keys, not of ids (random), so a seed gives the same reviews.
    `SELECT a.id, p.ev_value, p.action, p.params FROM approvals a JOIN decisions dd ON dd.id = a.decision_id JOIN proposals p ON p.id = dd.proposal_id
     LEFT JOIN accounts acc ON acc.id = p.account_id LEFT JOIN leads l ON l.id = p.lead_id
     WHERE a.status = 'pending' AND a.expires_at > $1 AND NOT agent_stopped(p.agent_id)
     ORDER BY p.ev_value DESC, acc.customer_id NULLS LAST, l.email NULLS LAST, p.action, p.params::text`,
    [now.toISOString()],
  );
}

/** An execution with its target: the customer or the lead, and the purpose of its proposal. */
export interface WorldExecutionRow {
  key: string;
  action: string;
  params: { amountCents?: number; channel?: 'email'; template?: string; title?: string };
  /** What the tool returned (create_case: `caseId`). */
  result: { caseId?: string } | null;
  customer_id: string | null;
  email: string | null;
  purpose: string | null;
}

/** Executions (other than refused) of the three days before `now`, in the world's own order. */
export function listRecentWorldExecutions(q: Queryable, now: Date): Promise<WorldExecutionRow[]> {
  return q.query<WorldExecutionRow>(
    `SELECT e.idempotency_key AS key, e.action, e.params, e.result, a.customer_id, l.email, p.purpose
     FROM executions e JOIN decisions dd ON dd.id = e.decision_id JOIN proposals p ON p.id = dd.proposal_id
     LEFT JOIN accounts a ON a.id = p.account_id LEFT JOIN leads l ON l.id = p.lead_id
     WHERE e.created_at > $1::timestamptz - interval '3 days' AND e.status <> 'refused'
     ORDER BY a.customer_id NULLS LAST, l.email NULLS LAST, e.action, e.params::text, e.idempotency_key`,
    [now.toISOString()],
  );
}

/**
 * The open case intake opened for each of these support tickets (a customer id and the `ticketId` of their
 * `support_ticket` signal): the case of the ticket's account opened at the ticket's time, by ticket id.
 */
export async function listOpenTicketCases(
  q: Queryable,
  tickets: { customerId: string; ticketId: string }[],
): Promise<{ ticket_id: string; case_id: string }[]> {
  if (tickets.length === 0) return [];
  return q.query<{ ticket_id: string; case_id: string }>(
    `SELECT DISTINCT ON (t.ticket_id) t.ticket_id, c.id AS case_id
     FROM unnest($1::text[], $2::text[]) AS t(customer_id, ticket_id)
     JOIN accounts a ON a.customer_id = t.customer_id
     JOIN signals s ON s.account_id = a.id AND s.type = 'support_ticket' AND s.data->>'ticketId' = t.ticket_id
     JOIN cases c ON c.account_id = s.account_id AND c.opened_at = s.occurred_at
     WHERE c.deleted_at IS NULL AND c.closed_at IS NULL
     ORDER BY t.ticket_id, c.id`,
    [tickets.map((t) => t.customerId), tickets.map((t) => t.ticketId)],
  );
}
