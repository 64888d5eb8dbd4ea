/**
 * privacy: a data subject's rights. Erasure destroys a customer's personal data in every module's tables in one
 * transaction (erasure.repo.ts, the one writer allowed past the tables' owners), compaction then removes the old
 * copies from the database files (compaction.ts), and the subject export gives them
 * everything ACS holds about them (read through src/views) and records it. Owns the erasures table.
 */
export { eraseSubject, parseErasureRequest, ErasureRequest, type ErasureResult } from './erasure.ts';
export { exportSubject, EXPORT_FORMAT, type SubjectExport } from './subject-export.ts';
export * from './erasure.repo.ts';
export { compactErasures, parseCompactionRequest, CompactionRequest, type CompactionResult, type CompactionStep } from './compaction.ts';
