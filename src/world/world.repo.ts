import type { Queryable } from '../store/index.ts';

/** The live world's saved clock; none before its first start. */
export async function readWorldClock(
  q: Queryable,
): Promise<{ seed: number; start_day: Date; next_day: number; sim_now: Date } | undefined> {
  const [row] = await q.query<{ seed: number; start_day: Date; next_day: number; sim_now: Date }>(
    'SELECT seed, start_day, next_day, sim_now FROM world_clock WHERE id = 1',
  );
  return row;
}

export async function insertWorldClock(q: Queryable, c: { seed: number; startDay: string; simNow: string }): Promise<void> {
  await q.query('INSERT INTO world_clock (id, seed, start_day, next_day, sim_now) VALUES (1, $1, $2, 0, $3)', [
    c.seed,
    c.startDay,
    c.simNow,
  ]);
}

export async function saveWorldClock(q: Queryable, nextDay: number, simNow: string): Promise<void> {
  await q.query('UPDATE world_clock SET next_day = $1, sim_now = $2, updated_at = now() WHERE id = 1', [nextDay, simNow]);
}

/** The live world's clock as it was last saved; none when no world ever ran here. */
export async function readWorldSimNow(q: Queryable): Promise<Date | undefined> {
  const [world] = await q.query<{ sim_now: Date }>('SELECT sim_now FROM world_clock WHERE id = 1');
  return world?.sim_now;
}
