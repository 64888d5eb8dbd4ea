import type { Db, Queryable, Tx } from '../store/index.ts';
import type { Embedder } from './import.ts';
import { embeddingText } from './import.ts';
import {
  anyEligibleChunk,
  bm25Search,
  queryLexemes,
  selectEligibleEmbeddings,
  selectEligibleTexts,
  selectHits,
  extensionSchema,
  trigramSearch,
  vectorSearch,
  type ChunkFilter,
} from './knowledge.repo.ts';
import { dayOf } from './sources.ts';
import { looksLikeCode, queryTokens, wordSimilarity } from './trigram.ts';

/**
 * What the text found will be used for. `customer`: it may reach a customer, so only approved, current,
 * customer-facing sources. `internal`: staff reading for themselves, so approved sources of either audience.
 */
export const USES = ['customer', 'internal'] as const;
export type KnowledgeUse = (typeof USES)[number];

/** Reciprocal rank fusion's constant: each list adds 1 / (RRF_K + rank). 60 as in Cormack, Clarke & Büttcher (SIGIR 2009). */
export const RRF_K = 60;
/** A trigram match counts from this word similarity up (pg_trgm's own default threshold for word_similarity is 0.6). */
export const TRIGRAM_THRESHOLD = 0.5;

export interface SearchOptions {
  q: string;
  k: number;
  use: KnowledgeUse;
  /** Also search draft sources (internal use only; the API allows it to admins). */
  includeDrafts?: boolean;
  /** The server's time: a source is current while its review date is not before this day. */
  now: Date;
  /** Semantic retrieval, when a provider is configured. */
  embedder?: Embedder;
  /**
   * Only chunks of these documents (ids, `kbd_…`): retrieval about one thing the conversation is about, as a CRM
   * keeps to the account in context. The use's filter still applies; an empty list finds nothing.
   */
  documentIds?: string[];
  /** Trigram similarity: in the database when it has pg_trgm (`auto`, the default), always in JS, or off. */
  trigram?: 'auto' | 'js' | 'off';
  /** Cosine similarity: in the database when it has pgvector (`auto`, the default), or always in JS. */
  vector?: 'auto' | 'js';
}

export interface SearchHit {
  chunkId: string;
  path: string;
  title: string;
  headingPath: string[];
  text: string;
  /** The fused score: the sum over the rankings the chunk is in of 1 / (60 + rank). Higher is better. */
  score: number;
  /** The chunk's rank (from 1) in each ranking, null where it is not ranked. */
  ranks: { lexical: number | null; trigram: number | null; semantic: number | null };
  /** Cosine similarity of the chunk's embedding with the query's, when it was ranked semantically; else null. */
  similarity: number | null;
  document: { id: string; version: number };
  source: { id: string; name: string; audience: string; state: string; version: number; reviewDate: string | null };
  /** The injection detector's finding on this chunk, when it has been scanned. */
  injection: unknown;
}

export interface SearchResult {
  results: SearchHit[];
  /** Which rankings took part: lexical always; trigram in the database, in JS or not at all; semantic with an embedder. */
  retrieval: { lexical: 'bm25'; trigram: 'pg_trgm' | 'js' | 'off'; semantic: 'cosine' | 'off'; rrfK: number };
}

/** The filter a use implies. */
export function filterFor(use: KnowledgeUse, includeDrafts: boolean, now: Date): ChunkFilter {
  if (use === 'customer') return { states: ['approved'], audiences: ['customer'], currentOn: dayOf(now), excludeFlagged: true };
  return { states: includeDrafts ? ['approved', 'draft'] : ['approved'], audiences: ['internal', 'customer'], currentOn: null };
}

/** Quotes lexemes into an OR tsquery: any of them. */
const orQuery = (lexemes: string[]) => lexemes.map((l) => `'${l.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`).join(' | ');

/** Runs `fn` in the caller's transaction, or in a new one when given the database itself (only a Db can begin one). */
const inTransaction = <T>(q: Queryable, fn: (tx: Tx) => Promise<T>): Promise<T> =>
  'transaction' in q ? (q as Db).transaction(fn) : fn(q as Tx);

