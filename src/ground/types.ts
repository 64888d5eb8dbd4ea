/**
 * The inputs of grounded generation, as plain types. Retrieval (knowledge) and masking (trust) are built elsewhere;
 * ground only needs their shapes, so a caller can pass what knowledge search returns and what trust masks with.
 */

/** One retrieved passage: a chunk of an approved knowledge document, or any other text the caller wants cited. */
export interface Passage {
  chunkId: string;
  /** The document's path in its source. */
  path: string;
  headingPath: string[];
  text: string;
  /** The retriever's score; ground keeps it for the record and does not rely on its scale. */
  score: number;
  /** Cosine similarity with the question, when an embedding model ranked the passage: semantic support. */
  similarity?: number | null;
}

/** What the system of record says about the customer. Every value is personal data and is masked before a provider sees it. */
export interface CustomerFacts {
  name?: string;
  plan?: string;
  /** The account's contract term ("month-to-month", "one year"), stated as the contract, never as the plan. */
  contract?: string;
  /** The monthly charge in currency units (e.g. 45.5 for $45.50). */
  monthlyAmount?: number;
  /** The currency sign amounts are written with; `$` unless given. */
  currency?: string;
  tenureMonths?: number;
  /** The offer a proposal makes, in words (e.g. "a $10.00 credit on your next bill"): stated as an offer. */
  offer?: string;
  /** A credit already applied, in words (e.g. "a credit of $10.00 to your account"): stated as done, never as an offer. */
  creditApplied?: string;
  /** The subject of the open case the text is about. */
  caseSubject?: string;
  [key: string]: string | number | boolean | undefined;
}

/** What the masker found, by type only: offsets or values are never kept by ground. */
export interface MaskedEntity {
  type: string;
  start?: number;
  end?: number;
}

/**
 * Masking personal data before text leaves the process: `mask` swaps each entity for a typed placeholder and returns
 * `restore`, which puts the originals back into a text that carries those placeholders (the model's answer).
 */
export interface Masker {
  mask(text: string, names?: string[]): { text: string; entities: MaskedEntity[]; restore(text: string): string };
}

/** A masker that masks nothing. Only for the embedded composer, where no text leaves the process. */
export const identityMasker: Masker = {
  mask: (text) => ({ text, entities: [], restore: (t) => t }),
};

/** What a text is for. Purposes pick the template, the prompt and the disclaimers a text must carry. */
export const PURPOSES = ['retention_offer', 'service_recovery', 'nurture', 'case_reply', 'answer', 'case_summary'] as const;
export type Purpose = (typeof PURPOSES)[number];

/** Purposes whose texts go to a customer as marketing, and so need an unsubscribe line. */
export const MARKETING_PURPOSES: readonly Purpose[] = ['retention_offer', 'nurture'];
