import type { Queryable, Tx } from '../store/index.ts';

// --- identity

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

// --- act: the signals route (src/api/routes/signals.ts)

/** One accepted signal, every column, or undefined. */
export async function findSignalById(q: Queryable, id: string | undefined): Promise<Record<string, unknown> | undefined> {
  const [row] = await q.query<Record<string, unknown>>('SELECT * FROM signals WHERE id = $1', [id]);
  return row;
}
