import { factSentences } from './facts.ts';
import { DEFAULT_GUARDRAILS, type GuardrailConfig } from './guardrails.ts';
import { FACTS_MARKER, contentWords, moneyAmounts, sentences, withoutCitations } from './text.ts';
import type { CustomerFacts, Passage, Purpose } from './types.ts';

/**
 * The embedded composer: grounded text with no model. It copies whole sentences out of the retrieved passages (the
 * ones that share the most content words with the question or topic), cites each with the passage's marker, adds the
 * customer's facts as fixed sentences citing `[C]`, and wraps them in the purpose's template: greeting, opening,
 * sign-off and disclaimers, none of which states a fact. The same input always gives the same text.
 *
 * It abstains when the best passage supports the question too little: support is the share of the question's
 * content words found in the passage (see text.ts), counting at most QUERY_WORDS_FOR_FULL_SUPPORT of them, and below
 * ABSTAIN_BELOW_SUPPORT nothing is composed. An outbound
 * text with no question is about its purpose's topic (a list of words, any of which may match): there support is the
 * number of topic words the passage shares over TOPIC_WORDS_FOR_FULL_SUPPORT, capped at 1. Passages quoted must reach
 * QUOTE_ABOVE_SUPPORT and half the best passage's support, so a passage that shares one word is not quoted beside
 * one that answers.
 */

export const COMPOSER_MODEL = 'extractive-composer@1';
/** Below this support of the question by the best passage, generation abstains. */
export const ABSTAIN_BELOW_SUPPORT = 0.34;
/** A passage below this support of the question is not quoted, even when a better one is. */
export const QUOTE_ABOVE_SUPPORT = 0.2;
/**
 * A question is fully supported by a passage that holds all its content words, or this many of them when it has more:
 * a long ticket (greetings, contact details, the story) would otherwise never be supported by any one passage.
 */
export const QUERY_WORDS_FOR_FULL_SUPPORT = 6;
/**
 * A passage an embedding model places at least this close to the question (cosine) supports it as fully as its
 * similarity, though it shares no word with it: retrieval found it by meaning. Model-dependent: 0.6 keeps unrelated
 * texts out for the usual sentence-embedding models, whose unrelated pairs sit well below it.
 */
export const SEMANTIC_SUPPORT_MIN = 0.6;
/** A topic (an outbound text with no question) is fully supported by a passage that shares this many of its words. */
export const TOPIC_WORDS_FOR_FULL_SUPPORT = 3;
/** At most this many sentences are quoted from the passages. */
export const MAX_QUOTED_SENTENCES = 3;
export const ABSTAIN_TEXT = 'Not enough support: route to a person.';
/**
 * A sentence whose content words overlap one already quoted this much (Jaccard: shared over all, of the two sets) says
 * the same thing again and is skipped. 0.4: "The credit appears on your next bill." and "A bill credit reduces the
 * amount due on your next bill." share 3 of 7 words (0.43).
 */
export const REDUNDANT_AT_JACCARD = 0.4;
/**
 * A customer's question (purpose `answer`) is answered only by a sentence that shares more than this share of its
 * content words (counting at most QUERY_WORDS_FOR_FULL_SUPPORT): one shared word of two ("stay" in "an amount stays
 * unpaid" for "Can I get a discount if I stay?") is a coincidence, not an answer. A ticket (a case reply) is long
 * and wordy, so there one shared word still counts.
 */
export const ANSWER_SENTENCE_SHARE = 0.5;
/** A question that asks what something costs: a sentence that states an amount answers it. */
const PRICE_QUESTION = /\b(cost|costs|price|prices|priced|how much|fee|fees|charge|charges|pay)\b/i;
/** What a sentence stating an amount adds to its score under a price question: more than a shared name ("Plan code: …"). */
const PRICE_ANSWER_BONUS = 3;

/** The topic an outbound text is about when the caller gives no question. */
export const PURPOSE_TOPICS: Record<Purpose, string> = {
  retention_offer: 'loyalty offer credit discount plan contract',
  service_recovery: 'outage service disruption credit compensation restore',
  nurture: 'plan features tips benefits internet add-ons faster',
  case_reply: 'help support issue',
  answer: '',
  case_summary: '',
};

export interface ComposeInput {
  purpose: Purpose;
  /** The customer's question, the ticket's text, or an outbound text's topic. */
  query?: string;
  /** An outbound text's topic when it is narrower than its purpose's (PURPOSE_TOPICS), e.g. a credit already applied. */
  topic?: string;
  /** Retrieved passages, best first. `[n]` in the output cites `passages[n - 1]`. */
  passages: Passage[];
  facts?: CustomerFacts;
  /** Who signs outbound texts. */
  signature?: string;
  guardrails?: GuardrailConfig;
}

