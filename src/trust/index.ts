/**
 * trust: what guards the language half. Prompt-injection detection (rules plus a small trained classifier), the
 * wrapper that marks untrusted text as data in prompts, and the injection corpus's split and benchmark.
 * Imports only lib and contracts; owns no table (findings are stored by the module that owns the row).
 */
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
