import type { RecordKind } from '../contracts/index.ts';
import { insertRows, type Queryable, type Tx } from '../store/index.ts';

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

/** Where a row stands in the (updated_at, id) order: its updated_at to the microsecond, in UTC, and its id. */
export interface RecordPosition {
  updatedAt: string;
  id: string;
}

/**
 * Live records in (updated_at, id) order, for incremental sync: those updated at or after `updatedSince`, after the
 * position `after`, at most `limit`, whose `columns` hold the values given. Each row carries `page_updated_at`, its
 * updated_at to the microsecond (a JavaScript Date keeps milliseconds only, too coarse to resume from).
 */
export async function selectLiveRecordPage(
  q: Queryable,
  kind: RecordKind,
  opts: { limit: number; after?: RecordPosition; updatedSince?: string; columns: [column: string, value: string][] },
): Promise<StoredRow[]> {
  const where = ['deleted_at IS NULL'];
  const params: unknown[] = [];
  if (opts.updatedSince) where.push(`updated_at >= $${params.push(opts.updatedSince)}::timestamptz`);
  if (opts.after) where.push(`(updated_at, id) > ($${params.push(opts.after.updatedAt)}::timestamptz, $${params.push(opts.after.id)})`);
  for (const [column, value] of opts.columns) where.push(`${column} = $${params.push(value)}`);
  return q.query<StoredRow>(
    `SELECT *, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS page_updated_at FROM ${kind}
      WHERE ${where.join(' AND ')} ORDER BY updated_at, id LIMIT $${params.push(opts.limit)}`,
    params,
  );
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

// What identity merges and resolution change in records (src/sense/identity).

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

// What the demo world reads of records (src/world/driver.ts).
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

// What sense reads and writes of records: profiles, consent, intake, data quality, imports (src/sense).

/** The newest live account, else the newest deleted one, whose id or customer id is `key` (src/sense/profile.ts findAccount). */
export async function accountRowByIdOrCustomerId(q: Queryable, key: string): Promise<Record<string, unknown> | undefined> {
  const [row] = await q.query<Record<string, unknown>>(
    'SELECT * FROM accounts WHERE (id = $1 OR customer_id = $1) ORDER BY deleted_at NULLS FIRST LIMIT 1',
    [key],
  );
  return row;
}

/** The account `id`, live or deleted. */
export async function accountRowById(q: Queryable, id: string): Promise<Record<string, unknown> | undefined> {
  const [row] = await q.query<Record<string, unknown>>('SELECT * FROM accounts WHERE id = $1', [id]);
  return row;
}

/** The contract terms of a subscription, as a churn model reads them. */
export interface SubscriptionTermsRow {
  contract: string | null;
  payment_method: string | null;
  paperless_billing: boolean | null;
  tenure_months: number | null;
  monthly_amount: number | null;
  services: Record<string, unknown> | null;
}

/** The contract terms of an account's first live subscription. */
export async function firstLiveSubscriptionTerms(q: Queryable, accountId: string): Promise<SubscriptionTermsRow[]> {
  return q.query<SubscriptionTermsRow>(
    'SELECT contract, payment_method, paperless_billing, tenure_months, monthly_amount, services FROM subscriptions WHERE account_id = $1 AND deleted_at IS NULL ORDER BY id LIMIT 1',
    [accountId],
  );
}

/** Who may hold consent for outreach: a holder's id (null when none), contact points and the brand of the customer. */
export interface OutreachHolderRow {
  id: string | null;
  email: string | null;
  phone: string | null;
  brand: string | null;
}

/** An account's live contacts, with the account's brand (one row with a null id when it has none). */
export async function outreachHoldersOfAccount(q: Queryable, accountId: string): Promise<OutreachHolderRow[]> {
  return q.query<OutreachHolderRow>(
    `SELECT c.id, c.email, c.phone, a.brand FROM accounts a LEFT JOIN contacts c ON c.account_id = a.id AND c.deleted_at IS NULL
       WHERE a.id = $1 ORDER BY c.id`,
    [accountId],
  );
}

/** A lead as a holder of its own consent. */
export async function outreachHolderOfLead(q: Queryable, leadId: string | null): Promise<OutreachHolderRow[]> {
  return q.query<OutreachHolderRow>('SELECT id, email, phone, brand FROM leads WHERE id = $1', [leadId]);
}

/** Which of `customerIds` belong to deleted accounts. */
export async function deletedCustomerIds(tx: Tx, customerIds: string[]): Promise<{ customer_id: string }[]> {
  return tx.query<{ customer_id: string }>(
    'SELECT customer_id FROM accounts WHERE customer_id = ANY($1::text[]) AND deleted_at IS NOT NULL',
    [customerIds],
  );
}

/** `n` new customer ids from the generator the accounts table's default uses. */
export async function nextCustomerIds(tx: Tx, n: number): Promise<{ id: string }[]> {
  return tx.query<{ id: string }>('SELECT next_customer_id() AS id FROM generate_series(1, $1::int)', [n]);
}

/** Inserts the accounts intake creates for signals of unknown customers. */
export async function insertSignalAccounts(tx: Tx, rows: Record<string, unknown>[]): Promise<void> {
  await insertRows(
    tx,
    'accounts',
    { id: 'text', customer_id: 'text', name: 'text', kind: 'text', attributes: 'jsonb', created_at: 'timestamptz' },
    rows,
  );
}

/** Inserts the leads intake creates from lead forms. */
export async function insertSignalLeads(tx: Tx, rows: Record<string, unknown>[]): Promise<void> {
  await insertRows(
    tx,
    'leads',
    {
      id: 'text',
      first_name: 'text',
      last_name: 'text',
      email: 'text',
      phone: 'text',
      company: 'text',
      source: 'text',
      attributes: 'jsonb',
    },
    rows,
  );
}

/** Inserts the cases intake opens for support tickets. */
export async function insertTicketCases(tx: Tx, rows: Record<string, unknown>[]): Promise<void> {
  await insertRows(
    tx,
    'cases',
    { id: 'text', account_id: 'text', subject: 'text', description: 'text', priority: 'text', channel: 'text', opened_at: 'timestamptz' },
    rows,
  );
}

/** A case `c` that counts in openCases. */
const OPEN_CASE = `c.status IN ('open', 'pending') AND c.deleted_at IS NULL`;

/**
 * An SQL expression counting the open cases of the account whose id is `accountIdSql`, for a set-based statement of
 * another module (sense's features refresh counts them for a whole batch in one statement): the cases table and what
 * makes a case open stay named here.
 */
export const openCaseCountSql = (accountIdSql: string): string =>
  `(SELECT count(*) FROM cases c WHERE c.account_id = ${accountIdSql} AND ${OPEN_CASE})`;

/** An account's open cases, newest opened first, at most `limit`; `n` is how many there are in all. */
export async function openCasesOfAccount(q: Queryable, accountId: string, limit: number): Promise<{ n: number; id: string }[]> {
  return q.query<{ n: number; id: string }>(
    `
SELECT count(*) OVER () AS n, c.id FROM cases c WHERE c.account_id = $1 AND ${OPEN_CASE}
ORDER BY c.opened_at DESC, c.id DESC LIMIT $2`,
    [accountId, limit],
  );
}

/** The data quality rules (`columns`: one boolean or null column r<i> per rule, src/sense/quality.ts) over an account. */
export async function accountRuleResults(q: Queryable, columns: string, accountId: string): Promise<Record<string, unknown>[]> {
  return q.query<Record<string, unknown>>(`SELECT id, ${columns} FROM accounts WHERE id = $1`, [accountId]);
}

/** The data quality rules over an account's live contacts, in id order. */
export async function contactRuleResults(q: Queryable, columns: string, accountId: string): Promise<Record<string, unknown>[]> {
  return q.query<Record<string, unknown>>(`SELECT id, ${columns} FROM contacts WHERE account_id = $1 AND deleted_at IS NULL ORDER BY id`, [
    accountId,
  ]);
}

/** Live leads per source: how many, and the `counts` columns (per rule, applicable and passed; src/sense/quality.ts). */
export async function leadRuleCountsBySource(q: Queryable, counts: string): Promise<Record<string, number | string>[]> {
  return q.query<Record<string, number | string>>(`
SELECT coalesce(source, '(none)') AS source, count(*)::int AS records,
  ${counts}
FROM leads WHERE deleted_at IS NULL GROUP BY 1`);
}

/** The id and natural key (`keyExpr`, its SQL) of the live `kind` records whose key is one of `keys`, in id order. */
export async function liveRecordIdsByKey(
  tx: Tx,
  kind: RecordKind,
  keyExpr: string,
  keys: string[],
): Promise<{ id: string; key: string }[]> {
  return tx.query<{ id: string; key: string }>(
    `SELECT id, ${keyExpr} AS key FROM ${kind} WHERE deleted_at IS NULL AND ${keyExpr} IN (SELECT jsonb_array_elements_text($1::jsonb)) ORDER BY id`,
    [JSON.stringify(keys)],
  );
}

/** Inserts `kind` rows of one column set (`types`: column to SQL type) and returns them as stored. */
export async function insertRecordRowsReturning(
  tx: Tx,
  kind: RecordKind,
  types: Record<string, string>,
  rows: Record<string, unknown>[],
): Promise<Record<string, unknown>[]> {
  return insertRows<Record<string, unknown>>(tx, kind, types, rows, 'RETURNING *');
}

/**
 * Applies `patches` ({ id, patch } with snake_case columns) to `kind` records in one statement: columns `names`
 * are set to `values` (SQL over the row `t`, the patched row `r` and the patch `u.patch`), the version goes up.
 */
export async function patchRecordRows(
  tx: Tx,
  kind: RecordKind,
  names: string[],
  values: string[],
  patches: { id: string; patch: Record<string, unknown> }[],
): Promise<Record<string, unknown>[]> {
  return tx.query<Record<string, unknown>>(
    `UPDATE ${kind} AS t SET (${[...names, 'version', 'updated_at'].join(', ')}) =
         (SELECT ${[...values, 't.version + 1', 'now()'].join(', ')} FROM jsonb_populate_record(t, u.patch) AS r)
       FROM jsonb_to_recordset($1::jsonb) AS u(id text, patch jsonb) WHERE t.id = u.id RETURNING t.*`,
    [JSON.stringify(patches)],
  );
}

/** A table's columns and their SQL types, from the catalog. */
export async function tableColumnTypes(q: Queryable, table: string): Promise<{ name: string; type: string }[]> {
  return q.query<{ name: string; type: string }>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
       WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
    [table],
  );
}

