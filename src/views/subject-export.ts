import type { Queryable } from '../store/index.ts';

/**
 * The subject export's read model: everything ACS holds about one customer, across the tables of every module, as
 * stored (snake_case). src/privacy/subject-export.ts shapes it and records the export.
 */

/** Each section: the table it comes from and how its rows belong to the customer. */
const SECTIONS: { name: string; sql: string }[] = [
  { name: 'accounts', sql: 'SELECT * FROM accounts WHERE id = $1' },
  { name: 'identities', sql: 'SELECT * FROM identities WHERE account_id = $1 ORDER BY kind, value' },
  { name: 'contacts', sql: 'SELECT * FROM contacts WHERE account_id = $1 ORDER BY id' },
  {
    name: 'consents',
    sql: 'SELECT c.* FROM consents c JOIN contacts ct ON ct.id = c.contact_id WHERE ct.account_id = $1 ORDER BY c.captured_at, c.id',
  },
  { name: 'subscriptions', sql: 'SELECT * FROM subscriptions WHERE account_id = $1 ORDER BY id' },
  { name: 'opportunities', sql: 'SELECT * FROM opportunities WHERE account_id = $1 ORDER BY id' },
  { name: 'cases', sql: 'SELECT * FROM cases WHERE account_id = $1 ORDER BY id' },
  { name: 'interactions', sql: 'SELECT * FROM interactions WHERE account_id = $1 ORDER BY occurred_at, id' },
  { name: 'signals', sql: 'SELECT * FROM signals WHERE account_id = $1 ORDER BY occurred_at, id' },
  { name: 'features', sql: 'SELECT * FROM customer_features WHERE account_id = $1' },
  // Identity resolution: the person records behind the profile, the merges in or out of it, the reviews about it.
  { name: 'people', sql: 'SELECT * FROM identity_people WHERE account_id = $1 ORDER BY observed_at, id' },
  { name: 'merges', sql: 'SELECT * FROM identity_merges WHERE survivor_id = $1 OR merged_id = $1 ORDER BY created_at, id' },
  { name: 'identityReviews', sql: 'SELECT * FROM identity_reviews WHERE account_id = $1 OR candidate_id = $1 ORDER BY created_at, id' },
  { name: 'proposals', sql: 'SELECT * FROM proposals WHERE account_id = $1 ORDER BY created_at, id' },
  {
    name: 'decisions',
    sql: 'SELECT d.* FROM decisions d JOIN proposals p ON p.id = d.proposal_id WHERE p.account_id = $1 ORDER BY d.decided_at, d.id',
  },
  {
    name: 'approvals',
    sql: 'SELECT a.* FROM approvals a JOIN decisions d ON d.id = a.decision_id JOIN proposals p ON p.id = d.proposal_id WHERE p.account_id = $1 ORDER BY a.id',
  },
  {
    name: 'executions',
    sql: 'SELECT e.* FROM executions e JOIN decisions d ON d.id = e.decision_id JOIN proposals p ON p.id = d.proposal_id WHERE p.account_id = $1 ORDER BY e.created_at, e.idempotency_key',
  },
  { name: 'tasks', sql: 'SELECT * FROM tasks WHERE account_id = $1 ORDER BY id' },
  { name: 'credits', sql: 'SELECT * FROM credits WHERE account_id = $1 ORDER BY id' },
  { name: 'messages', sql: 'SELECT * FROM messages WHERE account_id = $1 ORDER BY id' },
  { name: 'plays', sql: 'SELECT * FROM plays WHERE account_id = $1 ORDER BY id' },
  // Which offer or channel a bandit played for the customer, and the outcome that answered it.
  { name: 'banditPulls', sql: 'SELECT * FROM bandit_pulls WHERE account_id = $1 ORDER BY pulled_at, proposal_id' },
  // The register of erasures of this customer (src/privacy/erasure.ts), with the reasons given.
  { name: 'erasures', sql: 'SELECT * FROM erasures WHERE account_id = $1 ORDER BY created_at, id' },
];

/** The account a subject export is about, by account id or customer id. */
export async function findSubjectExportAccount(q: Queryable, key: string): Promise<{ id: string; customer_id: string | null } | undefined> {
  const [account] = await q.query<{ id: string; customer_id: string | null }>(
    'SELECT id, customer_id FROM accounts WHERE id = $1 OR customer_id = $1',
    [key],
  );
  return account;
}

/** The account's rows, section by section in the export's order, soft-deleted ones included. */
export async function readSubjectExportSections(q: Queryable, accountId: string): Promise<Record<string, Record<string, unknown>[]>> {
  const data: Record<string, Record<string, unknown>[]> = {};
  for (const section of SECTIONS) data[section.name] = await q.query<Record<string, unknown>>(section.sql, [accountId]);
  return data;
}

export interface SubjectLedgerRow {
  seq: number;
  ts: Date;
  type: string;
  actor: string;
  subject_type: string | null;
  subject_id: string | null;
}

/** Ledger entries about any of these subjects, oldest first. */
export async function readSubjectLedger(q: Queryable, subjectIds: string[]): Promise<SubjectLedgerRow[]> {
  return q.query<SubjectLedgerRow>(
    'SELECT seq, ts, type, actor, subject_type, subject_id FROM ledger WHERE subject_id = ANY($1::text[]) ORDER BY seq',
    [subjectIds],
  );
}
