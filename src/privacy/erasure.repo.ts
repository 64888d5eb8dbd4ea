import { RECORD_KINDS } from '../contracts/index.ts';
import type { Queryable, Tx } from '../store/index.ts';

/**
 * Erasure's SQL: the one writer allowed past the tables' owners (src/store/table-owners.ts says why). It destroys a
 * customer's personal data in every module's tables, from the lists below that a reviewer can read column by column.
 */

/** What a required free-text column becomes. */
const ERASED = '[erased]';
const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
const textArray = (xs: readonly string[]) => `ARRAY[${xs.map(lit).join(', ')}]::text[]`;

/**
 * The action parameters that stay: amounts, channels, templates, priorities and ids. Everything else goes, by default:
 * free text (a message body, a task, a case), record fields an update wrote, where a message was addressed.
 */
const PARAMS_KEPT = textArray([
  'amountCents',
  'currency',
  'channel',
  'purpose',
  'brand',
  'template',
  'priority',
  'dueInDays',
  'assignee',
  'owner',
  'kind',
  'id',
  'caseId',
]);
/**
 * The signal data fields that stay: numbers, codes and enums that features, KPIs and outcomes read, and a lead
 * form's consent boxes. Everything else (ticket text, comments, names, URLs, reasons, external references) goes.
 */
const SIGNAL_DATA_KEPT = textArray([
  'quantity',
  'feature',
  'unit',
  'amount',
  'currency',
  'score',
  'priority',
  'channel',
  'event',
  'campaignId',
  'kind',
  'caseId',
  'actionKey',
  'durationSeconds',
  'formId',
  'consents',
]);
/** A jsonb object column with only the `kept` keys (an allowlist, so a field added later is erased unless named here). */
const only = (col: string, kept: string) =>
  `CASE WHEN ${col} IS NULL THEN NULL ELSE (SELECT coalesce(jsonb_object_agg(key, value), '{}'::jsonb) FROM jsonb_each(${col}) WHERE key = ANY(${kept})) END`;

// Every statement below selects the subject's rows with $1, the account id, and $2, the ids of the person's leads.
const CONTACTS = 'SELECT id FROM contacts WHERE account_id = $1';
/** Profiles folded into the subject's by identity merges (src/sense/identity/merges.ts), however deep: the same person. */
const FOLDED =
  'WITH RECURSIVE f(id) AS (SELECT id FROM accounts WHERE merged_into = $1 UNION SELECT a.id FROM accounts a JOIN f ON a.merged_into = f.id) SELECT id FROM f';
const DECISIONS =
  'SELECT d.id FROM decisions d JOIN proposals p ON p.id = d.proposal_id WHERE p.account_id = $1 OR p.lead_id = ANY($2::text[])';
const VERSIONED = 'updated_at = now(), version = version + 1';
const EMPTY = "'{}'::jsonb";

export interface Redaction {
  table: string;
  scope: string;
  /** Personal columns and what they become; a row counts when any of them changes, so a repeat counts nothing. */
  set: Record<string, string>;
  /** Bookkeeping written with the change. */
  touch?: string;
}

const nulls = (...cols: string[]) => Object.fromEntries(cols.map((c) => [c, 'NULL']));

