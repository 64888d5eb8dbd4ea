import { basename, resolve } from 'node:path';
import type { z } from 'zod';
import type { Config } from '../config.ts';
import { KnowledgeSearchQuery, KnowledgeSourceInput } from '../contracts/api/index.ts';
import { toFieldIssues } from '../contracts/index.ts';
import { AppError } from '../errors.ts';
import {
  approveSource,
  importDocuments,
  listDocuments,
  listSources,
  readDocuments,
  retireSource,
  searchKnowledge,
  type DocumentResult,
  type KnowledgeDocumentSummary,
  type KnowledgeSource,
  type SearchResult,
} from '../knowledge/index.ts';
import { openDatabase } from '../server.ts';
import type { Db } from '../store/index.ts';
import { errorOfAnswer, runningServerClient, serverNow } from './client.ts';
import { parseCommandArgs, UsageError } from './args.ts';

const USAGE = `acs kb import DIR|FILE [--source NAME] [--owner TEXT] [--audience customer|internal] [--review-date YYYY-MM-DD] [--draft] [--json]
  acs kb search "question" [--k 5] [--use internal|customer] [--include-drafts] [--json]
  acs kb sources [--json]
  acs kb documents SOURCE [--json]
  acs kb approve SOURCE [--review-date YYYY-MM-DD] [--json]
  acs kb retire SOURCE [--reason TEXT] [--json]`;

const CLI_ACTOR = 'cli';
const DOCUMENTS_PAGE = 500;

/** Validates with a contract schema; a failure names each field, as the API would. */
function check<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new AppError('validation_failed', `invalid ${what}`, toFieldIssues(parsed.error));
  return parsed.data;
}

/**
 * `acs kb`: the knowledge base. Through the running server's API when one holds the embedded database, otherwise on
 * the database directly (as the `cli` actor, an operator with an admin's say).
 */
