import type { Queryable } from '../store/index.ts';

// Read models of the bandits (src/learn/bandit.ts): their pulls (learn) against the outcome signals (sense) that
// answer them, and whether the pulled action ran (decisions of assure, executions of act).

/**
 * The open pulls these signals' outcomes answer (kinds in `rewards`, each with its reward), each pull once. An
 * outcome answers a pull only if the pull's action ran (an execution that succeeded):
 * - with `data.actionKey`: the pull of the action run under that idempotency key, if it is the same subject's;
 * - without: every open pull of the subject whose action ran before the outcome, within `horizonDays`.
 * `occurred_at` is the outcome's time as ISO 8601 text, to the microsecond.
 */
export async function banditOutcomeHits(
  q: Queryable,
  signalIds: string[],
  rewards: Record<string, number>,
  horizonDays: number,
): Promise<{ proposal_id: string; signal_id: string; reward: number; occurred_at: string }[]> {
  return q.query(
    `WITH o AS (
       SELECT s.id, s.account_id, s.lead_id, s.occurred_at, (($2::jsonb)->>(s.data->>'kind'))::int AS reward, s.data->>'actionKey' AS action_key
       FROM signals s WHERE s.id = ANY($1::text[]) AND s.type = 'outcome' AND s.data->>'kind' = ANY($4::text[])
     ),
     hits AS (
       SELECT DISTINCT ON (b.proposal_id) b.proposal_id, o.id AS signal_id, o.reward, o.occurred_at
       FROM o
       JOIN bandit_pulls b ON b.reward IS NULL AND ((o.account_id IS NOT NULL AND b.account_id = o.account_id) OR (o.lead_id IS NOT NULL AND b.lead_id = o.lead_id))
       JOIN decisions d ON d.proposal_id = b.proposal_id
       JOIN executions e ON e.decision_id = d.id AND e.status = 'succeeded'
       WHERE (o.action_key IS NOT NULL AND e.idempotency_key = o.action_key)
          OR (o.action_key IS NULL AND e.created_at <= o.occurred_at AND b.pulled_at > o.occurred_at - make_interval(days => $3::int))
       ORDER BY b.proposal_id, o.occurred_at, o.id
     )
     SELECT proposal_id, signal_id, reward, to_json(occurred_at) #>> '{}' AS occurred_at FROM hits`,
    [signalIds, JSON.stringify(rewards), horizonDays, Object.keys(rewards)],
  );
}

export interface BanditArmReportRow {
  bandit: string;
  segment: string;
  arm: string;
  alpha: number;
  beta: number;
  pulls: number;
  /** Pulls whose action ran and no outcome has answered yet. */
  open: number;
}

/** Every stored posterior, by bandit, segment and arm, with its open pulls. */
export async function banditArmReportRows(q: Queryable): Promise<BanditArmReportRow[]> {
  return q.query<BanditArmReportRow>(
    `SELECT a.bandit, a.segment, a.arm, a.alpha, a.beta, a.pulls, coalesce(o.open, 0)::int AS open
     FROM bandit_arms a LEFT JOIN (
       SELECT bandit, segment, arm, count(*) AS open FROM bandit_pulls b
       WHERE reward IS NULL AND EXISTS (SELECT 1 FROM decisions d JOIN executions e ON e.decision_id = d.id AND e.status = 'succeeded' WHERE d.proposal_id = b.proposal_id)
       GROUP BY 1, 2, 3
     ) o USING (bandit, segment, arm)
     ORDER BY a.bandit, a.segment, a.arm`,
  );
}
