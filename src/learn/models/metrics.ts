import type { CalibrationBin } from './types.ts';

type Numbers = ArrayLike<number>;

/** ROC AUC by the rank-sum formula; tied scores share their average rank. Labels are 0/1. */
export function auc(scores: Numbers, labels: Numbers): number {
  const n = scores.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => scores[a]! - scores[b]!);
  let rankSum = 0;
  let positives = 0;
  for (let i = 0; i < n;) {
    let j = i;
    const s = scores[order[i]!]!;
    while (j < n && scores[order[j]!] === s) j++;
    const averageRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (labels[order[k]!] === 1) ((rankSum += averageRank), positives++);
    i = j;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) throw new RangeError('AUC needs both outcomes');
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

const EPS = 1e-15;

/** Mean negative log-likelihood of 0/1 labels under probabilities p (clipped to [1e-15, 1 − 1e-15]). */
export function logLoss(p: Numbers, labels: Numbers): number {
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    const q = Math.min(1 - EPS, Math.max(EPS, p[i]!));
    sum -= labels[i] === 1 ? Math.log(q) : Math.log(1 - q);
  }
  return sum / p.length;
}

/** Mean squared difference between probability and outcome. */
export function brier(p: Numbers, labels: Numbers): number {
  let sum = 0;
  for (let i = 0; i < p.length; i++) sum += (p[i]! - labels[i]!) ** 2;
  return sum / p.length;
}

/** Rows sorted by prediction and cut into `bins` groups of (nearly) equal size: mean prediction against observed share. */
export function calibrationTable(p: Numbers, labels: Numbers, bins = 10): CalibrationBin[] {
  const n = p.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => p[a]! - p[b]! || a - b);
  const out: CalibrationBin[] = [];
  for (let b = 0; b < bins; b++) {
    const from = Math.floor((b * n) / bins);
    const to = Math.floor(((b + 1) * n) / bins);
    if (to <= from) continue;
    let sp = 0;
    let sy = 0;
    for (let k = from; k < to; k++) ((sp += p[order[k]!]!), (sy += labels[order[k]!]!));
    out.push({ count: to - from, meanPredicted: sp / (to - from), observed: sy / (to - from) });
  }
  return out;
}

export const sigmoid = (z: number): number => (z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z)));

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

export function sd(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}
