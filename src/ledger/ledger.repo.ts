import { insertRows, regrantTable, type Queryable, type Tx } from '../store/index.ts';

/** A chained ledger row as stored. */
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

/** An entry as a writer appends it: not chained yet, its body without seq and prev. */
export interface UnchainedLedgerRow {
  ts: string;
  type: string;
  actor: string;
  subject_type: string | null;
  subject_id: string | null;
  body: string;
}

/** What the sequencer writes into an unchained entry. */
export interface ChainedFields {
  id: number;
  seq: number;
  body: string;
  prev_hash: string;
  hash: string;
}

/** Inserts unchained entries in one statement; their ids come back in the order given. */
export async function insertUnchainedRows(tx: Tx, rows: UnchainedLedgerRow[]): Promise<number[]> {
  const inserted = await insertRows<{ id: number }>(
    tx,
    'ledger',
    { ts: 'timestamptz', type: 'text', actor: 'text', subject_type: 'text', subject_id: 'text', body: 'text' },
    rows,
    'RETURNING id',
  );
  return inserted.map((r) => r.id).sort((a, b) => a - b);
}

/**
 * Takes the sequencer's advisory lock for the rest of the transaction, one per schema (tests share one database);
 * without `wait`, answers false at once when another sequencer holds it.
 */
export async function takeSequencerLock(tx: Tx, key: number, wait: boolean): Promise<boolean> {
  if (wait) {
    await tx.query('SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))', [key]);
    return true;
  }
  const [row] = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1, hashtext(current_schema())) AS ok', [key]);
  return row?.ok === true;
}

/**
 * Up to `limit` unchained entries whose writing transaction has committed (others are invisible here), oldest
 * first: a transaction's own entries keep the order it appended them in.
 */
export function readUnchained(tx: Tx, limit: number): Promise<{ id: number; body: string }[]> {
  return tx.query('SELECT id, body FROM ledger WHERE seq IS NULL ORDER BY id LIMIT $1', [limit]);
}

/** The last chained entry's sequence number and hash; none on an empty ledger. */
export async function readLedgerHead(db: Queryable): Promise<{ seq: number; hash: string } | undefined> {
  const [head] = await db.query<{ seq: number; hash: string }>(
    'SELECT seq, hash FROM ledger WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1',
  );
  return head;
}

/** Chains entries in one statement; the table's trigger lets only this change through. */
export async function writeChainedFields(tx: Tx, rows: ChainedFields[]): Promise<void> {
  await tx.query(
    `UPDATE ledger SET seq = t.seq, body = t.body, prev_hash = t.prev_hash, hash = t.hash
       FROM jsonb_to_recordset($1::jsonb) AS t(id bigint, seq bigint, body text, prev_hash text, hash text)
      WHERE ledger.id = t.id AND ledger.seq IS NULL`,
    [JSON.stringify(rows)],
  );
}

/** How many committed entries wait for the sequencer, and the age in seconds of the oldest. */
export async function readUnchainedLag(db: Queryable): Promise<{ pending: number; oldestSeconds: number | null }> {
  const [row] = await db.query<{ pending: number; oldest_seconds: number | null }>(
    `SELECT count(*)::int AS pending, EXTRACT(EPOCH FROM clock_timestamp() - min(added_at))::float8 AS oldest_seconds
       FROM ledger WHERE seq IS NULL`,
  );
  return { pending: row?.pending ?? 0, oldestSeconds: row?.oldest_seconds ?? null };
}

/** The sequence number an entry got, once chained. */
export async function readSeqOf(db: Queryable, id: number): Promise<number | null> {
  const [row] = await db.query<{ seq: number | null }>('SELECT seq FROM ledger WHERE id = $1', [id]);
  return row?.seq ?? null;
}

/** The chained entry at `seq`, if there is one. */
export async function readChainedEntry(db: Queryable, seq: number): Promise<{ hash: string } | undefined> {
  const [row] = await db.query<{ hash: string }>('SELECT hash FROM ledger WHERE seq = $1', [seq]);
  return row;
}

/** Up to `limit` chained entries from `fromSeq` on, in order (a page of verification). */
export function readLedgerPage(db: Queryable, fromSeq: number, limit: number): Promise<LedgerRow[]> {
  return db.query<LedgerRow>(
    'SELECT seq, ts, type, actor, subject_type, subject_id, body, prev_hash, hash FROM ledger WHERE seq >= $1 ORDER BY seq LIMIT $2',
    [fromSeq, limit],
  );
}

/** Chained entries newest first, before `before` and of one subject or type when given. */
export function selectLedgerEntries(
  db: Queryable,
  opts: { before?: number; limit: number; subjectId?: string; type?: string },
): Promise<LedgerRow[]> {
  const where: string[] = ['seq IS NOT NULL'];
  const params: unknown[] = [];
  if (opts.before) where.push(`seq < $${params.push(opts.before)}`);
  if (opts.subjectId) where.push(`subject_id = $${params.push(opts.subjectId)}`);
  if (opts.type) where.push(`type = $${params.push(opts.type)}`);
  return db.query<LedgerRow>(
    `SELECT seq, ts, type, actor, subject_type, subject_id, body, prev_hash, hash FROM ledger
      WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT $${params.push(opts.limit)}`,
    params,
  );
}

/**
 * What an application role gets on the ledger: read, append, and the sequencer's one update (the trigger refuses any
 * other). No DELETE or TRUNCATE; not the owner, so it cannot switch the trigger off.
 */
export async function grantLedgerToRole(db: Queryable, role: string): Promise<void> {
  await regrantTable(db, 'ledger', role, 'SELECT, INSERT, UPDATE (seq, body, prev_hash, hash)');
}
