import { randomUUID } from 'node:crypto';
import { appendToLedger, canonicalJson, sha256, type LedgerEvent } from '../ledger/index.ts';
import type { Tx } from '../store/index.ts';
import { ABSTAIN_BELOW_SUPPORT, ABSTAIN_TEXT, COMPOSER_MODEL, bestSupport, compose } from './composer.ts';
import { factsText } from './facts.ts';
import { DEFAULT_GUARDRAILS, checkOutput, sendDecision, type GuardrailConfig, type GuardrailResult } from './guardrails.ts';
import { loadPrompts, renderPrompt, type Prompt } from './prompts.ts';
import type { ChatMessage, Provider } from './provider.ts';
import { CITATION_PATTERN, FACTS_MARKER, citationsOf, sentences } from './text.ts';
import { type CustomerFacts, type Masker, type Passage, type Purpose } from './types.ts';
import { asUntrustedData } from './untrusted.ts';

/**
 * One grounded generation: the embedded composer when no provider is given, or the provider with masked text when one
 * is. Either way the output is checked by the guardrails, and a record describes the generation by ids and hashes.
 */

export interface GenerateInput {
  purpose: Purpose;
  /** The customer's question or the ticket's text (untrusted), or an outbound text's topic. */
  query?: string;
  /** An outbound text's topic when narrower than its purpose's (a credit already applied, not credits in general). */
  topic?: string;
  /** Retrieved passages, best first. */
  passages: Passage[];
  facts?: CustomerFacts;
  /** What the text is about, for the ledger entry (ids only): a case, a proposal, a customer. */
  subject?: { type: string; id: string };
}

export interface GenerateDeps {
  /** Unset: the embedded composer, nothing leaves the process. */
  provider?: Provider;
  /** Required with a provider: every text is masked before it leaves and the answer is unmasked. */
  masker?: Masker;
  guardrails?: GuardrailConfig;
  /** The prompt set (default: the shipped prompts). */
  prompts?: Map<Purpose, Prompt>;
}

/** What the ledger keeps about a generation: ids, versions, counts and hashes; never a sentence or a personal value. */
export interface GenerationRecord {
  generationId: string;
  purpose: Purpose;
  promptId: string;
  promptVersion: number;
  promptHash: string;
  provider: string;
  model: string;
  retrievedChunkIds: string[];
  citedChunkIds: string[];
  abstained: boolean;
  bestSupport: number;
  guardrails: {
    passed: boolean;
    checks: { name: string; passed: boolean }[];
    groundingRate: number;
    factualSentences: number;
    supportedSentences: number;
    unsupportedSentences: number;
  };
  /** Count of masked entities by type (the provider path); empty on the embedded path. */
  maskedEntities: Record<string, number>;
  /** sha256 of the canonical input (purpose, query, passages, facts) and of the output text. */
  inputHash: string;
  outputHash: string;
}

export interface Generation {
  text: string;
  abstained: boolean;
  /** Each marker the text uses and what it names: a passage (its chunk id, path and heading path) or the customer's facts. */
  citations: { marker: string; chunkId: string; path?: string; headingPath?: string[] }[];
  guardrails: GuardrailResult;
  /** Send only when `sendable`; otherwise block and route the draft to approval with `reasons`. */
  decision: { sendable: boolean; routeToApproval: boolean; reasons: string[] };
  record: GenerationRecord;
}

/** The embedded path's prompt identity: the composer's templates are its prompt. */
export const COMPOSER_PROMPT = { id: 'extractive-composer', version: 1, hash: sha256(COMPOSER_MODEL) };

