import type { Queryable } from '../store/index.ts';

// Read model of the churn score's calibration (src/learn/churn-calibration.ts): the retention proposals the
// randomized holdout held out (assure), and whether a `churned` outcome signal (sense) followed each.

export interface ChurnCalibrationRow {
  /** The score the proposal recorded before calibration (`ev.churn.uncalibrated`, else `ev.churn.probability`). */
  risk: number;
  /** Days of the horizon observed so far: the horizon, or less for a proposal younger than it. */
  observed_days: number;
  /** A `churned` outcome signal on the customer within the horizon after the proposal (and before `to`). */
  event: boolean;
}

/**
 * Per customer, their first held-out retention proposal in [from, to) that recorded a churn score. Held-out customers
 * got nothing from ACS, so what befell them is the score's no-action outcome. Nothing at or after `to` is read.
 */
export async function churnCalibrationRows(
  q: Queryable,
  range: { from: Date; to: Date },
  horizonDays: number,
): Promise<ChurnCalibrationRow[]> {
  return q.query<ChurnCalibrationRow>(
    `WITH held AS (
       SELECT DISTINCT ON (p.account_id) p.account_id, p.created_at AS at,
              coalesce((p.ev->'churn'->>'uncalibrated')::float8, (p.ev->'churn'->>'probability')::float8) AS risk
       FROM proposals p
       WHERE p.agent_id = 'retention' AND p.status = 'held_out' AND p.account_id IS NOT NULL AND p.ev->'churn' IS NOT NULL
         AND p.created_at >= $1::timestamptz AND p.created_at < $2::timestamptz
       ORDER BY p.account_id, p.created_at
     )
     SELECT h.risk,
            least($3::float8, extract(epoch FROM ($2::timestamptz - h.at)) / 86400)::float8 AS observed_days,
            EXISTS (SELECT 1 FROM signals s WHERE s.account_id = h.account_id AND s.type = 'outcome' AND s.data->>'kind' = 'churned'
                      AND s.occurred_at > h.at AND s.occurred_at <= h.at + make_interval(days => $3::int)
                      AND s.occurred_at < $2::timestamptz) AS event
     FROM held h WHERE h.risk IS NOT NULL`,
    [range.from.toISOString(), range.to.toISOString(), horizonDays],
  );
}
