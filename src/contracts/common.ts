import { z } from 'zod';

export const Attributes = z.record(z.string(), z.unknown());
export const Timestamp = z.iso.datetime({ offset: true });
export const DateOnly = z.iso.date();
// numeric(14,2) holds values below 10^12.
export const Money = z.number().finite().min(0).lt(1e12);
export const Currency = z.string().regex(/^[A-Z]{3}$/, 'must be a 3-letter ISO currency code');
export const ShortText = z.string().trim().min(1).max(200);
export const Email = z.string().trim().max(254).email();
export const Phone = z
  .string()
  .trim()
  .regex(/^\+?[0-9 ().-]{5,24}$/, 'must be a phone number: digits with optional +, spaces, dots, dashes or parentheses')
  .refine((p) => p.replace(/\D/g, '').length >= 5, 'must hold at least 5 digits');

/** One field-level problem, as every 4xx body and quarantine record reports it. */
export interface FieldIssue {
  path: string;
  message: string;
}

export function toFieldIssues(error: z.ZodError, prefix = ''): FieldIssue[] {
  return error.issues.flatMap((issue) => {
    const base = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => ({ path: base ? `${base}.${k}` : k, message: 'unknown field' }));
    }
    return [{ path: base || '(root)', message: issue.message }];
  });
}

// PostgreSQL text and jsonb cannot hold NUL, and JSON text cannot hold an unpaired UTF-16 surrogate.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Finds strings (values or keys) that the database cannot store, so they become a 400 naming the field
 * instead of a failed transaction.
 */
export function unstorableText(value: unknown, path = ''): FieldIssue[] {
  const here = (p: string) => p || '(root)';
  if (typeof value === 'string') return UNSTORABLE.test(value) ? [{ path: here(path), message: 'contains a NUL character or an unpaired surrogate, which cannot be stored' }] : [];
  if (value === null || typeof value !== 'object') return [];
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  return entries.flatMap(([k, v]) => {
    const child = path ? `${path}.${k}` : k;
    return UNSTORABLE.test(k) ? [{ path: here(path), message: 'a field name contains a NUL character or an unpaired surrogate' }] : unstorableText(v, child);
  });
}

/** Makes text safe to keep (in quarantine): NUL and unpaired surrogates become visible escapes. */
export function storableText(text: string): string {
  return text.replace(new RegExp(UNSTORABLE.source, 'g'), (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
