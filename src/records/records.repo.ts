import type { Queryable, Tx } from '../store/index.ts';

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
