import { z } from 'zod';
import { component, IsoTime, page } from './core.ts';

// The knowledge base: sources, document imports and search. Requests and answers.

const Day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a day as YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), 'not a real day');
const SourceName = z
  .string()
  .trim()
  .min(1)
  .max(100)
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} ._-]*$/u, 'letters, digits, spaces, dots, dashes and underscores; starting with a letter or digit');
const Audience = z.enum(['internal', 'customer']);

/** A source to create, or the fields of one an import goes to (made when missing). */
export const KnowledgeSourceInput = z.strictObject({
  name: SourceName,
  owner: z.string().trim().min(1).max(200).optional(),
  audience: Audience.optional(),
  /** After this day the source no longer grounds customer-facing text until it is approved again with a new date. */
  reviewDate: Day.nullable().optional(),
});

export const KnowledgeApproveInput = z.strictObject({ reviewDate: Day.nullable().optional() });
export const KnowledgeRetireInput = z.strictObject({ reason: z.string().trim().min(1).max(500).optional() });

/** The source a document goes to, by its fields; `approve` (default true) approves it at its new version. */
export const KnowledgeDocumentSource = KnowledgeSourceInput.extend({ approve: z.boolean().optional() });

/** One document to import, as JSON. */
export const KnowledgeDocumentInput = z.strictObject({
  /** Where the document lives, relative to its collection (e.g. `billing/late-payments.md`); one document per path and source. */
  path: z.string().min(1).max(500),
  /** md, html or txt; taken from the path's extension when left out. */
  format: z.enum(['md', 'html', 'txt']).optional(),
  content: z.string().max(2 * 1024 * 1024),
  /** The source's name, or its fields; `approve` (default true) approves the source at its new version. */
  source: z.union([SourceName, KnowledgeDocumentSource]),
});

export const KnowledgeSearchQuery = z.strictObject({
  q: z.string().trim().min(1).max(500),
  k: z.coerce.number().int().min(1).max(50).default(5),
  /** What the text will be used for: `customer` (approved, current, customer-facing sources only) or `internal`. Default: `customer` for the agent role, `internal` for staff. */
  use: z.enum(['customer', 'internal']).optional(),
  /** Admins only, with use=internal: search draft sources too. */
  includeDrafts: z.enum(['true', 'false']).optional(),
});

export const KnowledgeSourceSchema = component(
  'KnowledgeSource',
  z.object({
    id: z.string(),
    name: z.string(),
    owner: z.string(),
    audience: Audience,
    state: z.enum(['draft', 'approved', 'retired']),
    version: z.number().int().min(1),
    approvedVersion: z.number().int().nullable(),
    approvedAt: IsoTime.nullable(),
    approvedBy: z.string().nullable(),
    reviewDate: z.string().nullable(),
    /** Approved and not past its review date: it may ground customer-facing text. */
    current: z.boolean(),
    documents: z.number().int().min(0),
    chunks: z.number().int().min(0),
    createdAt: IsoTime,
    updatedAt: IsoTime,
  }),
  'a knowledge source: its owner, audience, approval state, version and review date',
);

export const KnowledgeSourceList = component(
  'KnowledgeSourceList',
  z.object({ data: z.array(KnowledgeSourceSchema) }),
  'every knowledge source',
);

export const KnowledgeDocumentSchema = component(
  'KnowledgeDocument',
  z.object({
    id: z.string(),
    /** Where the document lives in its source, as imported. */
    path: z.string(),
    title: z.string(),
    format: z.enum(['md', 'html', 'txt']),
    version: z.number().int().min(1),
    /** How many chunks (passages) it was split into. */
    chunks: z.number().int().min(0),
    createdAt: IsoTime,
    updatedAt: IsoTime,
  }),
  'a document of a knowledge source: its path, title, version and how many chunks it has',
);
export const KnowledgeDocumentPage = page(KnowledgeDocumentSchema);

const ChunkCounts = z.object({
  total: z.number().int(),
  added: z.number().int(),
  changed: z.number().int(),
  unchanged: z.number().int(),
  removed: z.number().int(),
});

export const KnowledgeImportSchema = component(
  'KnowledgeImport',
  z.object({
    source: KnowledgeSourceSchema,
    document: z.object({
      documentId: z.string(),
      path: z.string(),
      title: z.string(),
      format: z.enum(['md', 'html', 'txt']),
      version: z.number().int(),
      status: z.enum(['created', 'updated', 'unchanged']),
      chunks: ChunkCounts,
      chunkIds: z.array(z.string()),
    }),
  }),
  'one imported document: what changed, its chunks\u2019 stable ids, and the source after the import',
);

export const KnowledgeSearchSchema = component(
  'KnowledgeSearch',
  z.object({
    query: z.string(),
    use: z.enum(['customer', 'internal']),
    k: z.number().int(),
    results: z.array(
      z.object({
        chunkId: z.string(),
        /** The document's path, as imported. */
        path: z.string(),
        title: z.string(),
        headingPath: z.array(z.string()),
        text: z.string(),
        /** Reciprocal rank fusion: the sum of 1 / (60 + rank) over the rankings the chunk is in. */
        score: z.number(),
        ranks: z.object({
          lexical: z.number().int().nullable(),
          trigram: z.number().int().nullable(),
          semantic: z.number().int().nullable(),
        }),
        /** Cosine similarity of the chunk with the query, when ranked semantically (an embedding model is configured). */
        similarity: z.number().nullable(),
        document: z.object({ id: z.string(), version: z.number().int() }),
        source: z.object({
          id: z.string(),
          name: z.string(),
          audience: Audience,
          state: z.enum(['draft', 'approved', 'retired']),
          version: z.number().int(),
          reviewDate: z.string().nullable(),
        }),
        injection: z.unknown(),
      }),
    ),
    retrieval: z.object({
      lexical: z.literal('bm25'),
      trigram: z.enum(['pg_trgm', 'js', 'off']),
      semantic: z.enum(['cosine', 'off']),
      rrfK: z.number().int(),
    }),
  }),
  'ranked chunks of the knowledge base, best first, each with its document\u2019s path, heading path, text and fused score',
);
