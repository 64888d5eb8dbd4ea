import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, relative, sep } from 'node:path';
import { AppError } from '../errors.ts';
import { detectInjection } from '../trust/index.ts';
import { appendToLedger } from '../ledger/index.ts';
import type { Db } from '../store/index.ts';
import { chunkDocument, chunkIds, contentHash, documentId, formatOfPath, parseDocument, type DocumentFormat } from './chunk.ts';
import {
  bumpSourceVersion,
  deleteChunksNotIn,
  selectChunkHashes,
  selectChunksToEmbed,
  selectDocument,
  selectSource,
  updateEmbeddings,
  upsertChunks,
  upsertDocument,
} from './knowledge.repo.ts';
import { approveSourceIn, createSourceIn, getSource, updateSourceIn, type KnowledgeSource, type SourceFields } from './sources.ts';

/** One document to import: its path (relative to the folder it came from), format and text. */
export interface DocumentInput {
  path: string;
  format: DocumentFormat;
  content: string;
  /** The title; by default the one the content gives (front matter, first heading, <title>), else the file name. */
  title?: string;
  /**
   * Pre-chunked: these chunks, in this order, instead of splitting `content` along its headings. For content that
   * already comes in pieces with ids of their own (FAQ entries, review sentences): one chunk each, so a hit maps back
   * to the piece. Not offered by `acs kb import` or the API, which always chunk.
   */
  chunks?: { headingPath: string[]; text: string }[];
}

/** The source the documents go to: made when missing; the fields given replace the existing source's. */
export interface SourceSpec extends SourceFields {
  /**
   * Approve the source at its new version once the documents are in (default true: an admin's import is their
   * approval, and it is ledgered as one). With false, a source whose content changed goes back to draft.
   */
  approve?: boolean;
}

/** Turns text into vectors; `model` names what made them, so vectors of different models are never compared. */
export interface Embedder {
  model?: string;
  embed(texts: string[]): Promise<number[][]>;
}

export interface DocumentResult {
  documentId: string;
  path: string;
  title: string;
  format: DocumentFormat;
  version: number;
  status: 'created' | 'updated' | 'unchanged';
  chunks: { total: number; added: number; changed: number; unchanged: number; removed: number };
  chunkIds: string[];
}

export interface ImportResult {
  source: KnowledgeSource;
  documents: DocumentResult[];
  /** Chunks given an embedding after the import (0 without an embedder). */
  embedded: number;
}

const MAX_PATH = 500;

/** A document path as stored: relative, with / separators, no . or .. segment; null when it is fine. */
export function pathProblem(path: string): string | null {
  if (!path || path.length > MAX_PATH) return `1 to ${MAX_PATH} characters`;
  if (path.includes('\\')) return 'use / between folders';
  if (path.startsWith('/')) return 'relative to the folder imported, not absolute';
  if (path.split('/').some((s) => s === '' || s === '.' || s === '..')) return 'no empty, . or .. segments';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f]/.test(path)) return 'no control characters';
  return null;
}

/**
 * Imports documents into one source in one transaction. Each document is split into chunks (src/knowledge/chunk.ts);
 * a document whose content is unchanged is left as it is; a changed one gets a new version, its chunks are updated in
 * place by their stable ids, and chunks no longer there are removed. A change to an approved version of the source
 * makes a new version of it.
 * Ledgered: each changed document, and the approval.
 */
