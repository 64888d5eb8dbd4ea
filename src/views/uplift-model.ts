import type { Queryable } from '../store/index.ts';

// Read model of the uplift estimator (src/learn/uplift-model.ts): proposals and decisions (assure), executions (act)
// and outcome signals (sense), one row per customer (or lead), agent, action and group, in one statement.

export interface UpliftModelRow {
  agent_id: string;
  action: string;
  /** The customer id (or account id), or the lead's holdout key (`lead:` and its email): the unit of the evaluation split. */
  subject: string;
  /** The segment the agent recorded with the proposal (`ev.upliftSegment`); 'unsegmented' for older proposals. */
  segment: string;
  held: boolean;
  /** The prior p(success) the agent recorded: `ev.pSuccess.prior.value` when an estimate replaced it, else `ev.pSuccess.value`. */
  prior: number;
  /** An outcome signal of the agent's kind on the subject within the horizon after its first such proposal. */
  event: boolean;
}

/**
 * Per agent, action and subject, the first proposal of that action in [from, to) that either ran (treated: decided,
 * with an execution before `to` that was not refused) or was held out (control), and whether an `outcome` signal of
 * the agent's kind followed it within `horizonDays` (and before `to`). Nothing at or after `to` is read, so the rows
 * as of `to` stay the same however late they are read. `agents` and `kinds` pair up: agent i's kind.
 */
export async function upliftModelRows(
  q: Queryable,
  range: { from: Date; to: Date },
  agents: string[],
  kinds: string[],
  horizonDays: number,
): Promise<UpliftModelRow[]> {
  return q.query<UpliftModelRow>(
    `WITH m AS (SELECT * FROM unnest($3::text[], $4::text[]) AS m(agent_id, kind)),
     entries AS (
       SELECT DISTINCT ON (p.agent_id, p.action, coalesce(p.account_id, p.lead_id), p.status = 'held_out')
              p.agent_id, p.action, p.account_id, p.lead_id,
              -- The holdout's own key (the customer id, or the lead's email): stable across runs, unlike row ids.
              coalesce(a.customer_id, p.account_id, 'lead:' || coalesce(nullif(lower(trim(l.email)), ''), l.id), p.lead_id) AS subject,
              p.status = 'held_out' AS held, p.created_at AS at,
              coalesce(p.ev->>'upliftSegment', 'unsegmented') AS segment,
              coalesce((p.ev->'pSuccess'->'prior'->>'value')::float8, (p.ev->'pSuccess'->>'value')::float8, 0) AS prior
       FROM proposals p LEFT JOIN accounts a ON a.id = p.account_id LEFT JOIN leads l ON l.id = p.lead_id
       WHERE p.agent_id = ANY($3::text[]) AND p.created_at >= $1::timestamptz AND p.created_at < $2::timestamptz
         AND (p.status = 'held_out' OR (p.status = 'decided' AND EXISTS (
               SELECT 1 FROM decisions d JOIN executions e ON e.decision_id = d.id
               WHERE d.proposal_id = p.id AND e.status <> 'refused' AND e.created_at < $2::timestamptz)))
       ORDER BY p.agent_id, p.action, coalesce(p.account_id, p.lead_id), p.status = 'held_out', p.created_at
     )
     SELECT e.agent_id, e.action, e.subject, e.segment, e.held, e.prior,
            -- One branch per holder column, so each reads its own index.
            (EXISTS (SELECT 1 FROM signals s WHERE s.account_id = e.account_id AND s.type = 'outcome' AND s.data->>'kind' = m.kind
                       AND s.occurred_at > e.at AND s.occurred_at <= e.at + make_interval(days => $5::int) AND s.occurred_at < $2::timestamptz)
             OR EXISTS (SELECT 1 FROM signals s WHERE s.lead_id = e.lead_id AND s.type = 'outcome' AND s.data->>'kind' = m.kind
                       AND s.occurred_at > e.at AND s.occurred_at <= e.at + make_interval(days => $5::int) AND s.occurred_at < $2::timestamptz)
            ) AS event
     FROM entries e JOIN m ON m.agent_id = e.agent_id
     ORDER BY e.agent_id, e.action, e.subject, e.held`,
    [range.from.toISOString(), range.to.toISOString(), agents, kinds, horizonDays],
  );
}
