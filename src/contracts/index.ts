export * from './common.ts';
export * from './normalize.ts';
export * from './records.ts';
export * from './signals.ts';
