import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  auc,
  brier,
  calibrate,
  calibrationTable,
  FeatureEncoder,
  fitIsotonic,
  fingerprintTable,
  inferSchema,
  loadModel,
  logLoss,
  stratifiedFolds,
  stratifiedSplit,
  trainModel,
  type RawRow,
} from '../src/learn/models/index.ts';
import { stream } from '../src/lib/index.ts';
import { cliEnv, runAcs, type CliEnv } from './cli-helpers.ts';

const FIXED_TIME = '2026-01-01T00:00:00.000Z';

/** Two uniform inputs and a label that is their XOR (same sign), with 5% of labels flipped. */
function xorRows(n: number, seed: number): RawRow[] {
  const rng = stream(seed, 'xor');
  return Array.from({ length: n }, () => {
    const a = rng.next() * 2 - 1;
    const b = rng.next() * 2 - 1;
    const flip = rng.next() < 0.05;
    return { a: a.toFixed(3), b: b.toFixed(3), noise: (rng.next() * 10).toFixed(2), y: a * b > 0 !== flip ? 'yes' : 'no' };
  });
}

/** A churn-like table: a strong numeric driver, a categorical one, blanks, an id column; about 8% positive. */
function skewedRows(n: number, seed: number): RawRow[] {
  const rng = stream(seed, 'skewed');
  return Array.from({ length: n }, (_, i) => {
    const tenure = Math.floor(rng.next() * 72);
    const plan = ['basic', 'plus', 'pro'][Math.floor(rng.next() * 3)]!;
    const z = -2.2 - 0.05 * tenure + (plan === 'basic' ? 1.8 : 0) + (rng.next() - 0.5);
    const churned = rng.next() < 1 / (1 + Math.exp(-z));
    return { customer: `C-${1000 + i}`, tenure: rng.next() < 0.03 ? ' ' : String(tenure), plan, churned: churned ? 'Yes' : 'No' };
  });
}

describe('feature handling', () => {
  const rows: RawRow[] = Array.from({ length: 40 }, (_, i) => ({
    customerID: `7590-VHVEG-${i}`,
    row: i + 1,
    TotalCharges: i === 3 ? ' ' : i === 7 ? 'NA' : String(20 + i * 1.5),
    tenure: i % 12,
    Contract: i % 10 === 0 ? 'Rare plan' : i % 2 ? 'Month-to-month' : ' Two year ',
    Country: 'NZ',
    Notes: null,
    Churn: i % 3 === 0 ? 'Yes' : 'No',
  }));
  const schema = inferSchema(rows, 'Churn', 'Yes', { minLevelCount: 5 });

  it('reads numbers stored as strings, with blanks and NA as missing, and drops id-like, constant and empty columns', () => {
    const byName = Object.fromEntries(schema.columns.map((c) => [c.column, c]));
    expect(byName.TotalCharges).toMatchObject({ kind: 'numeric', missingIndicator: true });
    expect(byName.tenure).toMatchObject({ kind: 'numeric', missingIndicator: false });
    // A row number is unique per row but named like no id: it stays a number.
    expect(byName.row).toMatchObject({ kind: 'numeric' });
    expect(byName.Contract).toMatchObject({
      kind: 'categorical',
      levels: ['Month-to-month', 'Two year'],
      other: true,
      missingIndicator: false,
    });
    expect(schema.dropped).toEqual([
      { column: 'customerID', reason: 'id-like' },
      { column: 'Country', reason: 'constant' },
      { column: 'Notes', reason: 'empty' },
      { column: 'Churn', reason: 'target' },
    ]);
    expect(schema.features).toEqual([
      'row',
      'TotalCharges',
      'TotalCharges:missing',
      'tenure',
      'Contract=Month-to-month',
      'Contract=Two year',
      'Contract=(other)',
    ]);
  });

  it('imputes the training median, flags missing values and sends unseen levels to (other)', () => {
    const encoder = new FeatureEncoder(schema);
    const spec = schema.columns.find((c) => c.column === 'TotalCharges')!;
    const values = rows
      .map((r) => Number(r.TotalCharges))
      .filter((v) => Number.isFinite(v) && v > 0)
      .sort((a, b) => a - b);
    expect(spec.kind === 'numeric' && spec.impute).toBe((values[18]! + values[19]!) / 2);
    const x = encoder.encode([
      { row: 5, TotalCharges: '', tenure: '3', Contract: 'Month-to-month' },
      { row: 6, TotalCharges: '100.5', tenure: 4, Contract: 'Three year' },
      { row: 7, TotalCharges: 'n/a', tenure: null, Contract: ' Two year' },
    ]);
    const rowOf = (i: number) => Array.from(x.subarray(i * encoder.width, (i + 1) * encoder.width));
    const median = spec.kind === 'numeric' ? spec.impute : NaN;
    expect(rowOf(0)).toEqual([5, median, 1, 3, 1, 0, 0]);
    expect(rowOf(1)).toEqual([6, 100.5, 0, 4, 0, 0, 1]);
    const tenureMedian = schema.columns.find((c) => c.column === 'tenure')!;
    expect(rowOf(2)).toEqual([7, median, 1, tenureMedian.kind === 'numeric' ? tenureMedian.impute : NaN, 0, 1, 0]);
  });

  it('fingerprints the data, not the order of keys', () => {
    const a = fingerprintTable([
      { x: 1, y: 'a' },
      { x: 2, y: 'b' },
    ]);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(
      fingerprintTable([
        { y: 'a', x: 1 },
        { y: 'b', x: 2 },
      ]),
    ).toBe(a);
    expect(
      fingerprintTable([
        { x: 1, y: 'a' },
        { x: 2, y: 'c' },
      ]),
    ).not.toBe(a);
  });

  it('splits and folds stratified', () => {
    const labels = Array.from({ length: 100 }, (_, i) => (i < 20 ? 1 : 0));
    const { train, test } = stratifiedSplit(
      labels,
      Array.from({ length: 100 }, (_, i) => i),
      0.3,
      1,
    );
    expect(test.length).toBe(30);
    expect(Array.from(test).filter((i) => labels[i] === 1)).toHaveLength(6);
    expect(new Set([...train, ...test]).size).toBe(100);
    const folds = stratifiedFolds(labels, 5, 1);
    for (let f = 0; f < 5; f++) expect(labels.filter((l, i) => l === 1 && folds[i] === f)).toHaveLength(4);
  });
});

