import type { Bus } from '../bus/index.ts';
import type { BanditArm, BanditChoice, BanditChooser } from '../reason/index.ts';
import { SIGNALS_ACCEPTED, type SignalsAcceptedEvent } from '../sense/index.ts';
import { normal, stream, type Rng } from '../lib/index.ts';
import type { Queryable } from '../store/index.ts';
import { banditArmReportRows, banditOutcomeHits } from '../views/index.ts';
import { countBanditArmPulls, insertBanditPulls, listBanditArms, resolveBanditPulls } from './learn.repo.ts';

// Thompson sampling for offer and channel choice per segment. Each (bandit, segment, arm) has a Beta posterior over
// the chance the customer accepts; the loop loads them once per batch, agents draw from them through a chooser that
// is deterministic given its seed, the subject and the decision time, and outcomes update them (updateFromOutcomes).

/**
 * Outcome kinds that answer an offer: accepting it, renewing or converting accepts it; declining it or churning does
 * not. Other kinds say nothing.
 */
export const OUTCOME_REWARD: Record<string, 0 | 1> = { offer_accepted: 1, renewed: 1, converted: 1, offer_declined: 0, churned: 0 };
/** Without an `actionKey`, an outcome answers the subject's pulls whose action ran within this many days before it. */
export const OUTCOME_HORIZON_DAYS = 90;
export const DEFAULT_BANDIT_SEED = 'acs-bandit';

export interface Posterior {
  alpha: number;
  beta: number;
  pulls: number;
}
export type Posteriors = Map<string, Posterior>;
/** Where a posterior sits in `Posteriors`. */
export const posteriorKey = (bandit: string, segment: string, arm: string) => `${bandit}\u241f${segment}\u241f${arm}`;
const key = posteriorKey;
const PRIOR: Posterior = { alpha: 1, beta: 1, pulls: 0 };

