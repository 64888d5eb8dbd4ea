import type { Queryable, Tx } from '../store/index.ts';

export interface PipelineStageRow {
  pipeline: string;
  stage: string;
  label: string;
  position: number;
  outcome: 'open' | 'won' | 'lost';
  probability: number | null;
}

/** Every stage of every pipeline, pipelines by name and stages in order. */
export async function selectPipelineStages(q: Queryable): Promise<PipelineStageRow[]> {
  const rows = await q.query<PipelineStageRow & { probability: string | number | null }>(
    'SELECT pipeline, stage, label, position, outcome, probability FROM pipeline_stages ORDER BY pipeline, position, stage',
  );
  return rows.map((r) => ({ ...r, position: Number(r.position), probability: r.probability === null ? null : Number(r.probability) }));
}

/** Inserts or replaces stages by (pipeline, stage); says for each whether it was new. */
export async function upsertPipelineStages(
  tx: Tx,
  rows: PipelineStageRow[],
): Promise<{ stage: string; pipeline: string; inserted: boolean }[]> {
  return tx.query<{ stage: string; pipeline: string; inserted: boolean }>(
    `INSERT INTO pipeline_stages (pipeline, stage, label, position, outcome, probability)
       SELECT pipeline, stage, label, position, outcome, probability
         FROM jsonb_to_recordset($1::jsonb) AS r(pipeline text, stage text, label text, position int, outcome text, probability numeric)
     ON CONFLICT (pipeline, stage) DO UPDATE
       SET label = EXCLUDED.label, position = EXCLUDED.position, outcome = EXCLUDED.outcome,
           probability = EXCLUDED.probability, updated_at = now()
     RETURNING pipeline, stage, (xmax = 0) AS inserted`,
    [JSON.stringify(rows)],
  );
}

/** Live records of `table` whose id, external id, or customer id (accounts) or email (contacts) is one of `keys`. */
export async function recordIdsByReference(
  q: Queryable,
  table: 'accounts' | 'contacts',
  keys: string[],
): Promise<{ id: string; key: string }[]> {
  const extra = table === 'accounts' ? 't.customer_id = k.key' : 'lower(t.email) = lower(k.key)';
  return q.query<{ id: string; key: string }>(
    `WITH k AS (SELECT DISTINCT jsonb_array_elements_text($1::jsonb) AS key)
     SELECT DISTINCT ON (k.key) t.id, k.key FROM k JOIN ${table} t
         ON t.deleted_at IS NULL AND (t.id = k.key OR t.external_id = k.key OR ${extra})
      ORDER BY k.key, (t.id = k.key) DESC, (t.external_id = k.key) DESC, t.id`,
    [JSON.stringify(keys)],
  );
}

/** The natural key another ACS can find each record by: an account's customer id, a contact's external id or email. */
export async function referenceKeysOf(q: Queryable, table: 'accounts' | 'contacts', ids: string[]): Promise<{ id: string; key: string }[]> {
  const key = table === 'accounts' ? 'customer_id' : 'coalesce(external_id, email, id)';
  return q.query<{ id: string; key: string }>(
    `SELECT id, ${key} AS key FROM ${table} WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb))`,
    [JSON.stringify(ids)],
  );
}