describe('metrics', () => {
  it('computes AUC, Brier score and log loss on a hand-worked example', () => {
    const p = [0.1, 0.4, 0.35, 0.8];
    const y = [0, 0, 1, 1];
    // Pairs (positive, negative): 0.35 > 0.1, 0.35 < 0.4, 0.8 > both: 3 of 4.
    expect(auc(p, y)).toBe(0.75);
    expect(auc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
    expect(brier(p, y)).toBeCloseTo((0.01 + 0.16 + 0.4225 + 0.04) / 4, 12);
    expect(logLoss(p, y)).toBeCloseTo(-(Math.log(0.9) + Math.log(0.6) + Math.log(0.35) + Math.log(0.8)) / 4, 12);
    const table = calibrationTable(p, y, 2);
    expect(table.map((b) => [b.count, b.observed])).toEqual([
      [2, 0.5],
      [2, 0.5],
    ]);
    expect(table[0]!.meanPredicted).toBeCloseTo(0.225, 12);
    expect(table[1]!.meanPredicted).toBeCloseTo(0.6, 12);
    expect(() => auc([0.2], [1])).toThrow(/both outcomes/);
  });
});

describe('training', () => {
  it('is deterministic: the same seed gives the same model JSON, another seed another model', () => {
    const rows = skewedRows(400, 3);
    const options = { target: 'churned', positive: 'Yes', seed: 5, trainedAt: FIXED_TIME };
    const a = trainModel(rows, options).model;
    const b = trainModel(rows, options).model;
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(a.id).toMatch(/^mdl_[0-9a-f]{16}$/);
    const c = trainModel(rows, { ...options, seed: 6 }).model;
    expect(c.id).not.toBe(a.id);
    expect(a.json.dataFingerprint).toBe(fingerprintTable(rows));
    expect(a.json.featureSchema.dropped).toContainEqual({ column: 'customer', reason: 'id-like' });
  });

  it('boosted trees learn an interaction a linear model cannot, and the automatic choice takes them', () => {
    const rows = xorRows(1000, 1);
    const trees = trainModel(rows, { target: 'y', positive: 'yes', seed: 1, families: ['gbdt'] }).model.json.metrics.heldOut.auc;
    const linear = trainModel(rows, { target: 'y', positive: 'yes', seed: 1, families: ['logistic'] }).model.json.metrics.heldOut.auc;
    expect(trees).toBeGreaterThan(0.9);
    expect(linear).toBeLessThan(0.7);
    const auto = trainModel(rows, { target: 'y', positive: 'yes', seed: 1 }).model.json;
    expect(auto.family).toBe('gbdt');
    expect(auto.metrics.cvAuc.gbdt).toBeGreaterThan(auto.metrics.cvAuc.logistic!);
    expect(
      auto.metrics.topFeatures
        .slice(0, 2)
        .map((f) => f.feature)
        .sort(),
    ).toEqual(['a', 'b']);
  });

  it('calibration on out-of-fold scores improves the held-out log loss of under-fitted trees on a skewed set', () => {
    const rows = skewedRows(1500, 9);
    // Few small steps leave the trees' raw probabilities squeezed toward the base rate: what calibration is for.
    const gbdtGrid = [{ rounds: 15, learningRate: 0.03, maxDepth: 2, minLeaf: 20, l2: 1, subsample: 0.8, maxBins: 32 }];
    const model = trainModel(rows, { target: 'churned', positive: 'Yes', seed: 2, families: ['gbdt'], gbdtGrid }).model.json;
    const h = model.metrics.heldOut;
    expect(h.positives / h.rows).toBeLessThan(0.1);
    expect(model.calibration).toMatchObject({ method: 'platt' });
    // Platt's slope above 1 stretches the squeezed scores back out.
    expect(model.calibration.method === 'platt' && model.calibration.a).toBeGreaterThan(1.5);
    expect(h.logLoss).toBeLessThan(h.logLossUncalibrated - 0.005);
    expect(h.brier).toBeLessThan(h.brierUncalibrated);
  });

  it('isotonic calibration is a non-decreasing map into (0, 1)', () => {
    const scores = Array.from({ length: 200 }, (_, i) => (i - 100) / 25);
    const labels = scores.map((s, i) => (s + ((i * 7919) % 13) / 6 - 1 > 0 ? 1 : 0));
    const c = fitIsotonic(scores, labels);
    const probe = Array.from({ length: 50 }, (_, i) => -6 + i / 4).map((s) => calibrate(c, s));
    for (let i = 1; i < probe.length; i++) expect(probe[i]!).toBeGreaterThanOrEqual(probe[i - 1]!);
    expect(probe[0]!).toBeGreaterThan(0);
    expect(probe.at(-1)!).toBeLessThan(1);
    expect(
      logLoss(
        scores.map((s) => calibrate(c, s)),
        labels,
      ),
    ).toBeLessThan(
      logLoss(
        scores.map((s) => calibrate({ method: 'none' }, s)),
        labels,
      ),
    );
  });

  it('serializes: the stored JSON scores raw rows the same, and a damaged model is refused naming the field', () => {
    const rows = skewedRows(400, 4);
    for (const family of ['logistic', 'gbdt'] as const) {
      const model = trainModel(rows, { target: 'churned', positive: 'Yes', seed: 1, families: [family], trainedAt: FIXED_TIME }).model;
      const copy = loadModel(JSON.stringify(model));
      const probe: RawRow[] = [{ tenure: '2', plan: 'basic' }, { tenure: 60, plan: 'pro' }, { tenure: '', plan: 'unknown' }, {}];
      expect(Array.from(copy.predictMany(probe))).toEqual(probe.map((r) => model.predict(r)));
      const [early, late] = probe.map((r) => copy.predict(r));
      expect(early).toBeGreaterThan(late!);
      for (const p of copy.predictMany(probe)) expect(p > 0 && p < 1).toBe(true);
      expect(model.json).toMatchObject({
        format: 'acs-model',
        formatVersion: 1,
        family,
        task: 'binary',
        trainedAt: FIXED_TIME,
        training: { seed: 1, rows: 400 },
      });
      expect(model.json.metrics.heldOut.calibrationTable).toHaveLength(10);
      if (family === 'gbdt') {
        const json = model.toJSON();
        const params = json.params as { trees: { feature: number[] }[] };
        const trees = params.trees.map((t, k) => (k === 0 ? { ...t, feature: t.feature.map((f) => (f >= 0 ? 99 : f)) } : t));
        expect(() => loadModel({ ...json, params: { ...params, trees } })).toThrow(/tree parameters do not match/);
      }
    }
    const model = trainModel(rows, { target: 'churned', positive: 'Yes', seed: 1, families: ['logistic'] }).model.toJSON();
    expect(() => loadModel({ ...model, calibration: { method: 'platt', a: 'x' } })).toThrow(/not an ACS model/);
    try {
      loadModel({ ...model, params: { ...(model.params as object), weights: [1] } });
      expect.unreachable();
    } catch (err) {
      expect((err as { issues: { path: string }[] }).issues[0]!.path).toBe('params');
    }
  });

  it('refuses a target it cannot learn, naming the option', () => {
    const rows = skewedRows(100, 1);
    expect(() => trainModel(rows, { target: 'Churned', positive: 'Yes' })).toThrow(/no column 'Churned'/);
    expect(() =>
      trainModel(
        rows.map((r) => ({ ...r, churned: 'No' })),
        { target: 'churned', positive: 'Yes' },
      ),
    ).toThrow(/one class/);
    expect(() => trainModel(rows, { target: 'churned', positive: 'yes' })).toThrow(/no row has churned = 'yes'/);
  });
});

describe('acs model train', () => {
  let cli: CliEnv;
  let dir: string;
  let csv: string;
  beforeAll(async () => {
    cli = await cliEnv();
    dir = mkdtempSync(join(tmpdir(), 'acs-model-'));
    csv = join(dir, 'customers.csv');
    const rows = skewedRows(300, 7);
    writeFileSync(
      csv,
      ['customer,tenure,plan,churned', ...rows.map((r) => `${r.customer},${r.tenure},${r.plan},${r.churned}`)].join('\n') + '\n',
    );
  });
  afterAll(async () => cli.cleanup());

  it('trains on a CSV, prints the choice and the held-out report, and writes a model that loads', async () => {
    const out = join(dir, 'model.json');
    const text = await runAcs(
      ['model', 'train', '--csv', csv, '--target', 'churned', '--positive', 'Yes', '--seed', '3', '--out', out],
      cli.env,
    );
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/cross-validated ROC AUC \(5 folds over 210 training rows; 90 held out\)/);
    expect(text.stdout).toMatch(/logistic +l2 0\.1 +0\.\d{4} ± /);
    expect(text.stdout).toMatch(/gbdt +depth 3, \d+ rounds/);
    expect(text.stdout).toMatch(/chosen: (logistic|gbdt), calibrated by Platt scaling/);
    expect(text.stdout).toMatch(/held out \(90 rows, \d+ positive\): ROC AUC 0\.\d{4}, log loss/);
    expect(text.stdout).toContain('dropped customer (id-like)');
    expect(text.stdout).toMatch(/top features: (tenure|plan)/);
    expect(text.stdout).toMatch(/time: .*total [\d.]+ s/);
    const model = loadModel(readFileSync(out, 'utf8'));
    expect(model.predict({ tenure: '1', plan: 'basic' })).toBeGreaterThan(model.predict({ tenure: '70', plan: 'pro' }));

    const json = await runAcs(
      ['model', 'train', '--csv', csv, '--target', 'churned', '--positive', 'Yes', '--seed', '3', '--out', out, '--json'],
      cli.env,
    );
    expect(json.code, json.stderr).toBe(0);
    const summary = JSON.parse(json.stdout);
    expect(summary).toMatchObject({
      id: model.id,
      family: model.json.family,
      rows: 300,
      numeric: ['tenure'],
      categorical: ['plan'],
      dropped: [{ column: 'customer', reason: 'id-like' }],
    });
    expect(summary.heldOut.auc).toBe(model.json.metrics.heldOut.auc);
  });

  it('names the flag or column at fault, with exit code 2', async () => {
    const oneClass = join(dir, 'one-class.csv');
    writeFileSync(oneClass, 'tenure,churned\n1,No\n2,No\n3,No\n');
    const base = ['model', 'train', '--csv', csv, '--target', 'churned'];
    const [unknown, single, missing, seed] = await Promise.all([
      runAcs(['model', 'train', '--csv', csv, '--target', 'Churn', '--positive', 'Yes'], cli.env),
      runAcs(['model', 'train', '--csv', oneClass, '--target', 'churned', '--positive', 'Yes'], cli.env),
      runAcs(base, cli.env),
      runAcs([...base, '--positive', 'Yes', '--seed', 'x'], cli.env),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("no column 'Churn'");
    expect(unknown.stderr).toContain('target: columns are: customer, tenure, plan, churned');
    expect(single.code).toBe(2);
    expect(single.stderr).toContain("target column 'churned' has one class only");
    expect(single.stderr).toContain('values are: No (3)');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('needs --positive');
    expect(seed.code).toBe(2);
    expect(seed.stderr).toContain('--seed');
  });
});
