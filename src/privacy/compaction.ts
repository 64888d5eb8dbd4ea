import { z } from 'zod';
import { toFieldIssues } from '../contracts/index.ts';
import { AppError } from '../errors.ts';
import { appendToLedger } from '../ledger/index.ts';
import type { Db } from '../store/index.ts';
import {
  ERASED_TABLES,
  markErasuresCompacted,
  ownsStatistics,
  selectCompactableTables,
  selectErasuresToCompact,
  selectOlderSnapshots,
  selectWalRetention,
  setSessionWalRecycle,
  listWalSegments,
  switchWalAndCheckpoint,
  vacuumFullAnalyze,
  vacuumFullStatistics,
} from './erasure.repo.ts';

/**
 * Compaction after erasure. An erasure overwrites the person's fields, but PostgreSQL keeps the old row versions in
 * the table's pages, its indexes and TOAST until they are rewritten, the planner's samples in pg_statistic, and the
 * writes themselves in the WAL. Compaction rewrites every table an erasure changes (VACUUM FULL: new heap, TOAST and
 * index files; the old ones are removed), refreshes their statistics and rewrites pg_statistic, then moves the WAL on
 * and checkpoints so the segments that held the old rows are deleted. It takes exclusive locks table by table, so it
 * runs as a batch after erasures (maintenance, `acs privacy compact`, `POST /api/v1/privacy/compact`), never inside one.
 */

export type CompactionStepName = 'rewrite' | 'statistics' | 'wal';

export interface CompactionStep {
  step: CompactionStepName;
  done: boolean;
  /** What was done, or what the database refused and what an operator must configure. */
  detail: string;
}

export interface CompactionResult {
  /** The erasures this run compacted (recorded on each, and in the ledger); empty when none was due. */
  erasureIds: string[];
  /** The tables rewritten. */
  tables: string[];
  steps: CompactionStep[];
  /** Every step was done: no readable copy of the erased rows is left in the database's files. */
  complete: boolean;
}

export const CompactionRequest = z.strictObject({
  /** Compact again the erasures whose last compaction could not do every step (after an operator fixed the cause). */
  retryIncomplete: z.boolean().default(true),
});
export type CompactionRequest = z.infer<typeof CompactionRequest>;