/** Where each database has pg_trgm and pgvector: looked up once per database (handle), as extensions rarely come and go. */
const extensionSchemas = new WeakMap<object, Map<string, Promise<string | null>>>();
function cachedExtensionSchema(db: Queryable, name: 'pg_trgm' | 'vector'): Promise<string | null> {
  let byName = extensionSchemas.get(db);
  if (!byName) extensionSchemas.set(db, (byName = new Map()));
  let cached = byName.get(name);
  if (!cached) byName.set(name, (cached = extensionSchema(db, name)));
  return cached;
}

/** How a semantic ranking was made: by pgvector in the database, or by cosine in JS where it has no pgvector. */
export type SemanticEngine = 'pgvector' | 'js';

/**
 * The chunks the filter allows, ranked by the cosine similarity of their embedding from `model` with `query`, best
 * first, ties by id, at most `limit`; only embeddings of the query's length take part. With pgvector the database
 * ranks them (exact, no index: see docs/knowledge.md); without it every allowed embedding is read and compared here.
 * Both rank the same numbers: the stored vectors are float4, and the query is rounded to float4 as the cast does.
 */
export async function semanticRanking(
  db: Queryable,
  model: string,
  query: number[],
  filter: ChunkFilter,
  limit: number,
  mode: 'auto' | 'js' = 'auto',
): Promise<{ engine: SemanticEngine; ranking: { id: string; score: number }[] }> {
  const q = query.map(Math.fround);
  // pgvector takes 1 to 16,000 dimensions; any other length is left to JS.
  const schema = mode === 'auto' && q.length >= 1 && q.length <= 16_000 ? await cachedExtensionSchema(db, 'vector') : null;
  if (schema) return { engine: 'pgvector', ranking: await vectorSearch(db, schema, model, q, filter, limit) };
  const ranking = (await selectEligibleEmbeddings(db, model, filter))
    .filter((c) => c.embedding.length === q.length)
    // 1 − (1 − s), not s: the database returns 1 − its cosine distance, and the two differ in the last bits.
    .map((c) => ({ id: c.id, score: 1 - (1 - cosine(q, c.embedding)) }))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
    .slice(0, limit);
  return { engine: 'js', ranking };
}

/**
 * Hybrid search over the knowledge base, in the database: BM25 over the full-text vectors, trigram similarity for
 * names and codes (query words that look like codes, and words no chunk holds, e.g. misspelt ones), and cosine
 * similarity of embeddings when an embedder is given; the rankings fused by reciprocal rank fusion.
 */
