import { factNumbers, factsText } from './facts.ts';
import {
  FACTS_MARKER,
  citationsOf,
  contentWords,
  moneyAmounts,
  sentences as splitSentences,
  support,
  withoutCitations,
  words,
} from './text.ts';
import type { CustomerFacts, Passage, Purpose } from './types.ts';

/**
 * Output guardrails: every generated text is checked before it may be sent. A failing check means the text must not
 * go out on its own: the caller blocks sending and routes the draft to a person's approval with the reasons.
 */

/** A factual sentence is supported when at least this share of its content words occurs in the passages it cites. */
export const SENTENCE_SUPPORT_THRESHOLD = 0.6;
/** A courtesy sentence ("Thank you for …") with more content words than this after its opening states something. */
export const MAX_COURTESY_CONTENT_WORDS = 3;
/** More exclamation marks than this in one text is shouting. */
export const MAX_EXCLAMATIONS = 1;

export interface ProhibitedClaim {
  id: string;
  pattern: RegExp;
  reason: string;
}

export interface Disclaimer {
  id: string;
  /** What the composer appends. */
  text: string;
  /** What the guardrail looks for (a provider may word it its own way). */
  pattern: RegExp;
}

export interface GuardrailConfig {
  prohibited: ProhibitedClaim[];
  disclaimers: Partial<Record<Purpose, Disclaimer[]>>;
  /** Upper-case words that are not shouting (product codes, acronyms, the unsubscribe keyword). */
  allowedCaps: string[];
  /** Words and phrases that blame or insult the reader. */
  blameWords: string[];
  /** Courtesy openings and closings: a short sentence that starts with one states no fact and needs no citation. */
  courtesy: RegExp;
}

const UNSUBSCRIBE: Disclaimer = {
  id: 'unsubscribe',
  text: 'To stop receiving these emails, reply STOP or use the unsubscribe link.',
  pattern: /\bunsubscribe\b|\breply\s+stop\b/i,
};

