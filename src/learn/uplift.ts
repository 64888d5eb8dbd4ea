/**
 * Treated against holdout: the difference in outcome rates with a 95% confidence interval
 * (Newcombe's hybrid score interval, method 10 of Newcombe 1998, Statistics in Medicine 17:873-890, which behaves well for small
 * counts and rates near 0 where the plain Wald interval does not).
 */

export interface GroupCounts {
  customers: number;
  /** Customers with the outcome (e.g. churned). */
  events: number;
}

export interface UpliftReport {
  treated: GroupCounts & { rate: number };
  holdout: GroupCounts & { rate: number };
  /** treated.rate − holdout.rate; for churn, negative means the agents helped. */
  difference: number;
  ci95: [number, number];
}

const Z95 = 1.959963984540054;

/** Wilson score interval for one proportion. */
export function wilsonInterval(events: number, n: number, z = Z95): [number, number] {
  if (n === 0) return [0, 1];
  const p = events / n;
  const denominator = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denominator;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

export function upliftReport(treated: GroupCounts, holdout: GroupCounts): UpliftReport {
  for (const [name, g] of [
    ['treated', treated],
    ['holdout', holdout],
  ] as const) {
    if (!Number.isInteger(g.customers) || !Number.isInteger(g.events) || g.customers < 0 || g.events < 0 || g.events > g.customers) {
      throw new RangeError(`${name} counts must be whole numbers with 0 <= events <= customers`);
    }
  }
  const p1 = treated.customers ? treated.events / treated.customers : 0;
  const p2 = holdout.customers ? holdout.events / holdout.customers : 0;
  const [l1, u1] = wilsonInterval(treated.events, treated.customers);
  const [l2, u2] = wilsonInterval(holdout.events, holdout.customers);
  const difference = p1 - p2;
  const lower = difference - Math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2);
  const upper = difference + Math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2);
  return {
    treated: { ...treated, rate: p1 },
    holdout: { ...holdout, rate: p2 },
    difference,
    ci95: [Math.max(-1, lower), Math.min(1, upper)],
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Significance and power. A difference whose interval spans zero may be no effect, or a holdout too small to see
// one: the minimum detectable effect (MDE) and the achieved power tell the two apart.

/** Two-sided significance level and the power the MDE is quoted at: the conventional 5% and 80%. */
export const ALPHA = 0.05;
export const TARGET_POWER = 0.8;

/**
 * erf(x) for x >= 0. Below 3 the series e^(−x²)·2/√π·Σ 2ⁿx^(2n+1)/(1·3·…·(2n+1)) (all terms positive, so no
 * cancellation); above it the continued fraction for erfc, evaluated by the modified Lentz method.
 */
function erfPositive(x: number): number {
  if (x < 3) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 200 && term > sum * 1e-17; n++) {
      term *= (2 * x * x) / (2 * n + 1);
      sum += term;
    }
    return Math.min(1, (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x) * sum);
  }
  return 1 - erfcLarge(x);
}

/** erfc(x) for x >= 3: e^(−x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))). */
function erfcLarge(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let k = 1; k < 300; k++) {
    const a = k / 2;
    d = x + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/** The standard normal distribution function Φ(x). */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return 1;
  if (x === -Infinity) return 0;
  const z = Math.abs(x) / Math.SQRT2;
  // The tail is computed directly so small probabilities keep their precision.
  const tail = z >= 3 ? erfcLarge(z) / 2 : (1 - erfPositive(z)) / 2;
  return x >= 0 ? 1 - tail : tail;
}

/**
 * Φ⁻¹(p): Acklam's rational approximation (relative error 1.15e-9), then one Halley step against normalCdf, which
 * takes it to about machine precision.
 */
