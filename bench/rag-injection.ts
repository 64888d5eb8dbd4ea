/**
 * Prompt-injection benchmark (issue 14, "Benchmarks", Injection; docs/trust.md, "Prompt injection").
 *
 *   npx tsx bench/rag-injection.ts [--json]
 *
 * On the held-out test split of data/trust/injection/corpus.jsonl (fixed seed; the classifier is trained on the
 * other part only) and on data/trust/injection/fresh.jsonl (written after the rules were frozen, never trained or
 * tuned on), prints: the share of attacks flagged (target ≥ 90%), the false-positive rate on benign customer texts,
 * the rules and the classifier alone, and the same-run baseline: one rule, the phrase "ignore (all) previous
 * instructions". `injectionBenchmark()` is the core, for `npm run bench:rag`.
 */
import { evaluateInjection, FRESH_CORPUS, loadCorpus, splitCorpus, type InjectionBenchmark } from '../src/trust/index.ts';

export interface InjectionBenchmarkReport {
  /** The corpus's test split (30% of each label, seed 14). */
  test: InjectionBenchmark;
  /** The fresh set: wording neither the rules nor the classifier saw. */
  fresh: InjectionBenchmark;
  /** The target: at least 90% of attacks flagged. */
  target: { detectionRate: number };
}

export function injectionBenchmark(): InjectionBenchmarkReport {
  const { test } = splitCorpus(loadCorpus());
  return { test: evaluateInjection(test), fresh: evaluateInjection(loadCorpus(FRESH_CORPUS)), target: { detectionRate: 0.9 } };
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

if (import.meta.url === `file://${process.argv[1]}`) {
  const report = injectionBenchmark();
  if (process.argv.includes('--json')) console.log(JSON.stringify(report, null, 2));
  else {
    console.log([...table('test split', report.test), '', ...table('fresh set (unseen wording)', report.fresh)].join('\n'));
    const met = report.test.detectionRate >= report.target.detectionRate;
    console.log(`\ntarget ≥ ${pct(report.target.detectionRate)} flagged on the test split: ${met ? 'met' : 'not met'}`);
  }
}
