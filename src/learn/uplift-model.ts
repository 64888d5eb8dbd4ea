import type { AgentAction, Term, UpliftEstimator } from '../reason/index.ts';
import type { Queryable } from '../store/index.ts';
import { upliftModelRows, type UpliftModelRow } from '../views/index.ts';
import { DAY_MS } from './day-range.ts';
import { holdoutPoint } from './holdout.ts';
import type { AgentMeasure } from './kpis.ts';

// p(success) as the incremental effect of an action, learned from ACS's own randomized holdout (docs/loop.md,
// "Value from uplift"). Per agent, action and segment, a two-model (T-learner) estimate: the outcome rate of the
// customers the action ran for (treated) and of the customers it was held out for (control), each counted on its
// own; their difference, in the direction the agent's measure calls better, is the incremental effect. It is shrunk
// toward the agent's prior (its documented rule or model) with the weight n / (n + k), n the effective sample size
// of a difference of two rates, n_t·n_c / (n_t + n_c) (the variance of p_t − p_c is p(1 − p)·(1/n_t + 1/n_c)):
// a normal–normal shrinkage whose prior is worth k customers.

/** Outcomes count when they come within this many days of the customer's first proposal of the action. */
export const UPLIFT_HORIZON_DAYS = 30;
/** Proposals of the last this many days (on the decision clock) are learned from. */
export const UPLIFT_WINDOW_DAYS = 180;
/**
 * The prior is worth this many customers of effective sample size: at n = k data and prior weigh the same. A
 * choice, not a measurement: a segment needs ~100 treated and ~100 held-out customers (n ≈ 50, weight 1/3) before
 * its own difference moves p(success) by a third of the way from the prior.
 */
export const UPLIFT_PRIOR_K = 100;
/** The evaluation split of the ranking report: customers whose hash point is at or above this share are held out of the fit. */
export const UPLIFT_FIT_SHARE = 0.7;
/** Salt of the evaluation split's hash (independent of the holdout's salt). */
export const UPLIFT_SPLIT_SALT = 'uplift-evaluation';

export interface Arm {
  customers: number;
  events: number;
  rate: number;
}

/** One segment's fit: both arms, the observed incremental effect, and how much it weighs against the prior. */
export interface SegmentFit {
  agentId: string;
  action: string;
  segment: string;
  treated: Arm;
  holdout: Arm;
  /** The observed incremental effect (holdout − treated rate when fewer is better, treated − holdout when more is); null without both arms. */
  observed: number | null;
  /** Effective sample size of the difference: n_t·n_c / (n_t + n_c); 0 without both arms. */
  effectiveN: number;
  /** effectiveN / (effectiveN + k): the data's weight against the prior. */
  weight: number;
  /** The mean of the priors the agent recorded for this segment's customers. */
  meanPrior: number;
}

export interface UpliftFit {
  k: number;
  horizonDays: number;
  segments: SegmentFit[];
}

const key = (agentId: string, action: string, segment: string) => `${agentId}|${action}|${segment}`;
const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
const arm = (customers: number, events: number): Arm => ({ customers, events, rate: customers ? events / customers : 0 });

/** Fits every (agent, action, segment) of the rows; `better` gives each agent's direction. */
export function fitUplift(rows: UpliftModelRow[], better: Record<string, 'lower' | 'higher'>, k = UPLIFT_PRIOR_K): UpliftFit {
  if (!(k >= 0)) throw new RangeError(`k must be 0 or more, got ${k}`);
  const acc = new Map<
    string,
    { agentId: string; action: string; segment: string; t: [number, number]; c: [number, number]; prior: number }
  >();
  for (const r of rows) {
    const id = key(r.agent_id, r.action, r.segment);
    const a =
      acc.get(id) ?? acc.set(id, { agentId: r.agent_id, action: r.action, segment: r.segment, t: [0, 0], c: [0, 0], prior: 0 }).get(id)!;
    const g = r.held ? a.c : a.t;
    g[0]++;
    if (r.event) g[1]++;
    a.prior += Number(r.prior) || 0;
  }
  const segments = [...acc.values()].map((a): SegmentFit => {
    const treated = arm(a.t[0], a.t[1]);
    const holdout = arm(a.c[0], a.c[0] ? a.c[1] : 0);
    const both = treated.customers > 0 && holdout.customers > 0;
    const sign = better[a.agentId] === 'higher' ? 1 : -1;
    const effectiveN = both ? (treated.customers * holdout.customers) / (treated.customers + holdout.customers) : 0;
    return {
      agentId: a.agentId,
      action: a.action,
      segment: a.segment,
      treated,
      holdout,
      observed: both ? sign * (treated.rate - holdout.rate) : null,
      effectiveN,
      weight: effectiveN + k > 0 ? effectiveN / (effectiveN + k) : 0,
      meanPrior: a.prior / (treated.customers + holdout.customers),
    };
  });
  segments.sort((x, y) => (key(x.agentId, x.action, x.segment) < key(y.agentId, y.action, y.segment) ? -1 : 1));
  return { k, horizonDays: UPLIFT_HORIZON_DAYS, segments };
}

