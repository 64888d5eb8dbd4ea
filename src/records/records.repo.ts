import type { Tx } from '../store/index.ts';

// --- identity

/** Record tables whose rows belong to a profile through `account_id` and move with it when profiles merge. */
export type MergedRecordTable = 'contacts' | 'cases' | 'interactions' | 'opportunities' | 'subscriptions';

/** A profile to merge, by id or customer id, locked: its id and whether it is still live. */
export async function lockAccountForMerge(
  tx: Tx,
  idOrCustomerId: string,
): Promise<{ id: string; deleted_at: Date | null; merged_into: string | null } | undefined> {
  const [row] = await tx.query<{ id: string; deleted_at: Date | null; merged_into: string | null }>(
    'SELECT id, deleted_at, merged_into FROM accounts WHERE id = $1 OR customer_id = $1 FOR UPDATE',
    [idOrCustomerId],
  );
  return row;
}

/** A merge's survivor, locked before an unmerge: the profile it was itself merged into since, if any. */
export async function lockMergeSurvivor(tx: Tx, survivorId: string): Promise<{ merged_into: string | null } | undefined> {
  const [row] = await tx.query<{ merged_into: string | null }>('SELECT merged_into FROM accounts WHERE id = $1 FOR UPDATE', [survivorId]);
  return row;
}

/** Moves a table's rows from the merged profile to the survivor; returns the ids of those it moved. */
export async function moveRecordsForMerge(
  tx: Tx,
  table: MergedRecordTable,
  survivorId: string,
  mergedId: string,
): Promise<{ id: string }[]> {
  return tx.query<{ id: string }>(`UPDATE ${table} SET account_id = $1 WHERE account_id = $2 RETURNING id`, [survivorId, mergedId]);
}

/** Gives the merged profile back the rows (`ids`) of a table that its merge moved to the survivor. */
export async function restoreRecordsForUnmerge(
  tx: Tx,
  table: MergedRecordTable,
  mergedId: string,
  survivorId: string,
  ids: string[],
): Promise<void> {
  await tx.query(`UPDATE ${table} SET account_id = $1 WHERE account_id = $2 AND id = ANY($3::text[])`, [mergedId, survivorId, ids]);
}

/** Identifiers the survivor already holds stay with it; the rest follow the merged profile's records. */
export async function moveIdentitiesForMerge(tx: Tx, survivorId: string, mergedId: string): Promise<{ kind: string; value: string }[]> {
  return tx.query<{ kind: string; value: string }>('UPDATE identities SET account_id = $1 WHERE account_id = $2 RETURNING kind, value', [
    survivorId,
    mergedId,
  ]);
}

/** Gives the merged profile back the identifiers its merge moved to the survivor. */
export async function restoreIdentitiesForUnmerge(
  tx: Tx,
  mergedId: string,
  survivorId: string,
  identities: { kind: string; value: string }[],
): Promise<void> {
  await tx.query(
    `UPDATE identities i SET account_id = $1 FROM jsonb_to_recordset($3::jsonb) AS k(kind text, value text)
       WHERE i.kind = k.kind AND i.value = k.value AND i.account_id = $2`,
    [mergedId, survivorId, JSON.stringify(identities)],
  );
}

/** The merged profile stays, marked `merged_into` and hidden from reads. */
export async function markAccountMerged(tx: Tx, mergedId: string, survivorId: string, now: string): Promise<void> {
  await tx.query('UPDATE accounts SET merged_into = $1, deleted_at = $2, version = version + 1, updated_at = now() WHERE id = $3', [
    survivorId,
    now,
    mergedId,
  ]);
}

/** An unmerged profile is live again. */
export async function reviveMergedAccount(tx: Tx, mergedId: string): Promise<void> {
  await tx.query('UPDATE accounts SET merged_into = NULL, deleted_at = NULL, version = version + 1, updated_at = now() WHERE id = $1', [
    mergedId,
  ]);
}

/** A contact resolution found the profile of. */
export async function attachContactToAccount(tx: Tx, contactId: string, accountId: string): Promise<void> {
  await tx.query('UPDATE contacts SET account_id = $1, version = version + 1, updated_at = now() WHERE id = $2', [accountId, contactId]);
}
