/**
 * records: the system of record. Create, read, update and soft-delete of accounts, contacts, cases and the other
 * record kinds, and identity claims. Owns the record tables (accounts, contacts, leads, opportunities, cases, tasks,
 * products, partners, subscriptions, interactions), identities and deletion_reasons.
 */
export {
  CASES_CHANGED,
  snake,
  createRecord,
  insertRecord,
  getRecord,
  listRecords,
  pageRecords,
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
export { registerIdentities, releaseIdentities, identityClaimsFor, lookupIdentities } from './identities.ts';
export { assignTask, completeTask } from './tasks.ts';
export * from './records.repo.ts';
export * from './identities.repo.ts';
export { DEFAULT_PIPELINE, loadPipelines, Pipelines, resolveOpportunityStage, type StageLookup } from './pipelines.ts';
export {
  selectPipelineStages,
  upsertPipelineStages,
  recordIdsByReference,
  referenceKeysOf,
  REFERENCE_FIELDS,
  type ReferenceField,
  type PipelineStageRow,
} from './pipelines.repo.ts';
