/**
 * trust: what keeps personal data and untrusted text in their place around generation. Finding and masking personal
 * data (pii.ts, with its check-digit rules in checksums.ts) and keeping it out of log lines (log.ts); prompt-injection
 * detection (rules plus a small trained classifier, injection.ts), the wrapper that marks untrusted text as data in
 * prompts, and the injection corpus's split and benchmark (injection-train.ts). Data classification (classification.ts):
 * which answer fields are pii or sensitive, and the masking the API applies to them for the analyst role. The layer imports only lib, contracts
 * and packages, never the database; it owns no table (findings are stored by the module that owns the row).
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
export {
  CLASSIFICATION,
  classificationOf,
  DATA_CLASSES,
  maskClassified,
  namesAndParts,
  personKeysIn,
  type DataClass,
  type FieldClassification,
  type Masking,
} from './classification.ts';
export { cardSchemeOf, IBAN_LENGTHS, ibanValid, luhnValid, ninoPrefixValid, ssnValid, tfnValid } from './checksums.ts';
export { maskChildBindings, maskLogValue, piiSafeLoggerOptions } from './log.ts';
export {
  CLASSIFIER_THRESHOLD,
  COMBINED_THRESHOLD,
  FLAG_THRESHOLD,
  MAX_SCAN_CHARS,
  UNTRUSTED_PREAMBLE,
  classifierScore,
  classify,
  detectInjection,
  features,
  injectionModel,
  normalizeText,
  ruleFindings,
  scanData,
  windows,
  wrapUntrusted,
  type InjectionFinding,
  type InjectionScan,
  type InjectionModel,
} from './injection.ts';
export {
  DEFAULT_CORPUS,
  FRESH_CORPUS,
  HOLDOUT_CORPUS,
  HOLDOUT2_CORPUS,
  POLICY_CORPUS,
  SPLIT_SEED,
  TEST_SHARE,
  evaluateInjection,
  loadCorpus,
  splitCorpus,
  trainingSet,
  trainInjectionModel,
  type CorpusItem,
  type InjectionBenchmark,
} from './injection-train.ts';
