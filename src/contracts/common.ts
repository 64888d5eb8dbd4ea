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
