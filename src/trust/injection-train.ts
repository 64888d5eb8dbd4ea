import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stream } from '../lib/index.ts';
import {
  CLASSIFIER_THRESHOLD,
  classifierScore,
  detectInjection,
  features,
  featureScale,
  FLAG_THRESHOLD,
  ruleFindings,
  type InjectionModel,
} from './injection.ts';

// The injection corpus, its fixed train/test split, the classifier's training, and the figures the benchmark prints.
// Used by scripts/train-injection.ts (writes src/trust/injection-model.json), bench/rag-injection.ts and the tests.

export interface CorpusItem {
  id: string;
  label: 'injection' | 'benign';
  /** Where the text would arrive: ticket, email, nps, kb, form, chat. */
  carrier: string;
  /** How it is written: direct, polite, hidden, obfuscated, … for injections; complaint, hardneg, … for benign. */
  style: string;
  text: string;
}

export const DEFAULT_CORPUS = fileURLToPath(new URL('../../data/trust/injection/corpus.jsonl', import.meta.url));
/**
 * Written after the first rules were frozen and measured once on them (61.1% flagged, docs/trust.md); the rules were
 * then revised with its misses in view, and the classifier trains on it. No longer a clean measure: see HOLDOUT.
 */
export const FRESH_CORPUS = fileURLToPath(new URL('../../data/trust/injection/fresh.jsonl', import.meta.url));
/**
 * Written after the revised rules were frozen and measured once on them (66.7% flagged, docs/trust.md); then the
 * rules were revised again with its misses in view, and the classifier trains on it. No longer a clean measure.
 */
export const HOLDOUT_CORPUS = fileURLToPath(new URL('../../data/trust/injection/holdout.jsonl', import.meta.url));
/**
 * Written and committed before the word-class features and the third revision of the rules; never trained or tuned on,
 * measured once. The honest measure of unseen wording.
 */
/**
 * Benign policy and FAQ prose (and plain requests about credits and refunds), written after holdout2's one measurement,
 * when the demo knowledge base showed the classifier reading policy prose about credits as an attack. Training only.
 */
export const POLICY_CORPUS = fileURLToPath(new URL('../../data/trust/injection/policy.jsonl', import.meta.url));
export const HOLDOUT2_CORPUS = fileURLToPath(new URL('../../data/trust/injection/holdout2.jsonl', import.meta.url));
/** The split's seed: fixed, so the test set never leaks into training between runs. */
export const SPLIT_SEED = 14;
/** Share of each label kept for testing. */
export const TEST_SHARE = 0.3;

export function loadCorpus(file = DEFAULT_CORPUS): CorpusItem[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as CorpusItem);
}

/**
 * What the shipped classifier trains on: the corpus's train split, the fresh set and the first holdout. Never the test
 * split or holdout2.
 */
export function trainingSet(): { train: CorpusItem[]; test: CorpusItem[] } {
  const { train, test } = splitCorpus(loadCorpus());
  return { train: [...train, ...loadCorpus(FRESH_CORPUS), ...loadCorpus(HOLDOUT_CORPUS), ...loadCorpus(POLICY_CORPUS)], test };
}

/** Stratified by label: each label shuffled by its own seeded stream, the first TEST_SHARE of it to test. */
export function splitCorpus(items: CorpusItem[], seed = SPLIT_SEED): { train: CorpusItem[]; test: CorpusItem[] } {
  const train: CorpusItem[] = [];
  const test: CorpusItem[] = [];
  for (const label of ['injection', 'benign'] as const) {
    const rng = stream(seed, 'injection-split', label);
    const of = items
      .filter((i) => i.label === label)
      .map((item) => ({ item, key: rng.next() }))
      .sort((a, b) => a.key - b.key)
      .map((x) => x.item);
    const n = Math.round(of.length * TEST_SHARE);
    test.push(...of.slice(0, n));
    train.push(...of.slice(n));
  }
  return { train, test };
}

/**
 * L2-regularised logistic regression by full-batch gradient descent, a fixed number of steps from zero weights:
 * deterministic for a given training set. Features present in fewer than `minCount` training texts are dropped.
 * The defaults were chosen by 5-fold cross-validation over the training texts (and the first holdout, before it was
 * trained on), and by the demo knowledge base's chunks (benign prose that must not be flagged); never on holdout2.
 */
