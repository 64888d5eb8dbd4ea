import type { Queryable } from '../store/index.ts';
import { proposalModelReferences } from '../views/index.ts';
import type { DayRange } from './day-range.ts';

/** Which model a share of an agent's proposals rested on; `rules` when no term of the proposal came from a model. */
export interface ModelUse {
  model: string;
  version: string | null;
  proposals: number;
}

export const RULES = 'rules';

/**
 * The models behind each agent's proposals in the range, read from what the proposal recorded: a `model_id` (or
 * `model`) and `model_version` column when the table has them, a top-level `model` / `modelVersion` in its EV, and
 * the `model: { id, version }` of any EV term (the churn model's p(success) today). A proposal that names none
 * counts as `rules`. A proposal naming two models counts once under each.
 */
export async function modelUsage(q: Queryable, range: Pick<DayRange, 'from' | 'to'>): Promise<Record<string, ModelUse[]>> {
  const rows = await proposalModelReferences(q, range);
  const out: Record<string, ModelUse[]> = {};
  for (const r of rows) (out[r.agent_id] ??= []).push({ model: r.model ?? RULES, version: r.version, proposals: r.proposals });
  // Most used first; ties by name, so reports compare equal run to run.
  for (const list of Object.values(out))
    list.sort((a, b) => b.proposals - a.proposals || (a.model + (a.version ?? '')).localeCompare(b.model + (b.version ?? '')));
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
