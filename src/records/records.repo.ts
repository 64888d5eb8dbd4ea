import type { RecordKind } from '../contracts/index.ts';
import type { Queryable, Tx } from '../store/index.ts';

// A kind's table has the kind's name; rows come back as stored (snake_case), for records.ts to map.
type StoredRow = Record<string, unknown>;

/** Inserts one record from its columns (`id` included) and returns the stored row. */
export async function insertRecordRow(tx: Tx, kind: RecordKind, cols: Record<string, unknown>): Promise<StoredRow | undefined> {
  const names = Object.keys(cols);
  const [row] = await tx.query<StoredRow>(
    `INSERT INTO ${kind} (${names.join(', ')}) VALUES (${names.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING *`,
    Object.values(cols),
  );
  return row;
}

/** A record that is not deleted. */
export async function selectLiveRecordRow(q: Queryable, kind: RecordKind, id: string): Promise<StoredRow | undefined> {
  const [row] = await q.query<StoredRow>(`SELECT * FROM ${kind} WHERE id = $1 AND deleted_at IS NULL`, [id]);
  return row;
}

/** Live records in creation order after `afterId`, at most `limit`, whose `columns` hold the values given. */
export async function selectLiveRecordRows(
  q: Queryable,
  kind: RecordKind,
  opts: { limit: number; afterId?: string; columns: [column: string, value: string][] },
): Promise<StoredRow[]> {
  const where = ['deleted_at IS NULL'];
  const params: unknown[] = [];
  if (opts.afterId) where.push(`id > $${params.push(opts.afterId)}`);
  for (const [column, value] of opts.columns) where.push(`${column} = $${params.push(value)}`);
  return q.query<StoredRow>(`SELECT * FROM ${kind} WHERE ${where.join(' AND ')} ORDER BY id LIMIT $${params.push(opts.limit)}`, params);
}

