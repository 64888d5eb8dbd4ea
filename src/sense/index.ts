export { ingestSignals, ingestInTransaction, SIGNALS_ACCEPTED } from './intake.ts';
export { IntakeQueue } from './intake-queue.ts';
export type { IntakeItem, IntakeOutcome, IntakeContext, AcceptedSignal, SignalsAcceptedEvent } from './intake.ts';
export { featuresAt, refreshFeatures, subscribeFeatureUpdates, type CustomerFeatures } from './features.ts';
export { getProfile, effectiveConsents, consentHistory, featureHistory } from './profile.ts';
export type { Profile, TimelineItem, ConsentHistoryItem, ChurnInput, FeatureHistory } from './profile.ts';
export { listQuarantine, getQuarantine, lockOpenQuarantine, closeQuarantine, quarantineNow } from './quarantine.ts';
export type { QuarantineRecord } from './quarantine.ts';
export { scoreSentiment } from './sentiment.ts';
