import { AppError } from '../errors.ts';
import { appendToLedger } from '../ledger/index.ts';
import type { Db, Tx } from '../store/index.ts';
import { toApi, type RecordRow } from './records.ts';

/** Format of a data subject export; a reader can rely on its sections and fields for this version. */
export const EXPORT_FORMAT = 'acs-subject-export-1';

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
  // The register of erasures of this customer (src/records/erasure.ts), with the reasons given.
  { name: 'erasures', sql: 'SELECT * FROM erasures WHERE account_id = $1 ORDER BY created_at, id' },
];

export interface SubjectExport {
  format: string;
  exportedAt: string;
  subject: { accountId: string; customerId: string | null };
  counts: Record<string, number>;
  data: Record<string, RecordRow[]>;
  /** Ledger entries about any exported record: what happened to the data, and who did it. */
  ledger: { seq: number; ts: string; type: string; actor: string; subjectType: string | null; subjectId: string | null }[];
}

/**
 * Everything ACS holds about one customer (account id or customer id), soft-deleted records included (with their
 * `deletedAt`), machine-readable; the export itself is recorded in the ledger, with its counts.
 */
export async function exportSubject(db: Db, key: string, actor: string, now: Date): Promise<SubjectExport> {
  return db.transaction((tx) => exportInTransaction(tx, key, actor, now));
}

async function exportInTransaction(q: Tx, key: string, actor: string, now: Date): Promise<SubjectExport> {
  const [account] = await q.query<{ id: string; customer_id: string | null }>(
    'SELECT id, customer_id FROM accounts WHERE id = $1 OR customer_id = $1',
    [key],
  );
  if (!account) throw new AppError('customer.not_found', `no customer ${key}`);
  const data: Record<string, RecordRow[]> = {};
  for (const section of SECTIONS) data[section.name] = (await q.query<Record<string, unknown>>(section.sql, [account.id])).map(toApi);
  const ids = Object.values(data).flatMap((rows) => rows.map((r) => String(r.id ?? r.idempotencyKey ?? r.accountId)));
  const ledger = await q.query<{
    seq: number;
    ts: Date;
    type: string;
    actor: string;
    subject_type: string | null;
    subject_id: string | null;
  }>('SELECT seq, ts, type, actor, subject_type, subject_id FROM ledger WHERE subject_id = ANY($1::text[]) ORDER BY seq', [
    [...new Set([account.id, ...ids])],
  ]);
  const counts = Object.fromEntries(Object.entries(data).map(([name, rows]) => [name, rows.length]));
  await appendToLedger(q, [
    { type: 'customer.exported', actor, subjectType: 'accounts', subjectId: account.id, data: { format: EXPORT_FORMAT, counts } },
  ]);
  return {
    format: EXPORT_FORMAT,
    exportedAt: now.toISOString(),
    subject: { accountId: account.id, customerId: account.customer_id },
    counts,
    data,
    ledger: ledger.map((e) => ({
      seq: Number(e.seq),
      ts: new Date(e.ts).toISOString(),
      type: e.type,
      actor: e.actor,
      subjectType: e.subject_type,
      subjectId: e.subject_id,
    })),
  };
}