export interface Composition {
  text: string;
  abstained: boolean;
  /** Why it abstained, with the best support found. */
  reason?: string;
  bestSupport: number;
  /** The markers the text uses, with what each names. */
  citations: { marker: string; chunkId: string }[];
}

/** Which facts each purpose states, in order. */
const PURPOSE_FACTS: Record<Purpose, string[]> = {
  retention_offer: ['plan', 'tenureMonths', 'offer', 'creditApplied'],
  // A case's subject is staff's label (ACS's own agents write some: "Proactive check: …"): a summary states it, and
  // no text for the customer does.
  service_recovery: ['plan', 'offer', 'creditApplied'],
  nurture: ['plan'],
  case_reply: [],
  answer: [],
  case_summary: ['caseSubject', 'plan'],
};

const OPENINGS: Record<Purpose, string> = {
  retention_offer: 'Thank you for being with us.',
  service_recovery: 'We are sorry for the trouble with your service.',
  nurture: 'We hope you are enjoying your service.',
  case_reply: 'Thank you for getting in touch.',
  answer: '',
  case_summary: 'Case summary:',
};

const GREETED: readonly Purpose[] = ['retention_offer', 'service_recovery', 'nurture', 'case_reply'];

/** How well a passage supports a question (containment) or, with no question, the purpose's topic (shared topic words). */
export function passageSupport(purpose: Purpose, query: string | undefined, passage: Passage, topic?: string): number {
  if (purpose === 'case_summary') return 1;
  const given = (query ?? '').trim();
  const q = contentWords(given || topic || PURPOSE_TOPICS[purpose]);
  const words = contentWords(passage.text);
  let shared = 0;
  for (const w of q) if (words.has(w)) shared += 1;
  const full = given ? Math.min(q.size, QUERY_WORDS_FOR_FULL_SUPPORT) : TOPIC_WORDS_FOR_FULL_SUPPORT;
  const lexical = full === 0 ? 0 : Math.min(1, shared / full);
  const semantic = passage.similarity != null && passage.similarity >= SEMANTIC_SUPPORT_MIN ? Math.min(1, passage.similarity) : 0;
  return Math.max(lexical, semantic);
}

/** The best passage's support: how abstention is decided (the same rule on the provider path). */
export function bestSupport(purpose: Purpose, query: string | undefined, passages: Passage[], topic?: string): number {
  return passages.reduce((best, p) => Math.max(best, passageSupport(purpose, query, p, topic)), 0);
}