/** The shrunk estimate for one customer: weight × observed + (1 − weight) × their own prior. */
export function shrunk(fit: SegmentFit | undefined, prior: number): number {
  if (!fit || fit.observed === null || fit.weight === 0) return prior;
  return fit.weight * fit.observed + (1 - fit.weight) * prior;
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/** The agents' estimator over a fit: p(success) terms with their source and the figures behind them. */
export function upliftEstimator(fit: UpliftFit, outcomes: Record<string, string> = {}): UpliftEstimator {
  const bySegment = new Map(fit.segments.map((s) => [key(s.agentId, s.action, s.segment), s]));
  return {
    pSuccess(agentId: string, action: AgentAction, segment: string, prior: Term): Term {
      const s = bySegment.get(key(agentId, action, segment));
      if (!s || s.observed === null) {
        const have = s ? `${s.treated.customers} treated, ${s.holdout.customers} held out` : 'no treated or held-out customers';
        return { ...prior, detail: `${prior.detail} (prior only: ${have} in segment ${segment})` };
      }
      const outcome = outcomes[agentId] ?? 'outcome';
      const value = round4(shrunk(s, prior.value));
      const { shadow, model, ...priorTerm } = prior;
      return {
        value,
        source: 'uplift',
        detail:
          `treated ${pct(s.treated.rate)} vs holdout ${pct(s.holdout.rate)} ${outcome} within ${fit.horizonDays} days in segment ${segment} ` +
          `(n=${s.treated.customers} treated, ${s.holdout.customers} held out): incremental ${pct(s.observed)}, ` +
          `shrunk toward prior ${pct(prior.value)} with k=${fit.k} (data weight ${s.weight.toFixed(2)})`,
        prior: { value: priorTerm.value, source: priorTerm.source as 'features' | 'rule' | 'model', detail: priorTerm.detail },
        ...(model ? { model } : {}),
        ...(shadow ? { shadow } : {}),
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Ranking quality. The Qini curve (Radcliffe 2007, "Using control groups to target on predicted lift", Direct
// Marketing Analytics Journal): customers sorted by predicted uplift, best first; at each cutoff t,
// Q(t) = Y_T(t) − Y_C(t)·N_T(t)/N_C(t), the incremental successes among the first t. Here AUUC is the area under
// that curve and the Qini coefficient the area between it and the straight line of a random ranking (from 0 to
// Q(N)), both divided by N² so they read as incremental successes per customer; a random ranking has a Qini of
// about 0, a good one above 0.

export interface RankedUnit {
  /** Predicted incremental benefit (higher first). */
  score: number;
  treated: boolean;
  /** 1 when the outcome is the good one (not churned, converted, no complaint). */
  success: 0 | 1;
}

export interface RankingQuality {
  qini: number | null;
  auuc: number | null;
  customers: number;
  treated: number;
  holdout: number;
}

export function rankingQuality(units: RankedUnit[]): RankingQuality {
  const n = units.length;
  const nTreated = units.filter((u) => u.treated).length;
  const base = { customers: n, treated: nTreated, holdout: n - nTreated };
  if (nTreated === 0 || nTreated === n) return { qini: null, auuc: null, ...base };
  // Stable: ties keep the input order, which the caller makes deterministic.
  const sorted = units.map((u, i) => ({ u, i })).sort((a, b) => b.u.score - a.u.score || a.i - b.i);
  let nT = 0;
  let nC = 0;
  let yT = 0;
  let yC = 0;
  let area = 0;
  for (const { u } of sorted) {
    if (u.treated) {
      nT++;
      yT += u.success;
    } else {
      nC++;
      yC += u.success;
    }
    area += yT - (nC ? (yC * nT) / nC : 0);
  }
  const final = yT - (yC * nT) / nC;
  // The random ranking's line runs from 0 to Q(N): its area over t = 1..N is Q(N)·(N + 1)/2.
  const randomArea = (final * (n + 1)) / 2;
  return { qini: round4((area - randomArea) / (n * n)), auuc: round4(area / (n * n)), ...base };
}

/** Whether a subject is in the fitting part of the evaluation split (else it is held out of the fit and ranked). */
export const inFitSplit = (subject: string) => holdoutPoint(subject, UPLIFT_SPLIT_SALT) < UPLIFT_FIT_SHARE;

// ---------------------------------------------------------------------------------------------------------------
// Loading and reporting.

const windowOf = (now: Date) => ({ from: new Date(now.getTime() - UPLIFT_WINDOW_DAYS * DAY_MS), to: now });

async function rowsFor(q: Queryable, measures: AgentMeasure[], now: Date): Promise<UpliftModelRow[]> {
  if (measures.length === 0) return [];
  return upliftModelRows(
    q,
    windowOf(now),
    measures.map((m) => m.agentId),
    measures.map((m) => m.outcome),
    UPLIFT_HORIZON_DAYS,
  );
}

const directions = (measures: AgentMeasure[]) => Object.fromEntries(measures.map((m) => [m.agentId, m.better]));

/**
 * The estimator the loop gives agents: fitted on every customer of the window, one statement, as of the start of the
 * UTC day of `now` (what happened before the decision day began), so every batch of a day prices alike and a replay
 * of the same days fits the same estimates.
 */
export async function loadUpliftEstimator(q: Queryable, measures: AgentMeasure[], now: Date): Promise<UpliftEstimator> {
  const dayStart = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS);
  const fit = fitUplift(await rowsFor(q, measures, dayStart), directions(measures));
  return upliftEstimator(fit, Object.fromEntries(measures.map((m) => [m.agentId, m.outcome])));
}

export interface AgentUpliftModel {
  agentId: string;
  outcome: string;
  better: 'lower' | 'higher';
  /** Ranking quality on the customers held out of the fit (the evaluation split), ranked by the estimate fitted on the rest. */
  evaluation: RankingQuality;
  /** The served fit (every customer of the window), per action and segment. */
  segments: Omit<SegmentFit, 'agentId'>[];
}

export interface UpliftModelReport {
  now: string;
  windowDays: number;
  horizonDays: number;
  k: number;
  fitShare: number;
  agents: AgentUpliftModel[];
}

/**
 * The uplift model as served, and how well it ranks: per measured agent, the segments' fits on every customer of
 * the window, and the Qini coefficient and AUUC on the customers the evaluation split held out of a second fit.
 * Every (customer, action) row of an agent is one unit of its ranking.
 */
export async function upliftModelReport(q: Queryable, measures: AgentMeasure[], now: Date): Promise<UpliftModelReport> {
  const rows = await rowsFor(q, measures, now);
  const better = directions(measures);
  const all = fitUplift(rows, better);
  const train = fitUplift(
    rows.filter((r) => inFitSplit(r.subject)),
    better,
  );
  const trained = new Map(train.segments.map((s) => [key(s.agentId, s.action, s.segment), s]));
  return {
    now: now.toISOString(),
    windowDays: UPLIFT_WINDOW_DAYS,
    horizonDays: UPLIFT_HORIZON_DAYS,
    k: UPLIFT_PRIOR_K,
    fitShare: UPLIFT_FIT_SHARE,
    agents: measures.map((m) => ({
      agentId: m.agentId,
      outcome: m.outcome,
      better: m.better,
      evaluation: rankingQuality(
        rows
          .filter((r) => r.agent_id === m.agentId && !inFitSplit(r.subject))
          .map((r) => ({
            score: shrunk(trained.get(key(r.agent_id, r.action, r.segment)), Number(r.prior) || 0),
            treated: !r.held,
            success: (m.better === 'higher' ? r.event : !r.event) ? 1 : 0,
          })),
      ),
      segments: all.segments
        .filter((s) => s.agentId === m.agentId)
        .map(({ agentId: _, ...s }) => ({
          ...s,
          effectiveN: round4(s.effectiveN),
          weight: round4(s.weight),
          meanPrior: round4(s.meanPrior),
        })),
    })),
  };
}
