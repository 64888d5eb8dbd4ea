/**
 * Marks the words of a search query in a passage, so a reader sees why it was found. Deliberately simple: the
 * query's words of two or more letters (short function words left out), each matched at the start of a word in the
 * passage, case-insensitively, with a common English ending taken off first ("payments" also marks "payment", "paid"
 * does not). The server's ranking stems properly; this only guides the eye.
 */

const SKIP = new Set([
  'a',
  'an',
  'and',
  'are',
  'as',
  'at',
  'be',
  'by',
  'can',
  'do',
  'does',
  'for',
  'from',
  'how',
  'i',
  'if',
  'in',
  'is',
  'it',
  'me',
  'my',
  'of',
  'on',
  'or',
  'the',
  'to',
  'what',
  'when',
  'with',
  'you',
  'your',
]);

/** The stems to look for: the query's words, lower-cased, without a plural or verb ending, longest first. */
export function queryStems(query: string): string[] {
  const words = query.toLowerCase().match(/[\p{L}\p{N}]+(?:[-_][\p{L}\p{N}]+)*/gu) ?? [];
  const stems = new Set<string>();
  for (const word of words) {
    if (word.length < 2 || SKIP.has(word)) continue;
    stems.add(stem(word));
  }
  return [...stems].sort((a, b) => b.length - a.length);
}

function stem(word: string): string {
  for (const ending of ['ies', 'ing', 'es', 'ed', 's']) {
    if (word.length - ending.length >= 4 && word.endsWith(ending)) return word.slice(0, -ending.length);
  }
  return word;
}

export interface Piece {
  text: string;
  hit: boolean;
}

/** `text` cut into pieces, each a hit (a word starting with one of the query's stems) or not; joined they are `text`. */
export function highlight(text: string, query: string): Piece[] {
  const stems = queryStems(query);
  if (!stems.length) return text ? [{ text, hit: false }] : [];
  const escaped = stems.map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  // A stem at the start of a word, then the rest of that word.
  const pattern = new RegExp(`(?<![\\p{L}\\p{N}])(?:${escaped.join('|')})[\\p{L}\\p{N}]*`, 'giu');
  const pieces: Piece[] = [];
  let at = 0;
  for (const m of text.matchAll(pattern)) {
    const start = m.index;
    if (start > at) pieces.push({ text: text.slice(at, start), hit: false });
    pieces.push({ text: m[0], hit: true });
    at = start + m[0].length;
  }
  if (at < text.length) pieces.push({ text: text.slice(at), hit: false });
  return pieces;
}