export const DEFAULT_GUARDRAILS: GuardrailConfig = {
  prohibited: [
    {
      id: 'guarantee',
      pattern:
        /\bguarantee(s|d)?\b|\bwe promise\b|\b100\s?% (sure|certain|uptime)\b|\bwill never (fail|go down|happen again)\b|\brisk[- ]free\b/i,
      reason: 'a guarantee or promise',
    },
    {
      id: 'legal-advice',
      pattern:
        /\blegal advice\b|\b(you should|you can|you could) (sue|take legal action)\b|\blawsuit\b|\byour (legal|statutory) rights? (is|are|means)\b/i,
      reason: 'legal advice',
    },
    {
      id: 'medical-advice',
      pattern: /\bmedical advice\b|\bdiagnos(e|is|ed)\b|\bprescri(be|ption)\b|\bdosage\b|\bsee a doctor\b/i,
      reason: 'medical advice',
    },
  ],
  disclaimers: { retention_offer: [UNSUBSCRIBE], nurture: [UNSUBSCRIBE] },
  allowedCaps: [
    'STOP',
    'FAQ',
    'SIM',
    'ESIM',
    'NPS',
    'ACS',
    'USD',
    'EUR',
    'GBP',
    'VAT',
    'PIN',
    'PUK',
    'DSL',
    'ADSL',
    'VDSL',
    'WIFI',
    'HTTP',
    'HTTPS',
    'LTE',
  ],
  blameWords: [
    'stupid',
    'idiot',
    'dumb',
    'lazy',
    'careless',
    'incompetent',
    'ridiculous',
    'your fault',
    'you failed to',
    'you should have known',
    'obviously you',
  ],
  courtesy:
    /^(hi|hello|hey|dear|good (morning|afternoon|evening)|thanks|thank you|many thanks|we('| a)re sorry|we apologi[sz]e|sorry for|kind regards|best regards|warm regards|regards|best wishes|sincerely|yours|cheers|all the best|the .{1,40} team|we appreciate|we value|we hope|let us know|feel free|if you have (any )?(other |more )?questions|please reply|reply to this)\b/i,
};

export interface GuardrailCheck {
  name: 'citations' | 'prohibited-claims' | 'amounts' | 'disclaimers' | 'tone';
  passed: boolean;
  detail: string;
}

export interface UnsupportedSentence {
  /** The sentence's position among the text's sentences (0-based): the record keeps this, never the sentence. */
  index: number;
  sentence: string;
  cited: string[];
  support: number;
}

export interface GuardrailResult {
  passed: boolean;
  checks: GuardrailCheck[];
  /** Supported factual sentences over factual sentences; 1 when the text states no fact. */
  groundingRate: number;
  factualSentences: number;
  supportedSentences: number;
  unsupportedSentences: UnsupportedSentence[];
}

export interface GuardrailInput {
  text: string;
  purpose: Purpose;
  /** The passages the text may cite: `[n]` is `passages[n - 1]`. */
  passages: Passage[];
  facts?: CustomerFacts;
  config?: GuardrailConfig;
  /** An abstention is never sent, so it needs no disclaimer. */
  abstained?: boolean;
}

/** Whether a sentence states a fact: courtesy lines, disclaimers and short labels do not; any number or amount does. */
export function isFactual(sentence: string, config: GuardrailConfig = DEFAULT_GUARDRAILS, disclaimers: Disclaimer[] = []): boolean {
  const bare = withoutCitations(sentence);
  if (/\d/.test(bare)) return true;
  if (disclaimers.some((d) => bare === d.text || d.pattern.test(bare))) return false;
  if (contentWords(bare).size === 0) return false;
  if (/:$/.test(bare) && words(bare).length <= 4) return false;
  const courtesy = bare.match(config.courtesy);
  if (courtesy) return contentWords(bare.slice(courtesy[0].length)).size > MAX_COURTESY_CONTENT_WORDS;
  return !/^not enough support\b/i.test(bare);
}

/** Runs every check on a generated text. */
export function checkOutput(input: GuardrailInput): GuardrailResult {
  const config = input.config ?? DEFAULT_GUARDRAILS;
  const facts = input.facts ?? {};
  const disclaimers = input.abstained ? [] : (config.disclaimers[input.purpose] ?? []);
  const all = splitSentences(input.text);
  // A [C] sentence may speak to the customer ("Your plan …") or, in a summary, of them ("The customer's plan …").
  const factsWords = contentWords(`${factsText(facts)}\n${factsText(facts, 'staff')}`);
  const passageWords = input.passages.map((p) => contentWords(p.text));

  // (a) citations and support
  const unsupported: UnsupportedSentence[] = [];
  let factual = 0;
  all.forEach((sentence, index) => {
    if (!isFactual(sentence, config, disclaimers)) return;
    factual += 1;
    const cited = citationsOf(sentence);
    const sources = new Set<string>();
    let unknown = false;
    for (const c of cited) {
      const ws = c === FACTS_MARKER ? factsWords : passageWords[Number(c) - 1];
      if (!ws) unknown = true;
      else for (const w of ws) sources.add(w);
    }
    const s = support(withoutCitations(sentence), sources);
    if (cited.length === 0 || unknown || s < SENTENCE_SUPPORT_THRESHOLD) unsupported.push({ index, sentence, cited, support: round(s) });
  });
  const supported = factual - unsupported.length;
  const citations: GuardrailCheck = {
    name: 'citations',
    passed: unsupported.length === 0,
    detail:
      unsupported.length === 0
        ? `${factual} factual sentence(s), each cites a passage that supports it`
        : `${unsupported.length} of ${factual} factual sentence(s) cite nothing, cite an unknown source, or are not supported by what they cite (support below ${SENTENCE_SUPPORT_THRESHOLD}): sentence(s) ${unsupported.map((u) => u.index + 1).join(', ')}`,
  };

  // (b) prohibited claims, and amounts no cited passage or fact states
  const hits = config.prohibited.filter((p) => p.pattern.test(input.text));
  const prohibited: GuardrailCheck = {
    name: 'prohibited-claims',
    passed: hits.length === 0,
    detail: hits.length === 0 ? 'none found' : `contains ${hits.map((h) => `${h.reason} (${h.id})`).join(', ')}`,
  };
  const known = factNumbers(facts);
  const strays: string[] = [];
  all.forEach((sentence, index) => {
    const allowed = [...known];
    for (const c of citationsOf(sentence)) {
      const p = c === FACTS_MARKER ? undefined : input.passages[Number(c) - 1];
      if (p) allowed.push(...moneyAmounts(p.text));
    }
    for (const amount of moneyAmounts(sentence))
      if (!allowed.some((a) => Math.abs(a - amount) < 0.005)) strays.push(`${amount} in sentence ${index + 1}`);
  });
  const amounts: GuardrailCheck = {
    name: 'amounts',
    passed: strays.length === 0,
    detail:
      strays.length === 0
        ? 'every amount is in a cited passage or the customer facts'
        : `amounts not in any cited passage or the customer facts: ${strays.join('; ')}`,
  };

  // (c) disclaimers the purpose needs
  const missing = disclaimers.filter((d) => !d.pattern.test(input.text));
  const disclaimerCheck: GuardrailCheck = {
    name: 'disclaimers',
    passed: missing.length === 0,
    detail:
      disclaimers.length === 0
        ? input.abstained
          ? 'none needed: abstained, nothing is sent'
          : `none required for ${input.purpose}`
        : missing.length === 0
          ? `present: ${disclaimers.map((d) => d.id).join(', ')}`
          : `missing: ${missing.map((d) => d.id).join(', ')}`,
  };

  // (d) tone: of the words ACS writes. A summary is for staff and quotes the customer's own words (which may be angry):
  // it is never sent, so its tone is not checked. Codes ("FIBER-500", "DSL-25") and upper-case words a cited passage
  // writes verbatim are the knowledge base's names, not shouting.
  const tone: GuardrailCheck =
    input.purpose === 'case_summary'
      ? { name: 'tone', passed: true, detail: "not applicable: a summary is internal and quotes the customer's words" }
      : checkTone(input.text, input.passages, config);

  const checks = [citations, prohibited, amounts, disclaimerCheck, tone];
  return {
    passed: checks.every((c) => c.passed),
    checks,
    groundingRate: factual === 0 ? 1 : round(supported / factual),
    factualSentences: factual,
    supportedSentences: supported,
    unsupportedSentences: unsupported,
  };
}

/** The tone check: shouting (all-caps words that are not codes or the cited passages' own words), blame, exclamations. */
function checkTone(text: string, passages: Passage[], config: GuardrailConfig): GuardrailCheck {
  const allowedCaps = new Set(config.allowedCaps.map((w) => w.toUpperCase()));
  const quoted = citationsOf(text)
    .map((c) => (c === FACTS_MARKER ? '' : (passages[Number(c) - 1]?.text ?? '')))
    .join('\n');
  const shouted = (withoutCitations(text).match(/[A-Za-z0-9][A-Za-z0-9-]*/g) ?? []).filter(
    (w) => /^[A-Z]{4,}$/.test(w) && !allowedCaps.has(w) && !new RegExp(`(^|[^A-Za-z0-9-])${w}([^A-Za-z0-9-]|$)`).test(quoted),
  );
  const lower = text.toLowerCase();
  const blame = config.blameWords.filter((w) => new RegExp(`\\b${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(lower));
  const exclamations = (text.match(/!/g) ?? []).length;
  const toneProblems = [
    shouted.length > 0 ? `all-caps words: ${shouted.length}` : '',
    blame.length > 0 ? `blaming or insulting words: ${blame.join(', ')}` : '',
    exclamations > MAX_EXCLAMATIONS ? `${exclamations} exclamation marks (at most ${MAX_EXCLAMATIONS})` : '',
  ].filter(Boolean);
  return { name: 'tone', passed: toneProblems.length === 0, detail: toneProblems.length === 0 ? 'calm' : toneProblems.join('; ') };
}

/** Why an internal text has no send verdict. */
export const NOT_SENT_INTERNAL = 'not applicable: a case summary is for staff and is never sent';

/**
 * What the caller must do with a checked text: send it only when `sendable`; otherwise block it and route the draft
 * to a person's approval, showing `reasons`.
 */
export function sendDecision(
  result: GuardrailResult,
  abstained = false,
  purpose?: Purpose,
): { sendable: boolean; routeToApproval: boolean; reasons: string[] } {
  const reasons = result.checks.filter((c) => !c.passed).map((c) => `${c.name}: ${c.detail}`);
  if (abstained) reasons.unshift('abstained: not enough support, route to a person');
  // A summary goes to no one: not sendable, nothing to approve; the failed checks, if any, still say what is wrong.
  if (purpose === 'case_summary') return { sendable: false, routeToApproval: false, reasons: [NOT_SENT_INTERNAL, ...reasons] };
  return { sendable: reasons.length === 0, routeToApproval: reasons.length > 0, reasons };
}

const round = (x: number) => Math.round(x * 1000) / 1000;
