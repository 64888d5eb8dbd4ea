import { z } from 'zod';
import { toFieldIssues } from '../contracts/index.ts';
import { AppError } from '../errors.ts';
import { appendToLedger } from '../ledger/index.ts';
import { AGENTS, loadAgentSettings, updateAgentInTransaction } from '../reason/index.ts';
import type { Db } from '../store/index.ts';
import { supervisorAgentDays, supervisorCreditsToday } from '../views/index.ts';
import { selectSupervisorThresholds, upsertSupervisorThresholds } from './supervisor.repo.ts';

/**
 * The supervisor's thresholds. Each agent's last 24 hours (on the decision clock) is compared with its own trailing
 * baseline, the mean per day of the `baselineDays` days before. A spike is a count at least `…Min` and more than
 * `…Factor` times the baseline's mean per day.
 */
export const SupervisorThresholds = z.strictObject({
  enabled: z.boolean(),
  baselineDays: z.number().int().min(1).max(90),
  /**
   * Days of the baseline on which the agent proposed anything, needed before its spikes and precision are judged
   * (a new agent has no baseline); budget burn is judged against the plan from the first day.
   */
  minBaselineDays: z.number().int().min(1).max(90),
  proposalSpikeFactor: z.number().min(1).max(1000),
  proposalSpikeMin: z.number().int().min(1),
  /** Denied by policy or rejected by a human. */
  denialSpikeFactor: z.number().min(1).max(1000),
  denialSpikeMin: z.number().int().min(1),
  /** Precision (src/learn/kpis.ts) falling by more than this many points (0–1) below the baseline's. */
  precisionDrop: z.number().gt(0).max(1),
  /** Verdicts needed in the window and in the baseline before precision is compared. */
  precisionMinVerdicts: z.number().int().min(1),
  complaintSpikeFactor: z.number().min(1).max(1000),
  complaintSpikeMin: z.number().int().min(1),
  /** A complaint counts against an agent that acted on the customer within this many hours before it. */
  complaintWindowHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 90),
  /**
   * Budget burning faster than planned: the plan spends the daily credit budget evenly over the UTC day. An agent's
   * credits today trip it above `budgetBurnFactor` times the plan so far, once they are at least `budgetBurnMinShare`
   * of the day's budget.
   */
  budgetBurnFactor: z.number().min(1).max(100),
  budgetBurnMinShare: z.number().gt(0).max(1),
});
export type SupervisorThresholds = z.infer<typeof SupervisorThresholds>;

export const DEFAULT_THRESHOLDS: SupervisorThresholds = {
  enabled: true,
  baselineDays: 7,
  minBaselineDays: 7,
  proposalSpikeFactor: 3,
  proposalSpikeMin: 50,
  denialSpikeFactor: 3,
  denialSpikeMin: 20,
  precisionDrop: 0.3,
  precisionMinVerdicts: 20,
  complaintSpikeFactor: 3,
  complaintSpikeMin: 5,
  complaintWindowHours: 72,
  budgetBurnFactor: 2,
  budgetBurnMinShare: 0.25,
};

export const TRIGGERS = ['proposal_spike', 'denial_spike', 'precision_drop', 'complaint_spike', 'budget_burn'] as const;
export type Trigger = (typeof TRIGGERS)[number];

/** One agent the supervisor paused: the trigger, the window's figure against the baseline's and the threshold. */
export interface AutoPause {
  agentId: string;
  trigger: Trigger;
  /** The last 24 hours' figure (a count, a precision, or cents today). */
  window: number;
  /** The baseline it was compared with (mean per day, precision, or the plan's cents so far). */
  baseline: number;
  /** The figure the window had to pass. */
  threshold: number;
  reason: string;
}

export async function loadThresholds(db: Pick<Db, 'query'>): Promise<SupervisorThresholds> {
  const stored = await selectSupervisorThresholds(db);
  const merged = SupervisorThresholds.safeParse({ ...DEFAULT_THRESHOLDS, ...(stored as object) });
  return merged.success ? merged.data : DEFAULT_THRESHOLDS;
}

