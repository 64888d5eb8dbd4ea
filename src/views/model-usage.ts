import type { Queryable } from '../store/index.ts';

// The read model of which models each agent's proposals rested on (src/learn/model-usage.ts), from what the
// proposals (assure) recorded.

export interface ModelReferenceRow {
  agent_id: string;
  /** Null for the proposals that name no model. */
  model: string | null;
  version: string | null;
  proposals: number;
}

/**
 * Per agent, the proposals created in the range by the model (and version) they name: a `model_id` (or `model`)
 * and `model_version` column when the table has them, a top-level `model` / `modelVersion` in its EV, and the
 * `model: { id, version }` of any EV term. A proposal naming two models counts once under each; those that name
 * none are counted in a row with a null model.
 */
export async function proposalModelReferences(q: Queryable, range: { from: Date; to: Date }): Promise<ModelReferenceRow[]> {
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
  return q.query<ModelReferenceRow>(
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
}