export function normalQuantile(p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`a probability from 0 to 1, got ${p}`);
  if (p === 0) return -Infinity;
  if (p === 1) return Infinity;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x =
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
      (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x =
      -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  const e = normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

export interface PowerOptions {
  alpha?: number;
  power?: number;
}

const checkSizes = (nTreated: number, nHoldout: number) => {
  if (!(nTreated >= 0 && nHoldout >= 0)) throw new RangeError('group sizes must be 0 or more');
};

/**
 * The base rate the power calculations assume for both groups: the holdout's rate (what happens without the
 * agents), or, when that is 0 or 1 (a small holdout shows no variation), the two groups pooled. Null when neither
 * varies (nothing to estimate a variance from) or a group is empty.
 */
export function baseRate(treated: GroupCounts, holdout: GroupCounts): number | null {
  if (treated.customers === 0 || holdout.customers === 0) return null;
  const h = holdout.events / holdout.customers;
  if (h > 0 && h < 1) return h;
  const pooled = (treated.events + holdout.events) / (treated.customers + holdout.customers);
  return pooled > 0 && pooled < 1 ? pooled : null;
}

/** The standard error of a difference of two rates when both have the base rate b: √(b(1−b)(1/n₁ + 1/n₂)). */
const nullSe = (b: number, n1: number, n2: number) => Math.sqrt(b * (1 - b) * (1 / n1 + 1 / n2));

/**
 * The minimum detectable effect: the smallest absolute difference in rates a two-sided test at `alpha` finds with
 * probability `power`, for these group sizes and base rate: (z₁₋α/₂ + z_power) · √(b(1−b)(1/n₁ + 1/n₂)).
 * Null when a group is empty or the base rate is 0 or 1.
 */
export function minimumDetectableEffect(nTreated: number, nHoldout: number, base: number | null, opts: PowerOptions = {}): number | null {
  checkSizes(nTreated, nHoldout);
  if (!nTreated || !nHoldout || base === null || !(base > 0 && base < 1)) return null;
  const z = normalQuantile(1 - (opts.alpha ?? ALPHA) / 2) + normalQuantile(opts.power ?? TARGET_POWER);
  return z * nullSe(base, nTreated, nHoldout);
}

/**
 * The power a two-sided test at `alpha` had to detect a true difference of `effect` with these group sizes and base
 * rate: Φ(|d|/SE − z₁₋α/₂) + Φ(−|d|/SE − z₁₋α/₂), with the SE of the MDE, so the power at the MDE is the target.
 * At an effect of 0 it is alpha. Null where the MDE is.
 */
export function achievedPower(
  effect: number,
  nTreated: number,
  nHoldout: number,
  base: number | null,
  opts: Pick<PowerOptions, 'alpha'> = {},
): number | null {
  checkSizes(nTreated, nHoldout);
  if (!nTreated || !nHoldout || base === null || !(base > 0 && base < 1)) return null;
  const z = normalQuantile(1 - (opts.alpha ?? ALPHA) / 2);
  const shift = Math.abs(effect) / nullSe(base, nTreated, nHoldout);
  return normalCdf(shift - z) + normalCdf(-shift - z);
}

/**
 * The two-sided p-value of the pooled two-proportion z-test: z = (p₁ − p₂) / √(p̄(1−p̄)(1/n₁ + 1/n₂)), with p̄ the
 * pooled rate. 1 when the pooled rate is 0 or 1 (both groups the same, no difference); null when a group is empty.
 */
export function twoProportionPValue(treated: GroupCounts, holdout: GroupCounts): number | null {
  if (!treated.customers || !holdout.customers) return null;
  const pooled = (treated.events + holdout.events) / (treated.customers + holdout.customers);
  if (pooled <= 0 || pooled >= 1) return 1;
  const z =
    (treated.events / treated.customers - holdout.events / holdout.customers) / nullSe(pooled, treated.customers, holdout.customers);
  return Math.min(1, 2 * normalCdf(-Math.abs(z)));
}

/**
 * The group sizes needed to detect a difference of `effect` at `alpha` with `power`, keeping the treated:holdout
 * ratio: holdout = (z₁₋α/₂ + z_power)² · b(1−b) · (1 + 1/ratio) / d², treated = ratio × holdout, both rounded up.
 * Null for an effect of 0 or a base rate of 0 or 1.
 */
export function requiredSampleSize(
  effect: number,
  base: number | null,
  ratio = 1,
  opts: PowerOptions = {},
): { treated: number; holdout: number } | null {
  if (!(ratio > 0)) throw new RangeError(`the treated:holdout ratio must be above 0, got ${ratio}`);
  if (effect === 0 || base === null || !(base > 0 && base < 1)) return null;
  const z = normalQuantile(1 - (opts.alpha ?? ALPHA) / 2) + normalQuantile(opts.power ?? TARGET_POWER);
  const holdout = (z * z * base * (1 - base) * (1 + 1 / ratio)) / (effect * effect);
  // A hair of tolerance, so floating-point noise above a whole number does not add a customer.
  return { holdout: Math.ceil(holdout - 1e-9), treated: Math.ceil(ratio * holdout - 1e-9) };
}

/** How much a treated-against-holdout comparison can tell: significance, the MDE and the power it had. */
export interface PowerReport {
  alpha: number;
  targetPower: number;
  /** The rate the MDE and power assume for both groups (see baseRate); null when it cannot be estimated. */
  baseRate: number | null;
  /** Pooled two-proportion z-test, two-sided. */
  pValue: number | null;
  /** The smallest absolute difference detectable with targetPower at alpha, for these group sizes. */
  mde: number | null;
  /** The power to detect a true difference as large as the one observed. */
  power: number | null;
  /** Customers needed per group to detect the observed difference with targetPower, at today's treated:holdout ratio. */
  required: { treated: number; holdout: number } | null;
}

export function powerReport(treated: GroupCounts, holdout: GroupCounts, opts: PowerOptions = {}): PowerReport {
  const b = baseRate(treated, holdout);
  const difference =
    (treated.customers ? treated.events / treated.customers : 0) - (holdout.customers ? holdout.events / holdout.customers : 0);
  return {
    alpha: opts.alpha ?? ALPHA,
    targetPower: opts.power ?? TARGET_POWER,
    baseRate: b,
    pValue: twoProportionPValue(treated, holdout),
    mde: minimumDetectableEffect(treated.customers, holdout.customers, b, opts),
    power: treated.customers && holdout.customers ? achievedPower(difference, treated.customers, holdout.customers, b, opts) : null,
    required:
      treated.customers && holdout.customers ? requiredSampleSize(difference, b, treated.customers / holdout.customers, opts) : null,
  };
}
