/**
 * sense: the intake, identity and features stages. Signals are validated, quarantined or stored; people are matched
 * to profiles; features are refreshed; consent, data quality, lineage, the 360 profile and CSV import live here.
 * Owns tables signals, quarantine, customer_features (their SQL: sense.repo.ts, quarantine.repo.ts, features.repo.ts)
 * the identity_* tables (src/sense/identity) and demo_loads (import/demo.repo.ts). Consents are records' (a record kind); their SQL for sense is in
 * src/records/records.repo.ts.
 */
export { ingestSignals, ingestInTransaction, resubmitQuarantined, signalTrust, FREE_TEXT_FIELDS } from './intake.ts';
export { lockSubjectPlacement } from './sense.repo.ts';
export { SIGNALS_ACCEPTED, type SignalsAcceptedEvent } from './events.ts';
export { IntakeQueue } from './intake-queue.ts';
export type { IntakeItem, IntakeOutcome, IntakeContext, AcceptedSignal } from './intake.ts';
export { featuresAt, refreshFeatures, subscribeFeatureUpdates, type CustomerFeatures } from './features.ts';
export { getProfile, findAccount, effectiveConsents, consentHistory, featureHistory } from './profile.ts';
export type { Profile, TimelineItem, ConsentHistoryItem, ChurnInput, FeatureHistory } from './profile.ts';
export type { ConsentOverview, ConsentRecordState, EffectiveConsent } from './profile.ts';
export {
  addressOutreach,
  confirmConsent,
  consentFacts,
  decidingConsent,
  grants,
  outreachConsent,
  pointFor,
  pointsFor,
  recipientChoices,
} from './consent.ts';
export type {
  Addressed,
  ConsentFact,
  ContactDetails,
  OutreachRequest,
  OutreachSubject,
  OutreachTarget,
  RecipientChoice,
} from './consent.ts';
export { listQuarantine, getQuarantine, lockOpenQuarantine, closeQuarantine, discardQuarantined, quarantineNow } from './quarantine.ts';
export type { QuarantineRecord } from './quarantine.ts';
export { scoreSentiment } from './sentiment.ts';
export { admitSignal, profileQuality, sourceQuality, signalGateIssues, QUALITY_RULES, PLACEHOLDER_ACCOUNT_NAME } from './quality.ts';
export type { QualityRule, ProfileQuality, SourceQuality } from './quality.ts';
export { featureLineage, type LineageReport, type FeatureLineage } from './lineage.ts';
export {
  IdentitySettings,
  REVIEW_STATUSES,
  bestCandidate,
  decideReview,
  defaultModel,
  febrlTruth,
  fitIdentityModel,
  listMerges,
  mergeHistory,
  listReviews,
  loadIdentitySettings,
  loadMatcher,
  mergeProfiles,
  stewardMerge,
  pairwiseScores,
  personFields,
  profilePeople,
  readPeopleCsv,
  resolvePeople,
  saveIdentitySettings,
  unify,
  unmergeProfiles,
  type PersonRecord,
} from './identity/index.ts';
export { importCsv, isImportEntity, loadDemoCustomers, progressBar, IMPORT_ENTITIES } from './import/index.ts';
export { exportCsv, EXPORT_ENTITIES, isExportEntity, type ExportEntity } from './import/index.ts';
export * from './sense.repo.ts';
export * from './quarantine.repo.ts';
export * from './features.repo.ts';
