import { z } from 'zod';
import { component } from './core.ts';

// Agent assist (suggested replies and case summaries) and answers to customers' questions: requests and answers.

/** The most characters a customer's question may have. */
export const MAX_QUESTION_CHARS = 4_000;

export const AnswerRequestSchema = z.strictObject({
  question: z.string().trim().min(1, 'must not be empty').max(MAX_QUESTION_CHARS, `at most ${MAX_QUESTION_CHARS} characters`),
  /** The account id, or the customer id, of who asks; their facts ground the answer and their name is masked. */
  customerId: z.string().trim().min(1).max(200).optional(),
  channel: z.enum(['chat', 'email']),
});

/** A suggested reply takes no body, or `{}`. */
export const SuggestReplyRequestSchema = z.strictObject({});

const Citation = z.object({
  /** The marker in the text: `1`, `2`, … for passages, `C` for the customer's facts. */
  marker: z.string(),
  kind: z.enum(['knowledge', 'case', 'customer-facts']),
  chunkId: z.string(),
  path: z.string().nullable(),
  headingPath: z.array(z.string()),
  /** The cited passage's text as retrieved (for `C`, the fact sentences). */
  quote: z.string(),
});

const Assisted = z.object({
  text: z.string(),
  abstained: z.boolean(),
  reason: z.string().optional(),
  citations: z.array(Citation),
  guardrails: z.object({
    passed: z.boolean(),
    groundingRate: z.number(),
    factualSentences: z.number().int(),
    supportedSentences: z.number().int(),
    checks: z.array(z.object({ name: z.string(), passed: z.boolean(), detail: z.string() })),
  }),
  decision: z.object({ sendable: z.boolean(), routeToApproval: z.boolean(), reasons: z.array(z.string()) }),
  generation: z.object({
    id: z.string(),
    purpose: z.string(),
    promptId: z.string(),
    promptVersion: z.number().int(),
    provider: z.string(),
    model: z.string(),
    bestSupport: z.number(),
    maskedEntities: z.record(z.string(), z.number().int()),
    /** The ledger entry that records this generation (ids and hashes only). */
    ledgerSeq: z.number().int(),
  }),
  retrieval: z.object({ use: z.enum(['customer', 'internal', 'case']), k: z.number().int(), chunkIds: z.array(z.string()) }),
});

export const SuggestedReplySchema = component(
  'SuggestedReply',
  Assisted.extend({ caseId: z.string() }),
  'a suggested reply to a case with its citations, or an abstention (not enough support: route to a person)',
);

export const CaseSummarySchema = component(
  'CaseSummary',
  Assisted.extend({ caseId: z.string(), masked: z.boolean() }),
  'a summary of a case for staff, citing the case’s messages; `masked` when personal data was masked for the caller’s role',
);

export const AnswerSchema = component(
  'Answer',
  Assisted.extend({ channel: z.enum(['chat', 'email']), customerId: z.string().nullable() }),
  'an answer to a customer’s question with its citations, or an abstention (not enough support: route to a person)',
);
