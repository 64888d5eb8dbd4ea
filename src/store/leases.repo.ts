import type { Queryable } from './db.ts';

/**
 * Takes the lease `name` for `holder` for `ttlMs` from now (the database's time), or renews it when `holder` has it.
 * It is taken over only once its holder let it lapse. True when `holder` has it afterwards.
 */
export async function takeLease(q: Queryable, name: string, holder: string, ttlMs: number): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO leases AS l (name, holder, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3::float8 / 1000))
       ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at,
         taken_at = CASE WHEN l.holder = EXCLUDED.holder THEN l.taken_at ELSE now() END
       WHERE l.holder = EXCLUDED.holder OR l.expires_at <= now()
     RETURNING holder`,
    [name, holder, ttlMs],
  );
  return rows.length === 1;
}

/** Lets go of the lease, if `holder` still has it, so another process may take it at once. */
export async function releaseLease(q: Queryable, name: string, holder: string): Promise<void> {
  await q.query('DELETE FROM leases WHERE name = $1 AND holder = $2', [name, holder]);
}

/** Who holds the lease now (null when nobody, or when its holder let it lapse). */
export async function leaseHolder(q: Queryable, name: string): Promise<string | null> {
  const [row] = await q.query<{ holder: string }>('SELECT holder FROM leases WHERE name = $1 AND expires_at > now()', [name]);
  return row?.holder ?? null;
}

/**
 * Claims `period` of `job` for `holder`: true for the one caller that recorded it, false when it was already claimed.
 * A claim is taken before the job runs, so a period never runs twice, even where two holders' leases overlap.
 */
export async function claimJobRun(q: Queryable, job: string, period: string, holder: string): Promise<boolean> {
  const rows = await q.query(
    'INSERT INTO job_runs (job, period, holder) VALUES ($1, $2, $3) ON CONFLICT (job, period) DO NOTHING RETURNING job',
    [job, period, holder],
  );
  return rows.length === 1;
}