export function compose(input: ComposeInput): Composition {
  const config = input.guardrails ?? DEFAULT_GUARDRAILS;
  const asked = (input.query ?? '').trim();
  const q = contentWords(asked || input.topic || PURPOSE_TOPICS[input.purpose]);
  const summary = input.purpose === 'case_summary';
  const priceAsked = PRICE_QUESTION.test(asked);
  // A summary summarises what it is given; every other purpose needs passages that speak to the question.
  const scored = input.passages.map((p, i) => ({ p, i, s: passageSupport(input.purpose, input.query, p, input.topic) }));
  const best = scored.reduce((b, x) => Math.max(b, x.s), 0);
  const threshold = summary ? Number.MIN_VALUE : ABSTAIN_BELOW_SUPPORT;
  if (input.passages.length === 0 || best < threshold) {
    return {
      text: ABSTAIN_TEXT,
      abstained: true,
      reason: `best passage support ${round(best)} is below ${ABSTAIN_BELOW_SUPPORT}`,
      bestSupport: round(best),
      citations: [],
    };
  }

  // Candidate sentences from every passage good enough to quote; scored by shared content words, ties by position.
  const candidates: { passage: number; order: number; sentence: string; words: Set<string>; score: number }[] = [];
  for (const { p, i, s } of scored) {
    if (!summary && (s < QUOTE_ABOVE_SUPPORT || s < best / 2)) continue;
    const heading = contentWords(p.headingPath.join(' '));
    // Markdown headings name a section; they state nothing to quote.
    sentences(unwrap(p.text.replace(/^[ \t]*#{1,6}[ \t].*$/gm, ''))).forEach((raw, order) => {
      const sentence = withoutCitations(raw);
      const cw = contentWords(sentence);
      // A summary reports the case's own messages, short ones ("Slow internet") and the customer's questions included.
      if (summary) {
        if (cw.size > 0) candidates.push({ passage: i, order, sentence, words: cw, score: -order });
        return;
      }
      if (cw.size < 3 || /:$/.test(sentence)) return; // headings and fragments say too little to quote
      // A list item that continues a lead-in ("after an outage …;") means nothing without it.
      if (/^[a-z]/.test(sentence) || /[;,]$/.test(sentence)) return;
      if (/\?["'’”)\]]*$/.test(sentence)) return; // a question (an FAQ's "Q: …?") restates what was asked; it answers nothing
      let shared = 0;
      for (const w of cw) if (q.has(w)) shared += 1;
      // Under a price question, a sentence that states an amount answers it though it shares no word ("Price: $70 …").
      const price = priceAsked && moneyAmounts(sentence).length > 0 ? PRICE_ANSWER_BONUS : 0;
      if (shared === 0 && price === 0) return;
      // The section's heading names what its sentences are about ("Fiber 500" over "Price: $70 per month").
      if (input.purpose === 'answer') {
        let answered = price ? 1 : 0;
        for (const w of q) if (cw.has(w) || heading.has(w)) answered += 1;
        if (answered / Math.min(q.size, QUERY_WORDS_FOR_FULL_SUPPORT) <= ANSWER_SENTENCE_SHARE) return;
      }
      candidates.push({ passage: i, order, sentence, words: cw, score: shared + price });
    });
  }
  candidates.sort((a, b) => b.score - a.score || a.passage - b.passage || a.order - b.order);
  // An outbound text about a topic quotes only sentences sharing more than half as many of its words as the best one:
  // one that shares fewer (an outage FAQ's "we may offer a bill credit" in a credit notice) is about something else.
  const topScore = candidates[0]?.score ?? 0;
  if (!summary && !asked) candidates.splice(0, candidates.length, ...candidates.filter((c) => c.score * 2 > topScore));
  const chosen: Set<string>[] = [];
  const quoted: string[] = [];
  const used = new Set<number>();
  for (const c of candidates) {
    if (quoted.length >= MAX_QUOTED_SENTENCES) break;
    // Redundancy control: a sentence that says what a quoted one said (the same words, mostly) is not quoted again.
    if (chosen.some((w) => jaccard(w, c.words) >= REDUNDANT_AT_JACCARD)) continue;
    chosen.push(c.words);
    used.add(c.passage);
    quoted.push(cite(c.sentence, String(c.passage + 1)));
  }

  if (quoted.length === 0) {
    return {
      text: ABSTAIN_TEXT,
      abstained: true,
      reason: 'no sentence of the passages speaks to the question',
      bestSupport: round(best),
      citations: [],
    };
  }

  const facts = input.facts ?? {};
  const rendered = factSentences(facts, summary ? 'staff' : 'customer');
  const factLines = PURPOSE_FACTS[input.purpose].filter((k) => rendered[k]).map((k) => cite(rendered[k]!, FACTS_MARKER));
  const lines: string[] = [];
  if (GREETED.includes(input.purpose)) lines.push(facts.name ? `Hi ${facts.name},` : 'Hello,', '');
  if (OPENINGS[input.purpose]) lines.push(OPENINGS[input.purpose]);
  lines.push(...factLines, ...quoted);
  if (GREETED.includes(input.purpose)) lines.push('', 'Kind regards,', input.signature ?? 'The customer care team');
  const disclaimers = config.disclaimers[input.purpose] ?? [];
  if (disclaimers.length > 0) lines.push('', ...disclaimers.map((d) => d.text));

  const citations = [...used].sort((a, b) => a - b).map((i) => ({ marker: String(i + 1), chunkId: input.passages[i]!.chunkId }));
  if (factLines.length > 0) citations.push({ marker: FACTS_MARKER, chunkId: 'customer-facts' });
  return { text: lines.join('\n'), abstained: false, bestSupport: round(best), citations };
}

/**
 * Joins a paragraph's hard-wrapped lines (Markdown wrapped at a fixed width), so a sentence that runs over a line break
 * is quoted whole, not cut at the break. Blank lines, headings, list items and quotes still start a new line.
 */
export function unwrap(text: string): string {
  return text.replace(/([^\n])[ \t]*\r?\n(?![ \t]*(\r?\n|#{1,6}[ \t]|[-*+][ \t]|\d+[.)][ \t]|>))[ \t]*/g, '$1 ');
}

/** Puts a citation marker before a sentence's closing punctuation: "… in 5 days [2]." */
function cite(sentence: string, marker: string): string {
  const m = sentence.trim().match(/^(.*?)([.!?]*)$/)!;
  return `${m[1]} [${marker}]${m[2] || '.'}`;
}

/** Shared content words over all content words of two sentences. */
export function jaccard(a: Set<string>, b: Set<string>): number {
  let shared = 0;
  for (const w of a) if (b.has(w)) shared += 1;
  const union = a.size + b.size - shared;
  return union === 0 ? 1 : shared / union;
}

const round = (x: number) => Math.round(x * 1000) / 1000;
