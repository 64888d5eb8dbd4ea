import { describe, expect, it } from 'vitest';
import {
  achievedPower,
  baseRate,
  minimumDetectableEffect,
  normalCdf,
  normalQuantile,
  powerReport,
  requiredSampleSize,
  twoProportionPValue,
  upliftReport,
  wilsonInterval,
} from '../src/learn/index.ts';

const Z = 1.959963984540054;

/** The Wilson limits in their other algebraic form, (2np + z² ± z√(4np(1−p) + z²)) / (2(n + z²)), as an independent check. */
function wilsonClosedForm(events: number, n: number): [number, number] {
  const p = events / n;
  const root = Z * Math.sqrt(4 * n * p * (1 - p) + Z * Z);
  return [(2 * n * p + Z * Z - root) / (2 * (n + Z * Z)), (2 * n * p + Z * Z + root) / (2 * (n + Z * Z))];
}

describe('uplift against the holdout', () => {
  it('Wilson limits agree with the closed form and stay inside [0, 1]', () => {
    for (const [k, n] of [
      [56, 70],
      [48, 80],
      [3, 200],
      [81, 263],
    ] as const) {
      const [lo, hi] = wilsonInterval(k, n);
      const [clo, chi] = wilsonClosedForm(k, n);
      expect(lo).toBeCloseTo(clo, 12);
      expect(hi).toBeCloseTo(chi, 12);
    }
    expect(wilsonInterval(0, 10)[0]).toBe(0);
    expect(wilsonInterval(10, 10)[1]).toBeCloseTo(1, 12);
    expect(wilsonInterval(10, 10)[1]).toBeLessThanOrEqual(1);
  });

  it("combines the two Wilson intervals as Newcombe's hybrid score method does", () => {
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

// Reference values below were computed by hand from the formulas, with Python's statistics.NormalDist and math.erfc
// (an implementation independent of ours) for Φ and Φ⁻¹.
const Z975 = 1.9599639845400536;
const Z80 = 0.8416212335729144;

describe('the normal distribution', () => {
  it('Φ matches reference values, far into the tails', () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(-1)).toBeCloseTo(0.15865525393145707, 15);
    expect(normalCdf(1)).toBeCloseTo(0.8413447460685429, 15);
    expect(normalCdf(Z975)).toBeCloseTo(0.975, 15);
    expect(normalCdf(-3) / 0.0013498980316301035).toBeCloseTo(1, 12);
    expect(normalCdf(-8) / 6.220960574271819e-16).toBeCloseTo(1, 10);
    expect(normalCdf(-Infinity)).toBe(0);
    expect(normalCdf(Infinity)).toBe(1);
  });

  it('Φ⁻¹ inverts it', () => {
    expect(normalQuantile(0.975)).toBeCloseTo(Z975, 12);
    expect(normalQuantile(0.8)).toBeCloseTo(Z80, 12);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232306167813, 12);
    expect(normalQuantile(0.5)).toBe(0);
    for (const p of [1e-9, 0.01, 0.3, 0.77, 0.999]) expect(normalCdf(normalQuantile(p)) / p).toBeCloseTo(1, 12);
    expect(() => normalQuantile(1.5)).toThrow(RangeError);
  });
});

describe('significance and power of a treated-against-holdout comparison', () => {
  it('MDE at 80% power and α = 0.05: (z0.975 + z0.8) · √(b(1−b)(1/n₁ + 1/n₂))', () => {
    // 1,000 against 1,000 at a 20% base rate: 2.8015852 × √(0.16 × 0.002) = 0.0501163.
    expect(minimumDetectableEffect(1000, 1000, 0.2)).toBeCloseTo(0.050116279939673374, 12);
    expect(minimumDetectableEffect(1000, 1000, 0.2)).toBeCloseTo((Z975 + Z80) * Math.sqrt(0.2 * 0.8 * 0.002), 12);
    // A 90/10 split of 1,000 customers at a 15% base rate can only see a 10.5-point difference.
    expect(minimumDetectableEffect(900, 100, 0.15)).toBeCloseTo(0.10544783682147241, 12);
    // Bigger groups see smaller effects; nothing is detectable without a base rate or a group.
    expect(minimumDetectableEffect(9000, 1000, 0.15)!).toBeLessThan(minimumDetectableEffect(900, 100, 0.15)!);
    expect(minimumDetectableEffect(0, 100, 0.15)).toBeNull();
    expect(minimumDetectableEffect(100, 100, 0)).toBeNull();
    expect(minimumDetectableEffect(100, 100, null)).toBeNull();
  });

  it('achieved power: Φ(|d|/SE − z) + Φ(−|d|/SE − z); the target power at the MDE, α at no effect', () => {
    expect(achievedPower(-0.05, 1000, 1000, 0.2)).toBeCloseTo(0.7981761964601346, 12);
    expect(achievedPower(0.05, 1000, 1000, 0.2)).toBeCloseTo(0.7981761964601346, 12);
    expect(achievedPower(-0.05, 900, 100, 0.15)).toBeCloseTo(0.2643470279116272, 12);
    expect(achievedPower(minimumDetectableEffect(700, 300, 0.3)!, 700, 300, 0.3)).toBeCloseTo(0.8, 5);
    expect(achievedPower(0, 700, 300, 0.3)).toBeCloseTo(0.05, 12);
    expect(achievedPower(0.1, 0, 300, 0.3)).toBeNull();
  });

  it('two-sided p-value of the pooled two-proportion z-test', () => {
    // 150/1000 against 200/1000: pooled 0.175, z = −0.05 / √(0.175 × 0.825 × 0.002) = −2.94245.
    expect(twoProportionPValue({ customers: 1000, events: 150 }, { customers: 1000, events: 200 })).toBeCloseTo(0.0032562696284120785, 12);
    expect(twoProportionPValue({ customers: 900, events: 90 }, { customers: 100, events: 15 })).toBeCloseTo(0.12178184842585682, 12);
    expect(twoProportionPValue({ customers: 50, events: 0 }, { customers: 5, events: 0 })).toBe(1);
    expect(twoProportionPValue({ customers: 50, events: 3 }, { customers: 0, events: 0 })).toBeNull();
  });

  it('group sizes needed for an effect, at the current treated:holdout ratio', () => {
    // Equal groups, 20% base, 5 points: 2.8015852² × 0.16 × 2 / 0.0025 = 1004.66, so 1,005 each.
    expect(requiredSampleSize(0.05, 0.2)).toEqual({ treated: 1005, holdout: 1005 });
    // A 90/10 split: holdout 2.8015852² × 0.16 × (1 + 1/9) / 0.0025 = 558.14 → 559; treated 9 × 558.14 = 5023.28 → 5024.
    expect(requiredSampleSize(-0.05, 0.2, 9)).toEqual({ treated: 5024, holdout: 559 });
    expect(requiredSampleSize(0, 0.2)).toBeNull();
    expect(() => requiredSampleSize(0.05, 0.2, 0)).toThrow(RangeError);
  });

  it("the base rate is the holdout's, or the pooled rate when the holdout shows no variation", () => {
    expect(baseRate({ customers: 900, events: 90 }, { customers: 100, events: 15 })).toBe(0.15);
    expect(baseRate({ customers: 4, events: 1 }, { customers: 1, events: 1 })).toBeCloseTo(0.4, 15);
    expect(baseRate({ customers: 4, events: 0 }, { customers: 1, events: 0 })).toBeNull();
    expect(baseRate({ customers: 0, events: 0 }, { customers: 1, events: 0 })).toBeNull();
  });

  it('powerReport puts them together for one comparison', () => {
    const r = powerReport({ customers: 900, events: 90 }, { customers: 100, events: 15 });
    expect(r).toMatchObject({ alpha: 0.05, targetPower: 0.8, baseRate: 0.15 });
    expect(r.pValue).toBeCloseTo(0.12178184842585682, 12);
    expect(r.mde).toBeCloseTo(0.10544783682147241, 12);
    expect(r.power).toBeCloseTo(0.2643470279116272, 12);
    // To see this 5-point drop with 80% power at 9:1: 2.8015852² × 0.1275 × (10/9) / 0.0025 = 444.77 → 445 held out.
    expect(r.required).toEqual({ holdout: 445, treated: 4003 });
    expect(powerReport({ customers: 10, events: 1 }, { customers: 0, events: 0 })).toEqual({
      alpha: 0.05,
      targetPower: 0.8,
      baseRate: null,
      pValue: null,
      mde: null,
      power: null,
      required: null,
    });
  });
});
