/** sense's table demo_loads: which demo datasets were started and completed (src/sense/import/telco.ts loads them). */
import type { Queryable } from '../../store/index.ts';

export interface DemoLoadRow {
  total: number;
  completed: boolean;
}

export async function demoLoad(q: Queryable, dataset: string): Promise<DemoLoadRow | undefined> {
  const [row] = await q.query<DemoLoadRow>('SELECT total, completed_at IS NOT NULL AS completed FROM demo_loads WHERE dataset = $1', [
    dataset,
  ]);
  return row;
}

export async function startDemoLoad(q: Queryable, dataset: string, total: number): Promise<void> {
  await q.query('INSERT INTO demo_loads (dataset, total) VALUES ($1, $2) ON CONFLICT (dataset) DO UPDATE SET total = EXCLUDED.total', [
    dataset,
    total,
  ]);
}

export async function completeDemoLoad(q: Queryable, dataset: string): Promise<void> {
  await q.query('UPDATE demo_loads SET completed_at = now() WHERE dataset = $1', [dataset]);
}
