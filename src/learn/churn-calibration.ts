import type { ChurnCalibration } from '../reason/index.ts';
import type { Queryable } from '../store/index.ts';
import { churnCalibrationRows, type ChurnCalibrationRow } from '../views/index.ts';
import { DAY_MS } from './day-range.ts';
import { UPLIFT_HORIZON_DAYS, UPLIFT_WINDOW_DAYS } from './uplift-model.ts';

// The churn score's calibration to ACS's own customers (docs/loop.md, "Calibrated to the holdout"). A model trained on
// an imported label learns that label's base rate (the Telco sample: 26.5% churned in a month), which need not be
// the rate of the customers ACS serves. The randomized holdout shows the score's no-action outcome: customers held
// out got nothing, so among them the churn the score predicts can be compared with the churn that came. The ratio
// (observed / expected) rescales every score: a prior-shift correction that keeps the score's ranking and fixes its
// level, which is what the expected value needs.
//
// Expected churn counts each held-out customer's score for the part of the 30-day horizon observed so far (a score
// is a 30-day probability, taken as an even hazard over the month), so young proposals count for what they have
// had time to show. The ratio is shrunk toward 1 (no correction) by CALIBRATION_PRIOR_EVENTS pseudo-events on each
// side, so a handful of customers cannot swing it.

/** Pseudo-events added to observed and expected churn alike: the prior's weight toward no correction. A choice. */
export const CALIBRATION_PRIOR_EVENTS = 1;
/** The factor never scales a score by more than this, either way. */
export const CALIBRATION_BOUNDS = { min: 0.01, max: 10 } as const;

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;

/** The calibration of these held-out rows: observed over expected churn, shrunk toward 1 and bounded. */
export function fitChurnCalibration(rows: ChurnCalibrationRow[], horizonDays = UPLIFT_HORIZON_DAYS): ChurnCalibration {
  let expected = 0;
  let events = 0;
  for (const r of rows) {
    expected += Math.min(1, Math.max(0, Number(r.risk))) * (Math.min(horizonDays, Math.max(0, Number(r.observed_days))) / horizonDays);
    if (r.event) events++;
  }
  const m = CALIBRATION_PRIOR_EVENTS;
  const factor = Math.min(CALIBRATION_BOUNDS.max, Math.max(CALIBRATION_BOUNDS.min, (events + m) / (expected + m)));
  return {
    factor: round4(factor),
    heldOut: rows.length,
    events,
    expected: round4(expected),
    detail:
      rows.length === 0
        ? 'no held-out retention customers yet: the score is not rescaled'
        : `calibrated to the holdout: ${events} of ${rows.length} held-out customers churned within ${horizonDays} days ` +
          `against ${expected.toFixed(1)} the score expected (× ${factor.toFixed(3)}, shrunk toward 1 by ${m} pseudo-event)`,
  };
}

/** The calibration as of the start of `now`'s UTC day, from the held-out retention proposals of the uplift window. */
export async function loadChurnCalibration(q: Queryable, now: Date): Promise<ChurnCalibration> {
  const to = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS);
  const from = new Date(to.getTime() - UPLIFT_WINDOW_DAYS * DAY_MS);
  return fitChurnCalibration(await churnCalibrationRows(q, { from, to }, UPLIFT_HORIZON_DAYS));
}
