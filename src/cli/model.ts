import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { readCsvTable, trainModel, type CandidateResult } from '../learn/index.ts';
import type { Config } from '../config.ts';
import { parseCommandArgs, UsageError } from './args.ts';

// The registry's subcommands (src/cli/model-registry.ts), loaded only when asked for: `train` needs no database.
const REGISTRY_SUBCOMMANDS = ['list', 'promote', 'rollback', 'drift', 'retrain'];

const TRAIN_USAGE = 'acs model train --csv FILE --target COL --positive VALUE [--seed N] [--out model.json] [--json]';

/**
 * `acs model train --csv FILE --target COL --positive VALUE [--seed N] [--out model.json] [--json]`: trains a
 * binary model on a CSV (see src/learn/models), prints how it was chosen and how it did on held-out rows, and
 * writes the serialized model. Needs no database.
 */
export async function modelCommand(args: string[], config: Config): Promise<number> {
  // list, promote, rollback, drift: the model registry (src/cli/model-registry.ts).
  if (REGISTRY_SUBCOMMANDS.includes(args[0] ?? '')) return (await import('./model-registry.ts')).modelRegistryCommand(args, config);
  const { positionals, values } = parseCommandArgs(args, {
    csv: { type: 'string' },
    target: { type: 'string' },
    positive: { type: 'string' },
    seed: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean' },
  });
  const [sub, ...extra] = positionals;
  if (sub !== 'train')
    throw new UsageError(`unknown model command '${sub ?? ''}'; try '${TRAIN_USAGE}', or acs model ${REGISTRY_SUBCOMMANDS.join('|')}`);
  if (extra.length) throw new UsageError(`model train takes no positional arguments, got '${extra.join(' ')}'; name the file with --csv`);
  for (const flag of ['csv', 'target', 'positive'] as const) {
    if (values[flag] === undefined || values[flag] === '') throw new UsageError(`model train needs --${flag}: ${TRAIN_USAGE}`);
  }
  const seed = values.seed === undefined ? 0 : Number(values.seed);
  if (!(Number.isSafeInteger(seed) && seed >= 0)) throw new UsageError(`--seed must be a whole number, got '${values.seed}'`);
  const file = values.csv!;
  const out = resolve(values.out ?? 'model.json');

  const { columns, rows } = readCsvTable(file);
  const progress = values.json || !process.stderr.isTTY ? undefined : (m: string) => process.stderr.write(`[model] ${m}\n`);
  const result = trainModel(rows, { target: values.target!, positive: values.positive!, seed, onProgress: progress });
  const model = result.model.json;
  writeFileSync(out, JSON.stringify(model) + '\n');

  const m = model.metrics;
  const schema = model.featureSchema;
  const summary = {
    file,
    out,
    id: model.id,
    family: model.family,
    target: schema.target,
    positive: schema.positive,
    rows: rows.length,
    unlabeled: result.unlabeled,
    training: model.training,
    columns: columns.length,
    numeric: schema.columns.filter((c) => c.kind === 'numeric').map((c) => c.column),
    categorical: schema.columns.filter((c) => c.kind === 'categorical').map((c) => c.column),
    dropped: schema.dropped.filter((d) => d.reason !== 'target'),
    features: schema.features.length,
    cvAuc: m.cvAuc,
    candidates: m.candidates,
    calibration: model.calibration.method,
    heldOut: m.heldOut,
    topFeatures: m.topFeatures,
    seconds: Object.fromEntries(Object.entries(result.timings).map(([k, v]) => [k, round(v / 1000, 3)])),
  };
  if (values.json) {
    console.log(JSON.stringify(summary, null, 2));
    return 0;
  }
  const t = model.training;
  console.log(
    `${file}: ${rows.length} rows${result.unlabeled ? ` (${result.unlabeled} without a ${schema.target}, left out)` : ''}; target ${schema.target} = ${schema.positive}: ${t.positives} positive (${pct(t.positives / t.rows)})`,
  );
  const dropped = summary.dropped.map((d) => `${d.column} (${d.reason})`).join(', ');
  console.log(
    `features: ${summary.numeric.length} numeric and ${summary.categorical.length} categorical columns → ${summary.features} features${dropped ? `; dropped ${dropped}` : ''}`,
  );
  console.log(`cross-validated ROC AUC (${m.folds} folds over ${t.trainRows} training rows; ${t.testRows} held out):`);
  const best = new Set(Object.entries(m.cvAuc).map(([f, a]) => `${f}:${a}`));
  for (const c of m.candidates) {
    const mark = best.has(`${c.family}:${c.cvAuc}`) ? (c.family === model.family ? ' ← chosen' : ' ← best of its family') : '';
    console.log(`  ${c.family.padEnd(8)} ${describe(c).padEnd(34)} ${c.cvAuc.toFixed(4)} ± ${c.cvAucSd.toFixed(4)}${mark}`);
  }
  console.log(
    `chosen: ${model.family}, calibrated by ${model.calibration.method === 'platt' ? 'Platt scaling' : model.calibration.method} on out-of-fold scores`,
  );
  const h = m.heldOut;
  console.log(
    `held out (${h.rows} rows, ${h.positives} positive): ROC AUC ${h.auc.toFixed(4)}, log loss ${h.logLoss.toFixed(4)} (uncalibrated ${h.logLossUncalibrated.toFixed(4)}), Brier ${h.brier.toFixed(4)}`,
  );
  console.log(
    `calibration by decile, mean predicted → observed: ${h.calibrationTable.map((b) => `${b.meanPredicted.toFixed(2)}→${b.observed.toFixed(2)}`).join('  ')}`,
  );
  console.log(
    `top features: ${m.topFeatures
      .slice(0, 8)
      .map((f) => `${f.feature} ${pct(f.importance)}`)
      .join(', ')}`,
  );
  console.log(
    `time: ${Object.entries(summary.seconds)
      .map(([k, v]) => `${k} ${v} s`)
      .join(', ')}`,
  );
  console.log(`wrote ${out} (model ${model.id})`);
  return 0;
}

function describe(c: CandidateResult): string {
  const k = c.config;
  return c.family === 'logistic' ? `l2 ${k.l2}` : `depth ${k.maxDepth}, ${k.rounds} rounds, rate ${k.learningRate}`;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
