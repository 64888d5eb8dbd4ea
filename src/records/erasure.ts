import { z } from 'zod';
import { RECORD_KINDS, toFieldIssues } from '../contracts/index.ts';
import { AppError } from '../errors.ts';
import { appendToLedger, lockLedger, type LedgerEvent } from '../ledger/index.ts';
import { newId, type Db, type Tx } from '../store/index.ts';
import { normalizeEmail, normalizeExternalId, normalizePhone } from '../contracts/index.ts';

/** What an erasure request carries: the customer repeated, so a wrong id in the path erases no one. */
export const ErasureRequest = z.strictObject({
  confirm: z.string({ error: 'required: repeat the customer id or account id being erased' }).trim().min(1).max(200),
  reason: z.string().trim().min(1).max(2000).optional(),
});
export type ErasureRequest = z.infer<typeof ErasureRequest>;

/** Validates a request body; a 400 names each bad field. */
export function parseErasureRequest(body: unknown): ErasureRequest {
  const parsed = ErasureRequest.safeParse(body);
  if (!parsed.success) throw new AppError('validation_failed', 'invalid erasure request; nothing was erased', toFieldIssues(parsed.error));
  return parsed.data;
}

export interface ErasureResult {
  erasureId: string;
  subject: { accountId: string; customerId: string };
  /** When the customer was first erased. */
  erasedAt: string;
  /** The customer had been erased before; `counts` are what this request found left (data that arrived since). */
  alreadyErased: boolean;
  reasonGiven: boolean;
  /** Rows whose personal data this request destroyed, per table. */
  counts: Record<string, number>;
  /** Leads of the same person (sharing an email or phone), erased with the customer. */
  leadIds: string[];
  /** Other live profiles sharing an email or phone with the person: possibly the same person, not erased. */
  otherProfiles: string[];
}

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

interface Redaction {
  table: string;
  scope: string;
  /** Personal columns and what they become; a row counts when any of them changes, so a repeat counts nothing. */
  set: Record<string, string>;
  /** Bookkeeping written with the change. */
  touch?: string;
}

const nulls = (...cols: string[]) => Object.fromEntries(cols.map((c) => [c, 'NULL']));

