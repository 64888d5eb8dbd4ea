import { insertRows, type Queryable, type Tx } from '../store/index.ts';

// The SQL of the quarantine (src/sense/quarantine.ts).

export async function insertQuarantine(tx: Tx, rows: Record<string, unknown>[]): Promise<void> {
  await insertRows(
    tx,
    'quarantine',
    { id: 'text', source: 'text', reason: 'text', issues: 'jsonb', raw: 'text', raw_bytes: 'bytea', signal_source: 'text' },
    rows,
  );
}

/** Quarantine rows after `afterId` in id order, of one status or any, at most `limit`. */
export async function quarantineRowsAfter(
  q: Queryable,
  opts: { status?: string; afterId?: string; limit: number },
): Promise<Record<string, unknown>[]> {
  const params: unknown[] = [];
  const where: string[] = [];
  if (opts.status) where.push(`status = $${params.push(opts.status)}`);
  if (opts.afterId) where.push(`id > $${params.push(opts.afterId)}`);
  return q.query<Record<string, unknown>>(
    `SELECT * FROM quarantine ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id LIMIT $${params.push(opts.limit)}`,
    params,
  );
}

export async function quarantineRowById(q: Queryable, id: string): Promise<Record<string, unknown> | undefined> {
  const [row] = await q.query<Record<string, unknown>>('SELECT * FROM quarantine WHERE id = $1', [id]);
  return row;
}

/** Locks a quarantine item and returns its status. */
export async function lockQuarantineRow(tx: Tx, id: string): Promise<{ status: string } | undefined> {
  const [row] = await tx.query<{ status: string }>('SELECT status FROM quarantine WHERE id = $1 FOR UPDATE', [id]);
  return row;
}

export async function resolveQuarantineRow(tx: Tx, id: string, status: string, resolution: Record<string, unknown>): Promise<void> {
  await tx.query('UPDATE quarantine SET status = $2, resolved_at = now(), resolution = $3::jsonb WHERE id = $1', [
    id,
    status,
    JSON.stringify(resolution),
  ]);
}
