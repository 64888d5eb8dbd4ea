/**
 * ledger: the tamper-evident, hash-chained ledger every consequential write appends to, and its verification.
 * Owns the ledger table (ledger.repo.ts).
 */
export { appendToLedger, lockLedger, verifyLedger, listLedger, sha256, GENESIS_HASH } from './ledger.ts';
export type { LedgerEvent, LedgerEntry, VerifyReport } from './ledger.ts';
export { canonicalJson } from './canonical.ts';
export * from './ledger.repo.ts';
