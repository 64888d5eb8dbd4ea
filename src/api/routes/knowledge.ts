import {
  KnowledgeApproveInput,
  KnowledgeDocumentPage,
  KnowledgeDocumentSource,
  KnowledgeDocumentInput,
  KnowledgeImportSchema,
  KnowledgeRetireInput,
  KnowledgeSearchQuery,
  KnowledgeSearchSchema,
  KnowledgeSourceInput,
  KnowledgeSourceList,
  KnowledgeSourceSchema,
} from '../../contracts/api/index.ts';
import { toFieldIssues } from '../../contracts/index.ts';
import { AppError } from '../../errors.ts';
import {
  approveSource,
  createSource,
  embedPending,
  formatOfPath,
  getSource,
  importDocuments,
  listDocuments,
  listSources,
  pathProblem,
  retireSource,
  searchKnowledge,
} from '../../knowledge/index.ts';
import { providerEmbedder } from '../../ground/index.ts';
import type { ApiDeps } from '../deps.ts';
import { decodeCursor, PageQuery, pageOf } from '../pagination.ts';
import { parseBody, parseQuery, readJson, readOptionalJson } from '../http.ts';
import { actorOf, answers, NUL_IN_URL, type RouteDef } from '../router.ts';

const DocumentQuery = PageQuery.strict();
const offsetCursor = decodeCursor('offset');

