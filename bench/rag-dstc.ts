/**
 * Helpers of the RAG benchmark (bench/rag.ts) on DSTC11 track 5: reading the data, the in-memory BM25 baseline, the
 * entity tracker, retrieval metrics and ROUGE-L. Nothing here touches the database; bench/rag.ts loads the passages
 * through the product's knowledge module.
 *
 * The data is evaluation data: it is read from where it lies (`--data DIR`, or ACS_DSTC11_DIR) and never copied into
 * the repository or the product's knowledge base.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { wordSimilarity } from '../src/knowledge/index.ts';

export interface DstcPassage {
  passage_id: string;
  domain: string;
  entity_id: number;
  entity_name: string;
  doc_type: string;
  text: string;
}

export interface DstcQuery {
  qid: string;
  last_user_turn: string;
  context: string;
  context_last3: string;
  gold_passage_ids: string[];
  gold_entities: string[];
  gold_response: string;
}

export class DataMissing extends Error {}

function readJsonl<T>(file: string, fields: string[]): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l, i) => {
      const row = JSON.parse(l) as Record<string, unknown>;
      const missing = fields.filter((f) => !(f in row));
      if (missing.length) throw new DataMissing(`${file} line ${i + 1}: missing field(s) ${missing.join(', ')}`);
      return row as T;
    });
}

/** Reads passages.jsonl and val_queries.jsonl from `dir`; a DataMissing error names what is absent. */
export function loadDstc(dir: string): { passages: DstcPassage[]; queries: DstcQuery[] } {
  const files = ['passages.jsonl', 'val_queries.jsonl'].map((f) => join(dir, f));
  const absent = files.filter((f) => !existsSync(f));
  if (absent.length)
    throw new DataMissing(
      `DSTC11 track 5 data not found: ${absent.join(', ')} missing. Pass --data DIR (or set ACS_DSTC11_DIR) to the folder ` +
        'holding passages.jsonl and val_queries.jsonl (see the datasets README, section dstc11-track5).',
    );
  return {
    passages: readJsonl<DstcPassage>(files[0]!, ['passage_id', 'domain', 'entity_id', 'entity_name', 'doc_type', 'text']),
    queries: readJsonl<DstcQuery>(files[1]!, [
      'qid',
      'last_user_turn',
      'context',
      'context_last3',
      'gold_passage_ids',
      'gold_entities',
      'gold_response',
    ]),
  };
}

export const entityKey = (p: { domain: string; entity_id: number }) => `${p.domain}:${p.entity_id}`;

// ---------------------------------------------------------------------------------------------------------------
// The baseline: plain Okapi BM25 in memory, as the datasets README describes its reference figure.

/** A short stopword list: articles, pronouns, auxiliaries, prepositions and conjunctions. */
const BASELINE_STOPWORDS = new Set(
  (
    'a an the and or but if of to in on at by for with from as is are was were be been being do does did have has had ' +
    'i me my we our you your he she it its they them their this that these those there here what which who how ' +
    'can could would should will shall may might must not no so than too very just also about into'
  ).split(' '),
);

export const baselineTokens = (s: string) => (s.toLowerCase().match(/[a-z0-9]+/g) ?? []).filter((w) => !BASELINE_STOPWORDS.has(w));

/** Okapi BM25 with k1 = 0.9, b = 0.4 and Lucene's idf, ln(1 + (N − n + 0.5) / (n + 0.5)), over the passages' texts. */
export class Bm25 {
  private readonly postings = new Map<string, { doc: number; tf: number }[]>();
  private readonly lengths: number[];
  private readonly avg: number;
  constructor(
    texts: string[],
    private readonly k1 = 0.9,
    private readonly b = 0.4,
  ) {
    this.lengths = texts.map((t, doc) => {
      const toks = baselineTokens(t);
      const tf = new Map<string, number>();
      for (const w of toks) tf.set(w, (tf.get(w) ?? 0) + 1);
      for (const [w, n] of tf) {
        let list = this.postings.get(w);
        if (!list) this.postings.set(w, (list = []));
        list.push({ doc, tf: n });
      }
      return toks.length;
    });
    this.avg = this.lengths.reduce((a, b) => a + b, 0) / Math.max(1, this.lengths.length);
  }

