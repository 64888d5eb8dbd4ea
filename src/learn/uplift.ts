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
  for (const [name, g] of [['treated', treated], ['holdout', holdout]] as const) {
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