/** Gamma(shape, 1) by Marsaglia and Tsang, boosted for shape < 1. */
function sampleGamma(rng: Rng, shape: number): number {
  if (shape < 1) return sampleGamma(rng, shape + 1) * Math.pow(1 - rng.next(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - rng.next(); // (0, 1]: log(u) is finite
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** A draw from Beta(alpha, beta), as X / (X + Y) with X ~ Gamma(alpha), Y ~ Gamma(beta). */
export function sampleBeta(rng: Rng, alpha: number, beta: number): number {
  const x = sampleGamma(rng, alpha);
  return x / (x + sampleGamma(rng, beta));
}

/** Every stored posterior (a handful of rows: bandits × segments × arms); an arm never stored has the uniform prior. */
export async function loadPosteriors(q: Queryable): Promise<Posteriors> {
  const rows = await listBanditArms(q);
  return new Map(rows.map((r) => [key(r.bandit, r.segment, r.arm), { alpha: r.alpha, beta: r.beta, pulls: r.pulls }]));
}

const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * A Thompson-sampling chooser over `posteriors`. Its draws come from a stream named by the seed, bandit, segment,
 * subject and the UTC day of `now`: replayed signals decide the same way, different subjects draw independently. The
 * day, not the instant: the loop's clock is the newest signal of whatever batch the bus delivered, and how the bus
 * groups events depends on timing. (A subject gets one action a day at most: arbitration's rule.)
 */
export function thompson(posteriors: Posteriors, opts: { seed?: string | number; now: Date }): BanditChooser {
  const seed = opts.seed ?? DEFAULT_BANDIT_SEED;
  return {
    choose(bandit: string, segment: string, subject: string, arms: BanditArm[]): BanditChoice {
      if (arms.length === 0) throw new RangeError(`bandit ${bandit}: no arms to choose from`);
      const rng = stream(seed, 'bandit', bandit, segment, subject, opts.now.toISOString().slice(0, 10));
      const candidates = arms.map((a) => {
        const p = posteriors.get(key(bandit, segment, a.arm)) ?? PRIOR;
        const sampled = sampleBeta(rng, p.alpha, p.beta);
        return {
          arm: a.arm,
          alpha: p.alpha,
          beta: p.beta,
          pulls: p.pulls,
          sampled,
          score: sampled * a.payoff - a.cost,
          payoff: a.payoff,
          cost: a.cost,
        };
      });
      const best = candidates.reduce((b, c) => (c.score > b.score ? c : b));
      const terms =
        best.payoff === 1 && best.cost === 0
          ? `drew ${best.sampled.toFixed(3)}`
          : `drew ${best.sampled.toFixed(3)} × $${best.payoff.toFixed(2)} − $${best.cost.toFixed(2)} = ${best.score.toFixed(2)}`;
      const why =
        candidates.length === 1
          ? `only ${best.arm} was eligible; it ${terms} from Beta(${best.alpha}, ${best.beta})`
          : `Thompson sampling for segment ${segment}: one draw per arm from its Beta posterior, scored as draw × payoff − cost; ${best.arm} ${terms} from Beta(${best.alpha}, ${best.beta}), the best of ${candidates.length}`;
      return {
        bandit,
        segment,
        arm: best.arm,
        posterior: { alpha: best.alpha, beta: best.beta },
        sampled: round(best.sampled),
        pulls: best.pulls,
        candidates: candidates.map((c) => ({
          arm: c.arm,
          alpha: c.alpha,
          beta: c.beta,
          sampled: round(c.sampled),
          score: round(c.score, 2),
        })),
        why,
      };
    },
  };
}

export interface Pull {
  proposalId: string;
  choice: Pick<BanditChoice, 'bandit' | 'segment' | 'arm'>;
  accountId: string | null;
  leadId: string | null;
}

/** Records the arms played (proposals policy allowed), and counts them on their posteriors: two statements. */
export async function recordPulls(q: Queryable, pulls: Pull[], now: Date): Promise<void> {
  if (pulls.length === 0) return;
  await insertBanditPulls(
    q,
    pulls.map((p) => ({
      proposal_id: p.proposalId,
      bandit: p.choice.bandit,
      segment: p.choice.segment,
      arm: p.choice.arm,
      account_id: p.accountId,
      lead_id: p.leadId,
      pulled_at: now.toISOString(),
    })),
  );
  await countBanditArmPulls(
    q,
    pulls.map(({ choice: c }) => ({ bandit: c.bandit, segment: c.segment, arm: c.arm })),
    now,
  );
}

/**
 * Updates the posteriors from these signals' outcomes (kinds in OUTCOME_REWARD): one read of the pulls they answer
 * (banditOutcomeHits, whose comment says which), then one statement that resolves those pulls and adds their rewards.
 * Returns the pulls resolved.
 */
export async function updateFromOutcomes(
  q: Queryable,
  signalIds: string[],
): Promise<{ bandit: string; segment: string; arm: string; reward: number }[]> {
  if (signalIds.length === 0) return [];
  const hits = await banditOutcomeHits(q, signalIds, OUTCOME_REWARD, OUTCOME_HORIZON_DAYS);
  if (hits.length === 0) return [];
  return resolveBanditPulls(q, hits);
}

/** Updates the posteriors from every accepted batch's outcomes, in the delivery's transaction. */
export function subscribeBanditUpdates(bus: Bus): void {
  bus.subscribe(SIGNALS_ACCEPTED, async (messages, q) => {
    await updateFromOutcomes(
      q,
      messages.flatMap((m) => (m.payload as SignalsAcceptedEvent).signalIds),
    );
  });
}

export interface BanditArmReport {
  arm: string;
  alpha: number;
  beta: number;
  /** Posterior mean alpha / (alpha + beta). */
  mean: number;
  pulls: number;
  accepted: number;
  declined: number;
  /** Pulls whose action ran and no outcome has answered yet. */
  open: number;
}

/** Every stored posterior, by bandit and segment, with pull counts. */
export async function banditReport(q: Queryable): Promise<{ bandit: string; segment: string; arms: BanditArmReport[] }[]> {
  const rows = await banditArmReportRows(q);
  const out: { bandit: string; segment: string; arms: BanditArmReport[] }[] = [];
  for (const r of rows) {
    let g = out[out.length - 1];
    if (!g || g.bandit !== r.bandit || g.segment !== r.segment) out.push((g = { bandit: r.bandit, segment: r.segment, arms: [] }));
    g.arms.push({
      arm: r.arm,
      alpha: r.alpha,
      beta: r.beta,
      mean: round(r.alpha / (r.alpha + r.beta)),
      pulls: r.pulls,
      accepted: r.alpha - 1,
      declined: r.beta - 1,
      open: r.open,
    });
  }
  return out;
}
