import { nicknameIndex, personComparisons, soundex, type FieldComparison } from './compare.ts';
import { NICKNAMES } from './nicknames.ts';
import { stream } from '../../lib/index.ts';
import type { PersonField, PersonRecord } from './types.ts';

/**
 * Fellegi–Sunter identity resolution, unsupervised:
 * 1. blocking: records are compared only within blocks that share a key (national id; date of birth with an initial;
 *    the sound of both names, in either order; postcode with street number), each pair once;
 * 2. comparison: each field gives a level (exact, partial agreements, different; missing says nothing);
 * 3. EM estimates, without labels, how likely each level is among matches (m) and non-matches (u), and the share of
 *    matches among compared pairs;
 * 4. scoring: a pair's weight is the sum of log2(m/u) over its fields, with exact agreement on a common value (a
 *    frequent surname, say) worth less than on a rare one (term-frequency adjustment); deterministic rules, which
 *    run first, match outright;
 * 5. clustering: pairs above the threshold join clusters strongest first; two clusters of several records join only
 *    if the pairs between them agree on average, so one weak link cannot chain two people together.
 */

/** A deterministic rule: a pair matches when every criterion reaches its level (by name, see FieldComparison). */
export interface MatchRule {
  name: string;
  criteria: { field: PersonField; atLeast: string }[];
}

export const DEFAULT_RULES: MatchRule[] = [
  { name: 'same email', criteria: [{ field: 'email', atLeast: 'exact' }] },
  { name: 'same phone', criteria: [{ field: 'phone', atLeast: 'exact' }] },
  {
    name: 'same national id and birth date',
    criteria: [
      { field: 'nationalId', atLeast: 'exact' },
      { field: 'dateOfBirth', atLeast: 'exact' },
    ],
  },
];

export interface ResolveOptions {
  /** Match probability a pair needs to be linked; default 0.5. */
  threshold?: number;
  /** Blocks larger than this are skipped (too common a key to tell anyone apart); default 400. */
  maxBlockSize?: number;
  emIterations?: number;
  rules?: MatchRule[];
  /** With two sources, only pairs across them are compared (linking); default: deduplicate everything. */
  link?: boolean;
  /** Given names that are the same name; default: the shipped table (src/sense/identity/nicknames.ts). */
  nicknames?: Record<string, readonly string[]>;
  /** Called with a stage name and a fraction done, for progress bars. */
  onProgress?: (stage: string, done: number) => void;
  /**
   * Estimate u (how often non-matches agree) from this many random pairs instead of EM's blocked pairs, which agree
   * far more often than two people taken at random (they were blocked for agreeing). Off by default.
   */
  randomPairsForU?: number;
}

export interface FieldParameters {
  field: PersonField;
  levels: string[];
  /** P(level | match) and P(level | non-match), index = level. */
  m: number[];
  u: number[];
}

export interface ResolveResult {
  /** Entity id of each record, by record id: the id of the first record of its cluster. */
  entityOf: Map<string, string>;
  clusters: number;
  pairsCompared: number;
  pairsMatched: number;
  /** Share of compared pairs EM believes are matches. */
  lambda: number;
  parameters: FieldParameters[];
  timings: Record<string, number>;
  /** The fitted matcher over these records, for resolving new records one at a time. */
  index: IdentityIndex;
  /** The fitted parameters in storable form (see Matcher). */
  model: MatchModel;
}

/** How many of the commonest values per term-frequency field a stored model keeps. */
const MODEL_TERMS = 5000;

/** Where a new record belongs: an existing entity (with the best candidate's probability) or a new one. */
export interface IncrementalMatch {
  entityId: string;
  isNew: boolean;
  probability: number;
  /** Records it was compared with (those sharing a usable block). */
  compared: number;
}

/**
 * A fitted matcher in a form that can be stored and loaded again: per-field parameters, the commonest values of the
 * term-frequency fields, the prior and the rules. A value missing from a table is taken to be as common as the
 * table's least common entry (`floor`), so a cut-off table errs towards less weight, never more.
 */
