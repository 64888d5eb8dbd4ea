/**
 * ground: grounded generation. Providers (chat and embeddings, OpenAI-compatible), versioned prompts, the embedded
 * extractive composer that needs no model, the output guardrails every generated text passes before it may be sent,
 * and the generation record the ledger keeps. Owns no table. Retrieval (knowledge) and masking (trust) come in as
 * plain inputs: passages and a Masker (trustMasker is the trust module's, adapted).
 */
export type { CustomerFacts, MaskedEntity, Masker, Passage, Purpose } from './types.ts';
export { identityMasker, MARKETING_PURPOSES, PURPOSES } from './types.ts';
export { namesAndParts, trustMasker } from './masker.ts';
export { asUntrustedData, escapeDelimiters, DATA_CLOSE, DATA_OPEN } from './untrusted.ts';
export { contentWords, sentences, support, citationsOf, moneyAmounts, separateCitations, type CitedSentence } from './text.ts';
export {
  ABSTAIN_BELOW_SUPPORT,
  ABSTAIN_TEXT,
  COMPOSER_MODEL,
  MAX_QUOTED_SENTENCES,
  PURPOSE_TOPICS,
  QUOTE_ABOVE_SUPPORT,
  QUERY_WORDS_FOR_FULL_SUPPORT,
  TOPIC_WORDS_FOR_FULL_SUPPORT,
  bestSupport,
  compose,
  passageSupport,
} from './composer.ts';
export type { ComposeInput, Composition } from './composer.ts';
export {
  DEFAULT_GUARDRAILS,
  MAX_COURTESY_CONTENT_WORDS,
  MAX_EXCLAMATIONS,
  SENTENCE_SUPPORT_THRESHOLD,
  checkOutput,
  isFactual,
  sendDecision,
} from './guardrails.ts';
export type {
  Disclaimer,
  GuardrailCheck,
  GuardrailConfig,
  GuardrailInput,
  GuardrailResult,
  ProhibitedClaim,
  UnsupportedSentence,
} from './guardrails.ts';
export {
  DEFAULT_MAX_RETRIES,
  DEFAULT_TIMEOUT_MS,
  OpenAICompatibleProvider,
  ProviderError,
  endpointUrl,
  providerFromConfig,
} from './provider.ts';
export type { ChatMessage, ChatResult, Endpoint, OpenAICompatibleOptions, Provider } from './provider.ts';
export { PROMPTS_DIR, PromptError, loadPrompts, parsePrompt, renderPrompt } from './prompts.ts';
export type { Prompt } from './prompts.ts';
export {
  COMPOSER_PROMPT,
  buildMessages,
  generate,
  generationLedgerEvent,
  generationMetrics,
  ledgerGeneration,
  maskMessages,
  maskedEmbed,
} from './generate.ts';
export type { GenerateDeps, GenerateInput, Generation, GenerationMetrics, GenerationRecord, GenerationTally } from './generate.ts';
export {
  ANSWER_CHANNELS,
  ASSIST_PASSAGES,
  SUMMARY_INTERACTIONS,
  answerQuestion,
  customerFacts,
  findCustomer,
  suggestReply,
  summarizeCase,
} from './assist.ts';
export { chatProvider, providerEmbedder } from './embedder.ts';
export type { AnswerChannel, AssistCitation, AssistDeps, AssistResult } from './assist.ts';