/** Every personal column ACS keeps, table by table. Ids, times, types, statuses and numbers stay. */
export const REDACTIONS: readonly Redaction[] = [
  // The customer id stays: it is the business's key, not the person's, and the rows below still hang off the account.
  {
    table: 'accounts',
    scope: `id = $1 OR id IN (${FOLDED})`,
    set: { name: lit('Erased customer'), external_id: 'NULL', attributes: EMPTY },
    touch: VERSIONED,
  },
  {
    table: 'contacts',
    scope: 'account_id = $1',
    set: { ...nulls('first_name', 'last_name', 'email', 'phone', 'title', 'external_id'), attributes: EMPTY },
    touch: VERSIONED,
  },
  {
    table: 'leads',
    scope: 'id = ANY($2::text[])',
    set: { ...nulls('first_name', 'last_name', 'email', 'phone', 'company'), attributes: EMPTY },
    touch: VERSIONED,
  },
  // Channel, purpose, status and dates stay: they prove what the person agreed to, and when.
  {
    table: 'consents',
    scope: `contact_id IN (${CONTACTS}) OR lead_id = ANY($2::text[])`,
    set: { source: lit(ERASED), contact_point: 'NULL' },
    touch: VERSIONED,
  },
  {
    table: 'cases',
    scope: `account_id = $1 OR contact_id IN (${CONTACTS})`,
    set: { subject: lit(ERASED), description: 'NULL' },
    touch: VERSIONED,
  },
  {
    table: 'interactions',
    scope: `account_id = $1 OR contact_id IN (${CONTACTS}) OR lead_id = ANY($2::text[])`,
    set: nulls('subject', 'body'),
    touch: VERSIONED,
  },
  { table: 'opportunities', scope: 'account_id = $1', set: { name: lit(ERASED) }, touch: VERSIONED },
  {
    table: 'signals',
    scope: 'account_id = $1 OR lead_id = ANY($2::text[])',
    set: {
      subject: `CASE WHEN subject ? 'customerId' THEN jsonb_build_object('customerId', subject->'customerId') ELSE ${EMPTY} END`,
      data: only('data', SIGNAL_DATA_KEPT),
    },
  },
  {
    table: 'proposals',
    scope: 'account_id = $1 OR lead_id = ANY($2::text[])',
    set: { reason: lit(ERASED), params: only('params', PARAMS_KEPT) },
  },
  {
    table: 'approvals',
    scope: `decision_id IN (${DECISIONS})`,
    set: { reason: 'NULL', edited_params: only('edited_params', PARAMS_KEPT) },
  },
  { table: 'executions', scope: `decision_id IN (${DECISIONS})`, set: { params: only('params', PARAMS_KEPT) } },
  // Open work about the person is cancelled, and queued messages are never sent: there is no one left to serve.
  {
    table: 'tasks',
    scope: 'account_id = $1 OR lead_id = ANY($2::text[])',
    set: { title: lit(ERASED), details: 'NULL', status: "CASE WHEN status = 'open' THEN 'cancelled' ELSE status END" },
  },
  { table: 'credits', scope: 'account_id = $1', set: { reason: 'NULL' } },
  {
    table: 'messages',
    scope: 'account_id = $1 OR lead_id = ANY($2::text[])',
    set: { body: 'NULL', contact_point: 'NULL', status: "CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END" },
  },
  // A play keeps its step's data under `data`; the retention play's carries the agent's sentence, the service recovery
  // play's its notice (the agent's sentence, and the address the loop found, which the send finds again anyway).
  {
    table: 'plays',
    scope: 'account_id = $1',
    set: {
      state: `(SELECT CASE WHEN s->'data'->'notice' IS NULL THEN s
                 ELSE jsonb_set(jsonb_set(s, '{data,notice,reason}', '"${ERASED}"'), '{data,notice,params}',
                                coalesce(s->'data'->'notice'->'params', '{}'::jsonb) - 'to') END
               FROM (SELECT CASE WHEN state->'data' ? 'reason' THEN jsonb_set(state, '{data,reason}', '"${ERASED}"') ELSE state END AS s) x)`,
      last_error: 'NULL',
    },
    touch: 'updated_at = now()',
  },
  // A merge remembers the identifiers it moved (emails and phones) so an unmerge can move them back; the ids stay.
  { table: 'identity_merges', scope: 'survivor_id = $1 OR merged_id = $1', set: { moved: "moved - 'identities'" } },
];

/** The subject's CRM records, by kind, whose deletion reasons (free text) go. */
const RECORDS = [
  ...REDACTIONS.filter((r) => (RECORD_KINDS as readonly string[]).includes(r.table)).map(
    (r) => `SELECT '${r.table}'::text, id FROM ${r.table} WHERE ${r.scope}`,
  ),
  "SELECT 'subscriptions'::text, id FROM subscriptions WHERE account_id = $1",
].join(' UNION ALL ');

