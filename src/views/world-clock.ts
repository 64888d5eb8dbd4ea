/**
 * The live demo world's calendar (world_clock, owned by src/world, which product code does not import), for the
 * server clock route.
 */
import type { Queryable } from '../store/index.ts';

export async function readWorldClock(q: Queryable): Promise<{ seed: number; start_day: Date; next_day: number } | undefined> {
  const [row] = await q.query<{ seed: number; start_day: Date; next_day: number }>(
    'SELECT seed, start_day, next_day FROM world_clock WHERE id = 1',
  );
  return row;
}