export function trainInjectionModel(
  train: CorpusItem[],
  opts: { steps?: number; rate?: number; l2?: number; minCount?: number; seed?: number; test?: number } = {},
): InjectionModel {
  const steps = opts.steps ?? 4000;
  const rate = opts.rate ?? 4;
  const l2 = opts.l2 ?? 0.0001;
  const minCount = opts.minCount ?? 2;
  const rows = train.map((item) => ({ f: [...features(item.text)], y: item.label === 'injection' ? 1 : 0 }));
  const counts = new Map<string, number>();
  for (const r of rows) for (const k of r.f) counts.set(k, (counts.get(k) ?? 0) + 1);
  const vocab = [...counts]
    .filter(([, n]) => n >= minCount)
    .map(([k]) => k)
    .sort();
  const index = new Map(vocab.map((k, i) => [k, i]));
  const X = rows.map((r) => {
    const idx = r.f.map((k) => index.get(k)).filter((i): i is number => i !== undefined);
    // Scaled by the text's own feature count, as classify() does.
    return { idx, scale: featureScale(r.f.length), y: r.y };
  });
  const w = new Float64Array(vocab.length);
  let b = 0;
  const n = X.length;
  for (let step = 0; step < steps; step++) {
    const g = new Float64Array(vocab.length);
    let gb = 0;
    for (const x of X) {
      let z = b;
      for (const i of x.idx) z += w[i]! * x.scale;
      const err = 1 / (1 + Math.exp(-z)) - x.y;
      for (const i of x.idx) g[i]! += err * x.scale;
      gb += err;
    }
    for (let i = 0; i < w.length; i++) w[i]! -= rate * (g[i]! / n + l2 * w[i]!);
    b -= rate * (gb / n);
  }
  const weights: Record<string, number> = {};
  vocab.forEach((k, i) => {
    const v = Math.round(w[i]! * 10_000) / 10_000;
    if (v !== 0) weights[k] = v;
  });
  return {
    version: 2,
    trainedOn: {
      corpus: 'data/trust/injection/corpus.jsonl (train split) + fresh.jsonl + holdout.jsonl + policy.jsonl',
      seed: opts.seed ?? SPLIT_SEED,
      train: train.length,
      test: opts.test ?? 0,
    },
    bias: Math.round(b * 10_000) / 10_000,
    weights,
  };
}

export interface InjectionBenchmark {
  attacks: number;
  benign: number;
  /** Share of test attacks flagged by the detector (rules + classifier). */
  detectionRate: number;
  /** Share of benign test texts flagged. */
  falsePositiveRate: number;
  /** The same two figures for the rules alone and for the classifier alone. */
  rulesOnly: { detectionRate: number; falsePositiveRate: number };
  classifierOnly: { detectionRate: number; falsePositiveRate: number };
  /** The baseline: one rule, the phrase "ignore previous instructions" (case-insensitive, optional "all"). */
  baseline: { detectionRate: number; falsePositiveRate: number };
  /** Test attacks the detector missed and benign texts it flagged, by id. */
  missed: string[];
  falsePositives: string[];
}

const BASELINE = /ignore (all )?previous instructions/i;

/** The detector's figures on these texts (the test split, or another held-out set), beside the one-phrase baseline. */
export function evaluateInjection(test: CorpusItem[], model?: InjectionModel): InjectionBenchmark {
  const attacks = test.filter((i) => i.label === 'injection');
  const benign = test.filter((i) => i.label === 'benign');
  const rate = (of: CorpusItem[], flag: (t: string) => boolean) => round(of.filter((i) => flag(i.text)).length / Math.max(1, of.length));
  const both = (flag: (t: string) => boolean) => ({ detectionRate: rate(attacks, flag), falsePositiveRate: rate(benign, flag) });
  const detect = (t: string) => detectInjection(t, model).flagged;
  const detector = both(detect);
  return {
    attacks: attacks.length,
    benign: benign.length,
    ...detector,
    rulesOnly: both((t) => ruleFindings(t).score >= FLAG_THRESHOLD),
    classifierOnly: both((t) => classifierScore(t, model) >= CLASSIFIER_THRESHOLD),
    baseline: both((t) => BASELINE.test(t)),
    missed: attacks.filter((i) => !detect(i.text)).map((i) => i.id),
    falsePositives: benign.filter((i) => detect(i.text)).map((i) => i.id),
  };
}

function round(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
