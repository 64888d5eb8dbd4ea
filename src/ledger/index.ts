/**
 * ledger: the tamper-evident, hash-chained ledger every consequential write appends to, its sequencer (which chains
 * appended entries off the writers' path), the signed checkpoints that publish its head, and its verification.
 * Owns the ledger table (ledger.repo.ts). docs/ledger.md explains the design.
 */
export { appendToLedger, chainedBody, verifyChain, sha256, GENESIS_HASH } from './ledger.ts';
export type { LedgerEvent, LedgerEntry, VerifyReport, HeadCheck } from './ledger.ts';
export { sequenceLedger, sequenceRound, ledgerLag, startLedgerSequencer, SEQUENCE_BATCH } from './sequencer.ts';
export type { LedgerLag } from './sequencer.ts';
export { writeCheckpoint, readCheckpoints, checkpointHeads, CHECKPOINT_FILE, SIGNING_KEY_FILE, PUBLIC_KEY_FILE } from './checkpoint.ts';
export type { Checkpoint } from './checkpoint.ts';
export { verifyLedger, listLedger, sequencedSeq } from './reads.ts';
export type { LedgerVerification } from './reads.ts';
export { canonicalJson } from './canonical.ts';
export * from './ledger.repo.ts';
export { grantAppRole } from './roles.ts';