export async function importDocuments(
  db: Db,
  spec: SourceSpec,
  docs: DocumentInput[],
  opts: { actor: string; now: Date; embedder?: Embedder },
): Promise<ImportResult> {
  docs.forEach((d, i) => {
    const problem = pathProblem(d.path);
    if (problem)
      throw new AppError('validation_failed', `bad document path '${d.path}'`, [{ path: `documents[${i}].path`, message: problem }]);
  });
  docs.forEach((d, i) => {
    const bad = d.chunks?.findIndex((c) => !c.text.trim() || c.headingPath.some((h) => !h.trim()));
    if (bad !== undefined && bad >= 0)
      throw new AppError('validation_failed', `document '${d.path}': pre-chunked chunk ${bad} is empty`, [
        { path: `documents[${i}].chunks[${bad}]`, message: 'text and headings must not be empty' },
      ]);
  });
  const paths = new Set<string>();
  for (const d of docs) {
    if (paths.has(d.path))
      throw new AppError('validation_failed', `document path '${d.path}' given twice`, [{ path: 'path', message: 'given twice' }]);
    paths.add(d.path);
  }
  const { now, actor } = opts;
  const results = await db.transaction(async (tx) => {
    const made = await createSourceIn(tx, spec, actor, now);
    let source = (await selectSource(tx, made.id, true))!;
    if (source.state === 'retired')
      throw new AppError('knowledge.source_conflict', `knowledge source '${source.name}' is retired; it takes no documents`);
    if (!made.created) {
      await updateSourceIn(tx, source, { owner: spec.owner, audience: spec.audience, reviewDate: spec.reviewDate }, actor, now);
      source = (await selectSource(tx, source.id, true))!;
    }
    const out: DocumentResult[] = [];
    for (const d of docs) {
      const hash = contentHash(`${d.format}\n${d.content}${d.chunks ? `\n${JSON.stringify([d.title ?? null, d.chunks])}` : ''}`);
      const id = documentId(source.name, d.path);
      const parsed = parseDocument(d.content, d.format);
      const chunks = d.chunks
        ? d.chunks.map((c, ordinal) => ({ ordinal, headingPath: c.headingPath, text: c.text }))
        : chunkDocument(parsed);
      const ids = chunkIds(source.name, d.path, chunks);
      const title = d.title ?? parsed.title ?? basename(d.path).replace(/\.[^.]+$/, '');
      const existing = await selectDocument(tx, id, true);
      if (existing && existing.content_hash === hash) {
        out.push({
          documentId: id,
          path: d.path,
          title: existing.title,
          format: d.format,
          version: existing.version,
          status: 'unchanged',
          chunks: { total: ids.length, added: 0, changed: 0, unchanged: ids.length, removed: 0 },
          chunkIds: ids,
        });
        continue;
      }
      const before = new Map((existing ? await selectChunkHashes(tx, id) : []).map((r) => [r.id, r.content_hash]));
      // A knowledge document is untrusted text too: each chunk is scanned for injected instructions, and the finding
      // (rule ids and scores, never the text) is kept on the chunk and returned with it by search.
      const rows = chunks.map((c, i) => ({
        ...c,
        id: ids[i]!,
        contentHash: contentHash(JSON.stringify([c.headingPath, c.text])),
        injection: detectInjection(c.text),
      }));
      const version = await upsertDocument(tx, { id, sourceId: source.id, path: d.path, title, format: d.format, contentHash: hash, now });
      await upsertChunks(tx, id, rows, now);
      const removed = await deleteChunksNotIn(tx, id, ids);
      const added = rows.filter((r) => !before.has(r.id)).length;
      const unchanged = rows.filter((r) => before.get(r.id) === r.contentHash).length;
      const result: DocumentResult = {
        documentId: id,
        path: d.path,
        title,
        format: d.format,
        version,
        status: existing ? 'updated' : 'created',
        chunks: { total: rows.length, added, changed: rows.length - added - unchanged, unchanged, removed },
        chunkIds: ids,
      };
      out.push(result);
      await appendToLedger(tx, [
        {
          type: 'knowledge.document_imported',
          actor,
          subjectType: 'knowledge_document',
          subjectId: id,
          data: { source: source.id, path: d.path, version, contentHash: hash, status: result.status, chunks: result.chunks },
          at: now,
        },
      ]);
    }
    const changed = out.some((r) => r.status !== 'unchanged');
    // A version is what an approval approves: changes to an approved version make a new one (back to draft until
    // approved again); changes to a version not yet approved are part of it.
    if (changed && source.approved_version === source.version) await bumpSourceVersion(tx, source.id, now);
    source = (await selectSource(tx, source.id, true))!;
    const approve = spec.approve ?? true;
    if (approve && !(source.state === 'approved' && source.approved_version === source.version))
      await approveSourceIn(tx, source, actor, now);
    return { sourceId: source.id, documents: out };
  });
  const embedded = opts.embedder ? await embedPending(db, opts.embedder) : 0;
  return { source: await getSource(db, results.sourceId, now), documents: results.documents, embedded };
}

