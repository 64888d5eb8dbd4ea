/**
 * records: the system of record. Create, read, update and soft-delete of accounts, contacts, cases and the other
 * record kinds, identity claims, subject export and erasure. Mainly owns the record tables, identities,
 * deletion_reasons and erasures.
 */
export {
  CASES_CHANGED,
  snake,
  createRecord,
  insertRecord,
  getRecord,
  listRecords,
  updateRecord,
  patchRecord,
  deleteRecord,
  parseRecordInput,
  recordFilters,
  mapDbError,
  toApi,
  recordIdPrefix,
} from './records.ts';
export type { RecordRow } from './records.ts';
export { exportSubject, EXPORT_FORMAT, type SubjectExport } from './subject-export.ts';
export { eraseSubject, parseErasureRequest, ErasureRequest, type ErasureResult } from './erasure.ts';
export { registerIdentities, releaseIdentities, identityClaimsFor, claimIdentities, lookupIdentities } from './identities.ts';
export type { IdentityClaim, ResolvedIdentity } from './identities.ts';
export * from './records.repo.ts';
