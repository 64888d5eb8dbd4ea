import type { Context } from 'hono';
import { z } from 'zod';
import { jsonHazards, toFieldIssues, type FieldIssue } from '../contracts/index.ts';
import { AppError } from '../errors.ts';

/** A refused request body, carrying the bytes read, so quarantine can keep exactly what was sent. */
export class RefusedBody extends AppError {
  constructor(
    code: 'payload_too_large' | 'malformed_json',
    message: string,
    issues: FieldIssue[],
    extra: Record<string, unknown>,
    readonly bytes: Uint8Array,
  ) {
    super(code, message, issues, extra);
  }
}

/** Decodes UTF-8 strictly: null when the bytes are not valid UTF-8. A byte order mark stays, as JSON.parse then says. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}

/**
 * Reads and drops the rest of an oversized body, so the connection is left at a request boundary: the 413
 * is delivered and the connection can carry the client's next request. Unread bytes left on a kept-alive
 * connection make the server close it later, under requests the client has sent on it since. Past
 * max(4 x limit, 1 MiB) it stops reading and the answer says `Connection: close`, so no client reuses it.
 */
async function dropRest(c: Context, reader: ReadableStreamDefaultReader<Uint8Array>, limit: number): Promise<void> {
  const most = Math.max(4 * limit, 1024 * 1024);
  for (let dropped = 0; ;) {
    const { done, value } = await reader.read();
    if (done) return;
    dropped += value.byteLength;
    if (dropped > most) {
      c.header('connection', 'close');
      await reader.cancel().catch(() => undefined);
      return;
    }
  }
}

/**
 * Reads the request body as text, refusing more than `limit` bytes (its first `limit` bytes are kept on
 * the error) and bytes that are not UTF-8 (never replaced silently).
 */
export async function readBodyText(c: Context, limit: number): Promise<string> {
  const declared = Number(c.req.header('content-length') ?? NaN);
  const reader = c.req.raw.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      const kept = Buffer.concat([...chunks, value]).subarray(0, limit);
      await dropRest(c, reader, limit);
      throw new RefusedBody(
        'payload_too_large',
        `request body exceeds the ${limit}-byte limit (ACS_MAX_BODY_BYTES)`,
        [],
        {
          limit,
          ...(Number.isFinite(declared) ? { declaredBytes: declared } : {}),
        },
        kept,
      );
    }
    chunks.push(value);
  }
  const bytes = Buffer.concat(chunks);
  const text = decodeUtf8(bytes);
  if (text === null)
    throw new RefusedBody(
      'malformed_json',
      'the body is not valid UTF-8; JSON text must be UTF-8',
      [{ path: '(body)', message: 'holds bytes that are not valid UTF-8' }],
      {},
      bytes,
    );
  return text;
}

/** Decodes JSON text; a syntax error is a 400 that says where. The value is not checked: see parseJsonText. */
export function decodeJson(text: string): unknown {
  if (!text.trim()) throw new AppError('malformed_json', 'request body is empty; send a JSON document');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AppError('malformed_json', `malformed JSON: ${(err as Error).message}`);
  }
}

/**
 * Decodes a JSON body and refuses, naming each field, what the store cannot hold or recursion cannot
 * walk (jsonHazards), before any handler touches the value.
 */
export function parseJsonText(text: string): unknown {
  const value = decodeJson(text);
  const hazards = jsonHazards(value);
  if (hazards.length) throw new AppError('validation_failed', 'the body holds values that cannot be accepted', hazards);
  return value;
}

const JSON_TYPE = /^application\/(.+\+)?json\b/i;

/** Passes `text` through when the request says it is JSON; a 415 otherwise. */
export function requireJson(c: Context, text: string): string {
  const type = c.req.header('content-type') ?? '';
  if (!JSON_TYPE.test(type)) throw new AppError('unsupported_media_type', `content-type must be application/json, not '${type || 'none'}'`);
  return text;
}

export async function readJson(c: Context, limit: number): Promise<unknown> {
  return parseJsonText(requireJson(c, await readBodyText(c, limit)));
}

/** Like readJson, but an empty body is `{}`: for actions whose body only carries options. */
export async function readOptionalJson(c: Context, limit: number): Promise<unknown> {
  const text = await readBodyText(c, limit);
  return text.trim() ? parseJsonText(requireJson(c, text)) : {};
}

/** Validates query parameters, naming each bad one. */
export function parseQuery<T extends z.ZodType>(c: Context, schema: T): z.infer<T> {
  const parsed = schema.safeParse(c.req.query());
  if (!parsed.success) throw new AppError('validation_failed', 'invalid query parameters', toFieldIssues(parsed.error, 'query'));
  return parsed.data;
}

/** Validates a decoded JSON body, naming each bad field; `what` names the body in the message. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new AppError('validation_failed', `invalid ${what}`, toFieldIssues(parsed.error));
  return parsed.data;
}