export interface MatchModel {
  parameters: FieldParameters[];
  termFrequencies: Partial<Record<PersonField, { values: Record<string, number>; floor: number }>>;
  logPrior: number;
  rules: MatchRule[];
  /** How many records EM was fitted on. */
  fittedOn: number;
}

/** How two records compare: the probability they are one person, the rule that matched them if one did, each field's level. */
export interface PairExplanation {
  probability: number;
  rule: string | null;
  fields: { field: PersonField; level: string; weight: number }[];
}

/** A CRM person has several email addresses and phone numbers: records that differ on one are not less alike. */
export const MULTI_VALUED: readonly PersonField[] = ['email', 'phone'];

/** Scores pairs of records with a stored model (the product's incremental matcher uses it against the database). */
export class Matcher {
  private readonly comparisons: FieldComparison[];
  private readonly scorer: PairScorer;
  private readonly levels: Int8Array;
  constructor(
    readonly model: MatchModel,
    nicknames: Record<string, readonly string[]> = NICKNAMES,
  ) {
    this.comparisons = personComparisons(nicknameIndex(nicknames));
    const params = this.comparisons.map((c) => {
      const p = model.parameters.find((x) => x.field === c.field);
      if (!p || p.m.length !== c.levels.length || p.u.length !== c.levels.length)
        throw new Error(`match model has no usable parameters for ${c.field}`);
      return p;
    });
    const tf = new Map<PersonField, Map<string, number>>();
    for (const [field, table] of Object.entries(model.termFrequencies)) {
      tf.set(field as PersonField, new Map([...Object.entries(table!.values), [UNSEEN, table!.floor]]));
    }
    this.scorer = new PairScorer(this.comparisons, params, tf, model.logPrior, model.rules, new Set(MULTI_VALUED));
    this.levels = new Int8Array(this.comparisons.length);
  }

  probability(a: PersonRecord, b: PersonRecord): number {
    compareRecords(this.comparisons, a, b, this.levels);
    return this.scorer.probability(this.levels, a);
  }

  explain(a: PersonRecord, b: PersonRecord): PairExplanation {
    compareRecords(this.comparisons, a, b, this.levels);
    const probability = this.scorer.probability(this.levels, a);
    return {
      probability,
      rule: this.scorer.ruleMatched(this.levels),
      fields: this.comparisons.flatMap((c, f) => {
        const l = this.levels[f]!;
        return l === MISSING ? [] : [{ field: c.field, level: c.levels[l]!, weight: round4(this.scorer.weight(f, l, a)) }];
      }),
    };
  }
}

/**
 * Incremental resolution: a new record is compared only with the records in its blocks, scored with the parameters
 * EM fitted on the batch, and joins the entity of its most probable match above the threshold (or starts one). It is
 * then added to its blocks, so the next record can match it.
 */
export class IdentityIndex {
  private readonly levels: Int8Array;
  constructor(
    private readonly records: PersonRecord[],
    private readonly entityByIndex: string[],
    private readonly blocks: Map<string, number[]>[],
    private readonly comparisons: FieldComparison[],
    private readonly scorer: PairScorer,
    private readonly threshold: number,
    private readonly maxBlock: number,
  ) {
    this.levels = new Int8Array(comparisons.length);
  }

  get size(): number {
    return this.records.length;
  }

  /** Where `record` belongs, without adding it. */
  match(record: PersonRecord): IncrementalMatch {
    const keys = blockingKeys(record.fields);
    const candidates = new Set<number>();
    keys.forEach((key, k) => {
      const list = key ? this.blocks[k]!.get(key) : undefined;
      if (list && list.length <= this.maxBlock) for (const i of list) candidates.add(i);
    });
    let best = -1;
    let bestProbability = 0;
    for (const i of candidates) {
      compareRecords(this.comparisons, record, this.records[i]!, this.levels);
      const p = this.scorer.probability(this.levels, record);
      if (p > bestProbability) {
        bestProbability = p;
        best = i;
      }
    }
    return best >= 0 && bestProbability >= this.threshold
      ? { entityId: this.entityByIndex[best]!, isNew: false, probability: bestProbability, compared: candidates.size }
      : { entityId: record.id, isNew: true, probability: bestProbability, compared: candidates.size };
  }

