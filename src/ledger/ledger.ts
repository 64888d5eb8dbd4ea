import { createHash } from 'node:crypto';
import type { Queryable, Tx } from '../store/index.ts';
import { canonicalJson } from './canonical.ts';
import {
  insertLedgerRows,
  readLedgerHead,
  readLedgerPage,
  selectLedgerEntries,
  takeLedgerAppendLock,
  type LedgerRow,
} from './ledger.repo.ts';

/** The hash that the first entry chains from. */
export const GENESIS_HASH = '0'.repeat(64);
// Any fixed number: serialises appenders so sequence numbers and the chain stay gap-free.
const LEDGER_LOCK = 730_002;

/**
 * One fact for the ledger. It names records by id only: personal data never goes in,
 * so erasing a person later leaves every entry, and the chain, verifiable.
 */
export interface LedgerEvent {
  type: string;
  actor: string;
  subjectType?: string;
  subjectId?: string;
  data?: Record<string, unknown>;
  at?: Date;
}

export interface LedgerEntry {
  seq: number;
  ts: string;
  type: string;
  actor: string;
  subjectType: string | null;
  subjectId: string | null;
  data: Record<string, unknown>;
  prevHash: string;
  hash: string;
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

function entryBody(seq: number, prevHash: string, e: LedgerEvent, ts: string): string {
  return canonicalJson({
    seq,
    ts,
    type: e.type,
    actor: e.actor,
    subjectType: e.subjectType ?? null,
    subjectId: e.subjectId ?? null,
    data: e.data ?? {},
    prev: prevHash,
  });
}

/**
 * Appends events inside the caller's transaction, so an entry exists exactly when the change it
 * records was committed. One statement per call however many events.
 */
/**
 * Takes the ledger's append lock for the rest of the transaction. Appending takes it anyway; a writer
 * that must also read-then-write other state consistently (intake resolving new profiles) takes it first.
 */
export async function lockLedger(tx: Tx): Promise<void> {
  await takeLedgerAppendLock(tx, LEDGER_LOCK);
}

/**
 * The head each open transaction has appended up to. Once a transaction holds the append lock, no one else
 * can move the head until it commits, so its later appends need neither the lock nor the read again.
 */
const headsOfOpenTransactions = new WeakMap<Tx, { seq: number; hash: string }>();

export async function appendToLedger(tx: Tx, events: LedgerEvent[]): Promise<{ seq: number; hash: string }> {
  let head = headsOfOpenTransactions.get(tx);
  if (!head) {
    await lockLedger(tx);
    head = await readLedgerHead(tx);
  }
  let seq = head?.seq ?? 0;
  let prevHash = head?.hash ?? GENESIS_HASH;
  if (events.length === 0) return { seq, hash: prevHash };
  const rows = events.map((e) => {
    seq += 1;
    const ts = (e.at ?? new Date()).toISOString();
    const body = entryBody(seq, prevHash, e, ts);
    const hash = sha256(prevHash + body);
    const row = {
      seq,
      ts,
      type: e.type,
      actor: e.actor,
      subject_type: e.subjectType ?? null,
      subject_id: e.subjectId ?? null,
      body,
      prev_hash: prevHash,
      hash,
    };
    prevHash = hash;
    return row;
  });
  await insertLedgerRows(tx, rows);
  headsOfOpenTransactions.set(tx, { seq, hash: prevHash });
  return { seq, hash: prevHash };
}

export interface VerifyReport {
  ok: boolean;
  entries: number;
  head: string;
  firstBadSeq: number | null;
  problem?: string;
}

const VERIFY_PAGE = 5000;

/**
 * Recomputes the whole chain. An entry is bad when its body no longer hashes to its hash, when its
 * body disagrees with its row (sequence, time, type, subject), or when it does not chain from the
 * entry before it (a deleted, inserted or reordered entry). The first bad one is named.
 */
export async function verifyLedger(db: Queryable): Promise<VerifyReport> {
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let entries = 0;
  for (;;) {
    const rows = await readLedgerPage(db, expectedSeq, VERIFY_PAGE);
    for (const row of rows) {
      const problem = checkEntry(row, expectedSeq, prevHash);
      if (problem) return { ok: false, entries, head: prevHash, firstBadSeq: expectedSeq, problem };
      prevHash = row.hash;
      expectedSeq += 1;
      entries += 1;
    }
    if (rows.length < VERIFY_PAGE) break;
  }
  return { ok: true, entries, head: prevHash, firstBadSeq: null };
}

function checkEntry(row: LedgerRow, expectedSeq: number, prevHash: string): string | null {
  if (row.seq !== expectedSeq) return `entry ${expectedSeq} is missing (next entry found is ${row.seq})`;
  if (row.prev_hash !== prevHash) return `entry ${row.seq} does not chain from entry ${row.seq - 1}`;
  if (sha256(row.prev_hash + row.body) !== row.hash) return `entry ${row.seq} does not match its hash`;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(row.body) as Record<string, unknown>;
  } catch {
    return `entry ${row.seq} body is not valid JSON`;
  }
  const columnsAgree =
    body.seq === row.seq &&
    body.prev === row.prev_hash &&
    body.ts === new Date(row.ts).toISOString() &&
    body.type === row.type &&
    body.actor === row.actor &&
    body.subjectType === row.subject_type &&
    body.subjectId === row.subject_id;
  return columnsAgree ? null : `entry ${row.seq} columns disagree with its hashed body`;
}

/** Reads entries newest first, for the API. `data` comes from the hashed body. */
export async function listLedger(
  db: Queryable,
  opts: { before?: number; limit: number; subjectId?: string; type?: string },
): Promise<LedgerEntry[]> {
  const rows = await selectLedgerEntries(db, opts);
  return rows.map((r) => ({
    seq: r.seq,
    ts: new Date(r.ts).toISOString(),
    type: r.type,
    actor: r.actor,
    subjectType: r.subject_type,
    subjectId: r.subject_id,
    data: (JSON.parse(r.body) as { data: Record<string, unknown> }).data,
    prevHash: r.prev_hash,
    hash: r.hash,
  }));
}
