import { sigmoid } from './metrics.ts';
import type { FeatureSchema, LogisticParams } from './types.ts';

/**
 * L2-regularised logistic regression. Inputs are the encoded features plus, for each numeric column with enough
 * distinct values, hinge terms max(0, x − knot) at its quartiles, so the fit can bend (churn falls fast over the
 * first months of tenure, then slowly). Everything is standardized, so one penalty suits every feature; the
 * intercept is not penalised. Fitted by Newton's method with step halving on a sparse design: deterministic, no
 * randomness.
 */

export interface LogisticDesign {
  hinges: LogisticParams['hinges'];
  mean: Float64Array;
  scale: Float64Array;
}

const KNOT_QUANTILES = [0.25, 0.5, 0.75];
// A column with fewer distinct values (a flag, a small count) gets no hinges: too few points to bend between.
const MIN_DISTINCT_FOR_HINGES = 10;

/**
 * Chooses hinge knots and standardization from the rows `rows` of the encoded matrix X (row-major, `width` wide).
 * `hinges: false` gives the plain linear design.
 */
export function logisticDesign(
  x: Float64Array,
  width: number,
  rows: ArrayLike<number>,
  schema: FeatureSchema,
  options: { hinges?: boolean } = {},
): LogisticDesign {
  const hinges: LogisticParams['hinges'] = [];
  let f = 0;
  for (const spec of schema.columns) {
    if (spec.kind === 'numeric' && options.hinges !== false) {
      const values = Float64Array.from({ length: rows.length }, (_, k) => x[rows[k]! * width + f]!).sort();
      let distinct = 0;
      for (let k = 0; k < values.length && distinct < MIN_DISTINCT_FOR_HINGES; k++) if (k === 0 || values[k] !== values[k - 1]) distinct++;
      if (distinct >= MIN_DISTINCT_FOR_HINGES) {
        const knots = new Set<number>();
        for (const q of KNOT_QUANTILES) {
          const knot = values[Math.min(values.length - 1, Math.floor(q * values.length))]!;
          if (knot > values[0]! && knot < values[values.length - 1]!) knots.add(knot);
        }
        for (const knot of [...knots].sort((a, b) => a - b)) hinges.push({ feature: f, knot });
      }
      f += spec.missingIndicator ? 2 : 1;
    } else if (spec.kind === 'numeric') f += spec.missingIndicator ? 2 : 1;
    else f += spec.levels.length + (spec.other ? 1 : 0) + (spec.missingIndicator ? 1 : 0);
  }
  const p = width + hinges.length;
  const mean = new Float64Array(p);
  const sq = new Float64Array(p);
  const row = new Float64Array(p);
  for (let k = 0; k < rows.length; k++) {
    expandRow(x, rows[k]! * width, width, hinges, row);
    for (let j = 0; j < p; j++) ((mean[j]! += row[j]!), (sq[j]! += row[j]! * row[j]!));
  }
  const scale = new Float64Array(p);
  for (let j = 0; j < p; j++) {
    mean[j]! /= rows.length;
    const variance = sq[j]! / rows.length - mean[j]! * mean[j]!;
    // A constant input gets scale 1: its standardized value is 0 and the penalty keeps its weight at 0.
    scale[j] = variance > 1e-12 ? Math.sqrt(variance) : 1;
  }
  return { hinges, mean, scale };
}

function expandRow(x: ArrayLike<number>, at: number, width: number, hinges: LogisticParams['hinges'], out: Float64Array): void {
  for (let j = 0; j < width; j++) out[j] = x[at + j]!;
  for (let h = 0; h < hinges.length; h++) out[width + h] = Math.max(0, x[at + hinges[h]!.feature]! - hinges[h]!.knot);
}

/**
 * The design for the given rows, scaled but not centred, as a sparse matrix: one-hot columns stay mostly zero,
 * so the Newton step costs the square of the non-zeros per row rather than of all inputs. Centring only moves
 * the (unpenalised) intercept, so the fit is the same; `toParams` moves it back.
 */
