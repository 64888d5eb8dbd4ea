import type { Context } from 'hono';
import { AppError, type ErrorCode } from '../errors.ts';
import { quarantineNow } from '../sense/index.ts';
import type { ApiDeps } from './deps.ts';
import { decodeUtf8, readBodyText, RefusedBody } from './http.ts';
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
  return readApplyOrQuarantine(c, deps, source, parse, async (input) => input);
}

/**
 * Like readOrQuarantine, then applies the parsed input. When `apply` refuses the content (a validation
 * failure found only in the store, such as a referenced record that does not exist), the body is kept too.
 */
export async function readApplyOrQuarantine<T, R>(
  c: Context<AppEnv>,
  deps: ApiDeps,
  source: string,
  parse: (text: string) => T,
  apply: (input: T) => Promise<R>,
): Promise<R> {
  let text = '';
  let input: T;
  try {
    text = await readBodyText(c, deps.config.maxBodyBytes);
    input = parse(text);
  } catch (err) {
    return quarantineRefused(c, deps, source, err, text);
  }
  try {
    return await apply(input);
  } catch (err) {
    if (err instanceof AppError && err.code === 'validation_failed') return quarantineRefused(c, deps, source, err, text);
    throw err;
  }
}

/** Keeps refused input and rethrows the error with the quarantine id; errors that are not a refusal pass through. */
async function quarantineRefused(c: Context<AppEnv>, deps: ApiDeps, source: string, err: unknown, text: string): Promise<never> {
  const reason = err instanceof AppError ? KEPT[err.code] : undefined;
  if (!reason || !(err instanceof AppError)) throw err;
  // A body that was not read whole (too large) or did not decode (not UTF-8) is kept as the bytes received.
  const bytes = err instanceof RefusedBody ? err.bytes : undefined;
  const decoded = bytes ? decodeUtf8(bytes) : text;
  const raw = decoded ?? Buffer.from(bytes!).toString('utf8');
  const truncated = err.code === 'payload_too_large' && bytes !== undefined;
  const issues = err.issues.length
    ? err.issues
    : [{ path: '(body)', message: truncated ? `${err.message}; only the first ${bytes.byteLength} bytes are kept` : err.message }];
  const quarantineId = await quarantineNow(
    deps.db,
    { source, reason, issues, raw, ...(decoded === null ? { rawBytes: bytes } : {}) },
    actorOf(c),
    deps.clock.now(),
  );
  throw new AppError(err.code, err.message, err.issues, { ...err.extra, quarantineId });
}