/** Names the accounts `ids` after their customer ids (their customer ids came from the database sequence). */
export async function nameAccountsAfterCustomerId(tx: Tx, ids: string[]): Promise<void> {
  await tx.query(`UPDATE accounts SET name = 'Customer ' || customer_id WHERE id IN (SELECT jsonb_array_elements_text($1::jsonb))`, [
    JSON.stringify(ids),
  ]);
}

/** Whether any account exists, deleted ones included. */
export async function anyAccountExists(q: Queryable): Promise<boolean> {
  const [row] = await q.query<{ present: boolean }>('SELECT EXISTS (SELECT 1 FROM accounts) AS present');
  return row?.present ?? false;
}

/** Which of `customerIds` an account holds, deleted accounts included (their ids stay taken). */
export async function takenCustomerIds(q: Queryable, customerIds: string[]): Promise<string[]> {
  const rows = await q.query<{ customer_id: string }>(
    'SELECT customer_id FROM accounts WHERE customer_id IN (SELECT jsonb_array_elements_text($1::jsonb))',
    [JSON.stringify(customerIds)],
  );
  return rows.map((r) => r.customer_id);
}

/** How many accounts exist, deleted ones included. */
export async function countAccounts(q: Queryable): Promise<number> {
  const [row] = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM accounts');
  return row?.n ?? 0;
}

