/**
 * `npm run bench:rag`: the language half of ACS measured on public data, each figure beside a baseline measured in
 * the same run (issue 14, "Benchmarks").
 *
 * - Retrieval on DSTC11 track 5 (validation split): the passages are loaded into a fresh embedded database through
 *   the knowledge module (one source per domain, one document per hotel or restaurant, one chunk per passage) and
 *   queried with the dialogue. Baseline: plain Okapi BM25 in memory. ACS: knowledge search over everything, and
 *   knowledge search restricted to the entity the dialogue is about (tracked from the turns, never from the labels).
 * - Grounding: answers composed by ground's embedded composer from the entity-tracked passages, scored by ROUGE-L
 *   against the human replies, with the guardrails' grounding rate and the abstention rate.
 * - Masking: bench/rag-mask.ts.
 * - Injection: bench/rag-injection.ts (the detector on original texts) and bench/rag-injection-pipeline.ts (attacks
 *   planted in signals through the real pipeline).
 *
 * Usage: tsx bench/rag.ts [--data DIR] [--limit N] [--json] [--skip-mask] [--skip-injection-pipeline]
 *   --data DIR   the DSTC11 track 5 folder (passages.jsonl, val_queries.jsonl); default $ACS_DSTC11_DIR, else
 *                ../shared/datasets/dstc11-track5 next to the repository
 *   --limit N    only the first N turns (for development; the figures are reported on all of them)
 */
import { formatInjectionSideEffects, injectionSideEffects, type InjectionSideEffects } from './rag-injection-pipeline.ts';
import { formatInjectionBenchmark, injectionBenchmark, type InjectionBenchmarkReport } from './rag-injection.ts';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { checkOutput, compose, type Passage } from '../src/ground/index.ts';
import { importDocuments, searchKnowledge, type DocumentInput } from '../src/knowledge/index.ts';
import { migrate, openPglite, type Db } from '../src/store/index.ts';
import {
  Bm25,
  DataMissing,
  aggregate,
  entityAliases,
  entityKey,
  loadDstc,
  round,
  rougeL,
  scoreRanking,
  trackEntities,
  type DstcPassage,
  type DstcQuery,
  type RetrievalFigures,
} from './rag-dstc.ts';
import { formatMaskBench, runMaskBench, type MaskBenchResult } from './rag-mask.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
export const DEFAULT_DATA_DIR = resolve(HERE, '..', '..', 'shared', 'datasets', 'dstc11-track5');
/** Published: the DSTC11 track 5 baseline (BART-base generation), ROUGE-L on the validation split (datasets README). */
export const PUBLISHED_ROUGE_L = 0.287;
/** How many retrieved passages the composer gets. */
export const GROUNDING_PASSAGES = 5;
const NOW = new Date('2026-01-01T00:00:00Z');

export interface GroundingFigures {
  turns: number;
  rougeL: number;
  /** ROUGE-L over the turns it answered (abstentions left out). */
  rougeLAnswered: number | null;
  /** Supported factual sentences over factual sentences, over the answered turns (ground's checkOutput). */
  groundingRate: number | null;
  abstentionRate: number;
  /** Share of answered turns whose text passed every guardrail. */
  guardrailPassRate: number | null;
}

