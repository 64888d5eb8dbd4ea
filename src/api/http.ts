import type { Context } from 'hono';
import { z } from 'zod';
import { toFieldIssues } from '../contracts/index.ts';
import { AppError } from '../errors.ts';

/** Reads the request body as text, refusing more than `limit` bytes; the prefix read is kept on the error. */
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
      await reader.cancel().catch(() => undefined);
      const prefix = Buffer.concat([...chunks, value]).subarray(0, limit).toString('utf8');
      throw new AppError('payload_too_large', `request body exceeds the ${limit}-byte limit (ACS_MAX_BODY_BYTES)`, [], {
        limit,
        ...(Number.isFinite(declared) ? { declaredBytes: declared } : {}),
        prefix,
      });
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Parses JSON text; a syntax error is a 400 that says where. */
export function parseJsonText(text: string): unknown {
  if (!text.trim()) throw new AppError('malformed_json', 'request body is empty; send a JSON document');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new AppError('malformed_json', `malformed JSON: ${(err as Error).message}`);
  }
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
