import type { Queryable } from '../store/index.ts';

/** What an approval was about, for a person reading the ledger: the action, the customer, the amount. */
export interface ApprovalAbout {
  action: string;
  agentId: string;
  /** The customer (classified like any account's name: masked for analysts). */
  customer: { customerId: string | null; name: string | null } | null;
  /** The amount in cents of a credit (an edited amount where the reviewer changed it), else null. */
  amountCents: number | null;
  status: string;
}

/**
 * The approvals `ids` name, each with the proposal behind it (approvals, decisions, proposals, owned by src/act and
 * src/reason; accounts by src/records): what was asked, for whom, and how much.
 */
export async function approvalsAbout(q: Queryable, ids: string[]): Promise<Map<string, ApprovalAbout>> {
  if (ids.length === 0) return new Map();
  const rows = await q.query<{
    id: string;
    action: string;
    agent_id: string;
    status: string;
    customer_id: string | null;
    name: string | null;
    cents: string | number | null;
  }>(
    `SELECT a.id, p.action, p.agent_id, a.status, c.customer_id, c.name,
            coalesce((a.edited_params->>'amountCents')::bigint, (p.params->>'amountCents')::bigint) AS cents
     FROM approvals a JOIN decisions d ON d.id = a.decision_id JOIN proposals p ON p.id = d.proposal_id
     LEFT JOIN accounts c ON c.id = p.account_id
     WHERE a.id = ANY($1::text[])`,
    [ids],
  );
  return new Map(
    rows.map((r) => [
      r.id,
      {
        action: r.action,
        agentId: r.agent_id,
        customer: r.customer_id || r.name ? { customerId: r.customer_id, name: r.name } : null,
        amountCents: r.cents === null ? null : Number(r.cents),
        status: r.status,
      },
    ]),
  );
}