/** A live record, locked for an update. */
export async function lockLiveRecordRow(tx: Tx, kind: RecordKind, id: string): Promise<StoredRow | undefined> {
  const [row] = await tx.query<StoredRow>(`SELECT * FROM ${kind} WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, [id]);
  return row;
}

/** Writes the columns given, bumps the version, and returns the stored row. */
export async function updateRecordRow(tx: Tx, kind: RecordKind, id: string, cols: Record<string, unknown>): Promise<StoredRow | undefined> {
  const names = Object.keys(cols);
  const sets = names.map((n, i) => `${n} = $${i + 2}`);
  const [row] = await tx.query<StoredRow>(
    `UPDATE ${kind} SET ${[...sets, 'version = version + 1', 'updated_at = now()'].join(', ')} WHERE id = $1 RETURNING *`,
    [id, ...Object.values(cols)],
  );
  return row;
}

/** Marks a live record deleted; no row when there was none to delete. */
export async function softDeleteRecordRow(tx: Tx, kind: RecordKind, id: string): Promise<StoredRow | undefined> {
  const [row] = await tx.query<StoredRow>(
    `UPDATE ${kind} SET deleted_at = now(), version = version + 1 WHERE id = $1 AND deleted_at IS NULL RETURNING *`,
    [id],
  );
  return row;
}

/** Why a record was deleted: free text, kept beside the record rather than in the ledger. */
export async function insertDeletionReason(tx: Tx, kind: RecordKind, id: string, reason: string, actor: string): Promise<void> {
  await tx.query('INSERT INTO deletion_reasons (kind, record_id, reason, actor) VALUES ($1, $2, $3, $4)', [kind, id, reason, actor]);
}

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

// --- world
/** The imported Telco demo accounts (they carry the dataset's boolean `churned`) that have no contact yet. */
export function listDemoAccountsWithoutContact(q: Queryable): Promise<{ id: string; customer_id: string }[]> {
  return q.query<{ id: string; customer_id: string }>(
    `SELECT a.id, a.customer_id FROM accounts a
     WHERE a.deleted_at IS NULL AND jsonb_typeof(a.attributes->'churned') = 'boolean' AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.account_id = a.id)
     ORDER BY a.customer_id`,
  );
}

/** The contacts of these accounts, by email. */
export function listContactEmailsOfAccounts(q: Queryable, accountIds: string[]): Promise<{ id: string; email: string }[]> {
  return q.query<{ id: string; email: string }>('SELECT id, email FROM contacts WHERE account_id = ANY($1::text[]) ORDER BY email', [
    accountIds,
  ]);
}

// --- act: the tools' tasks and cases (src/act/tools.ts), and what the loop reads of records (src/loop)

/** A task an executed action created; `dueInDays` counts from `createdAt`. */
export async function insertExecutedTask(
  tx: Tx,
  t: {
    id: string;
    accountId: string | null;
    leadId: string | null;
    title: string;
    details: string | null;
    assignee: string | null;
    dueInDays: number | null;
    executionKey: string;
    createdAt: string;
  },
): Promise<void> {
  await tx.query(
    `INSERT INTO tasks (id, account_id, lead_id, title, details, assignee, due_at, execution_key, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7::int IS NULL THEN NULL ELSE $9::timestamptz + make_interval(days => $7::int) END, $8, $9)`,
    [t.id, t.accountId, t.leadId, t.title, t.details, t.assignee, t.dueInDays, t.executionKey, t.createdAt],
  );
}

export async function cancelOpenTask(tx: Tx, id: unknown): Promise<void> {
  await tx.query("UPDATE tasks SET status = 'cancelled' WHERE id = $1 AND status = 'open'", [id]);
}

/** An account's live open or pending cases (or only `caseId` among them), oldest first. */
export async function findOpenCaseIds(q: Queryable, accountId: string, caseId: string | null): Promise<{ id: string }[]> {
  return q.query<{ id: string }>(
    `SELECT id FROM cases WHERE account_id = $1 AND status IN ('open', 'pending') AND deleted_at IS NULL AND ($2::text IS NULL OR id = $2) ORDER BY opened_at`,
    [accountId, caseId],
  );
}

/** The live contacts of these accounts, by id. */
export async function findContactsOfAccounts(
  q: Queryable,
  accountIds: string[],
): Promise<{ id: string; account_id: string; email: string | null; phone: string | null }[]> {
  return q.query<{ id: string; account_id: string; email: string | null; phone: string | null }>(
    'SELECT id, account_id, email, phone FROM contacts WHERE account_id = ANY($1::text[]) AND deleted_at IS NULL ORDER BY id',
    [accountIds],
  );
}

/** Live contacts of live accounts with one of these (lower-cased) email addresses or phone numbers. */
export async function findContactsWithPoints(
  q: Queryable,
  emails: string[],
  phones: string[],
): Promise<{ account_id: string; email: string | null; phone: string | null }[]> {
  // Looked up by value (the contacts_email and contacts_phone indexes), not by a self-join the planner may scan.
  return q.query<{ account_id: string; email: string | null; phone: string | null }>(
    `SELECT c.account_id, lower(c.email) AS email, c.phone FROM contacts c JOIN accounts a ON a.id = c.account_id AND a.deleted_at IS NULL
     WHERE c.deleted_at IS NULL AND ((c.email IS NOT NULL AND lower(c.email) = ANY($1::text[])) OR (c.phone IS NOT NULL AND c.phone = ANY($2::text[])))`,
    [emails, phones],
  );
}

/**
 * Live accounts whose records look wrong: no name, no way to reach them, an incomplete subscription, or a contact
 * point shared with another profile; at most `limit`, by id. Set-based (hash joins over whole tables), so a sweep
 * of the full base is one quick statement.
 */
export async function findAccountsToSteward(q: Queryable, limit: number): Promise<{ id: string }[]> {
  return q.query<{ id: string }>(
    `WITH shared AS (
       SELECT c.account_id FROM contacts c JOIN (
         SELECT lower(email) AS email FROM contacts WHERE email IS NOT NULL AND deleted_at IS NULL GROUP BY 1 HAVING count(DISTINCT account_id) > 1
       ) d ON lower(c.email) = d.email WHERE c.deleted_at IS NULL
       UNION
       SELECT c.account_id FROM contacts c JOIN (
         SELECT phone FROM contacts WHERE phone IS NOT NULL AND deleted_at IS NULL GROUP BY 1 HAVING count(DISTINCT account_id) > 1
       ) d ON c.phone = d.phone WHERE c.deleted_at IS NULL
     ),
     reachable AS (SELECT DISTINCT account_id FROM contacts WHERE deleted_at IS NULL AND (email IS NOT NULL OR phone IS NOT NULL)),
     incomplete AS (SELECT DISTINCT account_id FROM subscriptions WHERE deleted_at IS NULL AND (monthly_amount IS NULL OR tenure_months IS NULL))
     SELECT a.id FROM accounts a
     LEFT JOIN reachable r ON r.account_id = a.id LEFT JOIN incomplete i ON i.account_id = a.id LEFT JOIN (SELECT DISTINCT account_id FROM shared) s ON s.account_id = a.id
     WHERE a.deleted_at IS NULL AND (a.name = 'Unidentified customer' OR r.account_id IS NULL OR i.account_id IS NOT NULL OR s.account_id IS NOT NULL)
     ORDER BY a.id LIMIT ${limit}`,
  );
}
