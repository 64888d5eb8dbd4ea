import type { Writable } from 'node:stream';
import { PipelineStageInput, RECORD_INPUTS, RECORD_KINDS, type RecordKind } from '../../contracts/index.ts';
import { csvLines } from '../../lib/index.ts';
import { listRecords, REFERENCE_FIELDS, referenceKeysOf, selectPipelineStages, type RecordRow } from '../../records/index.ts';
import type { Queryable } from '../../store/index.ts';
import { fieldTypes, type FieldType } from './headers.ts';

export type ExportEntity = RecordKind | 'pipeline-stages';
export const EXPORT_ENTITIES: readonly ExportEntity[] = [...RECORD_KINDS, 'pipeline-stages'];
export const isExportEntity = (s: string): s is ExportEntity => (EXPORT_ENTITIES as readonly string[]).includes(s);

const PAGE = 1000;
const isReference = (column: string) => (REFERENCE_FIELDS as readonly string[]).includes(column);

/** A value as `acs import` reads it back. */
function cell(v: unknown, type: FieldType | undefined): string {
  if (v === null || v === undefined) return '';
  if (type?.kind === 'json') return typeof v === 'object' && Object.keys(v).length === 0 ? '' : JSON.stringify(v);
  if (type?.kind === 'date' && typeof v === 'string') return v.slice(0, 10);
  return String(v);
}

/**
 * References as another ACS finds them (an account by its customer id, a contact or lead by its external id or email,
 * a product by its sku): `acs import` resolves them back, so a file imports into a database with other ids.
 */
async function referenceKeys(db: Queryable, rows: RecordRow[]): Promise<Map<string, string>> {
  const keys = new Map<string, string>();
  for (const field of REFERENCE_FIELDS) {
    const ids = [...new Set(rows.flatMap((r) => (typeof r[field] === 'string' ? [r[field] as string] : [])))];
    if (ids.length) for (const r of await referenceKeysOf(db, field, ids)) keys.set(r.id, r.key);
  }
  return keys;
}

/**
 * Writes an entity's live records as CSV, oldest first: one column per field `acs import` takes for it, so the file
 * imports back into the same records (into another database too). Returns how many rows were written.
 */
export async function exportCsv(db: Queryable, entity: ExportEntity, out: Writable): Promise<number> {
  const write = (text: string) => new Promise<void>((resolve, reject) => out.write(text, (err) => (err ? reject(err) : resolve())));
  if (entity === 'pipeline-stages') {
    const columns = [...fieldTypes(PipelineStageInput).keys()];
    const rows = await selectPipelineStages(db);
    await write(csvLines([columns, ...rows.map((r) => columns.map((c) => cell(r[c as keyof typeof r], undefined)))]));
    return rows.length;
  }
  const types = fieldTypes(RECORD_INPUTS[entity].create);
  const columns = [...types.keys()];
  await write(csvLines([columns]));
  let written = 0;
  let afterId: string | undefined;
  for (;;) {
    const rows = await listRecords(db, entity, { limit: PAGE, afterId });
    if (rows.length === 0) break;
    const refs = await referenceKeys(db, rows);
    const lines = rows.map((r) =>
      columns.map((c) => {
        const v = r[c];
        return isReference(c) && typeof v === 'string' ? (refs.get(v) ?? v) : cell(v, types.get(c));
      }),
    );
    await write(csvLines(lines));
    written += rows.length;
    afterId = rows.at(-1)!.id;
    if (rows.length < PAGE) break;
  }
  return written;
}