export interface SparseDesign {
  n: number;
  p: number;
  /** Row i's entries are at [start[i], start[i + 1]), columns ascending. */
  start: Uint32Array;
  col: Uint32Array;
  val: Float64Array;
}

export function designMatrix(x: Float64Array, width: number, rows: ArrayLike<number>, design: LogisticDesign): SparseDesign {
  const p = design.mean.length;
  const start = new Uint32Array(rows.length + 1);
  let col = new Uint32Array(rows.length * 8);
  let val = new Float64Array(rows.length * 8);
  const row = new Float64Array(p);
  let nnz = 0;
  for (let k = 0; k < rows.length; k++) {
    expandRow(x, rows[k]! * width, width, design.hinges, row);
    if (nnz + p > col.length) {
      const grown = Math.max(col.length * 2, nnz + p);
      const c = new Uint32Array(grown);
      c.set(col.subarray(0, nnz));
      col = c;
      const v = new Float64Array(grown);
      v.set(val.subarray(0, nnz));
      val = v;
    }
    for (let j = 0; j < p; j++) {
      if (row[j] === 0) continue;
      col[nnz] = j;
      val[nnz++] = row[j]! / design.scale[j]!;
    }
    start[k + 1] = nnz;
  }
  return { n: rows.length, p, start, col: col.slice(0, nnz), val: val.slice(0, nnz) };
}

export interface LogisticFitResult {
  /** In the scaled, uncentred space of `designMatrix`. */
  intercept: number;
  weights: Float64Array;
  iterations: number;
}

function linear(z: SparseDesign, beta: Float64Array, i: number): number {
  let eta = beta[0]!;
  for (let k = z.start[i]!; k < z.start[i + 1]!; k++) eta += z.val[k]! * beta[z.col[k]! + 1]!;
  return eta;
}

/** Penalised log-likelihood's negative: Σ log-loss + l2/2·|w|². */
function objective(z: SparseDesign, y: ArrayLike<number>, beta: Float64Array, l2: number): number {
  let loss = 0;
  for (let i = 0; i < z.n; i++) {
    const eta = linear(z, beta, i);
    // log(1 + e^eta) − y·eta, computed without overflow.
    loss += (eta > 0 ? eta + Math.log1p(Math.exp(-eta)) : Math.log1p(Math.exp(eta))) - y[i]! * eta;
  }
  for (let j = 1; j < beta.length; j++) loss += 0.5 * l2 * beta[j]! * beta[j]!;
  return loss;
}

/** Newton–Raphson on the design z, labels y in {0, 1}; `start` warm-starts along a penalty path. */
export function fitLogistic(z: SparseDesign, y: ArrayLike<number>, l2: number, start?: LogisticFitResult): LogisticFitResult {
  const n = z.n;
  const d = z.p + 1;
  const beta = new Float64Array(d);
  if (start) {
    beta[0] = start.intercept;
    beta.set(start.weights, 1);
  } else {
    let pos = 0;
    for (let i = 0; i < n; i++) pos += y[i]!;
    const rate = Math.min(1 - 1e-6, Math.max(1e-6, pos / n));
    beta[0] = Math.log(rate / (1 - rate));
  }
  const grad = new Float64Array(d);
  const hess = new Float64Array(d * d);
  const trial = new Float64Array(d);
  const { col, val } = z;
  let current = objective(z, y, beta, l2);
  let iterations = 0;
  for (; iterations < 100;) {
    iterations++;
    grad.fill(0);
    hess.fill(0);
    for (let i = 0; i < n; i++) {
      const prob = sigmoid(linear(z, beta, i));
      const w = prob * (1 - prob);
      const r = y[i]! - prob;
      grad[0]! += r;
      hess[0]! += w;
      const s = z.start[i]!;
      const e = z.start[i + 1]!;
      for (let a = s; a < e; a++) {
        const ca = col[a]! + 1;
        const va = val[a]!;
        grad[ca]! += r * va;
        const wa = w * va;
        const rowA = ca * d;
        hess[rowA]! += wa;
        for (let b = s; b <= a; b++) hess[rowA + col[b]! + 1]! += wa * val[b]!;
      }
    }
    for (let j = 1; j < d; j++) {
      grad[j]! -= l2 * beta[j]!;
      hess[j * d + j]! += l2;
    }
    hess[0]! += 1e-9; // keeps the intercept's pivot positive when one class is absent from a fold
    const step = choleskySolve(hess, grad, d);
    // Step halving: Newton's full step can overshoot when the fit is far from the optimum.
    let scaleStep = 1;
    let next = current;
    for (let h = 0; h < 30; h++) {
      for (let j = 0; j < d; j++) trial[j] = beta[j]! + scaleStep * step[j]!;
      next = objective(z, y, trial, l2);
      if (next <= current + 1e-12 * Math.abs(current)) break;
      scaleStep /= 2;
    }
    let maxStep = 0;
    for (let j = 0; j < d; j++) maxStep = Math.max(maxStep, Math.abs(trial[j]! - beta[j]!));
    beta.set(trial);
    const improvement = current - next;
    current = next;
    // Weights are on standardized inputs: a step of 1e-6 changes no ranking or probability that matters.
    if (maxStep < 1e-6 || improvement < 1e-10 * Math.max(1, Math.abs(current))) break;
  }
  return { intercept: beta[0]!, weights: beta.slice(1), iterations };
}

