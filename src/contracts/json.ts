import type { FieldIssue } from './common.ts';

/**
 * How deeply a JSON value may nest (objects and arrays), in any body. No ACS contract needs more than a
 * few levels; the limit keeps recursive code (JSON.stringify, validators) far from the stack's end.
 */
export const MAX_JSON_DEPTH = 64;

/** At most this many hazards are reported per value, so a hostile body cannot make a huge error. */
const MAX_HAZARDS = 20;

// PostgreSQL text and jsonb cannot hold NUL, and JSON text cannot hold an unpaired UTF-16 surrogate.
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

/** Makes text safe to keep and to show: NUL and unpaired surrogates become visible `\uXXXX` escapes. */
export function storableText(text: string): string {
  return text.replace(UNSTORABLE_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Appends a key to a field path, the way toFieldIssues writes paths; the key is made storable. */
const childPath = (path: string, key: string) => (path ? `${path}.${storableText(key)}` : storableText(key));

/**
 * Finds what the database cannot hold, or what would be lost silently, in a decoded JSON value:
 * nesting deeper than MAX_JSON_DEPTH, NUL characters and unpaired surrogates in strings and keys,
 * numbers that overflowed to Infinity, and `__proto__` keys (object copies drop them). Each issue names
 * its field path. It walks with an explicit stack, so no nesting depth can overflow the call stack;
 * run it before anything recursive touches the value. (V8's JSON.parse does not recurse; JSON.stringify
 * and validators do.)
 */
export function jsonHazards(value: unknown, prefix = ''): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const stack: { v: unknown; path: string; depth: number }[] = [{ v: value, path: prefix, depth: 0 }];
  const at = (path: string) => path || '(root)';
  while (stack.length && issues.length < MAX_HAZARDS) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === 'string') {
      if (UNSTORABLE.test(v))
        issues.push({ path: at(path), message: 'contains a NUL character or an unpaired surrogate, which cannot be stored' });
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) issues.push({ path: at(path), message: 'number is too large to represent' });
    } else if (v !== null && typeof v === 'object') {
      if (depth >= MAX_JSON_DEPTH) {
        issues.push({ path: at(path), message: `nested deeper than ${MAX_JSON_DEPTH} levels` });
        continue;
      }
      const entries: [string, unknown][] = Array.isArray(v) ? v.map((x, i) => [String(i), x]) : Object.entries(v);
      // Reversed onto the stack, so issues come out in document order.
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, x] = entries[i]!;
        const child = childPath(path, k);
        if (UNSTORABLE.test(k))
          issues.push({ path: child, message: 'the field name contains a NUL character or an unpaired surrogate, which cannot be stored' });
        else if (k === '__proto__' && !Array.isArray(v))
          issues.push({ path: child, message: 'the field name __proto__ is not accepted; rename it' });
        else stack.push({ v: x, path: child, depth: depth + 1 });
      }
    }
  }
  return issues;
}

/** A field issue made storable: paths and messages may quote client text. */
export const storableIssue = (i: FieldIssue): FieldIssue => ({ path: storableText(i.path), message: storableText(i.message) });

/**
 * The text of each element of a JSON array, exactly as sent, from text that JSON.parse accepted as an
 * array. A refused element is kept as the client wrote it (a re-serialisation would change numbers such
 * as 1e400, and would recurse). It scans iteratively.
 */
export function jsonArrayElements(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '[' || ch === '{') {
      depth++;
      if (depth === 1) start = i + 1;
      continue;
    } else if (ch === ']' || ch === '}') {
      depth--;
      if (depth === 0) {
        const last = text.slice(start, i).trim();
        if (last) out.push(last);
        break;
      }
      continue;
    }
    if (ch === ',' && depth === 1) {
      out.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  return out;
}