  /** Matches `record` and adds it to the index under the entity it matched (or its own). */
  resolve(record: PersonRecord): IncrementalMatch {
    const found = this.match(record);
    const i = this.records.length;
    this.records.push(record);
    this.entityByIndex.push(found.entityId);
    blockingKeys(record.fields).forEach((key, k) => {
      if (!key) return;
      const list = this.blocks[k]!.get(key);
      if (list) list.push(i);
      else this.blocks[k]!.set(key, [i]);
    });
    return found;
  }
}

const MISSING = -1;
/** The term-frequency table's entry for a value it has not seen. */
const UNSEEN = '\u0000unseen';

/** Blocking keys of a record, one per key kind ('' = no key of that kind). */
export function blockingKeys(f: PersonRecord['fields']): string[] {
  const g = f.givenName ?? '';
  const s = f.surname ?? '';
  const names = [soundex(g), soundex(s)].filter(Boolean).sort().join('+');
  return [
    f.nationalId ?? '',
    f.dateOfBirth && (g || s) ? `${f.dateOfBirth}:${(g[0] ?? '') + (s[0] ?? '')}` : '',
    names.includes('+') ? names : '',
    f.postcode && f.streetNumber ? `${f.postcode}:${f.streetNumber}` : '',
    f.email ?? '',
    f.phone ?? '',
  ];
}

/** Given name and surname written the other way round in one of the two records. */
const swappedNames = (a: PersonRecord, b: PersonRecord) =>
  !!a.fields.givenName && a.fields.givenName === b.fields.surname && !!a.fields.surname && a.fields.surname === b.fields.givenName;

/** Compares two records field by field into `levels` (MISSING where either value is absent). */
function compareRecords(comparisons: FieldComparison[], a: PersonRecord, b: PersonRecord, levels: Int8Array): void {
  const swap = swappedNames(a, b);
  for (let f = 0; f < comparisons.length; f++) {
    const c = comparisons[f]!;
    const va = a.fields[c.field];
    let field = c.field;
    // Given name and surname written the other way round compare as written the right way.
    if (swap && field === 'givenName') field = 'surname';
    else if (swap && field === 'surname') field = 'givenName';
    const vb = b.fields[field];
    levels[f] = va && vb ? c.compare(va, vb) : MISSING;
  }
}

/** Turns a pair's levels into a match probability with the fitted parameters; rules first. */
class PairScorer {
  private readonly weights: number[][];
  private readonly rules: { f: number; level: number }[][];
  private readonly ruleNames: string[];
  /** Per field: disagreement is no evidence (multi-valued fields); looked up per pair, so an array, not the set. */
  private readonly neutral: boolean[];
  constructor(
    private readonly comparisons: FieldComparison[],
    private readonly params: { m: number[]; u: number[] }[],
    private readonly tf: Map<PersonField, Map<string, number>>,
    private readonly logPrior: number,
    rules: MatchRule[],
    /** Fields a person may hold several values of: disagreeing on one says nothing (a second email address). */
    multiValued: ReadonlySet<PersonField> = new Set(),
  ) {
    this.ruleNames = rules.map((r) => r.name);
    this.neutral = comparisons.map((c) => multiValued.has(c.field));
    this.weights = params.map((p) => p.m.map((m, l) => Math.log2(m / p.u[l]!)));
    this.rules = rules.map((r) =>
      r.criteria.map((c) => {
        const f = comparisons.findIndex((x) => x.field === c.field);
        const level = f >= 0 ? comparisons[f]!.levels.indexOf(c.atLeast) : -1;
        if (f < 0 || level < 0) throw new Error(`rule '${r.name}': no level '${c.atLeast}' for field ${c.field}`);
        return { f, level };
      }),
    );
  }

