import type { PersonField } from './types.ts';

/** Jaro–Winkler similarity in [0, 1] (prefix scale 0.1, up to 4 characters). */
export function jaroWinkler(a: string, b: string): number {
  if (a === b) return a.length ? 1 : 0;
  const la = a.length;
  const lb = b.length;
  if (!la || !lb) return 0;
  const window = Math.max(0, Math.floor(Math.max(la, lb) / 2) - 1);
  const matchedB = new Uint8Array(lb);
  const matchedA = new Uint8Array(la);
  let matches = 0;
  for (let i = 0; i < la; i++) {
    const lo = Math.max(0, i - window);
    const hi = Math.min(lb - 1, i + window);
    for (let j = lo; j <= hi; j++) {
      if (!matchedB[j] && a.charCodeAt(i) === b.charCodeAt(j)) {
        matchedA[i] = 1;
        matchedB[j] = 1;
        matches++;
        break;
      }
    }
  }
  if (!matches) return 0;
  let transpositions = 0;
  for (let i = 0, j = 0; i < la; i++) {
    if (!matchedA[i]) continue;
    while (!matchedB[j]) j++;
    if (a.charCodeAt(i) !== b.charCodeAt(j)) transpositions++;
    j++;
  }
  const jaro = (matches / la + matches / lb + (matches - transpositions / 2) / matches) / 3;
  let prefix = 0;
  while (prefix < 4 && prefix < la && prefix < lb && a.charCodeAt(prefix) === b.charCodeAt(prefix)) prefix++;
  return jaro + prefix * 0.1 * (1 - jaro);
}

/** At most one edit apart: one substitution, insertion, deletion, or a swap of two neighbours. */
export function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > 1) return false;
  let i = 0;
  while (i < la && i < lb && a[i] === b[i]) i++;
  if (la === lb) {
    if (a.slice(i + 1) === b.slice(i + 1)) return true; // substitution
    return a[i] === b[i + 1] && a[i + 1] === b[i] && a.slice(i + 2) === b.slice(i + 2); // transposition
  }
  return la > lb ? a.slice(i + 1) === b.slice(i) : a.slice(i) === b.slice(i + 1);
}

/** American Soundex: a name's sound as a letter and three digits, for blocking names spelt differently. */
export function soundex(name: string): string {
  const s = name.replace(/[^a-z]/g, '');
  if (!s) return '';
  const code = (c: string) =>
    'bfpv'.includes(c)
      ? '1'
      : 'cgjkqsxz'.includes(c)
        ? '2'
        : 'dt'.includes(c)
          ? '3'
          : c === 'l'
            ? '4'
            : 'mn'.includes(c)
              ? '5'
              : c === 'r'
                ? '6'
                : '';
  let out = s[0]!.toUpperCase();
  let last = code(s[0]!);
  for (let i = 1; i < s.length && out.length < 4; i++) {
    const c = s[i]!;
    const d = code(c);
    if (d && d !== last) out += d;
    if (c !== 'h' && c !== 'w') last = d;
  }
  return out.padEnd(4, '0');
}

/**
 * How two values of a field compare, as a level: the highest level is exact agreement, 0 is disagreement,
 * and levels between are partial agreements. `null` when either value is missing (the field then says nothing).
 */
export type Comparator = (a: string, b: string) => number;

export interface FieldComparison {
  field: PersonField;
  /** Level names, index = level; the last is exact agreement. */
  levels: string[];
  compare: Comparator;
  /** Exact agreement's weight is adjusted for how common the value is (common surnames say less). */
  termFrequency?: boolean;
}

/** Nicknames both ways: `bill` and `william` are the same given name. */
export function nicknameIndex(nicknames: Record<string, readonly string[]>): Map<string, Set<string>> {
  const index = new Map<string, Set<string>>();
  const link = (a: string, b: string) => (index.get(a) ?? index.set(a, new Set()).get(a)!).add(b);
  for (const [name, short] of Object.entries(nicknames)) {
    for (const n of short) {
      link(name, n);
      link(n, name);
    }
  }
  return index;
}

const names =
  (nicknames: Map<string, Set<string>>, crossField?: boolean): Comparator =>
  (a, b) => {
    if (a === b) return 4;
    const jw = jaroWinkler(a, b);
    if (jw >= 0.94 || nicknames.get(a)?.has(b)) return 3;
    if (jw >= 0.85) return 2;
    // An initial against the full name, or (for given names) the start of one name in the other.
    if ((a.length === 1 && b.startsWith(a)) || (b.length === 1 && a.startsWith(b)) || (crossField && jw >= 0.75)) return 1;
    return 0;
  };

/** Dates as YYYYMMDD: exact; day and month swapped or one digit off or swapped; same year and month; else 0. */
export const compareDates: Comparator = (a, b) => {
  if (a === b) return 3;
  if (
    a.length === 8 &&
    b.length === 8 &&
    a.slice(0, 4) === b.slice(0, 4) &&
    a.slice(4, 6) === b.slice(6, 8) &&
    a.slice(6, 8) === b.slice(4, 6)
  )
    return 2;
  if (a.length === b.length && withinOneEdit(a, b)) return 2;
  if (a.slice(0, 6) === b.slice(0, 6) || (a.slice(0, 4) === b.slice(0, 4) && a.slice(6) === b.slice(6))) return 1;
  return 0;
};

/** Codes (postcodes, national ids, street numbers): exact, one edit apart, or different. */
export const compareCodes: Comparator = (a, b) => (a === b ? 2 : withinOneEdit(a, b) ? 1 : 0);

/** Free text (street, suburb): exact, close (Jaro–Winkler ≥ 0.9), similar (≥ 0.8), or different. */
export const compareText: Comparator = (a, b) => {
  if (a === b) return 3;
  const jw = jaroWinkler(a, b);
  return jw >= 0.9 ? 2 : jw >= 0.8 ? 1 : 0;
};

/** Strong identifiers (normalized email, phone): the same or not. */
export const compareExact: Comparator = (a, b) => (a === b ? 1 : 0);

/** The comparisons the matcher makes, field by field. */
export function personComparisons(nicknames: Map<string, Set<string>>): FieldComparison[] {
  return [
    {
      field: 'givenName',
      levels: ['different', 'initial', 'similar', 'close or nickname', 'exact'],
      compare: names(nicknames, true),
      termFrequency: true,
    },
    { field: 'surname', levels: ['different', 'initial', 'similar', 'close', 'exact'], compare: names(nicknames), termFrequency: true },
    { field: 'dateOfBirth', levels: ['different', 'same year and month', 'one slip', 'exact'], compare: compareDates },
    { field: 'streetNumber', levels: ['different', 'one edit', 'exact'], compare: compareCodes },
    { field: 'address1', levels: ['different', 'similar', 'close', 'exact'], compare: compareText },
    { field: 'suburb', levels: ['different', 'similar', 'close', 'exact'], compare: compareText, termFrequency: true },
    { field: 'postcode', levels: ['different', 'one edit', 'exact'], compare: compareCodes, termFrequency: true },
    { field: 'state', levels: ['different', 'exact'], compare: compareExact },
    { field: 'nationalId', levels: ['different', 'one edit', 'exact'], compare: compareCodes },
    { field: 'email', levels: ['different', 'exact'], compare: compareExact },
    { field: 'phone', levels: ['different', 'exact'], compare: compareExact },
  ];
}
