import { insertRows, type Queryable, type Tx } from '../store/index.ts';

// The SQL of signals (src/sense/intake.ts, src/sense/quality.ts). The quarantine and customer_features have theirs
// in quarantine.repo.ts and features.repo.ts.

/** Which of `ids` are ids of stored signals. */
// Any fixed number (the ledger's append lock had it before appends stopped taking a lock).
const SUBJECT_PLACEMENT_LOCK = 730_002;

/** Takes the lock that serialises placing signals on profiles (intake) with erasing one, until the transaction ends. */
export async function lockSubjectPlacement(tx: Tx): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [SUBJECT_PLACEMENT_LOCK]);
}

export async function storedSignalIds(tx: Tx, ids: string[]): Promise<{ id: string }[]> {
  return tx.query<{ id: string }>('SELECT id FROM signals WHERE id = ANY($1::text[])', [ids]);
}

export async function insertSignals(tx: Tx, rows: Record<string, unknown>[]): Promise<void> {
  await insertRows(
    tx,
    'signals',
    {
      id: 'text',
      type: 'text',
      schema_version: 'int',
      occurred_at: 'timestamptz',
      received_at: 'timestamptz',
      account_id: 'text',
      lead_id: 'text',
      subject: 'jsonb',
      data: 'jsonb',
      metric: 'numeric',
      source: 'text',
      trust: 'jsonb',
    },
    rows,
  );
}

// Signals name their source; a quarantined one keeps the source it declared, else the channel it came by.
// Records rejected by the record API are not signals.
const SIGNAL_SOURCES_SQL = `
SELECT source, sum(accepted)::int AS accepted, sum(quarantined)::int AS quarantined FROM (
  SELECT coalesce(source, '(none)') AS source, count(*) AS accepted, 0 AS quarantined FROM signals GROUP BY 1
  UNION ALL
  SELECT coalesce(signal_source, source), 0, count(*) FROM quarantine WHERE source NOT LIKE 'records:%' GROUP BY 1
) x GROUP BY source`;

/** Per source, the signals stored and those refused into the quarantine. */
export async function signalCountsBySource(q: Queryable): Promise<{ source: string; accepted: number; quarantined: number }[]> {
  return q.query<{ source: string; accepted: number; quarantined: number }>(SIGNAL_SOURCES_SQL);
}

// What identity merges change in signals and features (src/sense/identity).

/** A merge moves the merged profile's signals to the survivor; returns the ids of those it moved. */
export async function moveSignalsForMerge(tx: Tx, survivorId: string, mergedId: string): Promise<{ id: string }[]> {
  return tx.query<{ id: string }>('UPDATE signals SET account_id = $1 WHERE account_id = $2 RETURNING id', [survivorId, mergedId]);
}

/** An unmerge gives the merged profile back the signals its merge moved. */
export async function restoreSignalsForUnmerge(tx: Tx, mergedId: string, survivorId: string, ids: string[]): Promise<void> {
  await tx.query('UPDATE signals SET account_id = $1 WHERE account_id = $2 AND id = ANY($3::text[])', [mergedId, survivorId, ids]);
}

/** The survivor's signals received since `since`, but for those (`except`) the merge moved to it. */
export async function signalsReceivedSince(
  tx: Tx,
  accountId: string,
  since: unknown,
  except: string[],
): Promise<{ id: string; subject: Record<string, string> }[]> {
  return tx.query<{ id: string; subject: Record<string, string> }>(
    'SELECT id, subject FROM signals WHERE account_id = $1 AND received_at >= $2 AND NOT (id = ANY($3::text[]))',
    [accountId, since, except],
  );
}

export async function moveSignalsToAccount(tx: Tx, accountId: string, ids: string[]): Promise<void> {
  await tx.query('UPDATE signals SET account_id = $1 WHERE id = ANY($2::text[])', [accountId, ids]);
}

/** A merged profile's features go: the survivor's are recomputed. */
export async function deleteCustomerFeaturesOf(tx: Tx, accountId: string): Promise<void> {
  await tx.query('DELETE FROM customer_features WHERE account_id = $1', [accountId]);
}

// One stored signal, for the signals route (src/api/routes/signals.ts).

/** One accepted signal, every column, or undefined. */
export async function findSignalById(q: Queryable, id: string | undefined): Promise<Record<string, unknown> | undefined> {
  const [row] = await q.query<Record<string, unknown>>('SELECT * FROM signals WHERE id = $1', [id]);
  return row;
}

// Prompt-injection findings (signals.trust, written at intake): the loop lowers autonomy for subjects with a recent one.

/**
 * The customers and leads among these with a signal flagged for prompt injection that occurred at or after `since`
 * (and not after `until`), with the flagged signals' ids, by subject id (account or lead).
 */
export async function flaggedSignalsOf(
  q: Queryable,
  accountIds: string[],
  leadIds: string[],
  since: Date,
  until: Date,
): Promise<Map<string, string[]>> {
  const bySubject = new Map<string, string[]>();
  if (accountIds.length + leadIds.length === 0) return bySubject;
  const rows = await q.query<{ subject: string; ids: string[] }>(
    `SELECT coalesce(account_id, lead_id) AS subject, array_agg(id ORDER BY occurred_at, id) AS ids
       FROM signals
      WHERE (trust -> 'injection' ->> 'flagged') = 'true'
        AND (account_id = ANY($1::text[]) OR lead_id = ANY($2::text[]))
        AND occurred_at >= $3 AND occurred_at <= $4
      GROUP BY 1`,
    [accountIds, leadIds, since.toISOString(), until.toISOString()],
  );
  for (const r of rows) bySubject.set(r.subject, r.ids);
  return bySubject;
}