  /** The name of the first rule whose criteria the levels all reach, or null. */
  ruleMatched(levels: ArrayLike<number>): string | null {
    // Plain loops: this runs for every compared pair of a batch (tens of millions at 1M records).
    for (let r = 0; r < this.rules.length; r++) {
      const criteria = this.rules[r]!;
      let all = true;
      for (let k = 0; k < criteria.length && all; k++) all = levels[criteria[k]!.f]! >= criteria[k]!.level;
      if (all) return this.ruleNames[r]!;
    }
    return null;
  }

  /** The evidence (log2 odds) field `f` at level `l` gives; `a` is one of the two records, its value stands for both on exact agreement. */
  weight(f: number, l: number, a: PersonRecord): number {
    if (l === 0 && this.neutral[f]) return 0;
    const c = this.comparisons[f]!;
    const exact = l === c.levels.length - 1;
    const table = exact && c.termFrequency ? this.tf.get(c.field) : undefined;
    // A value shared by few records is stronger evidence than the average exact agreement, a common one weaker; a value
    // no fitted record had (a newcomer's) is as rare as can be.
    const freq = table ? (table.get(a.fields[c.field]!) ?? table.get(UNSEEN)) : undefined;
    return freq !== undefined ? Math.log2(this.params[f]!.m[l]! / clamp(freq, 1e-6, 1)) : this.weights[f]![l]!;
  }

  /** `a` is one of the two records: its values stand for the pair's on exact agreement. */
  probability(levels: ArrayLike<number>, a: PersonRecord): number {
    if (this.ruleMatched(levels) !== null) return 1;
    let w = this.logPrior;
    for (let f = 0; f < this.comparisons.length; f++) {
      const l = levels[f]!;
      if (l !== MISSING) w += this.weight(f, l, a);
    }
    return 1 / (1 + 2 ** -w);
  }
}

/** Value frequencies per term-frequency field: how often each value occurs among the records. */
function termFrequencies(records: PersonRecord[], comparisons: FieldComparison[]): Map<PersonField, Map<string, number>> {
  const out = new Map<PersonField, Map<string, number>>();
  for (const c of comparisons) {
    if (!c.termFrequency) continue;
    const counts = new Map<string, number>();
    let n = 0;
    for (const r of records) {
      const v = r.fields[c.field];
      if (v) {
        counts.set(v, (counts.get(v) ?? 0) + 1);
        n++;
      }
    }
    for (const [v, k] of counts) counts.set(v, k / n);
    counts.set(UNSEEN, 1 / (n + 1));
    out.set(c.field, counts);
  }
  return out;
}

/** u per field and level from random pairs of records (seeded, so a model fitted twice is the same), smoothed like EM's. */
function randomPairU(records: PersonRecord[], comparisons: FieldComparison[], pairs: number): number[][] {
  const rng = stream('identity-u', records.length);
  const counts = comparisons.map((c) => new Float64Array(c.levels.length));
  const levels = new Int8Array(comparisons.length);
  for (let s = 0; s < pairs && records.length > 1; s++) {
    const i = Math.floor(rng.next() * records.length);
    const j = Math.floor(rng.next() * records.length);
    if (i === j) continue;
    compareRecords(comparisons, records[i]!, records[j]!, levels);
    levels.forEach((l, f) => l !== MISSING && counts[f]![l]!++);
  }
  return counts.map((c) => {
    const total = c.reduce((a, b) => a + b, 0);
    return Array.from(c, (k) => (k + 0.5) / (total + 0.5 * c.length));
  });
}

