/**
 * `npx tsx bench/vector.ts`: how long the semantic ranking takes over a knowledge base of a given size, through pgvector
 * in the database and through the JS cosine, on each backend (PGlite always; PostgreSQL when DATABASE_URL is set,
 * in a schema of its own, dropped afterwards). The figure behind docs/knowledge.md's "no ANN index".
 *
 * Usage: tsx bench/vector.ts [--chunks 5000] [--dims 384] [--queries 30]
 *
 * The chunks are imported through the knowledge module (100 to a document, pre-chunked) and given random unit
 * vectors (seeded, so runs compare); each query is a random vector too. A ranking is asked for 50 chunks, what search
 * asks for at k = 5 (max(50, 10·k)). Times are wall clock per query, after two warm-up queries.
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { embedPending, filterFor, importDocuments, semanticRanking, type Embedder } from '../src/knowledge/index.ts';
import { migrate, openPglite, openPostgres, type Db } from '../src/store/index.ts';

const NOW = new Date('2026-01-01T00:00:00Z');
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return v;
};
const CHUNKS = arg('chunks', 5000);
const DIMS = arg('dims', 384);
const QUERIES = arg('queries', 30);
const LIMIT = 50;

/** Mulberry32: a small seeded generator, so every run embeds the same vectors. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const unit = (next: () => number) => {
  const v = Array.from({ length: DIMS }, () => next() * 2 - 1);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

async function fill(db: Db): Promise<void> {
  const docs = Array.from({ length: Math.ceil(CHUNKS / 100) }, (_, d) => ({
    path: `bench/doc-${d}.txt`,
    format: 'txt' as const,
    content: '',
    chunks: Array.from({ length: Math.min(100, CHUNKS - d * 100) }, (_, c) => ({ headingPath: [`Doc ${d}`], text: `Passage ${d}-${c}.` })),
  }));
  await importDocuments(db, { name: 'vector-bench' }, docs, { actor: 'bench', now: NOW });
  const next = rng(42);
  const embedder: Embedder = { model: `random-${DIMS}`, embed: async (texts) => texts.map(() => unit(next)) };
  await embedPending(db, embedder);
}

const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
const ms = (x: number) => `${x.toFixed(1)} ms`;

async function measure(label: string, db: Db): Promise<void> {
  const t0 = performance.now();
  await fill(db);
  console.log(
    `${label}: ${CHUNKS} chunks of ${DIMS} dimensions imported and embedded in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const filter = filterFor('customer', false, NOW);
  const next = rng(7);
  const queries = Array.from({ length: QUERIES + 2 }, () => unit(next));
  for (const mode of ['auto', 'js'] as const) {
    const times: number[] = [];
    let engine = '';
    for (const [i, q] of queries.entries()) {
      const start = performance.now();
      const r = await semanticRanking(db, `random-${DIMS}`, q, filter, LIMIT, mode);
      if (i >= 2) times.push(performance.now() - start);
      engine = r.engine;
      if (r.ranking.length !== LIMIT) throw new Error(`expected ${LIMIT} results, got ${r.ranking.length}`);
    }
    console.log(`  ${engine.padEnd(8)} median ${ms(quantile(times, 0.5))}, p90 ${ms(quantile(times, 0.9))} (${QUERIES} queries)`);
    if (mode === 'auto' && engine === 'js') break; // no pgvector here: the two modes are the same path
  }
}

console.log(`machine: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}, Node ${process.version}`);
const lite = await openPglite();
try {
  await migrate(lite);
  await measure('PGlite', lite);
} finally {
  await lite.close();
}
const url = process.env.DATABASE_URL;
if (url) {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const pg = await openPostgres(url, { schema, max: 2 });
  try {
    await migrate(pg);
    await measure('PostgreSQL', pg);
  } finally {
    await pg.query(`DROP SCHEMA ${schema} CASCADE`);
    await pg.close();
  }
}
