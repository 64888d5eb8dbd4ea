import { fileURLToPath } from 'node:url';
import { importDocuments, readDocuments, type Embedder, type ImportResult } from '../knowledge/index.ts';
import type { Db } from '../store/index.ts';

const DEMO_KNOWLEDGE_DIR = fileURLToPath(new URL('../../data/knowledge/telco/', import.meta.url));

/**
 * The Telco demo's knowledge base (data/knowledge/telco): the customer-facing help centre and the internal agent
 * playbook, as two sources. Idempotent: files that did not change change nothing, so every start may call it.
 */
export const DEMO_KNOWLEDGE = [
  {
    dir: 'customer',
    source: { name: 'telco-help-centre', owner: 'Customer care', audience: 'customer' as const, reviewDate: '2030-12-31' },
  },
  {
    dir: 'internal',
    source: { name: 'telco-agent-playbook', owner: 'Retention team', audience: 'internal' as const, reviewDate: '2030-12-31' },
  },
];

/** With an embedder (an embedding model is configured), chunks not yet embedded by it are embedded too. */
export async function loadDemoKnowledge(db: Db, now: Date, actor = 'demo', embedder?: Embedder): Promise<ImportResult[]> {
  const out: ImportResult[] = [];
  for (const k of DEMO_KNOWLEDGE) {
    const { documents } = readDocuments(DEMO_KNOWLEDGE_DIR + k.dir);
    out.push(await importDocuments(db, { ...k.source, approve: true }, documents, { actor, now, embedder }));
  }
  return out;
}