/** A deletion: `tables` are where the deleted rows lived (cascades included), for compaction. */
const DELETIONS: { name: string; sql: string; tables: string[] }[] = [
  // The email, phone and external ids stop resolving, so a new signal naming them starts a new profile. The customer
  // id stays claimed by the erased account: intake would otherwise try to make a second account with that id.
  {
    name: 'identities',
    sql: "DELETE FROM identities WHERE (account_id = $1 AND kind <> 'customer_id') OR lead_id = ANY($2::text[])",
    tables: ['identities'],
  },
  { name: 'deletion_reasons', sql: `DELETE FROM deletion_reasons WHERE (kind, record_id) IN (${RECORDS})`, tables: ['deletion_reasons'] },
  // Identity resolution's person records (their identifying fields, and blocking keys by cascade) and the steward's
  // reviews that explain a match with field values.
  {
    name: 'identity_people',
    sql: 'DELETE FROM identity_people WHERE account_id = $1 OR lead_id = ANY($2::text[])',
    tables: ['identity_people', 'identity_blocks'],
  },
  {
    name: 'identity_reviews',
    sql: 'DELETE FROM identity_reviews WHERE account_id = $1 OR candidate_id = $1',
    tables: ['identity_reviews'],
  },
];

/**
 * Every table an erasure changes (the redactions', the deletions', and quarantine, which eraseQuarantined blanks): where
 * old versions of the person's rows linger until compaction (src/privacy/compaction.ts) rewrites them.
 */
export const ERASED_TABLES: readonly string[] = [
  ...new Set([...REDACTIONS.map((r) => r.table), ...DELETIONS.flatMap((d) => d.tables), 'quarantine']),
];

// Every statement gets both parameters, typed up front: PostgreSQL refuses a parameter it cannot type, and not every
// statement names both.
const TYPED = 'typed AS (SELECT $1::text, $2::text[])';

async function countRows(tx: Tx, sql: string, accountId: string, leadIds: string[]): Promise<number> {
  const [row] = await tx.query<{ n: number }>(sql, [accountId, leadIds]);
  return row!.n;
}
/** An UPDATE or DELETE of the subject's rows, counted. */
const counted = (dml: string) => `WITH ${TYPED}, done AS (${dml} RETURNING 1) SELECT count(*)::int AS n FROM done`;
/** Locks a redaction's rows, as an edit, an approval or a play step locks its row before it appends to the ledger. */
const locking = (r: Redaction) =>
  `WITH ${TYPED} SELECT count(*)::int AS n FROM (SELECT 1 FROM ${r.table} WHERE ${r.scope} FOR NO KEY UPDATE) locked`;

function redactionSql(r: Redaction): string {
  const cols = Object.entries(r.set);
  const assignments = [...cols.map(([c, v]) => `${c} = ${v}`), ...(r.touch ? [r.touch] : [])];
  const changed = cols.map(([c, v]) => `${c} IS DISTINCT FROM ${v}`).join(' OR ');
  return `UPDATE ${r.table} SET ${assignments.join(', ')} WHERE (${r.scope}) AND (${changed})`;
}

export interface ErasureSubjectRow {
  id: string;
  customer_id: string;
  erased_at: Date | null;
  deleted_at: Date | null;
  merged_into: string | null;
}

/** The account a key (account id or customer id) names, locked for its erasure. */
export async function lockErasureSubject(tx: Tx, key: string): Promise<ErasureSubjectRow | undefined> {
  // NO KEY UPDATE serialises erasures of one customer without blocking intake's foreign-key checks on the row.
  const [account] = await tx.query<ErasureSubjectRow>(
    'SELECT id, customer_id, erased_at, deleted_at, merged_into FROM accounts WHERE id = $1 OR customer_id = $1 ORDER BY id LIMIT 1 FOR NO KEY UPDATE',
    [key],
  );
  return account;
}