  /** The best `k` documents (indices) for the query, best first; ties by index. */
  search(query: string, k: number): number[] {
    const n = this.lengths.length;
    const scores = new Map<number, number>();
    for (const w of new Set(baselineTokens(query))) {
      const list = this.postings.get(w);
      if (!list) continue;
      const idf = Math.log(1 + (n - list.length + 0.5) / (list.length + 0.5));
      for (const { doc, tf } of list) {
        const norm = tf + this.k1 * (1 - this.b + (this.b * this.lengths[doc]!) / this.avg);
        scores.set(doc, (scores.get(doc) ?? 0) + (idf * tf * (this.k1 + 1)) / norm);
      }
    }
    return [...scores]
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, k)
      .map(([doc]) => doc);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Retrieval metrics.

/** recall@k as the datasets README scores it (a hit when any gold passage is in the top k) and MRR@10. */
export function scoreRanking(ranked: string[], gold: string[]): { hit1: number; hit5: number; rr10: number } {
  const g = new Set(gold);
  const first = ranked.slice(0, 10).findIndex((id) => g.has(id));
  return { hit1: first === 0 ? 1 : 0, hit5: first >= 0 && first < 5 ? 1 : 0, rr10: first >= 0 ? 1 / (first + 1) : 0 };
}

export interface RetrievalFigures {
  turns: number;
  recallAt1: number;
  recallAt5: number;
  mrrAt10: number;
}

export function aggregate(scores: { hit1: number; hit5: number; rr10: number }[]): RetrievalFigures {
  const n = scores.length;
  const mean = (f: (s: (typeof scores)[number]) => number) => (n ? round(scores.reduce((a, s) => a + f(s), 0) / n) : 0);
  return { turns: n, recallAt1: mean((s) => s.hit1), recallAt5: mean((s) => s.hit5), mrrAt10: mean((s) => s.rr10) };
}

export const round = (x: number, places = 4) => Math.round(x * 10 ** places) / 10 ** places;

// ---------------------------------------------------------------------------------------------------------------
// Entity tracking: which hotel or restaurant the customer is talking about, from the dialogue alone.

/** Lower case, `&` as "and", apostrophes dropped, "guesthouse" as "guest house", other punctuation as spaces. */
export function normaliseName(s: string): string {
  return s
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/['’`]/g, '')
    .replace(/guesthouse/g, 'guest house')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

/** Words that say what kind of place it is, not which: an alias without them still names the place. */
const KIND_WORDS = /\b(the|restaurant|hotel|guest house|bed and breakfast|b and b|lodge|bar|cafe|bistro)\b/g;
/** Aliases that are also ordinary words in a dialogue, and so name nothing on their own. */
const TOO_COMMON = new Set([
  'cambridge',
  'centre',
  'city centre',
  'city',
  'house',
  'home',
  'express',
  'golden',
  'royal',
  'river',
  'curry',
  'pizza',
  'noodle',
  'one',
  'two',
]);

export interface EntityAlias {
  entity: string;
  alias: string;
  words: number;
  /** The name without the words that say what kind of place it is: the only aliases tried by trigram similarity. */
  distinctive: boolean;
}

/**
 * The names each entity can be called by: its full name, without a leading "the", and without the words that say
 * what kind of place it is ("Maharajah Tandoori" for "MAHARAJAH TANDOORI RESTAURANT"), when what remains is
 * distinctive (four letters or more, not an ordinary word) and names no other entity.
 */
export function entityAliases(entities: Map<string, string>): EntityAlias[] {
  const byAlias = new Map<string, Set<string>>();
  const distinctive = new Set<string>();
  const add = (alias: string, entity: string) => {
    const a = alias.replace(/\s+/g, ' ').trim();
    if (a.length < 4 || TOO_COMMON.has(a)) return;
    let set = byAlias.get(a);
    if (!set) byAlias.set(a, (set = new Set()));
    set.add(entity);
  };
  for (const [entity, name] of entities) {
    const full = normaliseName(name);
    add(full, entity);
    add(full.replace(/^the /, ''), entity);
    const core = full.replace(KIND_WORDS, ' ').replace(/\s+/g, ' ').trim();
    add(core, entity);
    distinctive.add(core);
  }
  return [...byAlias]
    .filter(([, es]) => es.size === 1)
    .map(([alias, es]) => ({ alias, entity: [...es][0]!, words: alias.split(' ').length, distinctive: distinctive.has(alias) }));
}

/** Exact whole-word mentions in one normalised turn; overlapping mentions keep the longest. */
function exactMentions(turn: string, aliases: EntityAlias[]): { entity: string; start: number; end: number }[] {
  const padded = ` ${turn} `;
  const found: { entity: string; start: number; end: number }[] = [];
  for (const a of aliases) {
    let from = 0;
    for (let guard = 0; guard < 50; guard++) {
      const at = padded.indexOf(` ${a.alias} `, from);
      if (at < 0) break;
      found.push({ entity: a.entity, start: at, end: at + a.alias.length });
      from = at + 1;
    }
  }
  found.sort((x, y) => y.end - y.start - (x.end - x.start) || x.start - y.start);
  const kept: typeof found = [];
  for (const f of found) if (!kept.some((k) => f.start < k.end && k.start < f.end)) kept.push(f);
  return kept;
}

/**
 * A misspelt mention ("the cambrdige belfry"): the distinctive part of a name, of 5 letters or more, found by trigram
 * similarity from this value up.
 */
export const FUZZY_THRESHOLD = 0.6;

function fuzzyMentions(turn: string, aliases: EntityAlias[]): string[] {
  const best = new Map<string, number>();
  for (const a of aliases) {
    if (!a.distinctive || a.alias.length < 5) continue;
    const s = wordSimilarity(a.alias, turn);
    if (s >= FUZZY_THRESHOLD && s > (best.get(a.entity) ?? 0)) best.set(a.entity, s);
  }
  const top = Math.max(0, ...best.values());
  return [...best].filter(([, s]) => s >= top - 0.05).map(([e]) => e);
}

/**
 * The entities the dialogue is about: walking back from the last turn, the first turn that names any entity gives
 * them all (a turn may name two: "is X or Y closer?"). Exact mentions first; only when no turn names an entity
 * exactly are the turns walked again with trigram similarity, for misspellings. Empty when no turn names one.
 */
export function trackEntities(context: string, aliases: EntityAlias[]): string[] {
  const turns = context
    .split('\n')
    .map((t) => normaliseName(t.replace(/^[US]:\s*/, '')))
    .filter(Boolean);
  for (let i = turns.length - 1; i >= 0; i--) {
    const exact = exactMentions(turns[i]!, aliases);
    if (exact.length) return [...new Set(exact.sort((a, b) => a.start - b.start).map((m) => m.entity))];
  }
  for (let i = turns.length - 1; i >= 0; i--) {
    const fuzzy = fuzzyMentions(turns[i]!, aliases);
    if (fuzzy.length) return fuzzy;
  }
  return [];
}

// ---------------------------------------------------------------------------------------------------------------
// ROUGE-L (Lin, "ROUGE: A Package for Automatic Evaluation of Summaries", 2004): the longest common subsequence of
// tokens; F is the harmonic mean of its precision and recall (beta = 1). Tokens: lower-cased runs of letters and digits.

export const rougeTokens = (s: string) => s.toLowerCase().match(/[a-z0-9]+/g) ?? [];

export function lcsLength(a: string[], b: string[]): number {
  if (a.length === 0 || b.length === 0) return 0;
  let prev = new Array<number>(b.length + 1).fill(0);
  let cur = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) cur[j] = a[i - 1] === b[j - 1] ? prev[j - 1]! + 1 : Math.max(prev[j]!, cur[j - 1]!);
    [prev, cur] = [cur, prev];
  }
  return prev[b.length]!;
}

export function rougeL(candidate: string, reference: string): number {
  const c = rougeTokens(candidate);
  const r = rougeTokens(reference);
  const lcs = lcsLength(c, r);
  if (lcs === 0) return 0;
  const p = lcs / c.length;
  const rc = lcs / r.length;
  return (2 * p * rc) / (p + rc);
}
