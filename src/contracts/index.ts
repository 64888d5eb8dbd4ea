export * from './common.ts';
export * from './json.ts';
export * from './records.ts';
export * from './signals.ts';
