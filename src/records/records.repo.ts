import type { RecordKind } from '../contracts/index.ts';
import type { Queryable, Tx } from '../store/index.ts';

// A kind's table has the kind's name; rows come back as stored (snake_case), for records.ts to map.
type StoredRow = Record<string, unknown>;

/** Inserts one record from its columns (`id` included) and returns the stored row. */
export async function insertRecordRow(tx: Tx, kind: RecordKind, cols: Record<string, unknown>): Promise<StoredRow | undefined> {
  const names = Object.keys(cols);
  const [row] = await tx.query<StoredRow>(
    `INSERT INTO ${kind} (${names.join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
    Object.values(cols),
  );
  return row;
}

/** A record that is not deleted. */
export async function selectLiveRecordRow(q: Queryable, kind: RecordKind, id: string): Promise<StoredRow | undefined> {
  const [row] = await q.query<StoredRow>(`SELECT * FROM ${kind} WHERE id = $1 AND deleted_at IS NULL`, [id]);
  return row;
}

/** Live records in creation order after `afterId`, at most `limit`, whose `columns` hold the values given. */
export async function selectLiveRecordRows(
  q: Queryable,
  kind: RecordKind,
  opts: { limit: number; afterId?: string; columns: [column: string, value: string][] },
): Promise<StoredRow[]> {
  const where = ['deleted_at IS NULL'];
  const params: unknown[] = [];
  if (opts.afterId) where.push(`id > $${params.push(opts.afterId)}`);
  for (const [column, value] of opts.columns) where.push(`${column} = $${params.push(value)}`);
  return q.query<StoredRow>(`SELECT * FROM ${kind} WHERE ${where.join(' AND ')} ORDER BY id LIMIT $${params.push(opts.limit)}`, params);
}

/** A live record, locked for an update. */
export async function lockLiveRecordRow(tx: Tx, kind: RecordKind, id: string): Promise<StoredRow | undefined> {
  const [row] = await tx.query<StoredRow>(`SELECT * FROM ${kind} WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, [id]);
  return row;
}

/** Writes the columns given, bumps the version, and returns the stored row. */
export async function updateRecordRow(tx: Tx, kind: RecordKind, id: string, cols: Record<string, unknown>): Promise<StoredRow | undefined> {
  const names = Object.keys(cols);
  const sets = names.map((n, i) => `${n} = $${i + 2}`);
  const [row] = await tx.query<StoredRow>(
    `UPDATE ${kind} SET ${[...sets, 'version = version + 1', 'updated_at = now()'].join(', ')} WHERE id = $1 RETURNING *`,
    [id, ...Object.values(cols)],
  );
  return row;
}

/** Marks a live record deleted; no row when there was none to delete. */
export async function softDeleteRecordRow(tx: Tx, kind: RecordKind, id: string): Promise<StoredRow | undefined> {
  const [row] = await tx.query<StoredRow>(
    `UPDATE ${kind} SET deleted_at = now(), version = version + 1 WHERE id = $1 AND deleted_at IS NULL RETURNING *`,
    [id],
  );
  return row;
}

/** Why a record was deleted: free text, kept beside the record rather than in the ledger. */
export async function insertDeletionReason(tx: Tx, kind: RecordKind, id: string, reason: string, actor: string): Promise<void> {
  await tx.query('INSERT INTO deletion_reasons (kind, record_id, reason, actor) VALUES ($1, $2, $3, $4)', [kind, id, reason, actor]);
}
