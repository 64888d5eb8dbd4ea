import { AppError } from '../errors.ts';
import { searchKnowledge, type KnowledgeUse, type SearchHit } from '../knowledge/index.ts';
import { sequencedSeq } from '../ledger/index.ts';
import { getRecord, listRecords, type RecordRow } from '../records/index.ts';
import type { Db, Queryable } from '../store/index.ts';
import { ABSTAIN_BELOW_SUPPORT } from './composer.ts';
import { chatProvider, providerEmbedder } from './embedder.ts';
import { factsText } from './facts.ts';
import { generate, ledgerGeneration, type Generation } from './generate.ts';
import { trustMasker } from './masker.ts';
import { ProviderError, type Provider } from './provider.ts';
import { FACTS_MARKER } from './text.ts';
import type { CustomerFacts, Masker, Passage, Purpose } from './types.ts';

/**
 * Agent assist and customer answers: where generation meets the system of record and the knowledge base. Each call
 * gathers the case or the question and the customer's facts, retrieves passages (approved, current, customer-facing
 * ones for text that may reach a customer), runs generate() (the embedded composer, or the configured provider with
 * masked text), and ledgers the generation's record (ids and hashes only) in one transaction.
 */

/** How many passages are retrieved for a reply or an answer. */
export const ASSIST_PASSAGES = 5;
/** How many of the case contact's latest interactions a summary reads beside the case itself. */
export const SUMMARY_INTERACTIONS = 5;

export interface AssistDeps {
  db: Db;
  /** Unset: the embedded composer. */
  provider?: Provider;
  /** Required with a provider (the trust module's masker, `trustMasker`). */
  masker?: Masker;
  now: Date;
  /** Who asked, for the ledger entry. */
  actor: string;
}

/** One source a generated text cites: a knowledge chunk, the case's own messages, or the customer's facts. */
export interface AssistCitation {
  marker: string;
  kind: 'knowledge' | 'case' | 'customer-facts';
  chunkId: string;
  path: string | null;
  headingPath: string[];
  /** The passage's text, as retrieved (or the fact sentences the `[C]` marker stands for). */
  quote: string;
}

export interface AssistResult {
  text: string;
  abstained: boolean;
  /** Why it abstained; absent when it did not. */
  reason?: string;
  citations: AssistCitation[];
  guardrails: {
    passed: boolean;
    groundingRate: number;
    factualSentences: number;
    supportedSentences: number;
    checks: { name: string; passed: boolean; detail: string }[];
  };
  /** Whether the text may go to the customer as it is; otherwise a person reviews it, for these reasons. */
  decision: { sendable: boolean; routeToApproval: boolean; reasons: string[] };
  generation: {
    id: string;
    purpose: Purpose;
    promptId: string;
    promptVersion: number;
    provider: string;
    model: string;
    bestSupport: number;
    maskedEntities: Record<string, number>;
    ledgerSeq: number;
  };
  retrieval: { use: KnowledgeUse | 'case'; k: number; chunkIds: string[] };
}

/**
 * A retrieved chunk as a passage to generate from. The chunk's heading path goes first, as Markdown headings: in an
 * FAQ the heading is the question its chunk answers, so it counts towards support, but the composer never quotes a
 * heading line.
 */
const toPassage = (h: SearchHit): Passage => ({
  chunkId: h.chunkId,
  path: h.path,
  headingPath: h.headingPath,
  text: [...h.headingPath.map((title, i) => `${'#'.repeat(Math.min(i + 1, 6))} ${title.replace(/\s+/g, ' ')}`), '', h.text].join('\n'),
  score: h.score,
  similarity: h.similarity,
});

/** The client learns what failed and how often it was tried, not where the model is served. */
function providerFailed(err: unknown): never {
  if (err instanceof ProviderError)
    throw new AppError(
      'generation.provider_failed',
      `the language model failed${err.status ? ` with HTTP ${err.status}` : ''} after ${err.attempts} attempt(s); try again, or answer without it`,
    );
  throw err;
}

/** Customer-use retrieval: hybrid (lexical and semantic, fused) when the provider has an embedding model. */
const retrieve = (deps: AssistDeps, q: string, k: number) =>
  searchKnowledge(deps.db, { q, k, use: 'customer', now: deps.now, embedder: providerEmbedder(deps.provider, deps.masker) }).catch(
    providerFailed,
  );

const fullName = (c: RecordRow | undefined) =>
  c ? [c.firstName, c.lastName].filter((x): x is string => typeof x === 'string' && x.trim() !== '').join(' ') || undefined : undefined;

