/**
 * Lexicon sentiment for support-ticket text, in [-1, 1]. Deterministic and offline: good enough to
 * rank tickets by frustration, and it explains itself (the matched words are returned).
 * A negator ("not", "never", ...) within two words before a term flips it.
 */
const LEXICON: Record<string, number> = {
  // negative
  angry: -3,
  furious: -4,
  terrible: -3,
  awful: -3,
  horrible: -3,
  worst: -4,
  hate: -3,
  useless: -3,
  broken: -2,
  broke: -2,
  fail: -2,
  failed: -2,
  failing: -2,
  failure: -2,
  error: -2,
  errors: -2,
  crash: -3,
  crashes: -3,
  crashed: -3,
  down: -1,
  outage: -3,
  slow: -2,
  unacceptable: -4,
  disappointed: -3,
  disappointing: -3,
  frustrated: -3,
  frustrating: -3,
  annoying: -2,
  cancel: -2,
  cancelling: -3,
  canceling: -3,
  leave: -2,
  leaving: -3,
  switch: -1,
  switching: -2,
  refund: -2,
  overcharged: -3,
  charged: -1,
  wrong: -2,
  problem: -2,
  problems: -2,
  issue: -1,
  issues: -1,
  bug: -2,
  bugs: -2,
  complaint: -2,
  unhappy: -3,
  poor: -2,
  bad: -2,
  never: -1,
  again: -1,
  waiting: -2,
  waited: -2,
  ignored: -3,
  rude: -3,
  lost: -2,
  missing: -2,
  dropped: -2,
  expensive: -2,
  ridiculous: -3,
  nightmare: -4,
  scam: -4,
  lawyer: -3,
  dispute: -2,
  unreliable: -3,
  still: -1,
  // positive
  thanks: 2,
  thank: 2,
  great: 3,
  excellent: 4,
  good: 2,
  love: 3,
  happy: 3,
  helpful: 3,
  resolved: 2,
  fixed: 2,
  works: 2,
  working: 1,
  quick: 2,
  fast: 2,
  perfect: 3,
  awesome: 4,
  amazing: 4,
  appreciate: 3,
  pleased: 3,
  satisfied: 3,
  easy: 2,
  smooth: 2,
};
const NEGATORS = new Set([
  'not',
  'no',
  "don't",
  'dont',
  "doesn't",
  'doesnt',
  "isn't",
  'isnt',
  "wasn't",
  'wasnt',
  'never',
  "can't",
  'cant',
  'cannot',
]);

export interface Sentiment {
  score: number;
  matched: string[];
}

export function scoreSentiment(text: string): Sentiment {
  const words = text.toLowerCase().match(/[a-z']+/g) ?? [];
  let total = 0;
  const matched: string[] = [];
  words.forEach((word, i) => {
    const weight = LEXICON[word];
    if (weight === undefined) return;
    const negated = NEGATORS.has(words[i - 1] ?? '') || NEGATORS.has(words[i - 2] ?? '');
    total += negated && word !== 'never' ? -weight / 2 : weight;
    matched.push(negated ? `not ${word}` : word);
  });
  if (matched.length === 0) return { score: 0, matched };
  // Normalise by length so long tickets do not saturate; tanh keeps the score in (-1, 1).
  const score = Math.tanh(total / Math.sqrt(words.length + 1));
  return { score: Math.round(score * 1000) / 1000, matched };
}
