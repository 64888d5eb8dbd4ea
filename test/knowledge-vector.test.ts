import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDemoKnowledge } from '../src/cli/demo-knowledge.ts';
import { embedPending, filterFor, searchKnowledge, semanticRanking, type Embedder } from '../src/knowledge/index.ts';
import type { Db } from '../src/store/index.ts';
import { openTestDb } from './helpers.ts';

const NOW = new Date('2026-06-01T12:00:00Z');
const DIMS = 48;

/**
 * A stand-in for a provider outside the system: each word a fixed pseudo-random direction (from its hash), a text the
 * sum of its words'. Fractional components, so the float4 rounding of real embeddings is exercised.
 */
const fakeEmbedder: Embedder = {
  model: 'fake-float-48',
  embed: async (texts) =>
    texts.map((t) => {
      const v = new Array<number>(DIMS).fill(0);
      for (const w of t.toLowerCase().match(/[a-z]+/g) ?? []) {
        const h = [...w].reduce((a, c) => (a * 31 + c.charCodeAt(0)) % 1_000_003, 17);
        for (let i = 0; i < DIMS; i++) v[i]! += Math.sin(h * (i + 1) * 0.618);
      }
      return v;
    }),
};

/** Plain float8 cosine: what the two rankings approximate. */
function referenceCosine(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) [dot, na, nb] = [dot + a[i]! * b[i]!, na + a[i]! ** 2, nb + b[i]! ** 2];
  return dot / Math.sqrt(na * nb);
}

describe('semantic ranking: pgvector in the database where it is installed, cosine in JS otherwise', () => {
  let db: Db;
  let installed: boolean;
  let shortId: string;
  let zeroId: string;
  const filter = filterFor('internal', false, NOW);
  const embedQuery = async (q: string) => (await fakeEmbedder.embed([q]))[0]!;

  beforeAll(async () => {
    db = await openTestDb();
    await loadDemoKnowledge(db, NOW, 'test');
    expect(await embedPending(db, fakeEmbedder)).toBeGreaterThan(30);
    installed = (await db.query(`SELECT 1 FROM pg_extension WHERE extname = 'vector'`)).length === 1;
    // One chunk with an embedding one dimension short (it must never be compared), one with a zero vector.
    const ids = (await db.query<{ id: string }>(`SELECT id FROM knowledge_chunks WHERE embedding IS NOT NULL ORDER BY id LIMIT 2`)).map(
      (r) => r.id,
    );
    [shortId, zeroId] = [ids[0]!, ids[1]!];
    await db.query(`UPDATE knowledge_chunks SET embedding = embedding[1:${DIMS - 1}] WHERE id = $1`, [shortId]);
    await db.query(`UPDATE knowledge_chunks SET embedding = array_fill(0::real, ARRAY[${DIMS}]) WHERE id = $1`, [zeroId]);
  });
  afterAll(async () => db?.close());

  it('migration 027 installs pgvector where the server has it: always on PGlite', async () => {
    const available = (await db.query(`SELECT 1 FROM pg_available_extensions WHERE name = 'vector'`)).length === 1;
    expect(installed).toBe(available);
    if (db.kind === 'pglite') expect(installed).toBe(true);
    expect(await db.query(`SELECT name FROM schema_migrations WHERE name = '027_knowledge_pgvector'`)).toHaveLength(1);
  });

  it('takes the pgvector path where installed, the JS path otherwise, and both rank the same ids with the same scores', async () => {
    for (const q of ['router restart cables power light', 'late payment fee', 'cancel two year contract early', 'zzz unknownword']) {
      const query = await embedQuery(q);
      const auto = await semanticRanking(db, 'fake-float-48', query, filter, 1000);
      const js = await semanticRanking(db, 'fake-float-48', query, filter, 1000, 'js');
      expect(auto.engine, q).toBe(installed ? 'pgvector' : 'js');
      expect(js.engine).toBe('js');
      expect(
        auto.ranking.map((r) => r.id),
        q,
      ).toEqual(js.ranking.map((r) => r.id));
      auto.ranking.forEach((r, i) => expect(r.score, `${q} #${i}`).toBeCloseTo(js.ranking[i]!.score, 9));
      // PGlite's pgvector (WebAssembly: no fused multiply-add) and the JS cosine do the same float4 arithmetic.
      if (db.kind === 'pglite') expect(auto.ranking).toEqual(js.ranking);
      // Best first, ties by id; the short embedding is left out, the zero vector scores 0.
      for (let i = 1; i < js.ranking.length; i++) {
        const [a, b] = [js.ranking[i - 1]!, js.ranking[i]!];
        expect(a.score > b.score || (a.score === b.score && a.id < b.id), `${q} #${i}`).toBe(true);
      }
      expect(auto.ranking.some((r) => r.id === shortId)).toBe(false);
      expect(auto.ranking.find((r) => r.id === zeroId)?.score).toBe(0);
      // And the scores are the cosine, up to float4 rounding.
      const stored = new Map(
        (
          await db.query<{ id: string; embedding: number[] }>(`SELECT id, embedding FROM knowledge_chunks WHERE id = ANY($1::text[])`, [
            auto.ranking.slice(0, 5).map((r) => r.id),
          ])
        ).map((r) => [r.id, r.embedding]),
      );
      for (const r of auto.ranking.slice(0, 5)) expect(r.score).toBeCloseTo(referenceCosine(query, stored.get(r.id)!), 5);
    }
  });

  it('keeps to the model, the eligible chunks and the limit', async () => {
    const query = await embedQuery('late payment fee');
    for (const mode of ['auto', 'js'] as const) {
      expect((await semanticRanking(db, 'another-model', query, filter, 50, mode)).ranking).toEqual([]);
      expect((await semanticRanking(db, 'fake-float-48', query.slice(0, 10), filter, 50, mode)).ranking).toEqual([]);
      expect((await semanticRanking(db, 'fake-float-48', query, filter, 3, mode)).ranking).toHaveLength(3);
      // Customer use never ranks the internal playbook's chunks.
      const customer = await semanticRanking(db, 'fake-float-48', query, filterFor('customer', false, NOW), 1000, mode);
      const internal = await semanticRanking(db, 'fake-float-48', query, filter, 1000, mode);
      const internalOnly = await db.query<{ id: string }>(
        `SELECT c.id FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id
         JOIN knowledge_sources s ON s.id = d.source_id WHERE s.audience = 'internal'`,
      );
      expect(internalOnly.length).toBeGreaterThan(0);
      expect(customer.ranking.some((r) => internalOnly.some((c) => c.id === r.id))).toBe(false);
      expect(internal.ranking.some((r) => internalOnly.some((c) => c.id === r.id))).toBe(true);
    }
  });

  it('search gives the same results through either path', async () => {
    for (const q of ['router restart cables power light', 'What is the fee for a late payment?']) {
      const auto = await searchKnowledge(db, { q, k: 8, use: 'customer', now: NOW, embedder: fakeEmbedder });
      const js = await searchKnowledge(db, { q, k: 8, use: 'customer', now: NOW, embedder: fakeEmbedder, vector: 'js' });
      expect(auto.results.some((r) => r.ranks.semantic !== null)).toBe(true);
      expect(
        auto.results.map((r) => [r.chunkId, r.ranks, r.similarity]),
        q,
      ).toEqual(js.results.map((r) => [r.chunkId, r.ranks, r.similarity]));
    }
  });
});
