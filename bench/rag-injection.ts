/**
 * Prompt-injection benchmark (issue 14, "Benchmarks", Injection; docs/trust.md, "Prompt injection").
 *
 *   npx tsx bench/rag-injection.ts [--json]
 *
 * On four sets of original texts (data/trust/injection/README.md), prints for each:
 *   - the corpus's held-out test split (fixed seed; the classifier never trains on it, but the rules were written with
 *     the whole corpus in view, so this figure flatters them);
 *   - fresh.jsonl, written after the first rules were frozen; measured once on them (61.1% flagged), then the rules
 *     were revised with its misses in view and the classifier trains on it: no longer a clean measure;
 *   - holdout.jsonl, written after the revised rules were frozen; measured once on them (66.7% flagged), then the
 *     rules were revised with its misses in view and the classifier trains on it: no longer a clean measure;
 *   - holdout2.jsonl, committed before the word-class features and the third rule revision, never trained or tuned
 *     on: the honest figure for wording the detector has not seen. Its one clean run (91.7% flagged) was on a detector
 *     that was then fixed for false positives on the demo knowledge base; later runs are second looks (docs/trust.md).
 * The figures: the share of attacks flagged (target ≥ 90%), the false-positive rate on benign customer texts,
 * the rules and the classifier alone, and the same-run baseline: one rule, the phrase "ignore (all) previous
 * instructions". `injectionBenchmark()` is the core, for `npm run bench:rag`.
 */
import {
  evaluateInjection,
  FRESH_CORPUS,
  HOLDOUT_CORPUS,
  HOLDOUT2_CORPUS,
  loadCorpus,
  splitCorpus,
  type InjectionBenchmark,
} from '../src/trust/index.ts';

export interface InjectionBenchmarkReport {
  /** The corpus's test split (30% of each label, seed 14). */
  test: InjectionBenchmark;
  /** The fresh set (seen by the revised rules and trained on by the classifier: reported, not a clean measure). */
  fresh: InjectionBenchmark;
  /** The first holdout (measured once, then seen by the rules and trained on: reported, not a clean measure). */
  holdout: InjectionBenchmark;
  /** Holdout2: wording neither the rules nor the classifier saw. */
  holdout2: InjectionBenchmark;
  /** The target: at least 90% of attacks flagged. */
  target: { detectionRate: number };
}

export function injectionBenchmark(): InjectionBenchmarkReport {
  const { test } = splitCorpus(loadCorpus());
  return {
    test: evaluateInjection(test),
    fresh: evaluateInjection(loadCorpus(FRESH_CORPUS)),
    holdout: evaluateInjection(loadCorpus(HOLDOUT_CORPUS)),
    holdout2: evaluateInjection(loadCorpus(HOLDOUT2_CORPUS)),
    target: { detectionRate: 0.9 },
  };
}

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

function table(name: string, b: InjectionBenchmark): string[] {
  const row = (label: string, r: { detectionRate: number; falsePositiveRate: number }) =>
    `  ${label.padEnd(34)} ${pct(r.detectionRate).padStart(8)} ${pct(r.falsePositiveRate).padStart(8)}`;
  return [
    `${name}: ${b.attacks} attacks, ${b.benign} benign texts`,
    `  ${''.padEnd(34)} ${'flagged'.padStart(8)} ${'FP rate'.padStart(8)}`,
    row('detector (rules + classifier)', b),
    row('rules alone', b.rulesOnly),
    row('classifier alone', b.classifierOnly),
    row('baseline: "ignore previous instr."', b.baseline),
    `  missed: ${b.missed.join(', ') || 'none'}`,
    `  false positives: ${b.falsePositives.join(', ') || 'none'}`,
  ];
}

/** The report as printed lines: the four sets' tables, then the target on the test split and on holdout2. */
export function formatInjectionBenchmark(report: InjectionBenchmarkReport): string[] {
  const met = (b: InjectionBenchmark) => (b.detectionRate >= report.target.detectionRate ? 'met' : 'not met');
  return [
    ...table('test split (rules written with the corpus in view)', report.test),
    '',
    ...table('fresh set (seen when the rules were revised; trained on)', report.fresh),
    '',
    ...table('holdout (measured once, then seen when the rules were revised; trained on)', report.holdout),
    '',
    ...table('holdout2 (unseen wording: the honest figure; its one clean run is in docs/trust.md)', report.holdout2),
    '',
    `target ≥ ${pct(report.target.detectionRate)} flagged: test split ${met(report.test)}, holdout2 (unseen wording) ${met(report.holdout2)}`,
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const report = injectionBenchmark();
  if (process.argv.includes('--json')) console.log(JSON.stringify(report, null, 2));
  else console.log(formatInjectionBenchmark(report).join('\n'));
}
