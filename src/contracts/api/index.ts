// The HTTP contract's response schemas. The shared pieces live in core.ts, so an area file can import them
// without importing this index (which re-exports the area files) in a cycle.
export * from './core.ts';
export * from './admin.ts';
export * from './agents.ts';
export * from './approvals.ts';
export * from './customers.ts';
export * from './identity.ts';
export * from './insights.ts';
export * from './models.ts';
export * from './outbox.ts';
export * from './policies.ts';
export * from './quality.ts';
export * from './records.ts';
export * from './signals.ts';
export * from './stored.ts';
export * from './trust.ts';
export * from './knowledge.ts';
export * from './assist.ts';
export * from './work.ts';
export * from './webhooks.ts';
