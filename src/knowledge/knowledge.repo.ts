import type { Queryable, Tx } from '../store/index.ts';

// The knowledge module's SQL: sources, documents, chunks, and the statements search runs.

export interface SourceRow {
  id: string;
  name: string;
  owner: string;
  audience: 'internal' | 'customer';
  state: 'draft' | 'approved' | 'retired';
  version: number;
  approved_version: number | null;
  approved_at: Date | string | null;
  approved_by: string | null;
  review_date: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
  documents: number;
  chunks: number;
}

const SOURCE_COLUMNS = `s.id, s.name, s.owner, s.audience, s.state, s.version, s.approved_version, s.approved_at, s.approved_by,
  s.review_date, s.created_at, s.updated_at,
  (SELECT count(*) FROM knowledge_documents d WHERE d.source_id = s.id)::int AS documents,
  (SELECT count(*) FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id WHERE d.source_id = s.id)::int AS chunks`;

export async function selectSources(q: Queryable): Promise<SourceRow[]> {
  return q.query<SourceRow>(`SELECT ${SOURCE_COLUMNS} FROM knowledge_sources s ORDER BY s.name`);
}

export interface DocumentListRow {
  id: string;
  path: string;
  title: string;
  format: string;
  version: number;
  chunks: number;
  created_at: Date;
  updated_at: Date;
}

/** A source's documents by path, with their chunk counts: `limit` rows from `offset`. */
export async function selectDocuments(q: Queryable, sourceId: string, offset: number, limit: number): Promise<DocumentListRow[]> {
  return q.query<DocumentListRow>(
    `SELECT d.id, d.path, d.title, d.format, d.version, d.created_at, d.updated_at,
            (SELECT count(*)::int FROM knowledge_chunks c WHERE c.document_id = d.id) AS chunks
     FROM knowledge_documents d WHERE d.source_id = $1 ORDER BY d.path, d.id OFFSET $2 LIMIT $3`,
    [sourceId, offset, limit],
  );
}

/** By id or by name; `lock` takes the row for the rest of the transaction. */
export async function selectSource(q: Queryable, idOrName: string, lock = false): Promise<SourceRow | undefined> {
  const [row] = await q.query<SourceRow>(
    `SELECT ${lock ? 's.*, 0 AS documents, 0 AS chunks' : SOURCE_COLUMNS} FROM knowledge_sources s WHERE s.id = $1 OR s.name = $1
     ORDER BY (s.id = $1) DESC LIMIT 1${lock ? ' FOR UPDATE' : ''}`,
    [idOrName],
  );
  return row;
}

export async function insertSource(
  tx: Tx,
  s: { id: string; name: string; owner: string; audience: string; reviewDate: string | null; now: Date },
): Promise<boolean> {
  const rows = await tx.query(
    `INSERT INTO knowledge_sources (id, name, owner, audience, review_date, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5::date, $6, $6) ON CONFLICT (name) DO NOTHING RETURNING id`,
    [s.id, s.name, s.owner, s.audience, s.reviewDate, s.now],
  );
  return rows.length === 1;
}

export async function updateSourceFields(
  tx: Tx,
  id: string,
  f: { owner?: string; audience?: string; reviewDate?: string | null; now: Date },
): Promise<void> {
  await tx.query(
    // A new audience needs a new approval: an internal source made customer-facing must be looked at again.
    `UPDATE knowledge_sources SET owner = coalesce($2, owner), audience = coalesce($3, audience),
       state = CASE WHEN $3::text IS NOT NULL AND $3::text <> audience AND state = 'approved' THEN 'draft' ELSE state END,
       review_date = CASE WHEN $4::boolean THEN $5::date ELSE review_date END, updated_at = $6 WHERE id = $1`,
    [id, f.owner ?? null, f.audience ?? null, f.reviewDate !== undefined, f.reviewDate ?? null, f.now],
  );
}

