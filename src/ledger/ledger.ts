import { createHash } from 'node:crypto';
import type { Queryable, Tx } from '../store/index.ts';
import { canonicalJson } from './canonical.ts';
import { insertUnchainedRows, readLedgerPage, selectLedgerEntries, type LedgerRow } from './ledger.repo.ts';

/** The hash that the first entry chains from. */
export const GENESIS_HASH = '0'.repeat(64);

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
  /**
   * When it happened, on the business clock (the server's `Clock`: real time, or the live world's simulated time).
   * Required, so every writer dates its entries on the same clock as the decisions, approvals and messages they record.
   */
  at: Date;
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

/** The body a writer stores: everything the entry records, without its place in the chain (seq, prev). */
function unchainedBody(e: LedgerEvent, ts: string): string {
  return canonicalJson({
    ts,
    type: e.type,
    actor: e.actor,
    subjectType: e.subjectType ?? null,
    subjectId: e.subjectId ?? null,
    data: e.data ?? {},
  });
}

/**
 * The body an entry is hashed by: its unchained body with its sequence number and the hash it chains from. Keys are
 * sorted, so this is byte for byte the body entries had when writers chained them themselves.
 */
export function chainedBody(unchained: string, seq: number, prevHash: string): string {
  return canonicalJson({ ...(JSON.parse(unchained) as Record<string, unknown>), seq, prev: prevHash });
}

/**
 * Appends events inside the caller's transaction, so an entry exists exactly when the change it records was
 * committed. One statement per call however many events. Entries are written unchained and take no lock: the
 * sequencer (sequencer.ts) gives them their sequence numbers and hashes shortly after the transaction commits.
 * Resolves to the new entries' ids, in the order given.
 */
export async function appendToLedger(tx: Tx, events: LedgerEvent[]): Promise<{ ids: number[] }> {
  if (events.length === 0) return { ids: [] };
  const rows = events.map((e) => {
    const ts = e.at.toISOString();
    return {
      ts,
      type: e.type,
      actor: e.actor,
      subject_type: e.subjectType ?? null,
      subject_id: e.subjectId ?? null,
      body: unchainedBody(e, ts),
    };
  });
  return { ids: await insertUnchainedRows(tx, rows) };
}

export interface VerifyReport {
  ok: boolean;
  /** Chained entries verified (those the sequencer has not chained yet are counted in `lag`). */
  entries: number;
  head: string;
  firstBadSeq: number | null;
  problem?: string;
}

/** A published head: the chain must still hold entry `seq` with this hash. */
export interface HeadCheck {
  seq: number;
  hash: string;
  /** How the report names it (when and where it was published). */
  label: string;
}

const VERIFY_PAGE = 5000;

/**
 * Recomputes the whole chain. An entry is bad when its body no longer hashes to its hash, when its
 * body disagrees with its row (sequence, time, type, subject), or when it does not chain from the
 * entry before it (a deleted, inserted or reordered entry). The first bad one is named. Published heads
 * (`heads`) show what the chain alone cannot: its newest entries removed or rewritten.
 */
export async function verifyChain(db: Queryable, heads: HeadCheck[] = []): Promise<VerifyReport> {
  const published = new Map(heads.map((h) => [h.seq, h]));
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  let entries = 0;
  for (;;) {
    const rows = await readLedgerPage(db, expectedSeq, VERIFY_PAGE);
    for (const row of rows) {
      const problem = checkEntry(row, expectedSeq, prevHash) ?? checkPublished(row, published.get(row.seq));
      if (problem) return { ok: false, entries, head: prevHash, firstBadSeq: expectedSeq, problem };
      prevHash = row.hash;
      expectedSeq += 1;
      entries += 1;
    }
    if (rows.length < VERIFY_PAGE) break;
  }
  const beyond = heads.filter((h) => h.seq >= expectedSeq).sort((a, b) => b.seq - a.seq)[0];
  if (beyond) {
    const problem = `entries ${expectedSeq} to ${beyond.seq} are missing: ${beyond.label} recorded entry ${beyond.seq}, and the ledger ends at entry ${expectedSeq - 1}`;
    return { ok: false, entries, head: prevHash, firstBadSeq: expectedSeq, problem };
  }
  return { ok: true, entries, head: prevHash, firstBadSeq: null };
}

function checkPublished(row: LedgerRow, head: HeadCheck | undefined): string | null {
  if (!head || head.hash === row.hash) return null;
  return `entry ${row.seq} is not the entry ${head.label} recorded: the ledger was rewritten from this entry or before`;
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

/** Reads chained entries newest first, for the API. `data` comes from the hashed body. */
export async function readLedgerEntries(
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
