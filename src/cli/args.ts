import { parseArgs, type ParseArgsConfig } from 'node:util';

// Shared by every command; apart from main.ts so commands need not import the dispatcher that loads them.

/** A usage mistake: printed with the usage text, exit code 2. */
export class UsageError extends Error {}

/** parseArgs with usage errors that name the bad option. */
export function parseCommandArgs<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true as const, strict: true as const });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