/** Every personal column ACS keeps, table by table. Ids, times, types, statuses and numbers stay. */
const REDACTIONS: Redaction[] = [
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
  // A play keeps its step's data under `data`; the retention play's carries the agent's sentence.
  {
    table: 'plays',
    scope: 'account_id = $1',
    set: {
      state: `CASE WHEN state->'data' ? 'reason' THEN jsonb_set(state, '{data,reason}', '"${ERASED}"') ELSE state END`,
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

const DELETIONS: { name: string; sql: string }[] = [
  // The email, phone and external ids stop resolving, so a new signal naming them starts a new profile. The customer
  // id stays claimed by the erased account: intake would otherwise try to make a second account with that id.
  { name: 'identities', sql: "DELETE FROM identities WHERE (account_id = $1 AND kind <> 'customer_id') OR lead_id = ANY($2::text[])" },
  { name: 'deletion_reasons', sql: `DELETE FROM deletion_reasons WHERE (kind, record_id) IN (${RECORDS})` },
  // Identity resolution's person records (their identifying fields, and blocking keys by cascade) and the steward's
  // reviews that explain a match with field values.
  { name: 'identity_people', sql: 'DELETE FROM identity_people WHERE account_id = $1 OR lead_id = ANY($2::text[])' },
  { name: 'identity_reviews', sql: 'DELETE FROM identity_reviews WHERE account_id = $1 OR candidate_id = $1' },
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

/** The person's identifiers, normalized as identities are: what resolves to them, and what names them in free input. */
interface Identifiers {
  emails: Set<string>;
  phones: Set<string>;
  /** Customer and external ids, matched as written. */
  keys: Set<string>;
}

/** Contact points the subject's rows carry: its identities, its contacts (deleted ones too), its account, the subjects of its signals. */
async function gatherIdentifiers(tx: Tx, accountId: string, leadIds: string[], into: Identifiers): Promise<void> {
  const rows = await tx.query<{ kind: string; value: string }>(
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
  for (const { kind, value } of rows) {
    if (kind === 'email') into.emails.add(normalizeEmail(value));
    else if (kind === 'phone' && normalizePhone(value)) into.phones.add(normalizePhone(value));
    else if (kind === 'customer_id' || kind === 'external_id') into.keys.add(normalizeExternalId(value));
  }
}

/** Short digit strings match too much to name anyone. */
const phoneTails = (ids: Identifiers) => [...ids.phones].filter((p) => p.length >= 7).map((p) => p.slice(-7));

/**
 * Leads of the same person: there is no link from a lead to the profile it became, so a lead belongs to the person
 * when it has their email or phone, as intake would have matched it.
 */
async function leadsOf(tx: Tx, ids: Identifiers): Promise<string[]> {
  const emails = [...ids.emails];
  const phones = [...ids.phones];
  // Phones are stored as written: a suffix finds the candidates, normalizing confirms them.
  const rows = await tx.query<{ id: string; email: string | null; phone: string | null; claimed: boolean }>(
    `SELECT l.id, l.email, l.phone,
            EXISTS (SELECT 1 FROM identities i WHERE i.lead_id = l.id AND ((i.kind = 'email' AND i.value = ANY($1::text[])) OR (i.kind = 'phone' AND i.value = ANY($2::text[])))) AS claimed
     FROM leads l
     WHERE lower(trim(l.email)) = ANY($1::text[])
        OR l.id IN (SELECT lead_id FROM identities WHERE lead_id IS NOT NULL AND ((kind = 'email' AND value = ANY($1::text[])) OR (kind = 'phone' AND value = ANY($2::text[]))))
        OR (l.phone IS NOT NULL AND right(regexp_replace(l.phone, '[^0-9]', '', 'g'), 7) = ANY($3::text[]))
     ORDER BY l.id`,
    [emails, phones, phoneTails(ids)],
  );
  return rows
    .filter(
      (l) => l.claimed || (l.email && ids.emails.has(normalizeEmail(l.email))) || (l.phone && ids.phones.has(normalizePhone(l.phone))),
    )
    .map((l) => l.id);
}

/** Live profiles other than the subject that share one of the person's emails or phones. */
async function otherProfilesOf(tx: Tx, accountId: string, ids: Identifiers): Promise<string[]> {
  const rows = await tx.query<{ id: string }>(
    `SELECT DISTINCT a.id FROM accounts a
     WHERE a.id <> $1 AND a.deleted_at IS NULL AND (
       a.id IN (SELECT account_id FROM identities WHERE (kind = 'email' AND value = ANY($2::text[])) OR (kind = 'phone' AND value = ANY($3::text[])))
       OR a.id IN (SELECT account_id FROM contacts WHERE deleted_at IS NULL AND lower(email) = ANY($2::text[])))
     ORDER BY a.id`,
    [accountId, [...ids.emails], [...ids.phones]],
  );
  return rows.map((r) => r.id);
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const likePattern = (s: string) => `%${s.replace(/[\\%_]/g, '\\$&')}%`;

/**
 * Does refused input name the person? Whole identifiers only: `CUST-1` is not named by `CUST-10` or `CUST-1-2`, nor
 * `a@b.org` by `a@b.org.uk`; a full stop ending a sentence still ends one.
 */
function names(raw: string, ids: Identifiers): boolean {
  for (const term of [...ids.emails, ...ids.keys]) {
    if (new RegExp(`(?<![\\w.%+-])${escapeRegExp(term)}(?!\\.?[\\w-])`, 'i').test(raw)) return true;
  }
  const national = [...ids.phones].filter((p) => p.length >= 7).map((p) => p.slice(-10));
  for (const m of raw.matchAll(/\+?\d[\d\s().-]{5,}\d/g)) {
    const digits = m[0].replace(/\D/g, '');
    if (national.some((n) => digits.includes(n))) return true;
  }
  return false;
}

/**
 * Quarantined input that names the person, locked. Quarantine rows are locked before the ledger, as resolving one
 * does (src/sense/quarantine.ts), so an erasure and a reviewer's discard cannot deadlock.
 */
async function quarantineNaming(tx: Tx, ids: Identifiers): Promise<{ id: string; status: string }[]> {
  const terms = [...ids.emails, ...ids.keys].map(likePattern);
  const tails = phoneTails(ids).map((t) => `%${t}%`);
  if (terms.length === 0 && tails.length === 0) return [];
  const rows = await tx.query<{ id: string; raw: string; status: string }>(
    `SELECT id, raw, status FROM quarantine
     WHERE raw <> $3 AND (raw ILIKE ANY($1::text[]) OR regexp_replace(raw, '[^0-9]', '', 'g') LIKE ANY($2::text[]))
     ORDER BY id FOR UPDATE`,
    [terms, tails, ERASED],
  );
  return rows.filter((r) => names(r.raw, ids)).map(({ id, status }) => ({ id, status }));
}

/**
 * Erases a customer (account id or customer id) in the caller's transaction: the personal fields of every row about
 * them are destroyed in place, their identifiers stop resolving, open work about them stops, and the profile, its
 * contacts and the person's leads are soft-deleted. Ids, times, types, statuses and numbers stay, so aggregates and
 * the ledger's references survive; the ledger itself never held personal data and is not touched, only appended to.
 * Erasing an erased customer again erases what has arrived since (signals naming the customer id still reach it).
 */
export async function eraseSubject(db: Db, key: string, request: ErasureRequest, actor: string, now: Date): Promise<ErasureResult> {
  return db.transaction((tx) => eraseInTransaction(tx, key, request, actor, now));
}

async function eraseInTransaction(tx: Tx, key: string, request: ErasureRequest, actor: string, now: Date): Promise<ErasureResult> {
  // NO KEY UPDATE serialises erasures of one customer without blocking intake's foreign-key checks on the row.
  type Row = { id: string; customer_id: string; erased_at: Date | null; deleted_at: Date | null; merged_into: string | null };
  const lock =
    'SELECT id, customer_id, erased_at, deleted_at, merged_into FROM accounts WHERE id = $1 OR customer_id = $1 ORDER BY id LIMIT 1 FOR NO KEY UPDATE';
  let [account] = await tx.query<Row>(lock, [key]);
  // A profile folded into another by an identity merge is that person: the survivor is erased (with it).
  for (let hops = 0; account?.merged_into && hops < 100; hops++) [account] = await tx.query<Row>(lock, [account.merged_into]);
  if (!account) throw new AppError('customer.not_found', `no customer ${key}`);
  if (![key, account.id, account.customer_id].includes(request.confirm)) {
    throw new AppError('validation_failed', 'confirm does not name the customer being erased; nothing was erased', [
      { path: 'confirm', message: `must repeat the customer id '${account.customer_id}' or the account id '${account.id}'` },
    ]);
  }

  const ids: Identifiers = { emails: new Set(), phones: new Set(), keys: new Set() };
  await gatherIdentifiers(tx, account.id, [], ids);
  const leadIds = await leadsOf(tx, ids);
  if (leadIds.length) await gatherIdentifiers(tx, account.id, leadIds, ids);
  const otherProfiles = await otherProfilesOf(tx, account.id, ids);
  // Every other writer locks its rows and then the ledger; so does this, so it cannot deadlock with an edit, an
  // approval or a play step on the same rows. Holding the ledger, no intake can attach a signal to the person until
  // this commits.
  const quarantined = await quarantineNaming(tx, ids);
  for (const r of REDACTIONS) await countRows(tx, locking(r), account.id, leadIds);
  await lockLedger(tx);

  const erasureId = newId('era');
  const counts: Record<string, number> = {};
  const events: LedgerEvent[] = [];

  // Pending approvals would run an action for someone who is gone; they lapse, as they would at their expiry.
  const expired = await tx.query<{ id: string; decision_id: string }>(
    `UPDATE approvals SET status = 'expired', decided_at = $3 WHERE status = 'pending' AND decision_id IN (${DECISIONS}) RETURNING id, decision_id`,
    [account.id, leadIds, now.toISOString()],
  );
  events.push(
    ...expired.map((r) => ({
      type: 'approval.expired',
      actor,
      subjectType: 'approvals',
      subjectId: r.id,
      data: { decisionId: r.decision_id, via: 'erasure', erasureId },
    })),
  );

  // A play under way would go on to credit or write to someone who is gone: it stops where it is.
  const stopped = await tx.query<{ id: string; kind: string; step: string }>(
    "UPDATE plays SET status = 'refused', updated_at = now() WHERE account_id = $1 AND status IN ('running', 'waiting') RETURNING id, kind, step",
    [account.id],
  );
  events.push(
    ...stopped.map((p) => ({
      type: 'play.refused',
      actor,
      subjectType: 'plays',
      subjectId: p.id,
      data: { kind: p.kind, step: p.step, why: 'the customer was erased', erasureId },
    })),
  );

  for (const r of REDACTIONS) counts[r.table] = await countRows(tx, counted(redactionSql(r)), account.id, leadIds);
  for (const d of DELETIONS) counts[d.name] = await countRows(tx, counted(d.sql), account.id, leadIds);

  await tx.query(
    `UPDATE quarantine SET raw = $2, issues = '[]'::jsonb, status = CASE WHEN status = 'open' THEN 'discarded' ELSE status END,
       resolved_at = coalesce(resolved_at, now()), resolution = coalesce(resolution - 'reason', ${EMPTY}) || jsonb_build_object('erasureId', $3::text)
     WHERE id = ANY($1::text[])`,
    [quarantined.map((q) => q.id), ERASED, erasureId],
  );
  counts.quarantine = quarantined.length;
  events.push(
    ...quarantined
      .filter((q) => q.status === 'open')
      .map((q) => ({
        type: 'quarantine.discarded',
        actor,
        subjectType: 'quarantine',
        subjectId: q.id,
        data: { via: 'erasure', erasureId },
      })),
  );

  // The erased profile, its contacts and the person's leads leave reads, and agents no longer work on them.
  const [erased] = await tx.query<{ erased_at: Date; version: number }>(
    'UPDATE accounts SET erased_at = coalesce(erased_at, $2), deleted_at = coalesce(deleted_at, now()) WHERE id = $1 RETURNING erased_at, version',
    [account.id, now.toISOString()],
  );
  const deleted = await tx.query<{ kind: string; id: string; version: number }>(
    `WITH c AS (UPDATE contacts SET deleted_at = now() WHERE account_id = $1 AND deleted_at IS NULL RETURNING id, version),
          l AS (UPDATE leads SET deleted_at = now() WHERE id = ANY($2::text[]) AND deleted_at IS NULL RETURNING id, version)
     SELECT 'contacts' AS kind, id, version FROM c UNION ALL SELECT 'leads', id, version FROM l ORDER BY kind, id`,
    [account.id, leadIds],
  );
  if (!account.deleted_at) deleted.unshift({ kind: 'accounts', id: account.id, version: erased!.version });
  events.push(
    ...deleted.map((d) => ({
      type: 'record.deleted',
      actor,
      subjectType: d.kind,
      subjectId: d.id,
      data: { version: d.version, via: 'erasure', erasureId },
    })),
  );

  await tx.query('INSERT INTO erasures (id, account_id, actor, reason, counts, created_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6)', [
    erasureId,
    account.id,
    actor,
    request.reason ?? null,
    JSON.stringify(counts),
    now.toISOString(),
  ]);
  // Counts and ids only: the reason is free text and stays in `erasures`, which is erasable; the ledger is not.
  events.push({
    type: 'customer.erased',
    actor,
    subjectType: 'accounts',
    subjectId: account.id,
    data: { erasureId, counts, leadIds, reasonGiven: request.reason !== undefined, ...(account.erased_at ? { repeat: true } : {}) },
  });
  await appendToLedger(tx, events);

  return {
    erasureId,
    subject: { accountId: account.id, customerId: account.customer_id },
    erasedAt: new Date(erased!.erased_at).toISOString(),
    alreadyErased: account.erased_at !== null,
    reasonGiven: request.reason !== undefined,
    counts,
    leadIds,
    otherProfiles,
  };
}
