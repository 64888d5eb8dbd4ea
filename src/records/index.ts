export {
  CASES_CHANGED, snake, createRecord, insertRecord, getRecord, listRecords, updateRecord, patchRecord, deleteRecord, parseRecordInput, recordFilters, mapDbError, toApi, recordIdPrefix,
} from './records.ts';
export type { RecordRow } from './records.ts';
export { exportSubject, EXPORT_FORMAT, type SubjectExport } from './subject-export.ts';
export { eraseSubject, parseErasureRequest, ErasureRequest, type ErasureResult } from './erasure.ts';
export { registerIdentities, releaseIdentities, identityClaimsFor, claimIdentities, lookupIdentities } from './identities.ts';
export type { IdentityClaim, ResolvedIdentity } from './identities.ts';
export { identityKeys, normalizeEmail, normalizePhone } from './normalize.ts';
export type { IdentityKey, IdentityKind } from './normalize.ts';