/** Contact points the subject's rows carry: its identities, its contacts (deleted ones too), its account, the subjects of its signals. */
export async function selectSubjectIdentifiers(tx: Tx, accountId: string, leadIds: string[]): Promise<{ kind: string; value: string }[]> {
  return tx.query<{ kind: string; value: string }>(
    `SELECT kind, value FROM identities WHERE account_id = $1 OR lead_id = ANY($2::text[])
     UNION SELECT 'customer_id', customer_id FROM accounts WHERE id = $1
     UNION SELECT 'external_id', external_id FROM accounts WHERE id = $1 AND external_id IS NOT NULL
     UNION SELECT k.kind, k.value FROM contacts c
       CROSS JOIN LATERAL (VALUES ('email', c.email), ('phone', c.phone), ('external_id', c.external_id)) k(kind, value)
       WHERE c.account_id = $1 AND k.value IS NOT NULL
     UNION SELECT k.kind, k.value FROM leads l CROSS JOIN LATERAL (VALUES ('email', l.email), ('phone', l.phone)) k(kind, value)
       WHERE l.id = ANY($2::text[]) AND k.value IS NOT NULL
     UNION SELECT k.kind, k.value FROM signals s
       CROSS JOIN LATERAL (VALUES ('email', s.subject->>'email'), ('phone', s.subject->>'phone'), ('external_id', s.subject->>'externalId')) k(kind, value)
       WHERE (s.account_id = $1 OR s.lead_id = ANY($2::text[])) AND k.value IS NOT NULL`,
    [accountId, leadIds],
  );
}

/**
 * Leads that may be the person's: with one of the (normalized) emails, an identity claim on one of the emails or
 * phones (`claimed`), or a phone ending in one of the tails. The caller confirms the email and phone matches.
 */
export async function selectCandidateLeads(
  tx: Tx,
  emails: string[],
  phones: string[],
  phoneTails: string[],
): Promise<{ id: string; email: string | null; phone: string | null; claimed: boolean }[]> {
  return tx.query<{ id: string; email: string | null; phone: string | null; claimed: boolean }>(
    `SELECT l.id, l.email, l.phone,
            EXISTS (SELECT 1 FROM identities i WHERE i.lead_id = l.id AND ((i.kind = 'email' AND i.value = ANY($1::text[])) OR (i.kind = 'phone' AND i.value = ANY($2::text[])))) AS claimed
     FROM leads l
     WHERE lower(trim(l.email)) = ANY($1::text[])
        OR l.id IN (SELECT lead_id FROM identities WHERE lead_id IS NOT NULL AND ((kind = 'email' AND value = ANY($1::text[])) OR (kind = 'phone' AND value = ANY($2::text[]))))
        OR (l.phone IS NOT NULL AND right(regexp_replace(l.phone, '[^0-9]', '', 'g'), 7) = ANY($3::text[]))
     ORDER BY l.id`,
    [emails, phones, phoneTails],
  );
}

/** Live profiles other than the subject that share one of these emails or phones. */
export async function selectProfilesSharing(tx: Tx, accountId: string, emails: string[], phones: string[]): Promise<string[]> {
  const rows = await tx.query<{ id: string }>(
    `SELECT DISTINCT a.id FROM accounts a
     WHERE a.id <> $1 AND a.deleted_at IS NULL AND (
       a.id IN (SELECT account_id FROM identities WHERE (kind = 'email' AND value = ANY($2::text[])) OR (kind = 'phone' AND value = ANY($3::text[])))
       OR a.id IN (SELECT account_id FROM contacts WHERE deleted_at IS NULL AND lower(email) = ANY($2::text[])))
     ORDER BY a.id`,
    [accountId, emails, phones],
  );
  return rows.map((r) => r.id);
}

/** Quarantined input not yet erased that contains one of the LIKE patterns (`tails` against its digits only), locked. */
export async function lockQuarantineMatching(
  tx: Tx,
  terms: string[],
  tails: string[],
): Promise<{ id: string; raw: string; status: string }[]> {
  return tx.query<{ id: string; raw: string; status: string }>(
    `SELECT id, raw, status FROM quarantine
     WHERE raw <> $3 AND (raw ILIKE ANY($1::text[]) OR regexp_replace(raw, '[^0-9]', '', 'g') LIKE ANY($2::text[]))
     ORDER BY id FOR UPDATE`,
    [terms, tails, ERASED],
  );
}

/** Locks every row the redactions will change, table by table in their order. */
export async function lockRedactedRows(tx: Tx, accountId: string, leadIds: string[]): Promise<void> {
  for (const r of REDACTIONS) await countRows(tx, locking(r), accountId, leadIds);
}

/** Pending approvals of the subject's decisions lapse, as they would at their expiry. */
export async function expireSubjectApprovals(
  tx: Tx,
  accountId: string,
  leadIds: string[],
  now: Date,
): Promise<{ id: string; decision_id: string }[]> {
  return tx.query<{ id: string; decision_id: string }>(
    `UPDATE approvals SET status = 'expired', decided_at = $3 WHERE status = 'pending' AND decision_id IN (${DECISIONS}) RETURNING id, decision_id`,
    [accountId, leadIds, now.toISOString()],
  );
}