/** The commonest values of each table; the rest count as common as the least common kept (or as unseen, if rarer). */
function storableFrequencies(tf: Map<PersonField, Map<string, number>>): MatchModel['termFrequencies'] {
  const out: MatchModel['termFrequencies'] = {};
  for (const [field, table] of tf) {
    const unseen = table.get(UNSEEN)!;
    const top = [...table]
      .filter(([v]) => v !== UNSEEN)
      .sort((a, b) => b[1] - a[1])
      .slice(0, MODEL_TERMS);
    const floor = top.length === MODEL_TERMS ? top[top.length - 1]![1] : unseen;
    out[field] = { values: Object.fromEntries(top), floor };
  }
  return out;
}

/** A growable column of 32-bit integers. */
class IntColumn {
  data = new Int32Array(1 << 16);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Int32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }
}

export function resolvePeople(records: PersonRecord[], opts: ResolveOptions = {}): ResolveResult {
  const timings: Record<string, number> = {};
  let t0 = performance.now();
  const lap = (name: string) => {
    const now = performance.now();
    timings[name] = Math.round(now - t0);
    t0 = now;
  };
  const comparisons = personComparisons(nicknameIndex(opts.nicknames ?? NICKNAMES));
  const F = comparisons.length;
  const threshold = opts.threshold ?? 0.5;
  const maxBlock = opts.maxBlockSize ?? 400;
  const n = records.length;

  // 1. Blocks: key kind → key → record indices.
  const keys = records.map((r) => blockingKeys(r.fields));
  const kinds = keys[0]?.length ?? 0;
  const blocks: Map<string, number[]>[] = Array.from({ length: kinds }, () => new Map());
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < kinds; k++) {
      const key = keys[i]![k]!;
      if (!key) continue;
      const list = blocks[k]!.get(key);
      if (list) list.push(i);
      else blocks[k]!.set(key, [i]);
    }
  }
  const usable = (k: number, key: string) => key !== '' && (blocks[k]!.get(key)?.length ?? 0) <= maxBlock;
  lap('block');

  // 2. Compare each candidate pair once (in the first usable block the two share) into a level pattern.
  const left = new IntColumn();
  const right = new IntColumn();
  const patternOf = new IntColumn();
  const patternIndex = new Map<string, number>();
  const patterns: Int8Array[] = [];
  const patternCounts: number[] = [];
  const levels = new Int8Array(F);
  let done = 0;
  for (let k = 0; k < kinds; k++) {
    for (const members of blocks[k]!.values()) {
      if (members.length < 2 || members.length > maxBlock) continue;
      for (let x = 0; x < members.length; x++) {
        const i = members[x]!;
        for (let y = x + 1; y < members.length; y++) {
          const j = members[y]!;
          const a = records[i]!;
          const b = records[j]!;
          if (opts.link && a.source === b.source) continue;
          // Compared already in an earlier kind of block they share?
          let earlier = false;
          for (let e = 0; e < k && !earlier; e++) earlier = keys[i]![e] === keys[j]![e] && usable(e, keys[i]![e]!);
          if (earlier) continue;
          compareRecords(comparisons, a, b, levels);
          const pkey = levels.join(',');
          let p = patternIndex.get(pkey);
          if (p === undefined) {
            p = patterns.length;
            patternIndex.set(pkey, p);
            patterns.push(Int8Array.from(levels));
            patternCounts.push(0);
          }
          patternCounts[p]!++;
          left.push(i);
          right.push(j);
          patternOf.push(p);
        }
      }
      if (++done % 5000 === 0) opts.onProgress?.('compare', done);
    }
  }
  lap('compare');

  // 3. EM over the distinct patterns (weighted by their counts).
  const params = comparisons.map((c) => {
    const L = c.levels.length;
    // Matches mostly agree exactly; non-matches mostly disagree.
    const m = Array.from({ length: L }, (_, l) => (l === L - 1 ? 0.8 : 0.2 / (L - 1)));
    const u = Array.from({ length: L }, (_, l) => (l === 0 ? 0.8 : 0.2 / (L - 1)));
    return { field: c.field, levels: c.levels, m, u };
  });
  let lambda = 0.1;
  const P = patterns.length;
  const posterior = new Float64Array(P);
  for (let iter = 0; iter < (opts.emIterations ?? 40); iter++) {
    let matchMass = 0;
    let total = 0;
    for (let p = 0; p < P; p++) {
      let lm = Math.log(lambda);
      let lu = Math.log(1 - lambda);
      const pat = patterns[p]!;
      for (let f = 0; f < F; f++) {
        const l = pat[f]!;
        if (l === MISSING) continue;
        lm += Math.log(params[f]!.m[l]!);
        lu += Math.log(params[f]!.u[l]!);
      }
      posterior[p] = 1 / (1 + Math.exp(lu - lm));
      matchMass += posterior[p]! * patternCounts[p]!;
      total += patternCounts[p]!;
    }
    lambda = clamp(matchMass / Math.max(1, total), 1e-6, 1 - 1e-6);
    for (let f = 0; f < F; f++) {
      const L = params[f]!.levels.length;
      const mSum = new Float64Array(L);
      const uSum = new Float64Array(L);
      for (let p = 0; p < P; p++) {
        const l = patterns[p]![f]!;
        if (l === MISSING) continue;
        mSum[l] = mSum[l]! + posterior[p]! * patternCounts[p]!;
        uSum[l] = uSum[l]! + (1 - posterior[p]!) * patternCounts[p]!;
      }
      const mTotal = mSum.reduce((a, b) => a + b, 0);
      const uTotal = uSum.reduce((a, b) => a + b, 0);
      // A little smoothing keeps every level possible, so no single field can veto a match.
      for (let l = 0; l < L; l++) {
        params[f]!.m[l] = (mSum[l]! + 0.5) / (mTotal + 0.5 * L);
        params[f]!.u[l] = (uSum[l]! + 0.5) / (uTotal + 0.5 * L);
      }
    }
  }
  lap('em');
  if (opts.randomPairsForU) {
    randomPairU(records, comparisons, opts.randomPairsForU).forEach((u, f) => (params[f]!.u = u));
    lap('u');
  }

  // 4. Score every compared pair; term-frequency adjustment on exact agreement of common values.
  const tf = termFrequencies(records, comparisons);
  // The prior is the chance that two records taken at random match (the matches EM expects among all pairs), not
  // among the blocked candidates, where matches are common: a pair with little evidence must not ride on blocking.
  const allPairs = opts.link ? countBySource(records, 0) * countBySource(records, 1) : (n * (n - 1)) / 2;
  const prior = clamp((lambda * left.length) / Math.max(1, allPairs), 1e-12, 1 - 1e-12);
  const logPrior = Math.log2(prior / (1 - prior));
  const scorer = new PairScorer(comparisons, params, tf, logPrior, opts.rules ?? DEFAULT_RULES);
  const matched: { i: number; j: number; probability: number }[] = [];
  const probabilities = new Float32Array(left.length);
  for (let q = 0; q < left.length; q++) {
    const i = left.data[q]!;
    const j = right.data[q]!;
    const probability = scorer.probability(patterns[patternOf.data[q]!]!, records[i]!);
    probabilities[q] = probability;
    if (probability >= threshold) matched.push({ i, j, probability });
  }
  lap('score');

  // Each record's compared pairs (compressed rows: neighbours[start[i] .. start[i + 1]) with their probabilities).
  const start = new Int32Array(n + 1);
  for (let q = 0; q < left.length; q++) {
    start[left.data[q]! + 1]!++;
    start[right.data[q]! + 1]!++;
  }
  for (let i = 0; i < n; i++) start[i + 1] = start[i + 1]! + start[i]!;
  const neighbours = new Int32Array(left.length * 2);
  const neighbourProbability = new Float32Array(left.length * 2);
  const fill = start.slice(0, n);
  for (let q = 0; q < left.length; q++) {
    const i = left.data[q]!;
    const j = right.data[q]!;
    neighbours[fill[i]!] = j;
    neighbourProbability[fill[i]!++] = probabilities[q]!;
    neighbours[fill[j]!] = i;
    neighbourProbability[fill[j]!++] = probabilities[q]!;
  }

  // 5. Clusters, strongest links first, guarded against chaining.
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const members: number[][] = Array.from({ length: n }, (_, i) => [i]);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  matched.sort((a, b) => b.probability - a.probability);
  for (const { i, j } of matched) {
    const a = find(i);
    const b = find(j);
    if (a === b) continue;
    const A = members[a]!;
    const B = members[b]!;
    if (A.length > 1 && B.length > 1) {
      // Two groups join only if the pairs compared between them are, on average, a match.
      let sum = 0;
      let count = 0;
      // Walk the smaller group's compared pairs, keeping those that land in the other group.
      const [fewer, otherRoot] = A.length <= B.length ? [A, b] : [B, a];
      for (const x of fewer) {
        for (let e = start[x]!; e < start[x + 1]!; e++) {
          if (find(neighbours[e]!) !== otherRoot) continue;
          sum += neighbourProbability[e]!;
          count++;
        }
      }
      if (count === 0 || sum / count < threshold) continue;
    }
    const [big, small] = A.length >= B.length ? [a, b] : [b, a];
    parent[small] = big;
    members[big]!.push(...members[small]!);
    members[small] = [];
  }
  const entityOf = new Map<string, string>();
  let clusters = 0;
  for (let i = 0; i < n; i++) {
    const root = find(i);
    if (root === i) clusters++;
    entityOf.set(records[i]!.id, records[root]!.id);
  }
  lap('cluster');
  const index = new IdentityIndex(
    [...records],
    records.map((r) => entityOf.get(r.id)!),
    blocks,
    comparisons,
    scorer,
    threshold,
    maxBlock,
  );
  return {
    entityOf,
    clusters,
    pairsCompared: left.length,
    pairsMatched: matched.length,
    lambda,
    parameters: params.map((p) => ({ field: p.field, levels: p.levels, m: p.m.map(round4), u: p.u.map(round4) })),
    timings,
    index,
    model: { parameters: params, termFrequencies: storableFrequencies(tf), logPrior, rules: opts.rules ?? DEFAULT_RULES, fittedOn: n },
  };
}

