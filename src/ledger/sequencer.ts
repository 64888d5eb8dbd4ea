import type { Db } from '../store/index.ts';
import { chainedBody, GENESIS_HASH, sha256 } from './ledger.ts';
import { readLedgerHead, readUnchained, readUnchainedLag, takeSequencerLock, writeChainedFields } from './ledger.repo.ts';

// Any fixed number (with the schema as second key): one sequencer at a time per ledger.
const SEQUENCER_LOCK = 730_003;
/** Entries chained per round: one short transaction each, so a round never holds the lock for long. */
export const SEQUENCE_BATCH = 2000;

/**
 * One round: chains up to SEQUENCE_BATCH committed entries, oldest first, in one transaction. A crash or error
 * mid-round rolls the whole round back, so the chain is always whole; running it again picks up the same entries.
 * Resolves to how many it chained, or null when another sequencer holds the lock and `wait` is false.
 */
export async function sequenceRound(db: Db, opts: { wait: boolean }): Promise<number | null> {
  return db.transaction(async (tx) => {
    if (!(await takeSequencerLock(tx, SEQUENCER_LOCK, opts.wait))) return null;
    const unchained = await readUnchained(tx, SEQUENCE_BATCH);
    if (unchained.length === 0) return 0;
    const head = await readLedgerHead(tx);
    let seq = head?.seq ?? 0;
    let prevHash = head?.hash ?? GENESIS_HASH;
    const chained = unchained.map(({ id, body: unchainedBody }) => {
      seq += 1;
      const body = chainedBody(unchainedBody, seq, prevHash);
      const row = { id, seq, body, prev_hash: prevHash, hash: sha256(prevHash + body) };
      prevHash = row.hash;
      return row;
    });
    await writeChainedFields(tx, chained);
    return chained.length;
  });
}

/**
 * Chains every committed entry waiting, round after round, up to `maxRounds`. Readers call it with `wait` so they see
 * what was committed before they asked (it waits for a round in progress, then runs its own); the timer does not.
 */
export async function sequenceLedger(db: Db, opts: { wait?: boolean; maxRounds?: number } = {}): Promise<number> {
  let total = 0;
  for (let round = 0; round < (opts.maxRounds ?? 1000); round++) {
    const n = await sequenceRound(db, { wait: opts.wait ?? true });
    if (n === null) break;
    total += n;
    if (n < SEQUENCE_BATCH) break;
  }
  return total;
}

/** How far the sequencer lags: committed entries not chained yet, and the age of the oldest (for /metrics and the API). */
export interface LedgerLag {
  pending: number;
  oldestSeconds: number | null;
}

export function ledgerLag(db: Pick<Db, 'query'>): Promise<LedgerLag> {
  return readUnchainedLag(db);
}

/**
 * Runs the sequencer every `intervalMs` (rounds never overlap) and `after` each pass (the checkpoint), until
 * stopped; stopping waits for the pass in progress and runs one last. Errors go to `onError` and the timer goes on.
 */
export function startLedgerSequencer(
  db: Db,
  opts: { intervalMs: number; after?: () => Promise<unknown>; onError: (err: unknown) => void },
): { stop(): Promise<void> } {
  let timer: NodeJS.Timeout | null = null;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const pass = async () => {
    try {
      // Bounded so one pass never holds up the process; what is left goes in the next.
      await sequenceLedger(db, { wait: false, maxRounds: 10 });
      await opts.after?.();
    } catch (err) {
      opts.onError(err);
    }
  };
  const schedule = () => {
    timer = setTimeout(() => {
      running = pass().then(() => {
        if (!stopped) schedule();
      });
    }, opts.intervalMs);
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      await pass();
    },
  };
}
