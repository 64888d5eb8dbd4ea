import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChurnModel, fitLogistic, loadChurnExamples, rocAuc, trainingFingerprint, type ChurnExample } from '../src/reason/index.ts';
import { importCsv } from '../src/sense/import/index.ts';
import type { Db } from '../src/store/index.ts';
import { openTestDb } from './helpers.ts';

const TELCO = fileURLToPath(new URL('../data/telco_churn.csv', import.meta.url));
let db: Db;
let examples: ChurnExample[];

// A fixed split by hash of the customer id: the same customers are held out on every run.
const heldOut = (e: ChurnExample) => createHash('sha256').update(`split:${e.customerId}`).digest()[0]! < 77;

beforeAll(async () => {
  db = await openTestDb();
  await importCsv(db, 'customers', TELCO, { actor: 'test' });
  examples = await loadChurnExamples(db);
});
afterAll(async () => db.close());

describe('logistic regression', () => {
  it('recovers known weights from separable-ish data', () => {
    const rows: number[][] = [];
    const labels: number[] = [];
    for (let i = 0; i < 400; i++) {
      const x = (i % 40) / 10 - 2;
      rows.push([x]);
      labels.push(x + ((i * 7919) % 13) / 13 - 0.5 > 0 ? 1 : 0);
    }
    const fit = fitLogistic(rows, labels, { l2: 0.01 });
    expect(fit.weights[0]).toBeGreaterThan(2);
    expect(Math.abs(fit.intercept)).toBeLessThan(1);
  });

  it('computes AUC by ranks, with ties shared', () => {
    expect(rocAuc([0.1, 0.2, 0.3, 0.4], [0, 0, 1, 1])).toBe(1);
    expect(rocAuc([0.4, 0.3, 0.2, 0.1], [0, 0, 1, 1])).toBe(0);
    expect(rocAuc([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1])).toBe(0.5);
    expect(() => rocAuc([0.1], [1])).toThrow(/both outcomes/);
  });
});

describe('churn model on the Telco customers', () => {
  it('reads every imported customer with its recorded outcome', () => {
    expect(examples).toHaveLength(7043);
    expect(examples.filter((e) => e.churned)).toHaveLength(1869);
  });

  it('ranks held-out customers well (published logistic-regression reference on this data: ROC AUC 0.846)', () => {
    const train = examples.filter((e) => !heldOut(e));
    const test = examples.filter(heldOut);
    expect(test.length).toBeGreaterThan(1500);
    const model = ChurnModel.train(train, trainingFingerprint(train));
    const auc = rocAuc(
      test.map((e) => model.predict(e.input).probability),
      test.map((e) => (e.churned ? 1 : 0)),
    );
    expect(auc).toBeGreaterThan(0.8);
  });

  it('is deterministic and explains each score with its drivers', () => {
    const a = ChurnModel.train(examples, trainingFingerprint(examples));
    const b = ChurnModel.train(examples, trainingFingerprint(examples));
    expect(a.summary()).toEqual(b.summary());
    expect(a.version).toMatch(/^[0-9a-f]{12}$/);
    const risky = a.predict({
      attributes: {},
      subscription: {
        contract: 'month-to-month',
        tenureMonths: 1,
        monthlyAmount: 95,
        paymentMethod: 'Electronic check',
        services: { internetService: 'Fiber optic' },
      },
    });
    const safe = a.predict({
      attributes: { partner: true },
      subscription: {
        contract: 'two-year',
        tenureMonths: 60,
        monthlyAmount: 25,
        paymentMethod: 'Credit card (automatic)',
        services: { internetService: 'No' },
      },
    });
    expect(risky.probability).toBeGreaterThan(0.5);
    expect(safe.probability).toBeLessThan(0.05);
    expect(risky.drivers.length).toBe(3);
    expect(risky.drivers.map((d) => d.feature)).toContain('fiberInternet');
  });

  it('refuses to fit on too little data', () => {
    expect(() => ChurnModel.train(examples.slice(0, 10), 'x')).toThrow(/at least 50/);
  });
});