/** The customer's facts from the system of record: the contact's name and the account's active subscription. */
export async function customerFacts(db: Queryable, ids: { accountId?: string | null; contactId?: string | null }): Promise<CustomerFacts> {
  const facts: CustomerFacts = {};
  let contact: RecordRow | undefined;
  if (ids.contactId) contact = await getRecord(db, 'contacts', ids.contactId).catch(() => undefined);
  if (!contact && ids.accountId) [contact] = await listRecords(db, 'contacts', { limit: 1, filters: { accountId: ids.accountId } });
  const name = fullName(contact);
  if (name) facts.name = name;
  const accountId = ids.accountId ?? (typeof contact?.accountId === 'string' ? contact.accountId : undefined);
  if (accountId) {
    const [sub] = await listRecords(db, 'subscriptions', { limit: 1, filters: { accountId, status: 'active' } });
    if (sub) {
      if (typeof sub.productId === 'string') {
        const product = await getRecord(db, 'products', sub.productId).catch(() => undefined);
        if (typeof product?.name === 'string') facts.plan = product.name;
      }
      if (sub.monthlyAmount !== null && sub.monthlyAmount !== undefined) facts.monthlyAmount = Number(sub.monthlyAmount);
      if (typeof sub.tenureMonths === 'number') facts.tenureMonths = sub.tenureMonths;
    }
  }
  return facts;
}

/** An account by its id, or by its customer id; a 404 naming it otherwise. */
export async function findCustomer(db: Queryable, id: string): Promise<RecordRow> {
  const byId = await getRecord(db, 'accounts', id).catch((err: unknown) => {
    if (err instanceof AppError && err.code === 'record.not_found') return undefined;
    throw err;
  });
  if (byId) return byId;
  const [byCustomerId] = await listRecords(db, 'accounts', { limit: 1, filters: { customerId: id } });
  if (!byCustomerId) throw new AppError('customer.not_found', `no customer ${id} (neither an account id nor a customer id)`);
  return byCustomerId;
}

async function findCase(db: Queryable, id: string): Promise<RecordRow> {
  return getRecord(db, 'cases', id).catch((err: unknown) => {
    if (err instanceof AppError && err.code === 'record.not_found') throw new AppError('record.not_found', `no case ${id}`);
    throw err;
  });
}

const caseText = (c: RecordRow) =>
  [c.subject, c.description].filter((x): x is string => typeof x === 'string' && x.trim() !== '').join('\n\n');

/** Runs a generation and ledgers its record, then shapes the answer with each citation's quoted passage. */
async function run(
  deps: AssistDeps,
  o: {
    purpose: Purpose;
    query?: string;
    passages: Passage[];
    /** What each passage's citation quotes (default: its text). */
    quotes?: string[];
    kinds: AssistCitation['kind'];
    facts: CustomerFacts;
    subject?: { type: string; id: string };
    use: AssistResult['retrieval']['use'];
    k: number;
  },
): Promise<AssistResult> {
  const g: Generation = await generate(
    { purpose: o.purpose, query: o.query, passages: o.passages, facts: o.facts, subject: o.subject },
    { provider: chatProvider(deps.provider), masker: deps.masker },
  ).catch(providerFailed);
  const { ids } = await deps.db.transaction((tx) =>
    ledgerGeneration(tx, g.record, { actor: deps.actor, subject: o.subject, at: deps.now }),
  );
  const seq = await sequencedSeq(deps.db, ids[0]!);
  const citations: AssistCitation[] = g.citations.map((c) => {
    if (c.marker === FACTS_MARKER)
      return {
        marker: c.marker,
        kind: 'customer-facts',
        chunkId: c.chunkId,
        path: null,
        headingPath: [],
        quote: factsText(o.facts, o.purpose === 'case_summary' ? 'staff' : 'customer'),
      };
    // Markers are renumbered in order of use: the citation's chunk id names the passage.
    const i = o.passages.findIndex((x) => x.chunkId === c.chunkId);
    const p = o.passages[i];
    return {
      marker: c.marker,
      kind: o.kinds,
      chunkId: c.chunkId,
      path: p?.path ?? null,
      headingPath: p?.headingPath ?? [],
      quote: o.quotes?.[i] ?? p?.text ?? '',
    };
  });
  const r = g.record;
  let reason: string | undefined;
  if (g.abstained) {
    const why =
      o.passages.length === 0
        ? 'no passage was retrieved'
        : r.bestSupport < ABSTAIN_BELOW_SUPPORT
          ? `the best passage's support ${r.bestSupport} is below ${ABSTAIN_BELOW_SUPPORT}`
          : r.provider === 'embedded'
            ? 'no sentence of the passages speaks to the question'
            : 'the model found no support in the passages';
    reason = `not enough support: route to a person (${why})`;
  }
  return {
    text: g.text,
    abstained: g.abstained,
    ...(reason && { reason }),
    citations,
    guardrails: {
      passed: g.guardrails.passed,
      groundingRate: g.guardrails.groundingRate,
      factualSentences: g.guardrails.factualSentences,
      supportedSentences: g.guardrails.supportedSentences,
      checks: g.guardrails.checks.map((c) => ({ name: c.name, passed: c.passed, detail: c.detail })),
    },
    decision: g.decision,
    generation: {
      id: r.generationId,
      purpose: r.purpose,
      promptId: r.promptId,
      promptVersion: r.promptVersion,
      provider: r.provider,
      model: r.model,
      bestSupport: r.bestSupport,
      maskedEntities: r.maskedEntities,
      ledgerSeq: seq,
    },
    retrieval: { use: o.use, k: o.k, chunkIds: r.retrievedChunkIds },
  };
}