export async function kbCommand(args: string[], config: Config): Promise<number> {
  const { positionals, values } = parseCommandArgs(args, {
    source: { type: 'string' },
    owner: { type: 'string' },
    audience: { type: 'string' },
    'review-date': { type: 'string' },
    draft: { type: 'boolean' },
    k: { type: 'string' },
    use: { type: 'string' },
    'include-drafts': { type: 'boolean' },
    reason: { type: 'string' },
    json: { type: 'boolean' },
  });
  const [sub, arg, ...extra] = positionals;
  const usage = (message: string) => new UsageError(`${message}\n${USAGE}`);
  const allowed: Record<string, string[]> = {
    import: ['source', 'owner', 'audience', 'review-date', 'draft', 'json'],
    search: ['k', 'use', 'include-drafts', 'json'],
    sources: ['json'],
    documents: ['json'],
    approve: ['review-date', 'json'],
    retire: ['reason', 'json'],
  };
  if (!sub || !allowed[sub]) throw usage(`unknown kb command '${sub ?? ''}'`);
  for (const flag of Object.keys(values)) if (!allowed[sub]!.includes(flag)) throw usage(`--${flag} does not go with kb ${sub}`);
  if (extra.length) throw usage(`kb ${sub}: unexpected argument '${extra.join(' ')}' (quote a question with spaces)`);
  if (sub === 'sources' ? arg !== undefined : !arg)
    throw usage(
      sub === 'sources'
        ? `kb sources takes no argument`
        : `kb ${sub} needs ${sub === 'import' ? 'DIR or FILE' : sub === 'search' ? 'a question' : 'SOURCE'}`,
    );
  const reviewDate = values['review-date'];

  const client = runningServerClient(config);
  const withDb = async <T>(fn: (db: Db, now: Date) => Promise<T>): Promise<T> => {
    const db = await openDatabase(config);
    try {
      return await fn(db, await serverNow(db));
    } finally {
      await db.close();
    }
  };

  if (sub === 'search') {
    const query = check(
      KnowledgeSearchQuery,
      { q: arg, ...(values.k !== undefined ? { k: values.k } : {}), ...(values.use ? { use: values.use } : {}) },
      'search',
    );
    const use = query.use ?? 'internal';
    const includeDrafts = values['include-drafts'] === true;
    if (includeDrafts && use !== 'internal')
      throw new AppError('validation_failed', 'draft sources never ground customer-facing text', [
        { path: 'include-drafts', message: 'only with --use internal' },
      ]);
    let found: SearchResult & { query: string; use: string; k: number };
    if (client) {
      const params = new URLSearchParams({ q: query.q, k: String(query.k), use, ...(includeDrafts ? { includeDrafts: 'true' } : {}) });
      const res = await client('GET', `/api/v1/knowledge/search?${params}`);
      if (res.status !== 200) throw errorOfAnswer(res);
      found = res.body;
    } else {
      found = await withDb(async (db, now) => ({
        query: query.q,
        use,
        k: query.k,
        ...(await searchKnowledge(db, { q: query.q, k: query.k, use, includeDrafts, now })),
      }));
    }
    if (values.json) console.log(JSON.stringify(found));
    else printSearch(found);
    return 0;
  }

  if (sub === 'sources') {
    let sources: KnowledgeSource[];
    if (client) {
      const res = await client('GET', '/api/v1/knowledge/sources');
      if (res.status !== 200) throw errorOfAnswer(res);
      sources = res.body.data;
    } else sources = await withDb((db, now) => listSources(db, now));
    if (values.json) console.log(JSON.stringify({ data: sources }));
    else if (!sources.length) console.log('no knowledge sources yet; acs kb import DIR makes one');
    else for (const s of sources) console.log(describeSource(s));
    return 0;
  }

  if (sub === 'documents') {
    const docs: KnowledgeDocumentSummary[] = [];
    if (client) {
      // Every page, in the API's largest size.
      let cursor: string | null = null;
      do {
        const res = await client(
          'GET',
          `/api/v1/knowledge/sources/${encodeURIComponent(arg!)}/documents?limit=${DOCUMENTS_PAGE}${cursor ? `&cursor=${cursor}` : ''}`,
        );
        if (res.status !== 200) throw errorOfAnswer(res);
        docs.push(...(res.body.data as KnowledgeDocumentSummary[]));
        cursor = res.body.nextCursor as string | null;
      } while (cursor);
    } else
      await withDb(async (db) => {
        for (let page = await listDocuments(db, arg!, 0, DOCUMENTS_PAGE); page.length;) {
          docs.push(...page);
          page = page.length < DOCUMENTS_PAGE ? [] : await listDocuments(db, arg!, docs.length, DOCUMENTS_PAGE);
        }
      });
    if (values.json) console.log(JSON.stringify({ data: docs }));
    else if (!docs.length) console.log(`no documents in '${arg}' yet`);
    else
      for (const d of docs)
        console.log(`${d.path.padEnd(40)} v${d.version}  ${String(d.chunks).padStart(3)} chunks  ${d.updatedAt}  ${d.title}`);
    return 0;
  }

  if (sub === 'approve' || sub === 'retire') {
    if (sub === 'approve' && reviewDate !== undefined) check(KnowledgeSourceInput.pick({ reviewDate: true }), { reviewDate }, 'approval');
    let source: KnowledgeSource;
    if (client) {
      const body = sub === 'approve' ? (reviewDate ? { reviewDate } : {}) : values.reason ? { reason: values.reason } : {};
      const res = await client('POST', `/api/v1/knowledge/sources/${encodeURIComponent(arg!)}/${sub}`, body);
      if (res.status !== 200) throw errorOfAnswer(res);
      source = res.body;
    } else
      source = await withDb((db, now) =>
        sub === 'approve'
          ? approveSource(db, arg!, CLI_ACTOR, now, reviewDate)
          : retireSource(db, arg!, CLI_ACTOR, now, values.reason?.trim() || undefined),
      );
    if (values.json) console.log(JSON.stringify(source));
    else console.log(describeSource(source));
    return 0;
  }

  // import
  const target = resolve(arg!);
  const read = readDocuments(target);
  const name = values.source ?? basename(read.root);
  const fields = check(
    KnowledgeSourceInput,
    {
      name,
      ...(values.owner !== undefined ? { owner: values.owner } : {}),
      ...(values.audience !== undefined ? { audience: values.audience } : {}),
      ...(reviewDate !== undefined ? { reviewDate } : {}),
    },
    `source (name it with --source; the default is the folder's name, '${name}')`,
  );
  const approve = values.draft !== true;
  if (read.documents.length === 0)
    throw new AppError('validation_failed', `no Markdown, HTML or text files in ${arg}`, [{ path: 'DIR', message: 'no documents' }]);
  let source: KnowledgeSource;
  let documents: DocumentResult[];
  if (client) {
    documents = [];
    let last: KnowledgeSource | undefined;
    for (const [i, d] of read.documents.entries()) {
      // The last document approves (unless --draft), so the source is approved once, at its final version.
      const res = await client('POST', '/api/v1/knowledge/documents', {
        ...d,
        source: { ...fields, approve: approve && i === read.documents.length - 1 },
      });
      if (res.status !== 200 && res.status !== 201) throw errorOfAnswer(res);
      documents.push(res.body.document);
      last = res.body.source;
    }
    source = last!;
  } else {
    ({ source, documents } = await withDb((db, now) =>
      importDocuments(db, { ...fields, approve }, read.documents, { actor: CLI_ACTOR, now }),
    ));
  }
  if (values.json) {
    console.log(JSON.stringify({ source, documents, skipped: read.skipped }));
    return 0;
  }
  const count = (s: DocumentResult['status']) => documents.filter((d) => d.status === s).length;
  console.log(
    `imported ${documents.length} documents into '${source.name}': ${count('created')} new, ${count('updated')} updated, ${count('unchanged')} unchanged; ${documents.reduce((n, d) => n + d.chunks.total, 0)} chunks`,
  );
  for (const d of documents)
    console.log(`  ${d.path.padEnd(40)} ${d.status.padEnd(9)} v${d.version}  ${d.chunks.total} chunks  ${d.title}`);
  for (const s of read.skipped) console.log(`  skipped ${s.path}: ${s.reason}`);
  console.log(describeSource(source));
  return 0;
}

function describeSource(s: KnowledgeSource): string {
  const review = s.reviewDate ? `review by ${s.reviewDate}` : 'no review date';
  return `${s.name}  ${s.state} v${s.version}${s.approvedVersion && s.approvedVersion !== s.version ? ` (approved v${s.approvedVersion})` : ''}, ${s.audience}, owner ${s.owner}, ${review}${s.current ? '' : ', not current'}; ${s.documents} documents, ${s.chunks} chunks`;
}

function printSearch(found: SearchResult & { query: string; use: string }): void {
  if (!found.results.length) {
    console.log(`nothing found for '${found.query}' (use: ${found.use})`);
    return;
  }
  found.results.forEach((r, i) => {
    const excerpt = r.text.replace(/\s+/g, ' ');
    console.log(`${i + 1}. ${r.path} › ${r.headingPath.join(' › ') || r.title}  (score ${r.score.toFixed(4)}, ${r.source.name})`);
    console.log(`   ${excerpt.length > 240 ? `${excerpt.slice(0, 237)}...` : excerpt}`);
  });
}
