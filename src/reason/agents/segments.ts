import type { AgentAction, ProposeOptions, Term } from './types.ts';

// The segments p(success) is learned in (src/learn/uplift-model.ts): a few, from what the agent sees when it
// proposes, so that each holds enough treated and held-out customers to learn from. The agent records the segment
// with its proposal (`ev.upliftSegment`), and the estimator reads it back from there.

/** Churn-risk band of p(churn) before its calibration to the holdout: low below 30%, medium below 60%, high from 60%. */
export const churnBand = (p: number) => (p < 0.3 ? 'low' : p < 0.6 ? 'medium' : 'high');

/** Retention: churn-risk band × contract (month-to-month, one-year, two-year, or none known). */
export const retentionSegment = (pChurn: number, contract: string | null | undefined) =>
  `churn ${churnBand(pChurn)} × ${contract || 'no contract'}`;

/** Service recovery: how many of its triggers fired (1, or 2 and more) × whether a case is already open. */
export const serviceSegment = (fired: number, openCases: number) =>
  `${fired >= 2 ? '2+ triggers' : '1 trigger'} × ${openCases >= 1 ? 'open case' : 'no open case'}`;

/** Lead nurturing: lead score band (below 40, 40 to 59, 60 and up: the routing threshold). */
export const leadSegment = (score: number) => `score ${score < 40 ? '<40' : score < 60 ? '40-59' : '60+'}`;

/** The segment functions by agent, for documentation and tests. */
export const upliftSegmentOf = { retention: retentionSegment, 'service-recovery': serviceSegment, 'lead-nurturing': leadSegment };

/** p(success) for a draft: the loop's uplift estimate for the agent, action and segment when it gave one, else the prior. */
export const learnedPSuccess = (
  opts: ProposeOptions | undefined,
  agentId: string,
  action: AgentAction,
  segment: string,
  prior: Term,
): Term => (opts?.uplift ? opts.uplift.pSuccess(agentId, action, segment, prior) : prior);