export async function generate(input: GenerateInput, deps: GenerateDeps = {}): Promise<Generation> {
  const config = deps.guardrails ?? DEFAULT_GUARDRAILS;
  const facts = input.facts ?? {};
  const inputHash = sha256(canonicalJson({ purpose: input.purpose, query: input.query ?? null, passages: input.passages, facts }));
  let text: string;
  let abstained: boolean;
  let best: number;
  let prompt: { id: string; version: number; hash: string };
  let model: string;
  let maskedEntities: Record<string, number> = {};

  if (!deps.provider) {
    const c = compose({
      purpose: input.purpose,
      query: input.query,
      topic: input.topic,
      passages: input.passages,
      facts,
      guardrails: config,
    });
    ({ text, abstained, bestSupport: best } = c);
    prompt = COMPOSER_PROMPT;
    model = COMPOSER_MODEL;
  } else {
    if (!deps.masker) throw new Error('generate: a provider needs a masker, so no personal data leaves unmasked');
    const p = (deps.prompts ?? loadPrompts()).get(input.purpose);
    if (!p) throw new Error(`generate: no prompt for purpose ${input.purpose}`);
    prompt = p;
    model = deps.provider.chatModel ?? 'unknown';
    best = bestSupport(input.purpose, input.query, input.passages, input.topic);
    // Abstain before calling the model when retrieval found too little: the same rule as the composer.
    if (input.passages.length === 0 || (input.purpose !== 'case_summary' && best < ABSTAIN_BELOW_SUPPORT)) {
      text = ABSTAIN_TEXT;
      abstained = true;
    } else {
      const messages = buildMessages(p, input, config);
      const masked = maskMessages(deps.masker, messages, facts.name ? [facts.name] : []);
      maskedEntities = masked.counts;
      const answer = await deps.provider.chat(masked.messages);
      model = answer.model;
      // Reasoning models served through Ollama or vLLM may prefix their answer with a <think> block: it is not the answer.
      text = masked.restore(answer.text.replace(/<think>[\s\S]*?<\/think>/g, '')).trim();
      abstained = /^not enough support\b/i.test(text);
    }
  }

  // Markers count from [1] in the order the text first uses them; the passages are reordered to match.
  const renumbered = renumberCitations(text, input.passages);
  text = renumbered.text;
  const passages = renumbered.passages;
  const guardrails = checkOutput({ text, purpose: input.purpose, passages, facts, config, abstained });
  const used = new Set(sentences(text).flatMap(citationsOf));
  const order = (m: string) => (m === FACTS_MARKER ? Number.MAX_SAFE_INTEGER : Number(m));
  const citations = [...used]
    .sort((a, b) => order(a) - order(b))
    .map((marker) => {
      if (marker === FACTS_MARKER) return { marker, chunkId: 'customer-facts' };
      const p = passages[Number(marker) - 1];
      return p ? { marker, chunkId: p.chunkId, path: p.path, headingPath: p.headingPath } : { marker, chunkId: '(unknown)' };
    });
  const record: GenerationRecord = {
    generationId: randomUUID(),
    purpose: input.purpose,
    promptId: prompt.id,
    promptVersion: prompt.version,
    promptHash: prompt.hash,
    provider: deps.provider?.name ?? 'embedded',
    model,
    retrievedChunkIds: input.passages.map((p) => p.chunkId),
    citedChunkIds: citations.filter((c) => c.marker !== FACTS_MARKER && c.chunkId !== '(unknown)').map((c) => c.chunkId),
    abstained,
    bestSupport: best,
    guardrails: {
      passed: guardrails.passed,
      checks: guardrails.checks.map((c) => ({ name: c.name, passed: c.passed })),
      groundingRate: guardrails.groundingRate,
      factualSentences: guardrails.factualSentences,
      supportedSentences: guardrails.supportedSentences,
      unsupportedSentences: guardrails.unsupportedSentences.length,
    },
    maskedEntities,
    inputHash,
    outputHash: sha256(text),
  };
  return { text, abstained, citations, guardrails, decision: sendDecision(guardrails, abstained, input.purpose), record };
}

/**
 * Renumbers a text's passage markers from [1] in the order of their first use, and orders the passages to match
 * (those not cited follow, in their order). `[C]` and markers naming no passage stay as they are.
 */
export function renumberCitations(text: string, passages: Passage[]): { text: string; passages: Passage[] } {
  const order: number[] = [];
  for (const m of text.matchAll(CITATION_PATTERN)) {
    const i = Number(m[1]) - 1;
    if (m[1] !== FACTS_MARKER && i >= 0 && i < passages.length && !order.includes(i)) order.push(i);
  }
  const perm = [...order, ...passages.map((_, i) => i).filter((i) => !order.includes(i))];
  const renumbered = new Map(perm.map((old, n) => [old, n + 1]));
  return {
    text: text.replace(CITATION_PATTERN, (whole, marker: string) => {
      const n = marker === FACTS_MARKER ? undefined : renumbered.get(Number(marker) - 1);
      return n === undefined ? whole : `[${n}]`;
    }),
    passages: perm.map((i) => passages[i]!),
  };
}

