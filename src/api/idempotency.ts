import { createHash } from 'node:crypto';
import type { Context } from 'hono';
import { AppError } from '../errors.ts';
import type { Db } from '../store/index.ts';
import { claimIdempotencyKey, completeIdempotencyKey, purgeExpiredIdempotencyKeys, releaseIdempotencyKey } from './idempotency.repo.ts';
import { problemOfAppError, respondProblem } from './problem.ts';
import type { AppEnv } from './router.ts';

/** The request header a client names a POST's key in, and the answer header that says an answer is a replay. */
export const IDEMPOTENCY_KEY_HEADER = 'Idempotency-Key';
export const REPLAYED_HEADER = 'Idempotent-Replayed';

/** Printable ASCII without spaces, as Stripe's keys: a UUID or any token of the client's making up to 255 characters. */
const SANE_KEY = /^[\x21-\x7e]{1,255}$/;
/** A first request still unanswered after this long is taken to have died with its process; its key may be claimed again. */
const ABANDON_SECONDS = 600;
/** Statuses not kept: the request was refused before it acted (bad input, a limit) or failed on the server, so a retry runs it again. */
const NOT_KEPT = new Set([400, 413, 415, 422, 429]);
/** Answer headers a replay repeats (the body, status and content type always). */
const KEPT_HEADERS = ['location', 'etag'];

const keyIssue = (message: string) => [{ path: IDEMPOTENCY_KEY_HEADER, message }];

/**
 * Reads the body up to `limit` bytes and puts what was read back in front of the rest, so the handler reads the
 * same stream (and answers an oversized body as it always does). The bytes when the body fit; null when it did not.
 */
async function peekBody(c: Context<AppEnv>, limit: number): Promise<Uint8Array | null> {
  const raw = c.req.raw;
  const reader = raw.body?.getReader();
  if (!reader) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let done = false;
  while (size <= limit) {
    const next = await reader.read();
    if (next.done) {
      done = true;
      break;
    }
    chunks.push(next.value);
    size += next.value.byteLength;
  }
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (i < chunks.length) return controller.enqueue(chunks[i++]!);
      if (done) return controller.close();
      const next = await reader.read();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  c.req.raw = new Request(raw.url, { method: raw.method, headers: raw.headers, body, duplex: 'half', signal: raw.signal } as RequestInit);
  return done ? Buffer.concat(chunks) : null;
}

/**
 * `Idempotency-Key` on POST, with Stripe's semantics, per token: the first request with a key runs and its answer
 * is kept for 24 hours; the same key with the same method, path and body gets that answer again (with
 * `Idempotent-Replayed: true`) without running; the same key with another request is a 422 naming the header; and
 * while the first is still running, a 409. Answers to refused input (400, 413, 415, 422), a rate limit and server
 * faults are not kept, so a corrected retry may use the same key.
 */
export function idempotency(db: Db, maxBodyBytes: number) {
  let lastPurge = 0;
  return async (c: Context<AppEnv>, run: () => Promise<Response>): Promise<Response> => {
    const key = c.req.header(IDEMPOTENCY_KEY_HEADER);
    if (key === undefined) return run();
    if (!SANE_KEY.test(key))
      throw new AppError(
        'bad_request',
        `${IDEMPOTENCY_KEY_HEADER} must be 1 to 255 printable ASCII characters without spaces`,
        keyIssue('not a usable key'),
      );
    const bytes = await peekBody(c, maxBodyBytes);
    if (bytes === null) return run(); // Over the body limit: refused with a 413, which is never kept.
    const principal = c.get('principal').tokenId;
    const bodyHash = createHash('sha256').update(bytes).digest('hex');
    if (Date.now() - lastPurge > 3600_000) {
      lastPurge = Date.now();
      purgeExpiredIdempotencyKeys(db).catch((err: unknown) => c.get('log').warn({ err }, 'purging expired idempotency keys failed'));
    }
    const claim = await claimIdempotencyKey(db, {
      principal,
      key,
      method: c.req.method,
      path: c.req.path,
      bodyHash,
      abandonSeconds: ABANDON_SECONDS,
    });
    if (!claim.claimed) {
      const row = claim.row;
      if (row.method !== c.req.method || row.path !== c.req.path || row.body_hash !== bodyHash)
        throw new AppError(
          'idempotency.key_reused',
          `${IDEMPOTENCY_KEY_HEADER} '${key}' was used for another request (${row.method} ${row.path}${row.body_hash !== bodyHash ? ' with another body' : ''}); use a new key`,
          keyIssue('already used for another request'),
        );
      if (row.status === null)
        throw new AppError(
          'idempotency.in_flight',
          `a request with ${IDEMPOTENCY_KEY_HEADER} '${key}' is still running; retry later`,
          keyIssue('in flight'),
        );
      const headers = new Headers(row.response_headers);
      if (row.content_type) headers.set('content-type', row.content_type);
      headers.set(REPLAYED_HEADER, 'true');
      const empty = row.status === 204 || row.status === 304;
      return new Response(empty ? null : row.response_body, { status: row.status, headers });
    }
    let res: Response;
    try {
      res = await run();
    } catch (err) {
      if (!(err instanceof AppError)) {
        await releaseIdempotencyKey(db, principal, key);
        throw err;
      }
      res = respondProblem(c, problemOfAppError(err, c.req.path));
    }
    if (NOT_KEPT.has(res.status) || res.status >= 500) {
      await releaseIdempotencyKey(db, principal, key);
      return res;
    }
    const headers: Record<string, string> = {};
    for (const name of KEPT_HEADERS) {
      const value = res.headers.get(name);
      if (value !== null) headers[name] = value;
    }
    const body = await res.clone().text();
    await completeIdempotencyKey(db, principal, key, { status: res.status, contentType: res.headers.get('content-type'), body, headers });
    return res;
  };
}