export interface RagBenchResult {
  machine: { cpu: string; cores: number; node: string };
  data: { passages: number; entities: number; turns: number };
  retrieval: {
    /** Plain Okapi BM25 in memory over each passage's entity name and text, query context_last3. */
    baselineBm25: RetrievalFigures;
    /** The same BM25 over the passage text alone. */
    baselineBm25TextOnly: RetrievalFigures;
    /**
     * ACS knowledge search over all passages, query context_last3. Lexical (BM25 in SQL) only: with trigram on, a
     * dialogue's codes and numbers send every query through trigram similarity over all 10,882 chunks.
     */
    acsFlat: RetrievalFigures;
    /** ACS knowledge search (hybrid, trigram on) restricted to the tracked entity's document(s), query context_last3; flat when none is tracked. */
    acsEntity: RetrievalFigures;
    /** The same, querying with the last user turn: the entity comes from the dialogue, the question from its last turn. */
    acsEntityLastTurn: RetrievalFigures;
    entityDetection: { exact: number; anyCorrect: number; none: number };
  };
  grounding: {
    published: { system: string; rougeL: number };
    /** Same run: the first entity-tracked passage's text (an FAQ's answer part) as the reply. */
    baselineFirstPassage: GroundingFigures;
    /** Same run: ground's composer over the top passages of flat ACS search. */
    composerFlat: GroundingFigures;
    /** ground's composer over the top passages of entity-tracked ACS search (last user turn). */
    composerEntity: GroundingFigures;
  };
  masking: MaskBenchResult | null;
  /** The detector on the three sets of original texts, and attacks planted through the real pipeline. */
  injection: { detection: InjectionBenchmarkReport; sideEffects: InjectionSideEffects | null };
  seconds: { load: number; retrieval: number; grounding: number; masking: number; total: number };
}

export interface RagBenchOptions {
  dataDir: string;
  limit?: number;
  mask?: boolean;
  /** Plant attacks through the real pipeline (a minute or two); false skips that part (the detector still runs). */
  injectionPipeline?: boolean;
  progress?: (line: string) => void;
}

/** Loads the passages through the knowledge module; returns each passage's chunk id and each entity's document id. */
export async function loadIntoKnowledge(
  db: Db,
  passages: DstcPassage[],
): Promise<{ chunkToPassage: Map<string, string>; entityDocument: Map<string, string> }> {
  const byEntity = new Map<string, DstcPassage[]>();
  for (const p of passages) {
    const key = entityKey(p);
    const list = byEntity.get(key) ?? [];
    list.push(p);
    byEntity.set(key, list);
  }
  const chunkToPassage = new Map<string, string>();
  const entityDocument = new Map<string, string>();
  for (const domain of [...new Set(passages.map((p) => p.domain))].sort()) {
    const entities = [...byEntity].filter(([, ps]) => ps[0]!.domain === domain);
    const docs: DocumentInput[] = entities.map(([key, ps]) => ({
      path: key.replace(':', '/'),
      format: 'txt',
      content: '',
      title: ps[0]!.entity_name,
      chunks: ps.map((p) => ({ headingPath: [p.entity_name, p.doc_type === 'faq' ? 'FAQ' : 'Reviews'], text: p.text })),
    }));
    const result = await importDocuments(db, { name: `dstc11-${domain}`, audience: 'customer', reviewDate: null }, docs, {
      actor: 'bench:rag',
      now: NOW,
    });
    result.documents.forEach((d, i) => {
      const [key, ps] = entities[i]!;
      entityDocument.set(key, d.documentId);
      d.chunkIds.forEach((id, j) => chunkToPassage.set(id, ps[j]!.passage_id));
    });
  }
  return { chunkToPassage, entityDocument };
}

/** The answer part of an FAQ passage ("Q: … A: …"); a review sentence as it is. */
const answerPart = (text: string) => text.replace(/^Q:.*?\sA:\s*/s, '');

function groundingFigures(
  rows: { rouge: number; abstained: boolean; grounding: number | null; passed: boolean | null }[],
): GroundingFigures {
  const answered = rows.filter((r) => !r.abstained);
  const mean = (xs: number[]) => (xs.length ? round(xs.reduce((a, b) => a + b, 0) / xs.length) : null);
  return {
    turns: rows.length,
    rougeL: mean(rows.map((r) => r.rouge)) ?? 0,
    rougeLAnswered: mean(answered.map((r) => r.rouge)),
    groundingRate: mean(answered.flatMap((r) => (r.grounding === null ? [] : [r.grounding]))),
    abstentionRate: rows.length ? round(rows.length ? (rows.length - answered.length) / rows.length : 0) : 0,
    guardrailPassRate: mean(answered.map((r) => (r.passed ? 1 : 0))),
  };
}