/** The account's plays under way stop where they are. */
export async function refuseSubjectPlays(tx: Tx, accountId: string): Promise<{ id: string; kind: string; step: string }[]> {
  return tx.query<{ id: string; kind: string; step: string }>(
    "UPDATE plays SET status = 'refused', updated_at = now() WHERE account_id = $1 AND status IN ('running', 'waiting') RETURNING id, kind, step",
    [accountId],
  );
}

/** Runs the redactions, then the deletions; the rows each changed, by table (redactions) and name (deletions), in that order. */
export async function redactSubject(tx: Tx, accountId: string, leadIds: string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const r of REDACTIONS) counts[r.table] = await countRows(tx, counted(redactionSql(r)), accountId, leadIds);
  for (const d of DELETIONS) counts[d.name] = await countRows(tx, counted(d.sql), accountId, leadIds);
  return counts;
}

/** Quarantined input naming the person: its text goes, and open items are discarded with the erasure as the resolution. */
export async function eraseQuarantined(tx: Tx, ids: string[], erasureId: string): Promise<void> {
  await tx.query(
    `UPDATE quarantine SET raw = $2, issues = '[]'::jsonb, status = CASE WHEN status = 'open' THEN 'discarded' ELSE status END,
       resolved_at = coalesce(resolved_at, now()), resolution = coalesce(resolution - 'reason', ${EMPTY}) || jsonb_build_object('erasureId', $3::text)
     WHERE id = ANY($1::text[])`,
    [ids, ERASED, erasureId],
  );
}

/** Marks the account erased (first erasure's time kept) and deleted. */
export async function markAccountErased(tx: Tx, accountId: string, now: Date): Promise<{ erased_at: Date; version: number } | undefined> {
  const [erased] = await tx.query<{ erased_at: Date; version: number }>(
    'UPDATE accounts SET erased_at = coalesce(erased_at, $2), deleted_at = coalesce(deleted_at, now()) WHERE id = $1 RETURNING erased_at, version',
    [accountId, now.toISOString()],
  );
  return erased;
}

/** Soft-deletes the account's live contacts and these live leads; what it deleted, contacts first. */
export async function softDeleteSubjectRecords(
  tx: Tx,
  accountId: string,
  leadIds: string[],
): Promise<{ kind: string; id: string; version: number }[]> {
  return tx.query<{ kind: string; id: string; version: number }>(
    `WITH c AS (UPDATE contacts SET deleted_at = now() WHERE account_id = $1 AND deleted_at IS NULL RETURNING id, version),
          l AS (UPDATE leads SET deleted_at = now() WHERE id = ANY($2::text[]) AND deleted_at IS NULL RETURNING id, version)
     SELECT 'contacts' AS kind, id, version FROM c UNION ALL SELECT 'leads', id, version FROM l ORDER BY kind, id`,
    [accountId, leadIds],
  );
}

/** The register of erasures: who erased whom, when, why (free text, erasable) and how many rows. */
export async function insertErasure(
  tx: Tx,
  e: { id: string; accountId: string; actor: string; reason: string | null; counts: Record<string, number>; now: Date },
): Promise<void> {
  await tx.query('INSERT INTO erasures (id, account_id, actor, reason, counts, created_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6)', [
    e.id,
    e.accountId,
    e.actor,
    e.reason,
    JSON.stringify(e.counts),
    e.now.toISOString(),
  ]);
}

/** Erasures never compacted, and with `incomplete` those whose last compaction could not do every step; oldest first. */
export async function selectErasuresToCompact(db: Queryable, incomplete: boolean): Promise<string[]> {
  const rows = await db.query<{ id: string }>(
    `SELECT id FROM erasures WHERE compacted_at IS NULL OR ($1 AND (compaction->>'complete')::boolean IS NOT TRUE) ORDER BY created_at, id`,
    [incomplete],
  );
  return rows.map((r) => r.id);
}

