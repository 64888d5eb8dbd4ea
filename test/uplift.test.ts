import { describe, expect, it } from 'vitest';
import { upliftReport, wilsonInterval } from '../src/learn/index.ts';

const Z = 1.959963984540054;

/** The Wilson limits in their other algebraic form, (2np + z² ± z√(4np(1−p) + z²)) / (2(n + z²)), as an independent check. */
function wilsonClosedForm(events: number, n: number): [number, number] {
  const p = events / n;
  const root = Z * Math.sqrt(4 * n * p * (1 - p) + Z * Z);
  return [(2 * n * p + Z * Z - root) / (2 * (n + Z * Z)), (2 * n * p + Z * Z + root) / (2 * (n + Z * Z))];
}

describe('uplift against the holdout', () => {
  it('Wilson limits agree with the closed form and stay inside [0, 1]', () => {
    for (const [k, n] of [[56, 70], [48, 80], [3, 200], [81, 263]] as const) {
      const [lo, hi] = wilsonInterval(k, n);
      const [clo, chi] = wilsonClosedForm(k, n);
      expect(lo).toBeCloseTo(clo, 12);
      expect(hi).toBeCloseTo(chi, 12);
    }
    expect(wilsonInterval(0, 10)[0]).toBe(0);
    expect(wilsonInterval(10, 10)[1]).toBeCloseTo(1, 12);
    expect(wilsonInterval(10, 10)[1]).toBeLessThanOrEqual(1);
  });

  it('combines the two Wilson intervals as Newcombe\'s hybrid score method does', () => {
    const r = upliftReport({ customers: 70, events: 56 }, { customers: 80, events: 48 });
    const [l1, u1] = wilsonClosedForm(56, 70);
    const [l2, u2] = wilsonClosedForm(48, 80);
    expect(r.difference).toBeCloseTo(0.2, 12);
    expect(r.ci95[0]).toBeCloseTo(0.2 - Math.hypot(0.8 - l1, u2 - 0.6), 12);
    expect(r.ci95[1]).toBeCloseTo(0.2 + Math.hypot(u1 - 0.8, 0.6 - l2), 12);
    expect(r.ci95[0]).toBeLessThan(r.difference);
    expect(r.ci95[1]).toBeGreaterThan(r.difference);
  });

  it('an interval that spans zero means no measurable effect; it narrows with more customers', () => {
    const small = upliftReport({ customers: 100, events: 2 }, { customers: 100, events: 3 });
    const large = upliftReport({ customers: 10_000, events: 200 }, { customers: 10_000, events: 300 });
    expect(small.ci95[0]).toBeLessThan(0);
    expect(small.ci95[1]).toBeGreaterThan(0);
    expect(large.ci95[1]).toBeLessThan(0);
    expect(large.ci95[1] - large.ci95[0]).toBeLessThan(small.ci95[1] - small.ci95[0]);
  });

  it('refuses impossible counts', () => {
    expect(() => upliftReport({ customers: 5, events: 6 }, { customers: 5, events: 1 })).toThrow(/treated counts/);
    expect(() => upliftReport({ customers: 5, events: 1 }, { customers: -1, events: 0 })).toThrow(/holdout counts/);
  });
});
