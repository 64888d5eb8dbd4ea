/**
 * views: read models that join the tables of several modules (the 360 profile, the approval queue, the proposals
 * feed, readiness, the subject export, KPIs). They only read, and import nothing but store, contracts and lib, so
 * any module may call them. Owns no tables.
 */
export * from './approval-queue.ts';
export * from './decision-grant.ts';
export * from './decision-context.ts';
export * from './proposals-feed.ts';
export * from './world-clock.ts';
