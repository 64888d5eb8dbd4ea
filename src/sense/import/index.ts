import { AppError } from '../../errors.ts';
import { analyze, type Db } from '../../store/index.ts';
import { IMPORT_ENTITIES, recordPlan, runImport, type ImportEntity, type ImportOptions, type ImportSummary } from './import.ts';
import { pipelineStagesPlan } from './pipelines.ts';
import { customersPlan } from './telco.ts';

/**
 * Imports a CSV file into one entity: any record kind, or `customers` (an account plus its
 * subscription per row, in the Telco churn layout). Rows whose natural key exists update that record.
 */
export async function importCsv(db: Db, entity: ImportEntity, file: string, opts: ImportOptions): Promise<ImportSummary> {
  if (!IMPORT_ENTITIES.includes(entity)) {
    throw new AppError('bad_request', `cannot import "${entity}": expected one of ${IMPORT_ENTITIES.join(', ')}`);
  }
  const summary = await (entity === 'customers'
    ? runImport(db, customersPlan(), file, opts)
    : entity === 'pipeline-stages'
      ? runImport(db, pipelineStagesPlan(), file, opts)
      : runImport(db, recordPlan(entity), file, opts));
  // A bulk load changes table sizes by orders of magnitude: let the planner know before the next query.
  if (summary.imported + summary.updated > 0) await analyze(db);
  return summary;
}

export const isImportEntity = (s: string): s is ImportEntity => (IMPORT_ENTITIES as readonly string[]).includes(s);

export { IMPORT_ENTITIES, rejectedPath } from './import.ts';
export type { ImportEntity, ImportOptions, ImportSummary } from './import.ts';
export { loadDemoCustomers } from './telco.ts';
export { progressBar } from './progress.ts';
export { exportCsv, EXPORT_ENTITIES, isExportEntity, type ExportEntity } from './export.ts';
