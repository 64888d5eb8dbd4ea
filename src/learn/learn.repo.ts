import { insertRows, type Queryable } from '../store/index.ts';

// The bandits' tables: bandit_arms (a Beta posterior and a pull count per bandit, segment and arm) and bandit_pulls
// (each arm played, and the outcome that answered it). The sampling and its rules are in bandit.ts.

export interface BanditArmRow {
  bandit: string;
  segment: string;
  arm: string;
  alpha: number;
  beta: number;
  pulls: number;
}

/** Every stored posterior (a handful of rows: bandits × segments × arms). */
export async function listBanditArms(q: Queryable): Promise<BanditArmRow[]> {
  return q.query<BanditArmRow>('SELECT bandit, segment, arm, alpha, beta, pulls FROM bandit_arms');
}

export interface BanditPullRow {
  proposal_id: string;
  bandit: string;
  segment: string;
  arm: string;
  account_id: string | null;
  lead_id: string | null;
  pulled_at: string;
}

export async function insertBanditPulls(q: Queryable, rows: BanditPullRow[]): Promise<void> {
  await insertRows(
    q,
    'bandit_pulls',
    { proposal_id: 'text', bandit: 'text', segment: 'text', arm: 'text', account_id: 'text', lead_id: 'text', pulled_at: 'timestamptz' },
    rows,
  );
}

/** Counts one pull per entry of `arms` on its posterior, in one statement. */
export async function countBanditArmPulls(
  q: Queryable,
  arms: { bandit: string; segment: string; arm: string }[],
  now: Date,
): Promise<void> {
  await q.query(
    `INSERT INTO bandit_arms (bandit, segment, arm, pulls, updated_at)
     SELECT bandit, segment, arm, count(*)::int, $2::timestamptz FROM jsonb_to_recordset($1::jsonb) AS t(bandit text, segment text, arm text) GROUP BY 1, 2, 3
     ON CONFLICT (bandit, segment, arm) DO UPDATE SET pulls = bandit_arms.pulls + excluded.pulls, updated_at = excluded.updated_at`,
    [JSON.stringify(arms), now.toISOString()],
  );
}

/**
 * Resolves these open pulls with the outcome that answered each (a pull already resolved is left alone) and adds
 * their rewards to the posteriors, in one statement. `occurredAt` is the outcome's time as PostgreSQL wrote it, so
 * resolved_at keeps its microseconds. Returns the pulls resolved.
 */
export async function resolveBanditPulls(
  q: Queryable,
  hits: { proposal_id: string; signal_id: string; reward: number; occurred_at: string }[],
): Promise<{ bandit: string; segment: string; arm: string; reward: number }[]> {
  return q.query(
    `WITH resolved AS (
       UPDATE bandit_pulls b SET reward = h.reward, outcome_signal_id = h.signal_id, resolved_at = h.occurred_at
       FROM jsonb_to_recordset($1::jsonb) AS h(proposal_id text, signal_id text, reward int, occurred_at timestamptz)
       WHERE b.proposal_id = h.proposal_id AND b.reward IS NULL
       RETURNING b.bandit, b.segment, b.arm, b.reward
     ),
     posterior AS (
       INSERT INTO bandit_arms (bandit, segment, arm, alpha, beta, updated_at)
       SELECT bandit, segment, arm, 1 + sum(reward)::int, 1 + count(*)::int - sum(reward)::int, now() FROM resolved GROUP BY 1, 2, 3
       ON CONFLICT (bandit, segment, arm) DO UPDATE SET alpha = bandit_arms.alpha + excluded.alpha - 1, beta = bandit_arms.beta + excluded.beta - 1, updated_at = excluded.updated_at
     )
     SELECT bandit, segment, arm, reward::int AS reward FROM resolved ORDER BY 1, 2, 3`,
    [JSON.stringify(hits)],
  );
}
