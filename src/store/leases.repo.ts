import type { Queryable, Tx } from './db.ts';

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
 * Claims `period` of `job` inside the transaction that does the job: true when no run of that period was recorded.
 * A second claimant waits for the first's transaction, and sees its row once it commits (or claims it after a rollback).
 */
export async function claimJobRun(tx: Tx, job: string, period: string, holder: string): Promise<boolean> {
  const rows = await tx.query(
    'INSERT INTO job_runs (job, period, holder) VALUES ($1, $2, $3) ON CONFLICT (job, period) DO NOTHING RETURNING job',
    [job, period, holder],
  );
  return rows.length === 1;
}

export async function jobRan(q: Queryable, job: string, period: string): Promise<boolean> {
  const rows = await q.query('SELECT 1 FROM job_runs WHERE job = $1 AND period = $2', [job, period]);
  return rows.length > 0;
}

/** Records that `period` of `job` was done (a job that cannot run inside one transaction records it afterwards). */
export async function recordJobRun(q: Queryable, job: string, period: string, holder: string): Promise<void> {
  await q.query('INSERT INTO job_runs (job, period, holder) VALUES ($1, $2, $3) ON CONFLICT (job, period) DO NOTHING', [
    job,
    period,
    holder,
  ]);
}