/** The stored parameters: the fit moved to centred inputs, (x − mean) / scale, as `logisticScoreRow` reads them. */
export function toParams(design: LogisticDesign, fit: LogisticFitResult, l2: number): LogisticParams {
  let intercept = fit.intercept;
  for (let j = 0; j < fit.weights.length; j++) intercept += (fit.weights[j]! * design.mean[j]!) / design.scale[j]!;
  return { hinges: design.hinges, mean: [...design.mean], scale: [...design.scale], weights: [...fit.weights], intercept, l2 };
}

/** Solves A·s = g for symmetric positive definite A, given its lower triangle (row-major, d × d). */
function choleskySolve(a: Float64Array, g: Float64Array, d: number): Float64Array {
  const l = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * d + j]!;
      for (let k = 0; k < j; k++) sum -= l[i * d + k]! * l[j * d + k]!;
      if (i === j) l[i * d + i] = Math.sqrt(Math.max(sum, 1e-12));
      else l[i * d + j] = sum / l[j * d + j]!;
    }
  }
  const y = new Float64Array(d);
  for (let i = 0; i < d; i++) {
    let sum = g[i]!;
    for (let k = 0; k < i; k++) sum -= l[i * d + k]! * y[k]!;
    y[i] = sum / l[i * d + i]!;
  }
  const s = new Float64Array(d);
  for (let i = d - 1; i >= 0; i--) {
    let sum = y[i]!;
    for (let k = i + 1; k < d; k++) sum -= l[k * d + i]! * s[k]!;
    s[i] = sum / l[i * d + i]!;
  }
  return s;
}

/** Linear scores (log-odds) of the design rows. */
export function logisticScores(z: SparseDesign, fit: LogisticFitResult): Float64Array {
  const beta = new Float64Array(fit.weights.length + 1);
  beta[0] = fit.intercept;
  beta.set(fit.weights, 1);
  return Float64Array.from({ length: z.n }, (_, i) => linear(z, beta, i));
}

/** Scores one encoded row with stored parameters (allocation-free but for the caller's scratch). */
export function logisticScoreRow(params: LogisticParams, width: number, x: ArrayLike<number>, at: number): number {
  let eta = params.intercept;
  const { mean, scale, weights, hinges } = params;
  for (let j = 0; j < width; j++) eta += ((x[at + j]! - mean[j]!) / scale[j]!) * weights[j]!;
  for (let h = 0; h < hinges.length; h++) {
    const v = Math.max(0, x[at + hinges[h]!.feature]! - hinges[h]!.knot);
    eta += ((v - mean[width + h]!) / scale[width + h]!) * weights[width + h]!;
  }
  return eta;
}
