import { fileURLToPath } from 'node:url';
import { AppError } from '../errors.ts';
import { getSource, importDocuments, readDocuments, type Embedder, type ImportResult } from '../knowledge/index.ts';
import type { Db } from '../store/index.ts';

const DEMO_KNOWLEDGE_DIR = fileURLToPath(new URL('../../data/knowledge/telco/', import.meta.url));

/**
 * The Telco demo's knowledge base (data/knowledge/telco): the customer-facing help centre and the internal agent
 * playbook, as two sources. Idempotent: files that did not change change nothing, so every start may call it.
 */
export const DEMO_KNOWLEDGE = [
  { dir: 'customer', source: { name: 'telco-help-centre', owner: 'Customer care', audience: 'customer' as const } },
  { dir: 'internal', source: { name: 'telco-agent-playbook', owner: 'Retention team', audience: 'internal' as const } },
];

/** The demo's sources are reviewed yearly: this many days after the demo clock's day. */
export const DEMO_REVIEW_DAYS = 365;

export const demoReviewDate = (now: Date) => new Date(now.getTime() + DEMO_REVIEW_DAYS * 86_400_000).toISOString().slice(0, 10);

/**
 * The review date a load gives a demo source: a year after the demo clock's day for a new source, or one whose date
 * is further out than that (an older demo's placeholder); otherwise the date stays, so a passed date stays passed
 * and the source stops grounding customer text until someone approves it again, as any source would.
 */
async function reviewDateFor(db: Db, name: string, now: Date): Promise<string | undefined> {
  const next = demoReviewDate(now);
  const existing = await getSource(db, name, now).catch((err: unknown) => {
    if (err instanceof AppError && err.code === 'knowledge.source_not_found') return undefined;
    throw err;
  });
  return !existing || existing.reviewDate === null || existing.reviewDate > next ? next : undefined;
}

/** With an embedder (an embedding model is configured), chunks not yet embedded by it are embedded too. */
export async function loadDemoKnowledge(db: Db, now: Date, actor = 'demo', embedder?: Embedder): Promise<ImportResult[]> {
  const out: ImportResult[] = [];
  for (const k of DEMO_KNOWLEDGE) {
    const { documents } = readDocuments(DEMO_KNOWLEDGE_DIR + k.dir);
    const reviewDate = await reviewDateFor(db, k.source.name, now);
    out.push(await importDocuments(db, { ...k.source, reviewDate, approve: true }, documents, { actor, now, embedder }));
  }
  return out;
}
