import type { Db } from '../store/index.ts';
import { checkpointHeads } from './checkpoint.ts';
import { readLedgerEntries, verifyChain, type LedgerEntry, type VerifyReport } from './ledger.ts';
import { readSeqOf } from './ledger.repo.ts';
import { ledgerLag, sequenceLedger, type LedgerLag } from './sequencer.ts';

export interface LedgerVerification extends VerifyReport {
  /** Signed checkpoints checked against the chain (0 when none were given or recorded). */
  checkpoints: number;
  /** Entries still waiting for the sequencer after verification (written while it ran). */
  lag: LedgerLag;
}

/**
 * Chains what is waiting, so the report covers every committed entry, then recomputes the chain and checks that every
 * signed checkpoint recorded in `checkpointDir` is still in it.
 */
export async function verifyLedger(db: Db, opts: { checkpointDir?: string } = {}): Promise<LedgerVerification> {
  await sequenceLedger(db);
  let heads;
  try {
    heads = opts.checkpointDir ? checkpointHeads(opts.checkpointDir) : [];
  } catch (err) {
    const report = await verifyChain(db);
    return { ...report, ok: false, problem: (err as Error).message, checkpoints: 0, lag: await ledgerLag(db) };
  }
  const report = await verifyChain(db, heads);
  return { ...report, checkpoints: heads.length, lag: await ledgerLag(db) };
}

/** Entries newest first, for the API and CLI; what was committed before the call is chained first, so it is listed. */
export async function listLedger(
  db: Db,
  opts: { before?: number; limit: number; subjectId?: string; type?: string },
): Promise<LedgerEntry[]> {
  await sequenceLedger(db);
  return readLedgerEntries(db, opts);
}

/** The sequence number an appended entry got (by its id from `appendToLedger`), chaining what waits first. */
export async function sequencedSeq(db: Db, id: number): Promise<number> {
  await sequenceLedger(db);
  const seq = await readSeqOf(db, id);
  if (seq === null) throw new Error(`ledger entry ${id} is not chained (was its transaction committed?)`);
  return seq;
}