// Consents as sense reads them (src/sense/consent.ts) and intake writes those of lead forms.

/**
 * Per holder, channel, purpose, contact point and brand, the latest captured consent record in effect at `at` (a
 * double opt-in only once confirmed), of the holders `holderIds` (contact or lead ids).
 */
export async function effectiveConsentRows(q: Queryable, holderIds: string[], at: Date): Promise<Record<string, unknown>[]> {
  // One branch per holder column, so each reads its own index instead of the planner scanning for an OR.
  return q.query<Record<string, unknown>>(
    `SELECT DISTINCT ON (coalesce(contact_id, lead_id), channel, purpose, contact_point, brand) * FROM (
       SELECT * FROM consents WHERE contact_id = ANY($1::text[])
       UNION ALL
       SELECT * FROM consents WHERE lead_id = ANY($1::text[])
     ) c
     WHERE deleted_at IS NULL AND effective_from <= $2 AND (effective_to IS NULL OR effective_to > $2)
       AND (NOT double_opt_in OR confirmed_at <= $2)
     ORDER BY coalesce(contact_id, lead_id), channel, purpose, contact_point, brand, captured_at DESC, id DESC`,
    [holderIds, at.toISOString()],
  );
}

/** Locks a live consent record for its confirmation and returns what the confirmation checks. */
export async function lockConsentForConfirmation(
  tx: Tx,
  id: string,
): Promise<{ double_opt_in: boolean; confirmed_at: Date | null; status: string; captured_at: Date } | undefined> {
  const [row] = await tx.query<{ double_opt_in: boolean; confirmed_at: Date | null; status: string; captured_at: Date }>(
    'SELECT double_opt_in, confirmed_at, status, captured_at FROM consents WHERE id = $1 AND deleted_at IS NULL FOR UPDATE',
    [id],
  );
  return row;
}