/** Validates a request body (none is `{}`); a 400 names each bad field. */
export function parseCompactionRequest(body: unknown): CompactionRequest {
  const parsed = CompactionRequest.safeParse(body ?? {});
  if (!parsed.success)
    throw new AppError('validation_failed', 'invalid compaction request; nothing was compacted', toFieldIssues(parsed.error));
  return parsed.data;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** How long compaction waits, by default, for transactions older than the erasures to end. */
const SNAPSHOT_WAIT_MS = 30_000;

/**
 * Waits until no other session of the database holds a snapshot from before the erasures (VACUUM FULL keeps the old
 * row versions such a snapshot may still see), for at most `waitMs`; the sessions still holding one.
 */
async function waitForOlderSnapshots(db: Db, erasureIds: string[], waitMs: number) {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const older = await selectOlderSnapshots(db, erasureIds);
    if (older.length === 0 || Date.now() >= deadline) return older;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** VACUUM FULL, ANALYZE of each table: one statement each, outside any transaction (VACUUM refuses one). */
async function rewriteTables(db: Db, erasureIds: string[], waitMs: number): Promise<{ step: CompactionStep; tables: string[] }> {
  const older = await waitForOlderSnapshots(db, erasureIds, waitMs);
  const tables = await selectCompactableTables(db, ERASED_TABLES);
  const missing = ERASED_TABLES.filter((t) => !tables.some((x) => x.table === t));
  // PostgreSQL skips a table the role does not own with a warning, not an error: checked first so it is never counted.
  const notOwned = tables.filter((t) => !t.owned).map((t) => t.table);
  const rewritten: string[] = [];
  const failed: string[] = [];
  for (const { table } of tables.filter((t) => t.owned)) {
    try {
      await vacuumFullAnalyze(db, table);
      rewritten.push(table);
    } catch (err) {
      failed.push(`${table}: ${message(err)}`);
    }
  }
  const problems = [
    ...(older.length
      ? [
          `transactions older than the erasure were still open (${older.map((o) => `pid ${o.pid}${o.xact_start ? ` since ${new Date(o.xact_start).toISOString()}` : ''}`).join(', ')}): the old row versions they may see were kept; compact again once they end`,
        ]
      : []),
    ...(notOwned.length ? [`not owned by this role, so not rewritten: ${notOwned.join(', ')} (run compaction as the tables' owner)`] : []),
    ...(failed.length ? [`failed: ${failed.join('; ')}`] : []),
    ...(missing.length ? [`missing from the schema: ${missing.join(', ')}`] : []),
  ];
  return {
    tables: rewritten,
    step: {
      step: 'rewrite',
      done: problems.length === 0,
      detail: problems.length
        ? problems.join('; ')
        : `rewrote ${rewritten.length} tables with their indexes and TOAST, and re-analyzed them`,
    },
  };
}

/** The re-analyze left dead pg_statistic rows with the old samples; VACUUM FULL of the catalog drops them. */
async function rewriteStatistics(db: Db): Promise<CompactionStep> {
  if (!(await ownsStatistics(db)))
    return {
      step: 'statistics',
      done: false,
      detail:
        'pg_statistic was not rewritten: only its owner (a superuser) may VACUUM FULL it; old planner samples may hold erased values until a superuser runs VACUUM FULL pg_statistic',
    };
  try {
    await vacuumFullStatistics(db);
    return { step: 'statistics', done: true, detail: 'rewrote pg_statistic after the re-analyze' };
  } catch (err) {
    return { step: 'statistics', done: false, detail: `VACUUM FULL pg_statistic failed: ${message(err)}` };
  }
}

/**
 * Rounds of switching to a new WAL segment and checkpointing until no segment file from before is left (checked by
 * listing pg_wal): the segments with the erasure's old rows are then deleted, if recycling is off (a recycled segment
 * is renamed for reuse with its content intact) and nothing else keeps them (wal_keep_size, replication slots, an
 * archive).
 */
async function dropOldWal(db: Db): Promise<CompactionStep> {
  // The embedded database checkpoints in this very session, so a session setting is enough there; a server's
  // checkpointer reads only its own configuration.
  if (db.kind === 'pglite') await setSessionWalRecycle(db, true);
  try {
    const retention = await selectWalRetention(db);
    const keeps = [
      ...(retention.wal_recycle === 'on'
        ? ['wal_recycle is on: old segments are renamed for reuse, content intact (set wal_recycle = off in the server configuration)']
        : []),
      ...(!/^0\s*[a-z]*$/i.test(retention.wal_keep_size)
        ? [`wal_keep_size is ${retention.wal_keep_size}: old segments are kept (set it to 0)`]
        : []),
      ...(retention.slots > 0 ? [`${retention.slots} replication slot(s) may hold old segments (and replicas have their own copies)`] : []),
      ...(retention.archive_mode !== 'off'
        ? ['archive_mode is on: archived segments hold the old rows (expire them from the archive)']
        : []),
    ];
    // Every segment file present now may hold the old rows: older ones, and ones recycled ahead of the write position
    // (while recycling was on) that still hold old content. Each round (a checkpoint writes a record, so the next
    // switch moves on) consumes one; the checkpoint deletes those behind it. Bounded: one round per file, plus two.
    const before = await listWalSegments(db);
    let left = before ?? [];
    for (let round = 0; round < (before ? before.length + 2 : 2) && (round < 2 || left.length); round++) {
      await switchWalAndCheckpoint(db);
      if (before) {
        const now = new Set((await listWalSegments(db)) ?? []);
        left = before.filter((f) => now.has(f));
      }
    }
    if (keeps.length) return { step: 'wal', done: false, detail: `switched WAL and checkpointed, but ${keeps.join('; ')}` };
    if (!before) {
      return {
        step: 'wal',
        done: true,
        detail: 'switched to a new WAL segment and checkpointed twice (this role may not list pg_wal, so it was not checked)',
      };
    }
    if (left.length) {
      return {
        step: 'wal',
        done: false,
        detail: `switched WAL and checkpointed, but ${left.length} segment file(s) from before are still in pg_wal (${left.join(', ')})`,
      };
    }
    return {
      step: 'wal',
      done: true,
      detail: `switched WAL and checkpointed until none of the ${before.length} segment files from before was left in pg_wal`,
    };
  } catch (err) {
    return {
      step: 'wal',
      done: false,
      detail: `could not switch WAL and checkpoint (${message(err)}): a superuser, or a role granted pg_checkpoint and EXECUTE on pg_switch_wal, must run it`,
    };
  } finally {
    if (db.kind === 'pglite') await setSessionWalRecycle(db, false);
  }
}

/**
 * Compacts the erasures never compacted (and, with `retryIncomplete`, those whose last compaction fell short): the
 * steps above, then each erasure records the run and the ledger gets one `erasure.compacted` per erasure (ids and
 * outcomes only). A step the database refuses is reported as not done, with what to configure: never as done.
 */
export async function compactErasures(
  db: Db,
  opts: {
    actor: string;
    now: Date;
    retryIncomplete: boolean;
    /** How long to wait for transactions older than the erasures to end (default 30 s). */
    snapshotWaitMs?: number;
  },
): Promise<CompactionResult> {
  const erasureIds = await selectErasuresToCompact(db, opts.retryIncomplete);
  if (erasureIds.length === 0) return { erasureIds, tables: [], steps: [], complete: true };
  const rewrite = await rewriteTables(db, erasureIds, opts.snapshotWaitMs ?? SNAPSHOT_WAIT_MS);
  const steps = [rewrite.step, await rewriteStatistics(db), await dropOldWal(db)];
  const complete = steps.every((s) => s.done);
  // Step names and outcomes only; the details (setting names, errors) are in the answer and the log.
  const record = { complete, steps: steps.map(({ step, done }) => ({ step, done })) };
  // Written after the WAL step: these writes hold no personal data.
  await db.transaction(async (tx) => {
    await markErasuresCompacted(tx, erasureIds, record, opts.now);
    await appendToLedger(
      tx,
      erasureIds.map((id) => ({
        type: 'erasure.compacted',
        actor: opts.actor,
        subjectType: 'erasures',
        subjectId: id,
        data: { tables: rewrite.tables.length, ...record },
        at: opts.now,
      })),
    );
  });
  return { erasureIds, tables: rewrite.tables, steps, complete };
}