/** The knowledge base: search (everyone, filtered by role and intended use), sources and imports (admins write). */
export function knowledgeRoutes(deps: ApiDeps): RouteDef[] {
  const { db } = deps;
  // The embedding model, when one is configured: search is then hybrid, and imported chunks are embedded.
  const embedder = () => providerEmbedder(deps.provider);
  return [
    {
      method: 'get',
      path: '/api/v1/knowledge/search',
      tag: 'knowledge',
      query: KnowledgeSearchQuery,
      summary:
        'Hybrid search of the knowledge base: BM25 full text, trigram similarity for names and codes, embeddings when a provider is configured, fused by reciprocal rank fusion (k = 60). `use=customer` (the agent role\u2019s default) sees only approved, current, customer-facing sources; `use=internal` (staff default) sees approved sources of both audiences; admins may add `includeDrafts=true` to internal use',
      responses: {
        200: answers(KnowledgeSearchSchema, 'the best k chunks, best first'),
        400: 'bad query parameter, naming it',
        403: 'includeDrafts asked for by a role other than admin',
      },
      handler: async (c) => {
        const q = parseQuery(c, KnowledgeSearchQuery);
        const role = c.get('principal').role;
        const use = q.use ?? (role === 'agent' ? 'customer' : 'internal');
        const includeDrafts = q.includeDrafts === 'true';
        if (includeDrafts && role !== 'admin')
          throw new AppError('forbidden', `role '${role}' may not search draft sources (includeDrafts); admins only`);
        if (includeDrafts && use !== 'internal')
          throw new AppError('validation_failed', 'draft sources never ground customer-facing text', [
            { path: 'query.includeDrafts', message: 'only with use=internal' },
          ]);
        const found = await searchKnowledge(db, { q: q.q, k: q.k, use, includeDrafts, now: deps.clock.now(), embedder: embedder() });
        return c.json({ query: q.q, use, k: q.k, ...found });
      },
    },
    {
      method: 'get',
      path: '/api/v1/knowledge/sources',
      tag: 'knowledge',
      summary: 'The knowledge sources: owner, audience, approval state, version, review date, whether current, and their size',
      responses: { 200: answers(KnowledgeSourceList, 'the sources, by name'), 400: NUL_IN_URL },
      handler: async (c) => c.json({ data: await listSources(db, deps.clock.now()) }),
    },
    {
      method: 'get',
      path: '/api/v1/knowledge/sources/:id',
      tag: 'knowledge',
      summary: 'One knowledge source, by id or name',
      responses: { 200: answers(KnowledgeSourceSchema, 'the source'), 400: NUL_IN_URL, 404: 'no such source' },
      handler: async (c) => c.json(await getSource(db, c.req.param('id')!, deps.clock.now())),
    },
    {
      method: 'get',
      path: '/api/v1/knowledge/sources/:id/documents',
      tag: 'knowledge',
      query: DocumentQuery,
      summary:
        'The documents of a knowledge source (by id or name), by path: each with its title, format, version, chunk count and when it was last updated; paged',
      responses: {
        200: answers(KnowledgeDocumentPage, '{ data, nextCursor }'),
        400: `bad limit or cursor, or ${NUL_IN_URL}`,
        404: 'no such source',
      },
      handler: async (c) => {
        const q = parseQuery(c, DocumentQuery);
        const offset = offsetCursor(q.cursor);
        const rows = await listDocuments(db, c.req.param('id')!, offset, q.limit + 1);
        return c.json(pageOf(rows, q.limit, () => offset + q.limit));
      },
    },
    {
      method: 'post',
      path: '/api/v1/knowledge/sources',
      tag: 'knowledge',
      body: KnowledgeSourceInput,
      summary:
        'Create a knowledge source, as a draft: name, owner, audience (internal or customer, default customer), review date; ledgered',
      responses: {
        201: answers(KnowledgeSourceSchema, 'the new source'),
        400: 'bad field, naming it',
        409: 'the name is taken',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const body = parseBody(KnowledgeSourceInput, await readJson(c, deps.config.maxBodyBytes), 'knowledge source');
        return c.json(await createSource(db, body, actorOf(c), deps.clock.now()), 201);
      },
    },
    {
      method: 'post',
      path: '/api/v1/knowledge/sources/:id/approve',
      tag: 'knowledge',
      body: KnowledgeApproveInput,
      summary:
        'Approve the source at its current version (optionally with a new review date): approved, current customer-facing sources may ground customer-facing text; ledgered as knowledge.source_approved',
      responses: {
        200: answers(KnowledgeSourceSchema, 'the approved source'),
        400: 'bad review date',
        404: 'no such source',
        409: 'retired, or already approved at this version',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const body = parseBody(KnowledgeApproveInput, await readOptionalJson(c, deps.config.maxBodyBytes), 'approval');
        return c.json(await approveSource(db, c.req.param('id')!, actorOf(c), deps.clock.now(), body.reviewDate));
      },
    },
    {
      method: 'post',
      path: '/api/v1/knowledge/sources/:id/retire',
      tag: 'knowledge',
      body: KnowledgeRetireInput,
      summary: 'Retire the source: no search sees it any more, for any use; ledgered as knowledge.source_retired',
      responses: {
        200: answers(KnowledgeSourceSchema, 'the retired source'),
        400: 'bad reason',
        404: 'no such source',
        409: 'already retired',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const body = parseBody(KnowledgeRetireInput, await readOptionalJson(c, deps.config.maxBodyBytes), 'retirement');
        return c.json(await retireSource(db, c.req.param('id')!, actorOf(c), deps.clock.now(), body.reason));
      },
    },
    {
      method: 'post',
      path: '/api/v1/knowledge/documents',
      tag: 'knowledge',
      body: KnowledgeDocumentInput,
      summary:
        'Import one document (Markdown, HTML or plain text) into a source, made when missing: split along its headings into chunks with stable ids; re-importing the same path updates it in place (unchanged content changes nothing). `source.approve` (default true) approves the source at its new version; with false a changed source goes back to draft. Ledgered',
      responses: {
        200: answers(KnowledgeImportSchema, 'the document was updated, or is unchanged'),
        201: answers(KnowledgeImportSchema, 'the document is new'),
        400: 'bad field, naming it',
        409: 'the source is retired',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const raw = await readJson(c, deps.config.maxBodyBytes);
        // A union names only `source` when it fails; a source given by its fields is checked alone to name the field.
        const rawSource = (raw as { source?: unknown } | null)?.source;
        if (rawSource && typeof rawSource === 'object') {
          const checked = KnowledgeDocumentSource.safeParse(rawSource);
          if (!checked.success) throw new AppError('validation_failed', 'invalid document source', toFieldIssues(checked.error, 'source'));
        }
        const body = parseBody(KnowledgeDocumentInput, raw, 'document');
        const problem = pathProblem(body.path);
        if (problem) throw new AppError('validation_failed', `bad document path '${body.path}'`, [{ path: 'path', message: problem }]);
        const format = body.format ?? formatOfPath(body.path);
        if (!format)
          throw new AppError('validation_failed', 'the format is not given and the path has no .md, .html or .txt extension', [
            { path: 'format', message: 'md, html or txt' },
          ]);
        const spec = typeof body.source === 'string' ? { name: body.source } : body.source;
        const result = await importDocuments(db, spec, [{ path: body.path, format, content: body.content }], {
          actor: actorOf(c),
          now: deps.clock.now(),
        });
        // The import stands when the embedding model fails: its chunks wait, and the next import embeds them.
        const embedWith = embedder();
        if (embedWith)
          await embedPending(db, embedWith).catch((err: unknown) =>
            c.get('log').warn({ err: err instanceof Error ? err.message : String(err) }, 'imported chunks not embedded yet'),
          );
        const document = result.documents[0]!;
        return c.json({ source: result.source, document }, document.status === 'created' ? 201 : 200);
      },
    },
  ];
}