/** A new version of the source's content: an approved source goes back to draft until it is approved again. */
export async function bumpSourceVersion(tx: Tx, id: string, now: Date): Promise<number> {
  const [row] = await tx.query<{ version: number }>(
    `UPDATE knowledge_sources SET version = version + 1, updated_at = $2,
       state = CASE WHEN state = 'approved' THEN 'draft' ELSE state END WHERE id = $1 RETURNING version`,
    [id, now],
  );
  return row!.version;
}

export async function markSourceApproved(tx: Tx, id: string, actor: string, now: Date): Promise<void> {
  await tx.query(
    `UPDATE knowledge_sources SET state = 'approved', approved_version = version, approved_at = $2, approved_by = $3, updated_at = $2
     WHERE id = $1`,
    [id, now, actor],
  );
}

export async function markSourceRetired(tx: Tx, id: string, now: Date): Promise<void> {
  await tx.query(`UPDATE knowledge_sources SET state = 'retired', updated_at = $2 WHERE id = $1`, [id, now]);
}

export interface DocumentRow {
  id: string;
  source_id: string;
  path: string;
  title: string;
  format: string;
  content_hash: string;
  version: number;
}

export async function selectDocument(q: Queryable, id: string, lock = false): Promise<DocumentRow | undefined> {
  const [row] = await q.query<DocumentRow>(
    `SELECT id, source_id, path, title, format, content_hash, version FROM knowledge_documents WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return row;
}

export async function upsertDocument(
  tx: Tx,
  d: { id: string; sourceId: string; path: string; title: string; format: string; contentHash: string; now: Date },
): Promise<number> {
  const [row] = await tx.query<{ version: number }>(
    `INSERT INTO knowledge_documents (id, source_id, path, title, format, content_hash, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
     ON CONFLICT (id) DO UPDATE SET title = EXCLUDED.title, format = EXCLUDED.format, content_hash = EXCLUDED.content_hash,
       version = knowledge_documents.version + 1, updated_at = EXCLUDED.updated_at
     RETURNING version`,
    [d.id, d.sourceId, d.path, d.title, d.format, d.contentHash, d.now],
  );
  return row!.version;
}

export async function selectChunkHashes(q: Queryable, documentId: string): Promise<{ id: string; content_hash: string }[]> {
  return q.query(`SELECT id, content_hash FROM knowledge_chunks WHERE document_id = $1`, [documentId]);
}

/**
 * Writes a document's chunks: new ones are inserted, existing ones (same id) updated in place. A chunk whose text
 * changed loses its embedding, which was about the old text; its injection finding is the one given, of the new text.
 */
export async function upsertChunks(
  tx: Tx,
  documentId: string,
  chunks: { id: string; ordinal: number; headingPath: string[]; text: string; contentHash: string; injection: unknown }[],
  now: Date,
): Promise<void> {
  if (chunks.length === 0) return;
  await tx.query(
    `WITH input AS (
       SELECT t.id, t.ordinal, ARRAY(SELECT jsonb_array_elements_text(t.heading_path)) AS heading_path, t.text, t.content_hash, t.injection
       FROM jsonb_to_recordset($1::jsonb) AS t(id text, ordinal int, heading_path jsonb, text text, content_hash text, injection jsonb)
     ), vec AS (
       SELECT i.*, setweight(to_tsvector('english', array_to_string(i.heading_path, ' ')), 'A') || setweight(to_tsvector('english', i.text), 'B') AS tsv
       FROM input i
     )
     INSERT INTO knowledge_chunks (id, document_id, ordinal, heading_path, text, content_hash, token_count, tsv, injection, updated_at)
     SELECT v.id, $2, v.ordinal, v.heading_path, v.text, v.content_hash,
       (SELECT coalesce(sum(coalesce(array_length(u.positions, 1), 1)), 0) FROM unnest(v.tsv) u)::int, v.tsv, v.injection, $3
     FROM vec v
     ON CONFLICT (id) DO UPDATE SET
       ordinal = EXCLUDED.ordinal, heading_path = EXCLUDED.heading_path, text = EXCLUDED.text, token_count = EXCLUDED.token_count,
       tsv = EXCLUDED.tsv,
       embedding = CASE WHEN knowledge_chunks.content_hash = EXCLUDED.content_hash THEN knowledge_chunks.embedding END,
       embedding_model = CASE WHEN knowledge_chunks.content_hash = EXCLUDED.content_hash THEN knowledge_chunks.embedding_model END,
       injection = EXCLUDED.injection,
       updated_at = CASE WHEN knowledge_chunks.content_hash = EXCLUDED.content_hash THEN knowledge_chunks.updated_at ELSE EXCLUDED.updated_at END,
       content_hash = EXCLUDED.content_hash`,
    [
      JSON.stringify(
        chunks.map((c) => ({
          id: c.id,
          ordinal: c.ordinal,
          heading_path: c.headingPath,
          text: c.text,
          content_hash: c.contentHash,
          injection: c.injection,
        })),
      ),
      documentId,
      now,
    ],
  );
}

export async function deleteChunksNotIn(tx: Tx, documentId: string, keep: string[]): Promise<number> {
  const rows = await tx.query(`DELETE FROM knowledge_chunks WHERE document_id = $1 AND NOT (id = ANY($2::text[])) RETURNING id`, [
    documentId,
    keep,
  ]);
  return rows.length;
}

/** Chunks without an embedding from `model`, oldest first: what an embedder still has to do. */
export async function selectChunksToEmbed(
  q: Queryable,
  model: string,
  limit: number,
): Promise<{ id: string; heading_path: string[]; text: string }[]> {
  return q.query(
    `SELECT id, heading_path, text FROM knowledge_chunks WHERE embedding IS NULL OR embedding_model IS DISTINCT FROM $1 ORDER BY id LIMIT $2`,
    [model, limit],
  );
}

export async function updateEmbeddings(q: Queryable, model: string, rows: { id: string; embedding: number[] }[]): Promise<void> {
  if (rows.length === 0) return;
  await q.query(
    `UPDATE knowledge_chunks c SET embedding = ARRAY(SELECT jsonb_array_elements_text(t.embedding)::real), embedding_model = $2
     FROM jsonb_to_recordset($1::jsonb) AS t(id text, embedding jsonb) WHERE c.id = t.id`,
    [JSON.stringify(rows), model],
  );
}

/** Which chunks a search may see: the states and audiences of their sources, and whether they must be current on a day. */
export interface ChunkFilter {
  states: string[];
  audiences: string[];
  /** YYYY-MM-DD: only sources whose review date is not before it (or that have none); null for no such condition. */
  currentOn: string | null;
  /** Only chunks of these documents (ids); null or absent for every document. */
  documentIds?: string[] | null;
  /** Leave out chunks the injection detector flagged (customer use: such a passage never grounds customer-facing text). */
  excludeFlagged?: boolean;
}

const ELIGIBLE = (first: number) => `
  SELECT c.id, c.tsv, c.token_count, c.text, c.heading_path, c.embedding, c.embedding_model
  FROM knowledge_chunks c
  JOIN knowledge_documents d ON d.id = c.document_id
  JOIN knowledge_sources s ON s.id = d.source_id
  WHERE s.state = ANY($${first}::text[]) AND s.audience = ANY($${first + 1}::text[])
    AND ($${first + 2}::date IS NULL OR s.review_date IS NULL OR s.review_date >= $${first + 2}::date)
    AND ($${first + 3}::text[] IS NULL OR d.id = ANY($${first + 3}::text[]))
    AND (NOT $${first + 4}::boolean OR coalesce((c.injection->>'flagged')::boolean, false) = false)`;

const filterParams = (f: ChunkFilter) => [f.states, f.audiences, f.currentOn, f.documentIds ?? null, f.excludeFlagged === true];

/** The English lexemes of each query word (none for a stop word). */
export async function queryLexemes(q: Queryable, tokens: string[]): Promise<{ token: string; lexemes: string[] }[]> {
  if (tokens.length === 0) return [];
  return q.query(`SELECT t AS token, tsvector_to_array(to_tsvector('english', t)) AS lexemes FROM unnest($1::text[]) t`, [tokens]);
}

/**
 * Okapi BM25 (k1 = 1.2, b = 0.75) over the chunks the filter allows, computed from the tsvectors themselves: the
 * term frequency is the number of positions of the lexeme in the chunk (a heading position counts twice), the
 * document frequency and the average length are taken over the allowed chunks, so the scores are those of a BM25
 * index built over exactly what the caller may see. The GIN index finds the chunks holding any query lexeme.
 */
export async function bm25Search(
  q: Queryable,
  lexemes: string[],
  tsquery: string,
  filter: ChunkFilter,
  limit: number,
): Promise<{ id: string; score: number; matched: string[] }[]> {
  if (lexemes.length === 0) return [];
  return q.query(
    `WITH el AS (${ELIGIBLE(4)}),
     stats AS (SELECT count(*)::float8 AS n, greatest(avg(token_count), 1)::float8 AS avgdl FROM el),
     tf AS (
       SELECT el.id, el.token_count, u.lexeme, sum(CASE WHEN w = 'A' THEN 2 ELSE 1 END)::float8 AS f
       FROM el CROSS JOIN LATERAL unnest(el.tsv) u CROSS JOIN LATERAL unnest(u.weights) w
       WHERE el.tsv @@ $2::tsquery AND u.lexeme = ANY($1::text[])
       GROUP BY el.id, el.token_count, u.lexeme
     ),
     df AS (SELECT lexeme, count(*)::float8 AS n FROM tf GROUP BY lexeme)
     SELECT tf.id,
       sum(ln(1 + (stats.n - df.n + 0.5) / (df.n + 0.5)) * tf.f * 2.2 / (tf.f + 1.2 * (0.25 + 0.75 * tf.token_count / stats.avgdl)))::float8 AS score,
       array_agg(tf.lexeme) AS matched
     FROM tf JOIN df USING (lexeme) CROSS JOIN stats
     GROUP BY tf.id ORDER BY score DESC, tf.id LIMIT $3`,
    [lexemes, tsquery, limit, ...filterParams(filter)],
  );
}

/** The schema an extension (pg_trgm, vector) is installed in, or null when the database does not have it. */
export async function extensionSchema(q: Queryable, name: 'pg_trgm' | 'vector'): Promise<string | null> {
  const [row] = await q.query<{ schema: string }>(
    `SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1`,
    [name],
  );
  const schema = row?.schema ?? null;
  // The schema goes into SQL text (operators and types are qualified with it), so only a plain name will do.
  if (schema !== null && !/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`unexpected schema name for ${name}: ${schema}`);
  return schema;
}

/**
 * pg_trgm's word_similarity of each token against each allowed chunk's heading path and text; a chunk scores the sum
 * over the tokens that reach `threshold`. The candidates come from the word-similarity operator (`<%`), which the
 * chunks' trigram index (migration 026) answers; its threshold is set to ours for the transaction, so the operator
 * keeps exactly the pairs the score counts. Run it in a transaction (`SET LOCAL` lasts for it).
 */
export async function trigramSearch(
  q: Tx,
  schema: string,
  tokens: string[],
  threshold: number,
  filter: ChunkFilter,
  limit: number,
): Promise<{ id: string; score: number }[]> {
  await q.query(`SELECT set_config('pg_trgm.word_similarity_threshold', $1, true)`, [String(threshold)]);
  return q.query(
    `WITH el AS (${ELIGIBLE(4)}),
     hits AS (
       SELECT c.id, t FROM unnest($1::text[]) t
       JOIN knowledge_chunks c ON t OPERATOR(${schema}.<%) knowledge_chunk_search_text(c.heading_path, c.text)
     )
     SELECT el.id, sum(s.sim)::float8 AS score
     FROM hits h JOIN el ON el.id = h.id
     CROSS JOIN LATERAL (
       SELECT ${schema}.word_similarity(h.t, knowledge_chunk_search_text(el.heading_path, el.text))::float8 AS sim
     ) s
     WHERE s.sim >= $2
     GROUP BY el.id ORDER BY score DESC, el.id LIMIT $3`,
    [tokens, threshold, limit, ...filterParams(filter)],
  );
}

/** Whether any chunk passes the filter: a knowledge base with nothing a use may read is one that is not there for it. */
export async function anyEligibleChunk(q: Queryable, filter: ChunkFilter): Promise<boolean> {
  const rows = await q.query(`WITH el AS (${ELIGIBLE(1)}) SELECT 1 FROM el LIMIT 1`, filterParams(filter));
  return rows.length > 0;
}

/** The allowed chunks' heading paths and texts: for trigram similarity in JS where the database has no pg_trgm. */
export async function selectEligibleTexts(
  q: Queryable,
  filter: ChunkFilter,
): Promise<{ id: string; heading_path: string[]; text: string }[]> {
  return q.query(`WITH el AS (${ELIGIBLE(1)}) SELECT id, heading_path, text FROM el ORDER BY id`, filterParams(filter));
}

/**
 * pgvector's exact top-k over the allowed chunks' embeddings from `model` of the query's length: cosine distance
 * (`<=>`) between the stored real[] cast to vector and the query, best first, ties by id. Similarity is 1 − distance;
 * a zero vector (whose distance pgvector gives as NaN) scores 0, as the JS cosine has it. `schema` is pgvector's.
 */
export async function vectorSearch(
  q: Queryable,
  schema: string,
  model: string,
  query: number[],
  filter: ChunkFilter,
  limit: number,
): Promise<{ id: string; score: number }[]> {
  return q.query(
    `WITH el AS (${ELIGIBLE(4)}),
     d AS (
       SELECT id, (embedding::${schema}.vector OPERATOR(${schema}.<=>) $2::real[]::${schema}.vector)::float8 AS distance
       FROM el WHERE embedding IS NOT NULL AND embedding_model = $1 AND cardinality(embedding) = cardinality($2::real[])
     )
     SELECT id, CASE WHEN distance = 'NaN' THEN 0 ELSE 1 - distance END AS score
     FROM d ORDER BY score DESC, id LIMIT $3`,
    [model, query, limit, ...filterParams(filter)],
  );
}

/** The allowed chunks' embeddings from `model`. */
export async function selectEligibleEmbeddings(
  q: Queryable,
  model: string,
  filter: ChunkFilter,
): Promise<{ id: string; embedding: number[] }[]> {
  return q.query(
    `WITH el AS (${ELIGIBLE(2)}) SELECT id, embedding FROM el WHERE embedding IS NOT NULL AND embedding_model = $1 ORDER BY id`,
    [model, ...filterParams(filter)],
  );
}

export interface HitRow {
  id: string;
  heading_path: string[];
  text: string;
  path: string;
  title: string;
  document_id: string;
  document_version: number;
  source_id: string;
  source_name: string;
  audience: string;
  state: string;
  source_version: number;
  review_date: Date | string | null;
  injection: unknown;
}

export async function selectHits(q: Queryable, ids: string[]): Promise<HitRow[]> {
  if (ids.length === 0) return [];
  return q.query(
    `SELECT c.id, c.heading_path, c.text, c.injection, d.path, d.title, d.id AS document_id, d.version AS document_version,
       s.id AS source_id, s.name AS source_name, s.audience, s.state, s.version AS source_version, s.review_date
     FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id JOIN knowledge_sources s ON s.id = d.source_id
     WHERE c.id = ANY($1::text[])`,
    [ids],
  );
}

/** A document's chunks in order, with their ids: what tests and the import report read back. */
export async function selectDocumentChunks(
  q: Queryable,
  documentId: string,
): Promise<{ id: string; ordinal: number; heading_path: string[]; text: string }[]> {
  return q.query(`SELECT id, ordinal, heading_path, text FROM knowledge_chunks WHERE document_id = $1 ORDER BY ordinal`, [documentId]);
}