/**
 * A suggested reply to a case, for an agent to send: grounded in approved, current, customer-facing knowledge (the
 * reply goes to the customer) and the customer's facts, with citations; or an abstention when support is too low.
 */
export async function suggestReply(deps: AssistDeps, caseId: string, k = ASSIST_PASSAGES): Promise<AssistResult & { caseId: string }> {
  const c = await findCase(deps.db, caseId);
  const query = caseText(c);
  const found = await retrieve(deps, query, k);
  const facts = await customerFacts(deps.db, { accountId: c.accountId as string | null, contactId: c.contactId as string | null });
  if (typeof c.subject === 'string') facts.caseSubject = c.subject;
  const out = await run(deps, {
    purpose: 'case_reply',
    query,
    passages: found.results.map(toPassage),
    quotes: found.results.map((h) => h.text),
    kinds: 'knowledge',
    facts,
    subject: { type: 'case', id: c.id },
    use: 'customer',
    k,
  });
  return { caseId: c.id, ...out };
}

/**
 * A summary of a case for staff: the case's own messages (its subject and description, and the latest interactions
 * of its contact) are the passages, cited as `case`. Internal use: the text quotes the customer's words.
 */
export async function summarizeCase(
  deps: AssistDeps,
  caseId: string,
  opts: { maskPersonalData?: boolean } = {},
): Promise<AssistResult & { caseId: string; masked: boolean }> {
  const c = await findCase(deps.db, caseId);
  const passages: Passage[] = [
    { chunkId: `case:${c.id}`, path: `cases/${c.id}`, headingPath: [String(c.subject ?? 'Case')], text: caseText(c), score: 1 },
  ];
  if (typeof c.contactId === 'string') {
    const interactions = await listRecords(deps.db, 'interactions', { limit: 200, filters: { contactId: c.contactId } });
    for (const i of interactions.slice(-SUMMARY_INTERACTIONS)) {
      const text = [i.subject, i.body].filter((x): x is string => typeof x === 'string' && x.trim() !== '').join('\n\n');
      if (text)
        passages.push({ chunkId: `interaction:${i.id}`, path: `interactions/${i.id}`, headingPath: [String(i.type)], text, score: 1 });
    }
  }
  const facts = await customerFacts(deps.db, { accountId: c.accountId as string | null, contactId: c.contactId as string | null });
  if (typeof c.subject === 'string') facts.caseSubject = c.subject;
  const out = await run(deps, {
    purpose: 'case_summary',
    passages,
    kinds: 'case',
    facts,
    subject: { type: 'case', id: c.id },
    use: 'case',
    k: passages.length,
  });
  if (!opts.maskPersonalData) return { caseId: c.id, masked: false, ...out };
  // For a role that may not read personal data: the summary and the quoted messages with each value masked.
  const names = facts.name ? [facts.name] : [];
  const mask = (t: string) => trustMasker.mask(t, names).text;
  return {
    caseId: c.id,
    masked: true,
    ...out,
    text: mask(out.text),
    citations: out.citations.map((x) => ({ ...x, quote: mask(x.quote) })),
    // Check details may quote a sentence.
    guardrails: { ...out.guardrails, checks: out.guardrails.checks.map((x) => ({ ...x, detail: mask(x.detail) })) },
    decision: { ...out.decision, reasons: out.decision.reasons.map(mask) },
  };
}

export const ANSWER_CHANNELS = ['chat', 'email'] as const;
export type AnswerChannel = (typeof ANSWER_CHANNELS)[number];

/**
 * An answer to a customer's question, for chat or email: grounded in approved, current, customer-facing knowledge
 * and, when the customer is named, their facts; or an abstention.
 */
export async function answerQuestion(
  deps: AssistDeps,
  q: { question: string; customerId?: string; channel: AnswerChannel },
  k = ASSIST_PASSAGES,
): Promise<AssistResult & { channel: AnswerChannel; customerId: string | null }> {
  const account = q.customerId ? await findCustomer(deps.db, q.customerId) : undefined;
  const facts = account ? await customerFacts(deps.db, { accountId: account.id }) : {};
  const found = await retrieve(deps, q.question, k);
  const out = await run(deps, {
    purpose: 'answer',
    query: q.question,
    passages: found.results.map(toPassage),
    quotes: found.results.map((h) => h.text),
    kinds: 'knowledge',
    facts,
    subject: account ? { type: 'account', id: account.id } : undefined,
    use: 'customer',
    k,
  });
  return { channel: q.channel, customerId: account?.id ?? null, ...out };
}
