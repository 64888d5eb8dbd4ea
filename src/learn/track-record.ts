import type { Queryable } from '../store/index.ts';
import { trackRecordVerdicts } from '../views/index.ts';

// Earned autonomy: each agent's track record per action, as policy sees it (context.agentDecisions and
// context.agentPrecision, policies/README.md). The verdicts are the ones agentStats' precision counts (kpis.ts):
// - approved: policy let it run on its own (outcome execute), or a person approved it (with or without edits);
// - rejected: a person rejected it;
// - not counted: denied by policy (the gate's own rules, such as consent or the autonomy level, say nothing of the
//   agent's judgement), and approvals pending or lapsed (nobody judged them).
// precision = approved / (approved + rejected).

/** The window of decisions a track record covers, ending at the decision being made. */
export const TRACK_WINDOW_DAYS = 30;

export interface TrackRecord {
  agentId: string;
  action: string;
  /** Decisions with a verdict in the window: approved + rejected. */
  decisions: number;
  approved: number;
  rejected: number;
  /** Rejections by the reviewer's category (src/act/approvals.ts REJECTION_CATEGORIES); `other` when none was given. */
  rejectedBy: Record<string, number>;
  /** approved / decisions in basis points, rounded down (Cedar has no floats); 0 when there are no decisions. */
  precisionBp: number;
}

export const trackKey = (agentId: string, action: string) => `${agentId}/${action}`;

/**
 * Track records of these agents (all when absent) over the decisions made in (now − windowDays, now], by agent and
 * action, keyed by trackKey. One grouped statement over the window's decisions (index decisions_decided).
 */
export async function trackRecords(
  q: Queryable,
  opts: { now: Date; agentIds?: string[]; windowDays?: number },
): Promise<Map<string, TrackRecord>> {
  const rows = await trackRecordVerdicts(q, {
    now: opts.now,
    windowDays: opts.windowDays ?? TRACK_WINDOW_DAYS,
    agentIds: opts.agentIds ?? null,
  });
  const out = new Map<string, TrackRecord>();
  for (const r of rows) {
    const k = trackKey(r.agent_id, r.action);
    const t =
      out.get(k) ??
      out.set(k, { agentId: r.agent_id, action: r.action, decisions: 0, approved: 0, rejected: 0, rejectedBy: {}, precisionBp: 0 }).get(k)!;
    t.approved += r.approved;
    t.rejected += r.rejected;
    if (r.category) t.rejectedBy[r.category] = (t.rejectedBy[r.category] ?? 0) + r.rejected;
  }
  for (const t of out.values()) {
    t.decisions = t.approved + t.rejected;
    t.precisionBp = t.decisions ? Math.floor((10_000 * t.approved) / t.decisions) : 0;
  }
  return out;
}

/** What the policy request carries for one agent and action. */
export function trackContext(
  records: Map<string, TrackRecord>,
  agentId: string,
  action: string,
): { agentDecisions: number; agentPrecision: number } {
  const t = records.get(trackKey(agentId, action));
  return { agentDecisions: t?.decisions ?? 0, agentPrecision: t?.precisionBp ?? 0 };
}