const EMBED_BATCH = 64;
const EMBED_MAX_BATCHES = 10_000;

/** Gives every chunk without an embedding from this embedder one; returns how many. Bounded; outside any transaction. */
export async function embedPending(db: Db, embedder: Embedder): Promise<number> {
  const model = embedder.model ?? 'default';
  let done = 0;
  for (let i = 0; i < EMBED_MAX_BATCHES; i++) {
    const batch = await selectChunksToEmbed(db, model, EMBED_BATCH);
    if (batch.length === 0) break;
    const vectors = await embedder.embed(batch.map((c) => embeddingText(c.heading_path, c.text)));
    if (vectors.length !== batch.length) throw new Error(`the embedder returned ${vectors.length} vectors for ${batch.length} texts`);
    await updateEmbeddings(
      db,
      model,
      batch.map((c, j) => ({ id: c.id, embedding: vectors[j]! })),
    );
    done += batch.length;
  }
  return done;
}

/** What is embedded for a chunk: its heading path, then its text. */
export const embeddingText = (headingPath: string[], text: string) => (headingPath.length ? `${headingPath.join(' > ')}\n\n${text}` : text);

const MAX_FILES = 10_000;
const MAX_FILE_BYTES = 2 * 1024 * 1024;

export interface ReadFolderResult {
  /** The folder paths are relative to. */
  root: string;
  documents: DocumentInput[];
  /** Files left out, with why. */
  skipped: { path: string; reason: string }[];
}

/**
 * Reads a folder (recursively, in name order; hidden files and folders and symbolic links left out) or one file into
 * documents, each with its path relative to the folder (for one file: its name). Markdown, HTML and plain text by
 * extension; other files are skipped and listed.
 */
export function readDocuments(target: string): ReadFolderResult {
  let stat;
  try {
    stat = lstatSync(target);
  } catch {
    throw new AppError('validation_failed', `no such file or folder: ${target}`, [{ path: 'DIR', message: 'not found' }]);
  }
  const skipped: ReadFolderResult['skipped'] = [];
  const files: string[] = [];
  const root = stat.isDirectory() ? target : dirname(target);
  if (stat.isDirectory()) {
    const walk = (dir: string, depth: number) => {
      if (depth > 20) return;
      for (const name of readdirSync(dir).sort()) {
        if (name.startsWith('.')) continue;
        const full = join(dir, name);
        const s = lstatSync(full);
        if (s.isDirectory()) walk(full, depth + 1);
        else if (s.isFile()) {
          if (files.length >= MAX_FILES) throw new AppError('validation_failed', `more than ${MAX_FILES} files under ${target}`);
          files.push(full);
        } else skipped.push({ path: relative(root, full).split(sep).join('/'), reason: 'not a regular file' });
      }
    };
    walk(target, 0);
  } else if (stat.isFile()) files.push(target);
  else
    throw new AppError('validation_failed', `${target} is neither a file nor a folder`, [{ path: 'DIR', message: 'not a file or folder' }]);

  const documents: DocumentInput[] = [];
  for (const file of files) {
    const path = relative(root, file).split(sep).join('/');
    const format = formatOfPath(file);
    if (!format) {
      skipped.push({ path, reason: 'not .md, .markdown, .html, .htm, .txt or .text' });
      continue;
    }
    const bytes = readFileSync(file);
    if (bytes.byteLength > MAX_FILE_BYTES) {
      skipped.push({ path, reason: `larger than ${MAX_FILE_BYTES} bytes` });
      continue;
    }
    let content: string;
    try {
      content = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      skipped.push({ path, reason: 'not UTF-8 text' });
      continue;
    }
    if (content.includes('\u0000')) {
      skipped.push({ path, reason: 'holds NUL characters' });
      continue;
    }
    documents.push({ path, format, content });
  }
  return { root, documents, skipped };
}