const countBySource = (records: PersonRecord[], source: number) => records.reduce((k, r) => k + (r.source === source ? 1 : 0), 0);
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));
const round4 = (x: number) => Math.round(x * 1e4) / 1e4;

/**
 * Pairwise precision, recall and F1 of `entityOf` against the true entities (pairs of records put together, or
 * kept apart, rightly). With `link`, only pairs across the two sources count.
 */
export function pairwiseScores(records: PersonRecord[], entityOf: Map<string, string>, truthOf: Map<string, string>, link = false) {
  const pairsWithin = (groupOf: (r: PersonRecord) => string) => {
    const groups = new Map<string, number[]>();
    for (const r of records) {
      const g = groupOf(r);
      const counts = groups.get(g) ?? groups.set(g, [0, 0]).get(g)!;
      counts[r.source]!++;
    }
    let pairs = 0;
    for (const [a, b] of groups.values()) pairs += link ? a! * b! : ((a! + b!) * (a! + b! - 1)) / 2;
    return pairs;
  };
  const predicted = pairsWithin((r) => entityOf.get(r.id)!);
  const actual = pairsWithin((r) => truthOf.get(r.id)!);
  const truePositive = pairsWithin((r) => `${entityOf.get(r.id)}\u0000${truthOf.get(r.id)}`);
  const precision = predicted ? truePositive / predicted : 1;
  const recall = actual ? truePositive / actual : 1;
  return {
    truePositive,
    predicted,
    actual,
    precision,
    recall,
    f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0,
  };
}
