import type { Queryable } from '../store/index.ts';

/**
 * The counts of a simulation's report (src/world/simulate.ts), over the tables of assure and act: decisions by
 * outcome, proposals, approvals and plays by status, proposals and their outcomes by agent, denials by policy and
 * executions.
 */

const countBy = async (q: Queryable, sql: string) =>
  Object.fromEntries((await q.query<{ k: string; n: number }>(sql)).map((r) => [r.k, r.n]));

export async function simulationCounts(q: Queryable) {
  const decisions = await countBy(q, 'SELECT outcome AS k, count(*)::int AS n FROM decisions GROUP BY outcome');
  const statuses = await countBy(q, 'SELECT status AS k, count(*)::int AS n FROM proposals GROUP BY status');
  const approvals = await countBy(q, 'SELECT status AS k, count(*)::int AS n FROM approvals GROUP BY status');
  const plays = await countBy(q, 'SELECT status AS k, count(*)::int AS n FROM plays GROUP BY status');
  const byAgentRows = await q.query<{ agent_id: string; proposals: number; executed: number; approval: number; denied: number }>(
    `SELECT p.agent_id, count(*)::int AS proposals,
            count(*) FILTER (WHERE d.outcome = 'execute')::int AS executed, count(*) FILTER (WHERE d.outcome = 'approval')::int AS approval,
            count(*) FILTER (WHERE d.outcome = 'deny')::int AS denied
     FROM proposals p LEFT JOIN decisions d ON d.proposal_id = p.id GROUP BY p.agent_id ORDER BY p.agent_id`,
  );
  const deniedBy = await countBy(
    q,
    `SELECT policy AS k, count(*)::int AS n FROM decisions, jsonb_array_elements_text(policy_ids) AS policy WHERE outcome = 'deny' GROUP BY policy`,
  );
  const [executions] = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM executions');
  // Message proposals by agent: how many carry a generated body, and how many of those cite a knowledge passage.
  const bodyRows = await q.query<{ agent_id: string; messages: number; with_body: number; cited: number }>(
    `SELECT agent_id, count(*)::int AS messages, count(*) FILTER (WHERE params ? 'body')::int AS with_body,
            count(*) FILTER (WHERE params ? 'body' AND EXISTS (
              SELECT 1 FROM jsonb_array_elements(COALESCE(params->'citations', '[]'::jsonb)) c WHERE c->>'marker' <> 'C'))::int AS cited
     FROM proposals WHERE action = 'send_message' GROUP BY agent_id ORDER BY agent_id`,
  );
  const messageBodies = Object.fromEntries(
    bodyRows.map((r) => [r.agent_id, { messages: r.messages, withBody: r.with_body, cited: r.cited }]),
  );
  return { decisions, statuses, approvals, plays, byAgentRows, deniedBy, executions, messageBodies };
}
