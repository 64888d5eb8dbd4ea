/**
 * views: read models that join the tables of several modules (the 360 profile, the approval queue, the proposals
 * feed, readiness, the subject export, KPIs). They only read, and import nothing but store, contracts and lib, so
 * any module may call them. Owns no tables.
 */
export * from './identity.ts';
export * from './subject-export.ts';
export * from './world-driver.ts';
export * from './world-report.ts';
export * from './readiness.ts';
export * from './kpis.ts';
export * from './metrics.ts';
export * from './track-record.ts';
export * from './model-usage.ts';
export * from './training-data.ts';
export * from './bandits.ts';
export * from './customer-360.ts';
export * from './approval-queue.ts';
export * from './message-facts.ts';
export * from './decision-grant.ts';
export * from './decision-context.ts';
export * from './proposals-feed.ts';
export * from './world-clock.ts';
export * from './supervisor.ts';
export * from './uplift-model.ts';
export * from './churn-calibration.ts';
export * from './person-names.ts';
export * from './work-items.ts';
export * from './customer-search.ts';
export * from './actor-names.ts';
export * from './ledger-context.ts';