/** Inserts the consents lead forms gave. */
export async function insertFormConsents(tx: Tx, rows: Record<string, unknown>[]): Promise<void> {
  await insertRows(
    tx,
    'consents',
    {
      id: 'text',
      lead_id: 'text',
      channel: 'text',
      purpose: 'text',
      status: 'text',
      source: 'text',
      captured_at: 'timestamptz',
      effective_from: 'timestamptz',
      contact_point: 'text',
      brand: 'text',
    },
    rows,
  );
}

// The tools' tasks and cases (src/act/tools.ts), and what the loop reads of records (src/loop).

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
): Promise<{ id: string; account_id: string; email: string | null; phone: string | null; country: string | null }[]> {
  // The country a contact's attributes name (`country`, `countryCode` or `address.country`): where policy's region comes from.
  return q.query<{ id: string; account_id: string; email: string | null; phone: string | null; country: string | null }>(
    `SELECT id, account_id, email, phone, coalesce(attributes->>'country', attributes->>'countryCode', attributes#>>'{address,country}') AS country
     FROM contacts WHERE account_id = ANY($1::text[]) AND deleted_at IS NULL ORDER BY id`,
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

// Working a task (src/records/tasks.ts): assign it, complete it.

/** Locks a task's row for the rest of the transaction; its status and assignee, or undefined when there is none. */
export async function lockTask(tx: Tx, id: string): Promise<{ status: string; assignee: string | null } | undefined> {
  const [row] = await tx.query<{ status: string; assignee: string | null }>('SELECT status, assignee FROM tasks WHERE id = $1 FOR UPDATE', [
    id,
  ]);
  return row;
}

export async function setTaskAssignee(tx: Tx, id: string, assignee: string): Promise<void> {
  await tx.query("UPDATE tasks SET assignee = $2 WHERE id = $1 AND status = 'open'", [id, assignee]);
}

export async function markTaskDone(tx: Tx, id: string): Promise<void> {
  await tx.query("UPDATE tasks SET status = 'done' WHERE id = $1 AND status = 'open'", [id]);
}
