import { insertRows, type Queryable, type Tx } from '../store/index.ts';

/** A ledger row as stored. */
export interface LedgerRow {
  seq: number;
  ts: Date;
  type: string;
  actor: string;
  subject_type: string | null;
  subject_id: string | null;
  body: string;
  prev_hash: string;
  hash: string;
}

/** A row to append: its time as ISO text. */
export type NewLedgerRow = Omit<LedgerRow, 'ts'> & { ts: string };

/** Takes the advisory lock `key` for the rest of the transaction (the ledger's append lock). */
export async function takeLedgerAppendLock(tx: Tx, key: number): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [key]);
}

/** The last entry's sequence number and hash; none on an empty ledger. */
export async function readLedgerHead(tx: Tx): Promise<{ seq: number; hash: string } | undefined> {
  const [head] = await tx.query<{ seq: number; hash: string }>('SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1');
  return head;
}

/** Inserts the chained entries in one statement. */
export async function insertLedgerRows(tx: Tx, rows: NewLedgerRow[]): Promise<void> {
  await insertRows(
    tx,
    'ledger',
    {
      seq: 'bigint',
      ts: 'timestamptz',
      type: 'text',
      actor: 'text',
      subject_type: 'text',
      subject_id: 'text',
      body: 'text',
      prev_hash: 'text',
      hash: 'text',
    },
    rows,
  );
}

/** Up to `limit` entries from `fromSeq` on, in order (a page of verification). */
export function readLedgerPage(db: Queryable, fromSeq: number, limit: number): Promise<LedgerRow[]> {
  return db.query<LedgerRow>(
    'SELECT seq, ts, type, actor, subject_type, subject_id, body, prev_hash, hash FROM ledger WHERE seq >= $1 ORDER BY seq LIMIT $2',
    [fromSeq, limit],
  );
}

/** Entries newest first, before `before` and of one subject or type when given. */
export function selectLedgerEntries(
  db: Queryable,
  opts: { before?: number; limit: number; subjectId?: string; type?: string },
): Promise<LedgerRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (opts.before) where.push(`seq < $${params.push(opts.before)}`);
  if (opts.subjectId) where.push(`subject_id = $${params.push(opts.subjectId)}`);
  if (opts.type) where.push(`type = $${params.push(opts.type)}`);
  return db.query<LedgerRow>(
    `SELECT * FROM ledger ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq DESC LIMIT $${params.push(opts.limit)}`,
    params,
  );
}
