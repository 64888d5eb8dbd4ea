/**
 * contracts: what clients send and get, as zod schemas and types (signals, records, field issues), and the
 * identity-key normalization both sides share. Imports nothing of the product, so anything may depend on it.
 */
export * from './common.ts';
export * from './json.ts';
export * from './normalize.ts';
export * from './records.ts';
export * from './signals.ts';
