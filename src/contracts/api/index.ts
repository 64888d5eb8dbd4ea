export * from './core.ts';
export * from './admin.ts';
export * from './approvals.ts';
export * from './customers.ts';
export * from './identity.ts';
export * from './quality.ts';
export * from './signals.ts';
export * from './stored.ts';