/** The prompt's messages, with every untrusted text (question, passages, facts) in its own data block. */
export function buildMessages(prompt: Prompt, input: GenerateInput, config: GuardrailConfig = DEFAULT_GUARDRAILS): ChatMessage[] {
  const passages = input.passages.map((p, i) => `[${i + 1}]\n${asUntrustedData('passage', p.chunkId, p.text)}`).join('\n\n');
  const facts =
    input.facts && Object.keys(input.facts).length > 0 ? asUntrustedData('customer-facts', FACTS_MARKER, factsText(input.facts)) : '(none)';
  const query = input.query?.trim()
    ? `The customer's ${input.purpose === 'answer' ? 'question' : 'message'}:\n\n${asUntrustedData(input.purpose === 'answer' ? 'question' : 'ticket', input.subject?.id ?? 'input', input.query.trim())}`
    : '';
  const disclaimers = (config.disclaimers[input.purpose] ?? []).map((d) => d.text);
  const slots = {
    passages: passages || '(none)',
    facts,
    query,
    disclaimers: disclaimers.length > 0 ? `End with this line, word for word:\n${disclaimers.join('\n')}` : '',
  };
  return [
    { role: 'system', content: renderPrompt(prompt.system, slots) },
    { role: 'user', content: renderPrompt(prompt.user, slots) },
  ];
}

// Joins the messages so one masking pass numbers the placeholders once for the whole conversation. Plain text, so a
// masker that normalises whitespace or control characters still leaves it alone; if the masker does change it, the
// split finds the wrong number of parts and generation stops rather than send a garbled conversation.
const SEPARATOR = '\n\n=====ACS-MESSAGE-BOUNDARY=====\n\n';

/** Masks a conversation in one pass, so a placeholder means the same value in every message, and restores answers. */
export function maskMessages(masker: Masker, messages: ChatMessage[], names: string[]) {
  const joined = messages.map((m) => m.content.replaceAll(SEPARATOR, ' ')).join(SEPARATOR);
  const masked = masker.mask(joined, names);
  const parts = masked.text.split(SEPARATOR);
  if (parts.length !== messages.length) throw new Error('masking changed the message boundaries');
  const counts: Record<string, number> = {};
  for (const e of masked.entities) counts[e.type] = (counts[e.type] ?? 0) + 1;
  return { messages: messages.map((m, i) => ({ role: m.role, content: parts[i]! })), counts, restore: masked.restore };
}

/** Masks texts before they go to an embedding model (nothing comes back to restore). */
export async function maskedEmbed(provider: Provider, masker: Masker, texts: string[], names: string[] = []) {
  return provider.embed(texts.map((t) => masker.mask(t, names).text));
}

/** The ledger event for a generation: ids, versions, counts and hashes only. */
export function generationLedgerEvent(
  record: GenerationRecord,
  opts: { actor: string; subject?: { type: string; id: string }; at: Date },
): LedgerEvent {
  return {
    type: 'generation.created',
    actor: opts.actor,
    subjectType: opts.subject?.type,
    subjectId: opts.subject?.id,
    data: { ...record },
    at: opts.at,
  };
}

/** Appends a generation's record to the ledger, inside the caller's transaction. */
export async function ledgerGeneration(
  tx: Tx,
  record: GenerationRecord,
  opts: { actor: string; subject?: { type: string; id: string }; at: Date },
): Promise<{ ids: number[] }> {
  return appendToLedger(tx, [generationLedgerEvent(record, opts)]);
}

/** The AI-quality figures a set of generation records gives (for KPIs and readiness). */
export interface GenerationMetrics {
  generations: number;
  abstentionRate: number | null;
  /** Supported factual sentences over factual sentences, across all records that were not abstentions. */
  groundingRate: number | null;
  unsupportedPer1000Sentences: number | null;
  /** Share of generations whose guardrails failed (blocked and routed to approval). */
  blockedRate: number | null;
  maskedEntities: Record<string, number>;
}

/** What the metrics read of a record: a ledger entry's data serves as it is. */
export type GenerationTally = Pick<GenerationRecord, 'abstained' | 'maskedEntities'> & {
  guardrails: Pick<GenerationRecord['guardrails'], 'passed' | 'factualSentences' | 'supportedSentences'>;
};

export function generationMetrics(records: GenerationTally[]): GenerationMetrics {
  let abstained = 0;
  let factual = 0;
  let supported = 0;
  let blocked = 0;
  const masked: Record<string, number> = {};
  for (const r of records) {
    if (r.abstained) abstained += 1;
    else {
      factual += r.guardrails.factualSentences;
      supported += r.guardrails.supportedSentences;
      if (!r.guardrails.passed) blocked += 1;
    }
    for (const [type, n] of Object.entries(r.maskedEntities)) masked[type] = (masked[type] ?? 0) + n;
  }
  const n = records.length;
  const answered = n - abstained;
  const rate = (num: number, den: number) => (den === 0 ? null : Math.round((num / den) * 10_000) / 10_000);
  return {
    generations: n,
    abstentionRate: rate(abstained, n),
    groundingRate: rate(supported, factual),
    unsupportedPer1000Sentences: factual === 0 ? null : Math.round(((factual - supported) / factual) * 1000 * 10) / 10,
    blockedRate: rate(blocked, answered),
    maskedEntities: masked,
  };
}
