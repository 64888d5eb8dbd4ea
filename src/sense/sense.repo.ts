import type { Queryable } from '../store/index.ts';

// --- act: the signals route (src/api/routes/signals.ts)

/** One accepted signal, every column, or undefined. */
export async function findSignalById(q: Queryable, id: string | undefined): Promise<Record<string, unknown> | undefined> {
  const [row] = await q.query<Record<string, unknown>>('SELECT * FROM signals WHERE id = $1', [id]);
  return row;
}
