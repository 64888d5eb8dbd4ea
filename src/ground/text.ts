/**
 * Lexical text handling shared by the composer and the guardrails: sentences, content words, citation markers, money
 * amounts, and the support score. Everything here is deterministic and needs no model.
 *
 * Support, as ground scores it: the share of a sentence's (or question's) content words that also occur in the
 * passage, after lower-casing, dropping stop words and a light suffix stemming. 1 means every content word of the
 * sentence is in the passage (an extracted sentence scores 1); 0 means none is.
 */

const STOP_WORDS = new Set(
  (
    'a an and are as at be been being but by can could did do does doing for from had has have having he her here hers him his how ' +
    'i if in into is it its just me more most my no nor not of off on once only or other our ours out over own same she should so ' +
    'some such than that the their theirs them then there these they this those through to too under until up very was we were ' +
    'what when where which while who whom why will with would you your yours yourself us also any each about after again all am ' +
    'because before below between both down during few further may might must shall ’s s t don now get got let lets'
  ).split(' '),
);

/** The citation markers of a text: `[1]`, `[2]`… name passages by their 1-based position; `[C]` names the customer's facts. */
export const CITATION_PATTERN = /\[(\d{1,3}|C)\]/g;
export const FACTS_MARKER = 'C';

/** Strips a word's common English suffixes so "refunds", "refunded" and "refund" meet. Deliberately crude. */
export function stem(word: string): string {
  let w = word;
  const m = w.match(/^(.*?)(ing|ed|es|s|e|ly)$/);
  if (m && m[1]!.length >= 3 && !w.endsWith('ss')) w = m[1]!;
  if (/([b-df-hj-np-tv-z])\1$/.test(w) && w.length > 3) w = w.slice(0, -1);
  return w;
}

/** Lower-cased word tokens; numbers keep their decimal part ("45.00"). Citation markers are not words. */
export function words(text: string): string[] {
  return (
    text
      .replace(CITATION_PATTERN, ' ')
      .toLowerCase()
      .match(/[a-z0-9]+(?:[.,'’][a-z0-9]+)*/g) ?? []
  );
}

/** The stemmed content words of a text, as a set. */
export function contentWords(text: string): Set<string> {
  const out = new Set<string>();
  for (const w of words(text)) {
    const bare = w.replace(/['’]s$/, '').replace(/,/g, '');
    if (STOP_WORDS.has(bare) || bare.length < 2) continue;
    out.add(/^\d/.test(bare) ? String(Number.parseFloat(bare)) : stem(bare));
  }
  return out;
}

/** Support of `claim` by `source`: the share of the claim's content words found in the source (0 when it has none). */
export function support(claim: string | Set<string>, source: string | Set<string>): number {
  const c = typeof claim === 'string' ? contentWords(claim) : claim;
  const s = typeof source === 'string' ? contentWords(source) : source;
  if (c.size === 0) return 0;
  let hit = 0;
  for (const w of c) if (s.has(w)) hit += 1;
  return hit / c.size;
}

/** The markers a sentence cites, in order, without repeats. */
export function citationsOf(sentence: string): string[] {
  return [...new Set([...sentence.matchAll(CITATION_PATTERN)].map((m) => m[1]!))];
}

/** A sentence without its citation markers. */
export const withoutCitations = (sentence: string) =>
  sentence
    .replace(CITATION_PATTERN, '')
    .replace(/\s+([.!?,;:])/g, '$1')
    .replace(/\s{2,}/g, ' ')
    .trim();

/**
 * Splits a text into sentences: by line, then after `.`, `!` or `?` followed by space. A fragment that is only
 * citation markers ("… days. [2]") belongs to the sentence before it. Markdown bullets and heading signs are dropped.
 */
export function sentences(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw
      .replace(/^\s*(#{1,6}\s+|[-*+]\s+|\d+[.)]\s+|>\s*)/, '')
      .replace(/\s+/g, ' ')
      .trim();
    if (!line) continue;
    for (const part of line.split(/(?<=[.!?])\s+/)) {
      const p = part.trim();
      if (!p) continue;
      if (/^(\[(\d{1,3}|C)\]\s*)+[.!?]?$/.test(p) && out.length > 0) out[out.length - 1] += ` ${p}`;
      else out.push(p);
    }
  }
  return out;
}

/** Money amounts written in a text ("$45", "$1,200.50", "45 dollars", "€9.99"), as numbers. */
export function moneyAmounts(text: string): number[] {
  const out: number[] = [];
  const re = /([$€£])\s?(\d[\d,]*(?:\.\d+)?)|(\d[\d,]*(?:\.\d+)?)\s?(?:dollars?|usd|eur|euros?|gbp|pounds?)\b/gi;
  for (const m of text.matchAll(re)) out.push(Number.parseFloat((m[2] ?? m[3]!).replace(/,/g, '')));
  return out;
}

/** Formats an amount the way the composer writes money. */
export const formatMoney = (amount: number, currency = '$') => `${currency}${amount.toFixed(2)}`;

/** A sentence of a text as a reader sees it, and the markers that cite its evidence. */
export interface CitedSentence {
  text: string;
  markers: string[];
}

/**
 * Splits a marked text into what a customer reads and the evidence beside it: `body` is the text with every citation
 * marker removed (lines kept), `sentences` the body's sentences that cite something, each with its markers in order.
 * The markers are the reviewer's evidence; the body is what the transport sends.
 */
export function separateCitations(text: string): { body: string; sentences: CitedSentence[] } {
  const body = text
    .split('\n')
    .map((line) => line.replace(/\s*\[(\d{1,3}|C)\]/g, '').replace(/[ \t]+$/, ''))
    .join('\n');
  const cited = sentences(text)
    .map((s) => ({ text: withoutCitations(s), markers: citationsOf(s) }))
    .filter((s) => s.markers.length > 0);
  return { body, sentences: cited };
}