/** Replaces the thresholds named in `change` (the rest keep their value); validated, ledgered as `supervisor.thresholds`. */
export async function updateThresholds(db: Db, change: unknown, actor: string, now: Date): Promise<SupervisorThresholds> {
  const current = await loadThresholds(db);
  const partial = SupervisorThresholds.partial().safeParse(change);
  if (!partial.success) throw new AppError('validation_failed', 'invalid supervisor thresholds', toFieldIssues(partial.error));
  const next = { ...current, ...partial.data };
  if (next.minBaselineDays > next.baselineDays)
    throw new AppError('validation_failed', 'invalid supervisor thresholds', [
      { path: 'minBaselineDays', message: `at most baselineDays (${next.baselineDays})` },
    ]);
  await db.transaction(async (tx) => {
    await upsertSupervisorThresholds(tx, next, actor);
    await appendToLedger(tx, [
      { type: 'supervisor.thresholds', actor, subjectType: 'supervisor', subjectId: 'thresholds', data: next, at: now },
    ]);
  });
  return next;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/**
 * Watches each running agent against its own trailing baseline and pauses those that trip a threshold (the first
 * trigger found, in the order of TRIGGERS), as actor `supervisor` with the reason; each pause is ledgered as
 * `agent.auto_paused` with the trigger and the figures, in the pause's transaction. Paused agents are skipped, and so
 * are agents an admin resumed within the last 24 hours (the window they looked at); only an admin resumes one (PATCH
 * /api/v1/agents/:id). Returns the pauses, so the caller can alert (metric, log line).
 */
export async function superviseAgents(
  db: Db,
  now: Date,
  opts: { dailyCreditBudgetCents: number; thresholds?: SupervisorThresholds },
): Promise<AutoPause[]> {
  const t = opts.thresholds ?? (await loadThresholds(db));
  if (!t.enabled) return [];
  const [settings, days, credits] = await Promise.all([
    loadAgentSettings(db),
    supervisorAgentDays(db, now, t.baselineDays + 1, t.complaintWindowHours),
    supervisorCreditsToday(db, now),
  ]);
  const dayStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const planSoFar = (opts.dailyCreditBudgetCents * (now.getTime() - dayStart)) / 86_400_000;
  const pauses: AutoPause[] = [];
  for (const { manifest } of AGENTS) {
    const id = manifest.id;
    const s = settings.get(id);
    // Paused already, or resumed by an admin within the window: the spike they looked at is not judged again.
    if (s?.paused || (s?.resumedAt && now.getTime() - s.resumedAt.getTime() < 86_400_000)) continue;
    const mine = days.filter((d) => d.agent_id === id);
    const win = mine.filter((d) => d.bucket === 0);
    const base = mine.filter((d) => d.bucket >= 1 && d.bucket <= t.baselineDays);
    const sum = (rows: typeof mine, k: 'proposals' | 'denied_or_rejected' | 'approved' | 'rejected' | 'complaints') =>
      rows.reduce((s, r) => s + r[k], 0);
    const spike = (trigger: Trigger, k: 'proposals' | 'denied_or_rejected' | 'complaints', factor: number, min: number) => {
      const w = sum(win, k);
      const b = sum(base, k) / t.baselineDays;
      const threshold = Math.max(min, factor * b);
      return w >= min && w > factor * b ? { trigger, window: w, baseline: round(b), threshold: round(threshold) } : null;
    };
    const precision = () => {
      const wv = sum(win, 'approved') + sum(win, 'rejected');
      const bv = sum(base, 'approved') + sum(base, 'rejected');
      if (wv < t.precisionMinVerdicts || bv < t.precisionMinVerdicts) return null;
      const w = sum(win, 'approved') / wv;
      const b = sum(base, 'approved') / bv;
      return w < b - t.precisionDrop
        ? { trigger: 'precision_drop' as const, window: round(w), baseline: round(b), threshold: round(b - t.precisionDrop) }
        : null;
    };
    const burn = () => {
      const spent = credits.find((c) => c.agent_id === id)?.cents ?? 0;
      const threshold = Math.max(t.budgetBurnMinShare * opts.dailyCreditBudgetCents, t.budgetBurnFactor * planSoFar);
      return spent > 0 && spent >= t.budgetBurnMinShare * opts.dailyCreditBudgetCents && spent > t.budgetBurnFactor * planSoFar
        ? { trigger: 'budget_burn' as const, window: spent, baseline: Math.round(planSoFar), threshold: Math.round(threshold) }
        : null;
    };
    const history = new Set(base.filter((d) => d.proposals > 0).map((d) => d.bucket)).size >= t.minBaselineDays;
    const found =
      (history &&
        (spike('proposal_spike', 'proposals', t.proposalSpikeFactor, t.proposalSpikeMin) ??
          spike('denial_spike', 'denied_or_rejected', t.denialSpikeFactor, t.denialSpikeMin) ??
          precision() ??
          spike('complaint_spike', 'complaints', t.complaintSpikeFactor, t.complaintSpikeMin))) ||
      burn();
    if (!found) continue;
    const reason = describe(found);
    await db.transaction(async (tx) => {
      await updateAgentInTransaction(tx, id, { paused: true, reason }, 'supervisor', now);
      await appendToLedger(tx, [
        {
          type: 'agent.auto_paused',
          actor: 'supervisor',
          subjectType: 'agents',
          subjectId: id,
          data: { ...found, at: now.toISOString(), baselineDays: t.baselineDays },
          at: now,
        },
      ]);
    });
    pauses.push({ agentId: id, ...found, reason });
  }
  return pauses;
}

function describe(f: { trigger: Trigger; window: number; baseline: number; threshold: number }): string {
  switch (f.trigger) {
    case 'proposal_spike':
      return `proposal spike: ${f.window} proposals in the last 24 hours against ${f.baseline} a day before (threshold ${f.threshold})`;
    case 'denial_spike':
      return `denial spike: ${f.window} denied or rejected in the last 24 hours against ${f.baseline} a day before (threshold ${f.threshold})`;
    case 'precision_drop':
      return `precision drop: ${f.window} in the last 24 hours against ${f.baseline} before (threshold ${f.threshold})`;
    case 'complaint_spike':
      return `complaint spike: ${f.window} complaints after its actions in the last 24 hours against ${f.baseline} a day before (threshold ${f.threshold})`;
    case 'budget_burn':
      return `budget burning faster than planned: ${f.window} cents of credits today against ${f.baseline} planned so far (threshold ${f.threshold})`;
  }
}
