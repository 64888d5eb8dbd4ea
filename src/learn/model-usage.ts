import type { Queryable } from '../store/index.ts';
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
  // Columns another part of ACS may add to proposals; read when present, so nothing here breaks before or after.
  const columns = new Set(
    (
      await q.query<{ column_name: string }>(
        `SELECT column_name FROM information_schema.columns
     WHERE table_schema = current_schema() AND table_name = 'proposals' AND column_name IN ('model', 'model_id', 'model_version')`,
      )
    ).map((c) => c.column_name),
  );
  const idColumn = columns.has('model_id') ? 'model_id' : columns.has('model') ? 'model' : null;
  const fromColumns = idColumn
    ? `UNION ALL SELECT p.${idColumn}::text, ${columns.has('model_version') ? 'p.model_version::text' : 'NULL'} WHERE p.${idColumn} IS NOT NULL`
    : '';
  const rows = await q.query<{ agent_id: string; model: string | null; version: string | null; proposals: number }>(
    `WITH p AS (SELECT * FROM proposals WHERE created_at >= $1::timestamptz AND created_at < $2::timestamptz),
     refs AS (
       SELECT p.id, p.agent_id, r.model, r.version FROM p, LATERAL (
         SELECT CASE jsonb_typeof(x.v->'model') WHEN 'object' THEN x.v->'model'->>'id' WHEN 'string' THEN x.v->>'model' END AS model,
                coalesce(CASE WHEN jsonb_typeof(x.v->'model') = 'object' THEN x.v->'model'->>'version' END, x.v->>'modelVersion') AS version
         FROM (SELECT p.ev AS v
               UNION ALL
               SELECT t.value FROM jsonb_each(CASE WHEN jsonb_typeof(p.ev) = 'object' THEN p.ev ELSE '{}'::jsonb END) t
               WHERE jsonb_typeof(t.value) = 'object') x
         WHERE x.v->'model' IS NOT NULL
         ${fromColumns}
       ) r
       WHERE r.model IS NOT NULL
     )
     SELECT agent_id, model, version, count(DISTINCT id)::int AS proposals FROM refs GROUP BY 1, 2, 3
     UNION ALL
     SELECT agent_id, NULL, NULL, count(*)::int FROM p WHERE NOT EXISTS (SELECT 1 FROM refs WHERE refs.id = p.id) GROUP BY 1`,
    [range.from.toISOString(), range.to.toISOString()],
  );
  const out: Record<string, ModelUse[]> = {};
  for (const r of rows) (out[r.agent_id] ??= []).push({ model: r.model ?? RULES, version: r.version, proposals: r.proposals });
  // Most used first; ties by name, so reports compare equal run to run.
  for (const list of Object.values(out))
    list.sort((a, b) => b.proposals - a.proposals || (a.model + (a.version ?? '')).localeCompare(b.model + (b.version ?? '')));
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
