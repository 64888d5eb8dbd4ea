/**
 * trust: what keeps personal data and untrusted text in their place around generation. Here: finding and masking
 * personal data (pii.ts, with its check-digit rules in checksums.ts) and keeping it out of log lines (log.ts).
 * The layer imports only lib, contracts and packages, and never the database.
 */
export {
  DEFAULT_PHONE_REGIONS,
  findPii,
  maskPii,
  PII_TYPES,
  redactForLog,
  resolveOverlaps,
  unmaskPii,
  type MaskResult,
  type PiiEntity,
  type PiiOptions,
  type PiiType,
  type RestoreMap,
} from './pii.ts';
export { cardSchemeOf, IBAN_LENGTHS, ibanValid, luhnValid, ninoPrefixValid, ssnValid, tfnValid } from './checksums.ts';
export { maskChildBindings, maskLogValue, piiSafeLoggerOptions } from './log.ts';