function composeAndScore(q: DstcQuery, passages: Passage[]) {
  const c = compose({ purpose: 'answer', query: q.last_user_turn, passages });
  if (c.abstained) return { rouge: rougeL(c.text, q.gold_response), abstained: true, grounding: null, passed: null };
  const check = checkOutput({ text: c.text, purpose: 'answer', passages });
  // The citation markers are not words of the answer.
  return {
    rouge: rougeL(c.text.replace(/\[(\d{1,3}|C)\]/g, ' '), q.gold_response),
    abstained: false,
    grounding: check.groundingRate,
    passed: check.passed,
  };
}

async function runInjectionBench(pipeline: boolean): Promise<RagBenchResult['injection']> {
  return { detection: injectionBenchmark(), sideEffects: pipeline ? await injectionSideEffects() : null };
}

export async function runRagBench(o: RagBenchOptions): Promise<RagBenchResult> {
  const log = o.progress ?? (() => {});
  const t0 = performance.now();
  const { passages, queries: all } = loadDstc(o.dataDir);
  const queries = o.limit ? all.slice(0, o.limit) : all;
  const byPassage = new Map(passages.map((p) => [p.passage_id, p]));

  const db = await openPglite();
  let chunkToPassage: Map<string, string>;
  let entityDocument: Map<string, string>;
  const tLoad = performance.now();
  try {
    await migrate(db);
    log(`loading ${passages.length} passages through the knowledge module`);
    ({ chunkToPassage, entityDocument } = await loadIntoKnowledge(db, passages));
  } catch (e) {
    await db.close();
    throw e;
  }
  const load = (performance.now() - tLoad) / 1000;

  const tRetrieval = performance.now();
  const bm25 = new Bm25(passages.map((p) => `${p.entity_name} ${p.text}`));
  const bm25Text = new Bm25(passages.map((p) => p.text));
  const aliases = entityAliases(new Map(passages.map((p) => [entityKey(p), p.entity_name])));
  const rows = {
    base: [] as ReturnType<typeof scoreRanking>[],
    baseText: [] as ReturnType<typeof scoreRanking>[],
    flat: [] as ReturnType<typeof scoreRanking>[],
    entity: [] as ReturnType<typeof scoreRanking>[],
    entityLast: [] as ReturnType<typeof scoreRanking>[],
  };
  const detection = { exact: 0, anyCorrect: 0, none: 0 };
  const grounding = {
    base: [] as Parameters<typeof groundingFigures>[0],
    flat: [] as Parameters<typeof groundingFigures>[0],
    entity: [] as Parameters<typeof groundingFigures>[0],
  };
  let groundingMs = 0;
  try {
    for (const [i, q] of queries.entries()) {
      if (i % 100 === 0) log(`turn ${i}/${queries.length}`);
      rows.base.push(
        scoreRanking(
          bm25.search(q.context_last3, 10).map((d) => passages[d]!.passage_id),
          q.gold_passage_ids,
        ),
      );
      rows.baseText.push(
        scoreRanking(
          bm25Text.search(q.context_last3, 10).map((d) => passages[d]!.passage_id),
          q.gold_passage_ids,
        ),
      );

      const flat = (await searchKnowledge(db, { q: q.context_last3, k: 10, use: 'customer', now: NOW, trigram: 'off' })).results;
      rows.flat.push(
        scoreRanking(
          flat.map((h) => chunkToPassage.get(h.chunkId) ?? ''),
          q.gold_passage_ids,
        ),
      );

      const tracked = trackEntities(q.context, aliases);
      const gold = new Set(q.gold_entities);
      if (tracked.length === 0) detection.none += 1;
      if (tracked.length === gold.size && tracked.every((e) => gold.has(e))) detection.exact += 1;
      if (tracked.some((e) => gold.has(e))) detection.anyCorrect += 1;
      const documentIds = tracked.map((e) => entityDocument.get(e)!).filter(Boolean);
      const entity = documentIds.length
        ? (await searchKnowledge(db, { q: q.context_last3, k: 10, use: 'customer', now: NOW, documentIds })).results
        : flat;
      rows.entity.push(
        scoreRanking(
          entity.map((h) => chunkToPassage.get(h.chunkId) ?? ''),
          q.gold_passage_ids,
        ),
      );
      const entityLast = documentIds.length
        ? (await searchKnowledge(db, { q: q.last_user_turn, k: 10, use: 'customer', now: NOW, documentIds })).results
        : flat;
      rows.entityLast.push(
        scoreRanking(
          entityLast.map((h) => chunkToPassage.get(h.chunkId) ?? ''),
          q.gold_passage_ids,
        ),
      );

      const tg = performance.now();
      const asPassages = (hits: typeof flat): Passage[] =>
        hits
          .slice(0, GROUNDING_PASSAGES)
          .map((h) => ({ chunkId: h.chunkId, path: h.path, headingPath: h.headingPath, text: h.text, score: h.score }));
      const first = entityLast[0] ? byPassage.get(chunkToPassage.get(entityLast[0].chunkId) ?? '') : undefined;
      grounding.base.push({
        rouge: rougeL(first ? answerPart(first.text) : '', q.gold_response),
        abstained: !first,
        grounding: null,
        passed: null,
      });
      grounding.flat.push(composeAndScore(q, asPassages(flat)));
      grounding.entity.push(composeAndScore(q, asPassages(entityLast)));
      groundingMs += performance.now() - tg;
    }
  } finally {
    await db.close();
  }
  const retrievalSeconds = (performance.now() - tRetrieval - groundingMs) / 1000;

  const tMask = performance.now();
  let masking: MaskBenchResult | null = null;
  if (o.mask !== false) {
    log('masking benchmark');
    masking = runMaskBench({});
  }
  const maskSeconds = (performance.now() - tMask) / 1000;
  log('injection benchmark');
  const injection = await runInjectionBench(o.injectionPipeline !== false);

  const n = queries.length || 1;
  return {
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version },
    data: { passages: passages.length, entities: entityDocument.size, turns: queries.length },
    retrieval: {
      baselineBm25: aggregate(rows.base),
      baselineBm25TextOnly: aggregate(rows.baseText),
      acsFlat: aggregate(rows.flat),
      acsEntity: aggregate(rows.entity),
      acsEntityLastTurn: aggregate(rows.entityLast),
      entityDetection: { exact: round(detection.exact / n), anyCorrect: round(detection.anyCorrect / n), none: detection.none },
    },
    grounding: {
      published: { system: 'DSTC11 track 5 baseline, BART-base', rougeL: PUBLISHED_ROUGE_L },
      baselineFirstPassage: { ...groundingFigures(grounding.base), groundingRate: null, guardrailPassRate: null },
      composerFlat: groundingFigures(grounding.flat),
      composerEntity: groundingFigures(grounding.entity),
    },
    masking,
    injection,
    seconds: {
      load: round(load, 1),
      retrieval: round(retrievalSeconds, 1),
      grounding: round(groundingMs / 1000, 1),
      masking: round(maskSeconds, 1),
      total: round((performance.now() - t0) / 1000, 1),
    },
  };
}