/** Tables (of ERASED_TABLES) that exist, with whether the current role may rewrite them (VACUUM needs the owner). */
export async function selectCompactableTables(db: Queryable, tables: readonly string[]): Promise<{ table: string; owned: boolean }[]> {
  return db.query<{ table: string; owned: boolean }>(
    `SELECT t.name AS table, pg_has_role(c.relowner, 'MEMBER') AS owned
     FROM unnest($1::text[]) WITH ORDINALITY t(name, n) JOIN pg_class c ON c.oid = to_regclass(t.name) ORDER BY t.n`,
    [tables],
  );
}

/** Whether the current role owns pg_statistic (a superuser does), which VACUUM FULL of it needs. */
export async function ownsStatistics(db: Queryable): Promise<boolean> {
  const [row] = await db.query<{ owned: boolean }>(
    "SELECT pg_has_role(relowner, 'MEMBER') AS owned FROM pg_class WHERE oid = 'pg_catalog.pg_statistic'::regclass",
  );
  return row?.owned ?? false;
}

/** What keeps old WAL segments readable on a server: recycling, kept segments, replication slots, archiving. */
export async function selectWalRetention(
  db: Queryable,
): Promise<{ wal_recycle: string; wal_keep_size: string; archive_mode: string; slots: number }> {
  const [row] = await db.query<{ wal_recycle: string; wal_keep_size: string; archive_mode: string; slots: number }>(
    `SELECT current_setting('wal_recycle') AS wal_recycle, current_setting('wal_keep_size') AS wal_keep_size,
            current_setting('archive_mode') AS archive_mode, (SELECT count(*)::int FROM pg_replication_slots) AS slots`,
  );
  return row!;
}

/** Marks erasures compacted, with what the run did (step names and outcomes only). */
export async function markErasuresCompacted(tx: Tx, ids: string[], compaction: unknown, now: Date): Promise<void> {
  await tx.query('UPDATE erasures SET compacted_at = $2, compaction = $3::jsonb WHERE id = ANY($1::text[])', [
    ids,
    now.toISOString(),
    JSON.stringify(compaction),
  ]);
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Rewrites a table (heap, TOAST, indexes) and refreshes its statistics; outside any transaction, as VACUUM must be. */
export async function vacuumFullAnalyze(db: Queryable, table: string): Promise<void> {
  await db.query(`VACUUM (FULL, ANALYZE) ${quoteIdent(table)}`);
}

/** Rewrites pg_statistic, dropping the dead rows an ANALYZE left with the old samples. */
export async function vacuumFullStatistics(db: Queryable): Promise<void> {
  await db.query('VACUUM FULL pg_catalog.pg_statistic');
}

/** This session's wal_recycle: off, or back to the configured value. */
export async function setSessionWalRecycle(db: Queryable, off: boolean): Promise<void> {
  await db.query(off ? 'SET wal_recycle = off' : 'RESET wal_recycle');
}

/** The WAL segment files in pg_wal (superusers and pg_monitor may list them); null when the role may not. */
export async function listWalSegments(db: Queryable): Promise<string[] | null> {
  try {
    const rows = await db.query<{ name: string }>(`SELECT name FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$'`);
    return rows.map((r) => r.name);
  } catch {
    return null;
  }
}

/** Moves the WAL to a new segment and checkpoints, so the segments before can be removed. */
export async function switchWalAndCheckpoint(db: Queryable): Promise<void> {
  await db.query('SELECT pg_switch_wal()');
  await db.query('CHECKPOINT');
}

/**
 * Other sessions of this database whose snapshot or transaction is as old as the newest of these erasures (by the
 * transaction that last wrote its register row): while one is open, the row versions the erasure replaced may still
 * be visible to it, and VACUUM FULL must keep them.
 */
export async function selectOlderSnapshots(db: Queryable, erasureIds: string[]): Promise<{ pid: number; xact_start: Date | null }[]> {
  return db.query<{ pid: number; xact_start: Date | null }>(
    `SELECT a.pid, a.xact_start FROM pg_stat_activity a
     WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
       AND greatest(age(a.backend_xmin), age(a.backend_xid)) >= (SELECT min(age(xmin)) FROM erasures WHERE id = ANY($1::text[]))
     ORDER BY a.pid`,
    [erasureIds],
  );
}
