/**
 * Trigram similarity in JS: what search uses where the database has no pg_trgm. It follows pg_trgm's idea (words
 * lower-cased, padded with two spaces before and one after, cut into three-letter pieces) and scores a query word
 * against the best run of one to three consecutive words of the text: the share of trigrams they have in common
 * (Jaccard). pg_trgm's word_similarity differs in detail, so the two agree on order more than on exact values.
 */

const words = (s: string) => s.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

function trigrams(ws: string[]): Set<string> {
  const out = new Set<string>();
  for (const w of ws) {
    const padded = `  ${w} `;
    for (let i = 0; i + 3 <= padded.length; i++) out.add(padded.slice(i, i + 3));
  }
  return out;
}

function jaccard(a: Set<string>, b: Set<string>): number {
  let common = 0;
  for (const t of a) if (b.has(t)) common++;
  const union = a.size + b.size - common;
  return union === 0 ? 0 : common / union;
}

/** How well `needle` matches some run of words in `haystack`, 0 to 1. */
export function wordSimilarity(needle: string, haystack: string): number {
  const q = trigrams(words(needle));
  if (q.size === 0) return 0;
  const ws = words(haystack);
  let best = 0;
  for (let i = 0; i < ws.length; i++) {
    for (let n = 1; n <= 3 && i + n <= ws.length; n++) best = Math.max(best, jaccard(q, trigrams(ws.slice(i, i + n))));
    if (best === 1) break;
  }
  return best;
}

/** Whether a query word looks like a name or a code: it has a digit, a hyphen or an underscore, or is in capitals. */
export const looksLikeCode = (token: string) => /[\d_-]/.test(token) || (/^[A-Z]{2,}$/.test(token) && token.length <= 12);

/** The words of a query (two characters or more, at most 32): letters, digits, hyphens and underscores. */
export function queryTokens(q: string): string[] {
  const raw = q.match(/[\p{L}\p{N}][\p{L}\p{N}_-]*[\p{L}\p{N}]|[\p{L}\p{N}]/gu) ?? [];
  return [...new Set(raw.filter((t) => t.length >= 2))].slice(0, 32);
}
