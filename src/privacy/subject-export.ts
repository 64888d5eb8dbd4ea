import { AppError } from '../errors.ts';
import { appendToLedger } from '../ledger/index.ts';
import { toApi, type RecordRow } from '../records/index.ts';
import type { Db, Tx } from '../store/index.ts';
import { findSubjectExportAccount, readSubjectExportSections, readSubjectLedger } from '../views/index.ts';

/** Format of a data subject export; a reader can rely on its sections and fields for this version. */
export const EXPORT_FORMAT = 'acs-subject-export-1';

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
 * `deletedAt`), machine-readable; the export itself is recorded in the ledger, with its counts. The sections and
 * what each reads are the read model src/views/subject-export.ts.
 */
export async function exportSubject(db: Db, key: string, actor: string, now: Date): Promise<SubjectExport> {
  return db.transaction((tx) => exportInTransaction(tx, key, actor, now));
}

async function exportInTransaction(q: Tx, key: string, actor: string, now: Date): Promise<SubjectExport> {
  const account = await findSubjectExportAccount(q, key);
  if (!account) throw new AppError('customer.not_found', `no customer ${key}`);
  const sections = await readSubjectExportSections(q, account.id);
  const data: Record<string, RecordRow[]> = {};
  for (const [name, rows] of Object.entries(sections)) data[name] = rows.map(toApi);
  const ids = Object.values(data).flatMap((rows) => rows.map((r) => String(r.id ?? r.idempotencyKey ?? r.accountId)));
  const ledger = await readSubjectLedger(q, [...new Set([account.id, ...ids])]);
  const counts = Object.fromEntries(Object.entries(data).map(([name, rows]) => [name, rows.length]));
  await appendToLedger(q, [
    { type: 'customer.exported', actor, subjectType: 'accounts', subjectId: account.id, data: { format: EXPORT_FORMAT, counts }, at: now },
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
