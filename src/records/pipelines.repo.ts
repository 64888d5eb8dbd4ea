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

/**
 * How another ACS finds a record a field references: the field's table, and the columns naming the record there,
 * most specific first. An export writes the first one set (else the id); an import matches the id, then each in turn.
 */
const REFERENCES = {
  accountId: { table: 'accounts', keys: ['customer_id', 'external_id'] },
  contactId: { table: 'contacts', keys: ['external_id', 'email'] },
  leadId: { table: 'leads', keys: ['external_id', 'email'] },
  productId: { table: 'products', keys: ['sku'] },
} as const;
export type ReferenceField = keyof typeof REFERENCES;
export const REFERENCE_FIELDS = Object.keys(REFERENCES) as ReferenceField[];

// Emails are matched in any case, as identities are.
const matches = (column: string) => (column === 'email' ? 'lower(t.email) = lower(k.key)' : `t.${column} = k.key`);

/** Live records `field` can name whose id or natural key is one of `keys`; each key goes to its best match. */
export async function recordIdsByReference(q: Queryable, field: ReferenceField, keys: string[]): Promise<{ id: string; key: string }[]> {
  const { table, keys: columns } = REFERENCES[field];
  const conditions = ['t.id = k.key', ...columns.map(matches)];
  return q.query<{ id: string; key: string }>(
    `WITH k AS (SELECT DISTINCT jsonb_array_elements_text($1::jsonb) AS key)
     SELECT DISTINCT ON (k.key) t.id, k.key FROM k JOIN ${table} t
         ON t.deleted_at IS NULL AND (${conditions.join(' OR ')})
      ORDER BY k.key, ${conditions.map((c) => `(${c}) DESC NULLS LAST`).join(', ')}, t.id`,
    [JSON.stringify(keys)],
  );
}

/** The natural key another ACS finds each record `field` names by (its id when it has none). */
export async function referenceKeysOf(q: Queryable, field: ReferenceField, ids: string[]): Promise<{ id: string; key: string }[]> {
  const { table, keys } = REFERENCES[field];
  return q.query<{ id: string; key: string }>(
    `SELECT id, coalesce(${keys.join(', ')}, id) AS key FROM ${table} WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb))`,
    [JSON.stringify(ids)],
  );
}
