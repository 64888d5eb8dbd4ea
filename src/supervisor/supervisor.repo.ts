/** supervisor's table: supervisor_settings, the thresholds an admin set (one row). src/supervisor/supervisor.ts keeps the rules. */
import type { Queryable, Tx } from '../store/index.ts';

export async function selectSupervisorThresholds(q: Queryable): Promise<unknown> {
  const [row] = await q.query<{ thresholds: unknown }>('SELECT thresholds FROM supervisor_settings WHERE id = 1');
  return row?.thresholds ?? {};
}

export async function upsertSupervisorThresholds(tx: Tx, thresholds: object, actor: string): Promise<void> {
  await tx.query(
    `INSERT INTO supervisor_settings (id, thresholds, updated_by) VALUES (1, $1::jsonb, $2)
     ON CONFLICT (id) DO UPDATE SET thresholds = $1::jsonb, updated_at = now(), updated_by = $2`,
    [JSON.stringify(thresholds), actor],
  );
}
