import { sigmoid } from './metrics.ts';
import type { Calibration } from './types.ts';

/**
 * Calibration maps a family's raw score (log-odds) to a probability that matches observed rates. It is fitted
 * on out-of-fold scores, never on scores of rows the model was fitted on (those are overconfident).
 */

/** Platt scaling: p = σ(a·s + b) by Newton's method on the log loss, with a whisper of L2 on a for stability. */
export function fitPlatt(scores: ArrayLike<number>, labels: ArrayLike<number>): Calibration {
  let a = 1;
  let b = 0;
  const n = scores.length;
  const ridge = 1e-6 * n;
  for (let it = 0; it < 100; it++) {
    let ga = -ridge * (a - 1);
    let gb = 0;
    let haa = ridge;
    let hab = 0;
    let hbb = 1e-9;
    for (let i = 0; i < n; i++) {
      const s = scores[i]!;
      const p = sigmoid(a * s + b);
      const r = labels[i]! - p;
      const w = p * (1 - p);
      ga += r * s;
      gb += r;
      haa += w * s * s;
      hab += w * s;
      hbb += w;
    }
    const det = haa * hbb - hab * hab;
    if (!(det > 0)) break;
    const da = (hbb * ga - hab * gb) / det;
    const db = (haa * gb - hab * ga) / det;
    a += da;
    b += db;
    if (Math.abs(da) < 1e-10 && Math.abs(db) < 1e-10) break;
  }
  return { method: 'platt', a, b };
}

/** Isotonic regression by pool-adjacent-violators: a non-decreasing step function of the score. */
export function fitIsotonic(scores: ArrayLike<number>, labels: ArrayLike<number>): Calibration {
  const order = Array.from({ length: scores.length }, (_, i) => i).sort((i, j) => scores[i]! - scores[j]! || i - j);
  // Blocks: weighted mean label, weight, and the mean score they cover.
  const value: number[] = [];
  const weight: number[] = [];
  const score: number[] = [];
  for (const i of order) {
    value.push(labels[i]!);
    weight.push(1);
    score.push(scores[i]!);
    while (value.length > 1 && value[value.length - 2]! >= value[value.length - 1]!) {
      const w2 = weight.pop()!;
      const v2 = value.pop()!;
      const s2 = score.pop()!;
      const w1 = weight[weight.length - 1]!;
      value[value.length - 1] = (value[value.length - 1]! * w1 + v2 * w2) / (w1 + w2);
      score[score.length - 1] = (score[score.length - 1]! * w1 + s2 * w2) / (w1 + w2);
      weight[weight.length - 1] = w1 + w2;
    }
  }
  // Keep the probabilities off 0 and 1: a certain prediction that is wrong costs an infinite log loss.
  const floor = 0.5 / (scores.length + 1);
  return { method: 'isotonic', x: score, y: value.map((v) => Math.min(1 - floor, Math.max(floor, v))) };
}

/** The calibrated probability of a raw score. */
export function calibrate(c: Calibration, s: number): number {
  switch (c.method) {
    case 'none':
      return sigmoid(s);
    case 'platt':
      return sigmoid(c.a * s + c.b);
    case 'isotonic': {
      const { x, y } = c;
      if (s <= x[0]!) return y[0]!;
      if (s >= x[x.length - 1]!) return y[y.length - 1]!;
      let lo = 0;
      let hi = x.length - 1;
      while (hi - lo > 1) {
        const mid = (lo + hi) >> 1;
        if (x[mid]! <= s) lo = mid;
        else hi = mid;
      }
      const t = (s - x[lo]!) / (x[hi]! - x[lo]!);
      return y[lo]! + t * (y[hi]! - y[lo]!);
    }
  }
}