const f3 = (x: number | null) => (x === null ? '    - ' : x.toFixed(3).padStart(6));

export function formatRagBench(r: RagBenchResult): string {
  const R = r.retrieval;
  const G = r.grounding;
  const retrievalLine = (name: string, x: RetrievalFigures) =>
    `  ${name.padEnd(52)} ${f3(x.recallAt1)}  ${f3(x.recallAt5)}  ${f3(x.mrrAt10)}`;
  const groundLine = (name: string, x: GroundingFigures) =>
    `  ${name.padEnd(52)} ${f3(x.rougeL)}  ${f3(x.rougeLAnswered)}  ${f3(x.groundingRate)}  ${f3(x.abstentionRate)}  ${f3(x.guardrailPassRate)}`;
  const lines = [
    `RAG benchmark: ${r.machine.cpu}, ${r.machine.cores} cores, Node ${r.machine.node}`,
    `DSTC11 track 5 validation: ${r.data.passages} passages, ${r.data.entities} entities, ${r.data.turns} knowledge-seeking turns`,
    '',
    'Retrieval (query context_last3 unless named; hit = any gold)     R@1     R@5  MRR@10',
    retrievalLine('baseline: Okapi BM25 in memory (entity name + text)', R.baselineBm25),
    retrievalLine('baseline: Okapi BM25 in memory (text only)', R.baselineBm25TextOnly),
    retrievalLine('ACS knowledge search, flat (BM25 in SQL)', R.acsFlat),
    retrievalLine('ACS knowledge search, entity tracked', R.acsEntity),
    retrievalLine('ACS entity tracked, query = last user turn', R.acsEntityLastTurn),
    `  entity tracking vs gold entities: exact ${f3(R.entityDetection.exact).trim()}, at least one right ${f3(R.entityDetection.anyCorrect).trim()}, none found ${R.entityDetection.none}`,
    '',
    `Grounding (reply to the last user turn, top ${GROUNDING_PASSAGES} passages)        ROUGE-L  answered  grounded  abstain  guardrails`,
    `  ${'published: ' + G.published.system} ${' '.repeat(Math.max(1, 52 - 11 - G.published.system.length))}${f3(G.published.rougeL)}`,
    groundLine('baseline: first entity-tracked passage as the reply', G.baselineFirstPassage),
    groundLine('ACS composer, flat retrieval', G.composerFlat),
    groundLine('ACS composer, entity tracked (last user turn)', G.composerEntity),
    '',
    r.masking ? formatMaskBench(r.masking) : 'PII masking: skipped (--skip-mask)',
    '',
    'Prompt injection: the detector',
    ...formatInjectionBenchmark(r.injection.detection),
    '',
    ...(r.injection.sideEffects
      ? formatInjectionSideEffects(r.injection.sideEffects)
      : ['attacks through the pipeline: skipped (--skip-injection-pipeline)']),
    '',
    `Run time: ${r.seconds.total} s (load ${r.seconds.load} s, retrieval ${r.seconds.retrieval} s, grounding ${r.seconds.grounding} s, masking ${r.seconds.masking} s)`,
  ];
  return lines.join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const value = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const known = new Set(['--data', '--limit', '--json', '--skip-mask', '--skip-injection-pipeline']);
  const unknown = args.filter((a, i) => a.startsWith('--') && !known.has(a) && !['--data', '--limit'].includes(args[i - 1] ?? ''));
  const limitText = value('--limit');
  const limit = limitText === undefined ? undefined : Number(limitText);
  if (unknown.length || (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) || (args.includes('--data') && !value('--data'))) {
    console.error(
      `${unknown.length ? `unknown option ${unknown[0]}; ` : limit !== undefined ? '--limit must be a whole number from 1; ' : '--data needs a folder; '}` +
        'usage: tsx bench/rag.ts [--data DIR] [--limit N] [--json] [--skip-mask] [--skip-injection-pipeline]',
    );
    process.exit(2);
  }
  const dataDir = value('--data') ?? process.env.ACS_DSTC11_DIR ?? DEFAULT_DATA_DIR;
  const json = args.includes('--json');
  runRagBench({
    dataDir,
    limit,
    mask: !args.includes('--skip-mask'),
    injectionPipeline: !args.includes('--skip-injection-pipeline'),
    progress: (l) => process.stderr.write(`bench:rag ${l}\n`),
  }).then(
    (r) => console.log(json ? JSON.stringify(r, null, 2) : formatRagBench(r)),
    (e: unknown) => {
      if (e instanceof DataMissing) {
        console.error(`bench:rag: ${e.message}`);
        process.exit(2);
      }
      console.error(e);
      process.exit(1);
    },
  );
}
