/**
 * knowledge: knowledge sources (owner, audience, approval state, version, review date), their documents and the
 * documents' chunks, split along headings with stable ids; import from Markdown, HTML and plain text; hybrid search
 * (BM25, trigram, embeddings when given, fused by reciprocal rank fusion) filtered by the intended use. Owns the
 * knowledge_sources, knowledge_documents and knowledge_chunks tables (knowledge.repo.ts).
 */
export { FORMATS, MAX_CHUNK_CHARS, chunkDocument, chunkIds, formatOfPath, parseDocument } from './chunk.ts';
export type { Block, DocumentChunk, DocumentFormat, ParsedDocument } from './chunk.ts';
export { embedPending, importDocuments, pathProblem, readDocuments } from './import.ts';
export type { DocumentInput, DocumentResult, Embedder, ImportResult, ReadFolderResult, SourceSpec } from './import.ts';
export { RRF_K, TRIGRAM_THRESHOLD, USES, cosine, filterFor, hasKnowledgeFor, searchKnowledge, semanticRanking } from './search.ts';
export type { KnowledgeUse, SearchHit, SearchOptions, SearchResult, SemanticEngine } from './search.ts';
export {
  AUDIENCES,
  DEFAULT_OWNER,
  SOURCE_STATES,
  approveSource,
  createSource,
  getSource,
  listDocuments,
  listSources,
  retireSource,
} from './sources.ts';
export type { KnowledgeDocumentSummary } from './sources.ts';
export type { Audience, KnowledgeSource, SourceFields } from './sources.ts';
export { wordSimilarity } from './trigram.ts';
export { selectDocumentChunks as documentChunks } from './knowledge.repo.ts';