export async function searchKnowledge(db: Queryable, o: SearchOptions): Promise<SearchResult> {
  const filter = { ...filterFor(o.use, o.includeDrafts === true && o.use === 'internal', o.now), documentIds: o.documentIds ?? null };
  const depth = Math.max(50, o.k * 10);
  const tokens = queryTokens(o.q);
  const perToken = await queryLexemes(db, tokens);
  const lexemes = [...new Set(perToken.flatMap((t) => t.lexemes))];

  const lexical = await bm25Search(db, lexemes, orQuery(lexemes), filter, depth);
  const seen = new Set(lexical.flatMap((r) => r.matched));
  // Trigram: codes and names, and words the lexical ranking could not place (no chunk holds their lexeme).
  const fuzzy = perToken
    .filter((t) => t.token.length >= 3 && t.lexemes.length > 0 && (looksLikeCode(t.token) || t.lexemes.every((l) => !seen.has(l))))
    .map((t) => t.token);
  let trigramMode: SearchResult['retrieval']['trigram'] = 'off';
  let trigram: { id: string; score: number }[] = [];
  if (fuzzy.length && o.trigram !== 'off') {
    let schema: string | null = null;
    if (o.trigram !== 'js') {
      schema = await cachedExtensionSchema(db, 'pg_trgm');
    }
    if (schema) {
      trigramMode = 'pg_trgm';
      trigram = await inTransaction(db, (tx) => trigramSearch(tx, schema!, fuzzy, TRIGRAM_THRESHOLD, filter, depth));
    } else {
      trigramMode = 'js';
      trigram = (await selectEligibleTexts(db, filter))
        .map((c) => {
          const text = `${c.heading_path.join(' ')} ${c.text}`;
          const score = fuzzy
            .map((t) => wordSimilarity(t, text))
            .filter((s) => s >= TRIGRAM_THRESHOLD)
            .reduce((a, b) => a + b, 0);
          return { id: c.id, score };
        })
        .filter((r) => r.score > 0)
        .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1))
        .slice(0, depth);
    }
  } else if (o.trigram !== 'off') trigramMode = o.trigram === 'js' ? 'js' : 'pg_trgm';

  let semantic: { id: string; score: number }[] = [];
  if (o.embedder && o.q.trim()) {
    const model = o.embedder.model ?? 'default';
    const [query] = await o.embedder.embed([embeddingText([], o.q)]);
    if (query) semantic = (await semanticRanking(db, model, query, filter, depth, o.vector)).ranking;
  }

  const similarity = new Map(semantic.map((r) => [r.id, r.score]));
  const fused = new Map<string, { score: number; ranks: SearchHit['ranks'] }>();
  const add = (list: { id: string }[], key: keyof SearchHit['ranks']) =>
    list.forEach((r, i) => {
      const entry = fused.get(r.id) ?? { score: 0, ranks: { lexical: null, trigram: null, semantic: null } };
      entry.score += 1 / (RRF_K + i + 1);
      entry.ranks[key] = i + 1;
      fused.set(r.id, entry);
    });
  add(lexical, 'lexical');
  add(trigram, 'trigram');
  add(semantic, 'semantic');
  const top = [...fused].sort((a, b) => b[1].score - a[1].score || (a[0] < b[0] ? -1 : 1)).slice(0, o.k);
  const rows = new Map(
    (
      await selectHits(
        db,
        top.map(([id]) => id),
      )
    ).map((r) => [r.id, r]),
  );
  const results: SearchHit[] = top.flatMap(([id, f]) => {
    const r = rows.get(id);
    if (!r) return [];
    return [
      {
        chunkId: id,
        path: r.path,
        title: r.title,
        headingPath: r.heading_path,
        text: r.text,
        score: f.score,
        ranks: f.ranks,
        similarity: f.ranks.semantic === null ? null : Math.round(similarity.get(id)! * 10_000) / 10_000,
        document: { id: r.document_id, version: r.document_version },
        source: {
          id: r.source_id,
          name: r.source_name,
          audience: r.audience,
          state: r.state,
          version: r.source_version,
          reviewDate: dayOf(r.review_date),
        },
        injection: r.injection ?? null,
      },
    ];
  });
  return {
    results,
    retrieval: { lexical: 'bm25', trigram: trigramMode, semantic: o.embedder ? 'cosine' : 'off', rrfK: RRF_K },
  };
}

/**
 * Cosine similarity computed as pgvector computes it, so the JS ranking and the database's agree to the last bit:
 * products and sums in float4 (Math.fround rounds each, which gives float4 arithmetic exactly), the quotient in
 * float8, clamped to [-1, 1]. A zero vector scores 0 (pgvector gives NaN; the SQL maps it to 0 too).
 */
export function cosine(a: number[], b: number[]): number {
  const f = Math.fround;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = f(a[i]!);
    const y = f(b[i]!);
    dot = f(dot + f(x * y));
    na = f(na + f(x * x));
    nb = f(nb + f(y * y));
  }
  if (na === 0 || nb === 0) return 0;
  return Math.min(1, Math.max(-1, dot / Math.sqrt(na * nb)));
}

/** Whether the knowledge base holds anything this use may read (for customer use: approved, current, customer-facing). */
export async function hasKnowledgeFor(db: Queryable, use: KnowledgeUse, now: Date): Promise<boolean> {
  return anyEligibleChunk(db, filterFor(use, false, now));
}
