import type { Context } from 'hono';
import { AppError, type ErrorCode } from '../errors.ts';
import { quarantineNow } from '../sense/index.ts';
import type { ApiDeps } from './deps.ts';
import { readBodyText } from './http.ts';
import { actorOf, type AppEnv } from './router.ts';

const KEPT: Partial<Record<ErrorCode, string>> = {
  malformed_json: 'malformed JSON',
  validation_failed: 'failed validation',
  payload_too_large: 'body too large',
  unsupported_media_type: 'unsupported content type',
};

/**
 * Reads the body and hands it to `parse`. When the input is refused, the raw body (or, when too large,
 * its first bytes) is kept in quarantine with the reason, and the error carries the quarantine id:
 * nothing a client sent is lost.
 */
export async function readOrQuarantine<T>(c: Context<AppEnv>, deps: ApiDeps, source: string, parse: (text: string) => T): Promise<T> {
  let text = '';
  try {
    text = await readBodyText(c, deps.config.maxBodyBytes);
    return parse(text);
  } catch (err) {
    const reason = err instanceof AppError ? KEPT[err.code] : undefined;
    if (!reason || !(err instanceof AppError)) throw err;
    // A body over the byte limit was not read whole: its first bytes are what there is to keep.
    const truncated = typeof err.extra.prefix === 'string';
    const raw = truncated ? (err.extra.prefix as string) : text;
    const issues = err.issues.length
      ? err.issues
      : [{ path: '(body)', message: truncated ? `${err.message}; only the first ${raw.length} characters are kept` : err.message }];
    const quarantineId = await quarantineNow(deps.db, { source, reason, issues, raw }, actorOf(c));
    const { prefix: _prefix, ...extra } = err.extra;
    throw new AppError(err.code, err.message, err.issues, { ...extra, quarantineId });
  }
}
