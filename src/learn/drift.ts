import { cellNumber, cellText } from './models/features.ts';
import type { FeatureSchema, RawRow } from './models/types.ts';

/**
 * Population stability: how far a live population has moved from the one a model was trained on, per input
 * column and for the model's score. A reference profile (bins and their training frequencies) is stored with
 * each registered version; a drift check bins the live rows the same way and compares with PSI.
 */

/** Share given to an empty bin so the logarithm stays finite; small enough not to dominate a real difference. */
export const PSI_FLOOR = 1e-4;
/** Conventional bands: below 0.1 stable, 0.1 to the threshold "watch", at or above the threshold drifted. */
export const PSI_WATCH = 0.1;
export const DEFAULT_PSI_THRESHOLD = 0.25;

/**
 * Population stability index: Σ (aᵢ − eᵢ) · ln(aᵢ / eᵢ) over bins, with e the expected (reference) shares and a
 * the actual (live) shares. Counts or shares may be given: each side is normalised to sum to 1. A share below
 * PSI_FLOOR (an empty bin) counts as PSI_FLOOR; a bin empty on both sides adds nothing.
 */
export function psi(expected: readonly number[], actual: readonly number[]): number {
  if (expected.length !== actual.length) throw new RangeError(`psi: ${expected.length} expected bins but ${actual.length} actual`);
  const e = shares(expected);
  const a = shares(actual);
  let sum = 0;
  for (let i = 0; i < e.length; i++) {
    if (e[i] === 0 && a[i] === 0) continue;
    const ei = Math.max(e[i]!, PSI_FLOOR);
    const ai = Math.max(a[i]!, PSI_FLOOR);
    sum += (ai - ei) * Math.log(ai / ei);
  }
  return sum;
}

function shares(xs: readonly number[]): number[] {
  let total = 0;
  for (const x of xs) {
    if (!(x >= 0) || !Number.isFinite(x)) throw new RangeError(`psi: bin values must be finite and non-negative, got ${x}`);
    total += x;
  }
  if (total === 0) throw new RangeError('psi: a side has no observations');
  return xs.map((x) => x / total);
}

export type DriftStatus = 'ok' | 'watch' | 'drift';

/** The band of a PSI value under a threshold (the watch band starts at 0.1, or at the threshold if that is lower). */
export function driftStatus(value: number, threshold = DEFAULT_PSI_THRESHOLD): DriftStatus {
  if (value >= threshold) return 'drift';
  return value >= Math.min(PSI_WATCH, threshold) ? 'watch' : 'ok';
}

/** How one column (or the score) is binned, with the reference population's share in each bin. */
export type Binning =
  | {
      kind: 'numeric';
      /** Bin i holds edges[i−1] < x ≤ edges[i]; the last bin x > the last edge; then one bin for missing values. */
      edges: number[];
      shares: number[];
    }
  | {
      kind: 'categorical';
      /** One bin per level, then `(other)` for any other value, then missing. */
      levels: string[];
      shares: number[];
    };

export interface ReferenceProfile {
  rows: number;
  /** One per input column the model reads (the feature schema's columns), in schema order. */
  features: ({ column: string } & Binning)[];
  /** The model's predicted probability over the reference rows. */
  score: Binning & { kind: 'numeric' };
}

const QUANTILES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];

/** Decile edges of the values, deduplicated, without the maximum (which would leave an always-empty top bin). */
export function quantileEdges(values: readonly number[]): number[] {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return [];
  const max = sorted[sorted.length - 1]!;
  const edges: number[] = [];
  for (const q of QUANTILES) {
    const v = sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
    if (v < max && (edges.length === 0 || v > edges[edges.length - 1]!)) edges.push(v);
  }
  return edges;
}

/** The bin of a numeric value under `edges`; NaN (missing) goes to the last bin. */
export function numericBin(edges: readonly number[], x: number): number {
  if (Number.isNaN(x)) return edges.length + 1;
  let lo = 0;
  let hi = edges.length;
  // First edge ≥ x: bins are closed on the right.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid]! >= x) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** Bin counts of the values under a binning (numbers for numeric, cell texts or null for categorical). */
export function binCounts(binning: Binning, values: readonly (number | string | null)[]): number[] {
  if (binning.kind === 'numeric') {
    const counts = new Array<number>(binning.edges.length + 2).fill(0);
    for (const v of values) counts[numericBin(binning.edges, typeof v === 'number' ? v : NaN)]!++;
    return counts;
  }
  const index = new Map(binning.levels.map((l, i) => [l, i]));
  const counts = new Array<number>(binning.levels.length + 2).fill(0);
  for (const v of values) counts[v === null ? binning.levels.length + 1 : (index.get(String(v)) ?? binning.levels.length)]!++;
  return counts;
}

/** Human labels of a binning's bins, in order, for reports. */
export function binLabels(binning: Binning): string[] {
  if (binning.kind === 'categorical') return [...binning.levels, '(other)', '(missing)'];
  const e = binning.edges.map((x) => Number(x.toPrecision(4)));
  if (e.length === 0) return ['all', '(missing)'];
  return [`≤ ${e[0]}`, ...e.slice(1).map((x, i) => `${e[i]} – ${x}`), `> ${e[e.length - 1]}`, '(missing)'];
}

const toShares = (counts: number[]) => {
  const total = counts.reduce((s, c) => s + c, 0);
  return counts.map((c) => (total ? c / total : 0));
};

/** A column's values as the drift profile reads them: numbers for numeric columns, trimmed texts for categorical. */
function columnValues(schema: FeatureSchema, c: number, rows: readonly RawRow[]): (number | string | null)[] {
  const spec = schema.columns[c]!;
  const missing = new Set(schema.missingTokens);
  return spec.kind === 'numeric' ? rows.map((r) => cellNumber(r[spec.column])) : rows.map((r) => cellText(r[spec.column], missing));
}

/** The training population's profile: decile bins of numeric columns, the schema's levels for categorical ones, and the score's deciles. */
export function referenceProfile(schema: FeatureSchema, rows: readonly RawRow[], scores: ArrayLike<number>): ReferenceProfile {
  const features = schema.columns.map((spec, c) => {
    const values = columnValues(schema, c, rows);
    const binning: Binning =
      spec.kind === 'numeric'
        ? { kind: 'numeric', edges: quantileEdges(values as number[]), shares: [] }
        : { kind: 'categorical', levels: [...spec.levels], shares: [] };
    binning.shares = toShares(binCounts(binning, values));
    return { column: spec.column, ...binning };
  });
  const scoreValues = Array.from(scores);
  const score = { kind: 'numeric' as const, edges: quantileEdges(scoreValues), shares: [] as number[] };
  score.shares = toShares(binCounts(score, scoreValues));
  return { rows: rows.length, features, score };
}

export interface BinComparison {
  psi: number;
  status: DriftStatus;
  bins: { label: string; expected: number; actual: number }[];
}

export interface DriftReport {
  population: number;
  threshold: number;
  /** The largest PSI over the score and every column, and where it was. */
  maxPsi: number;
  worst: string;
  status: DriftStatus;
  score: BinComparison;
  /** Per column, largest PSI first. */
  features: ({ column: string } & BinComparison)[];
}

const round = (x: number, digits = 6) => Math.round(x * 10 ** digits) / 10 ** digits;

function compare(binning: Binning, values: readonly (number | string | null)[], threshold: number): BinComparison {
  const actual = toShares(binCounts(binning, values));
  const value = psi(binning.shares, actual);
  const labels = binLabels(binning);
  return {
    psi: round(value),
    status: driftStatus(value, threshold),
    bins: labels.map((label, i) => ({ label, expected: round(binning.shares[i]!), actual: round(actual[i]!) })),
  };
}

/** Compares a live population (its rows, and the model's scores of them) with a reference profile. Needs at least one row. */
export function driftReport(
  reference: ReferenceProfile,
  schema: FeatureSchema,
  rows: readonly RawRow[],
  scores: ArrayLike<number>,
  threshold = DEFAULT_PSI_THRESHOLD,
): DriftReport {
  if (rows.length === 0) throw new RangeError('drift needs a live population of at least one row');
  const byColumn = new Map(schema.columns.map((s, c) => [s.column, c]));
  const features = reference.features.map((f) => {
    const c = byColumn.get(f.column);
    // A reference column the schema no longer has reads as all missing: that is itself a shift worth seeing.
    const values = c === undefined ? rows.map(() => null) : columnValues(schema, c, rows);
    return { column: f.column, ...compare(f, values, threshold) };
  });
  features.sort((a, b) => b.psi - a.psi || (a.column < b.column ? -1 : 1));
  const score = compare(reference.score, Array.from(scores), threshold);
  const worstFeature = features[0];
  const [maxPsi, worst] = worstFeature && worstFeature.psi > score.psi ? [worstFeature.psi, worstFeature.column] : [score.psi, '(score)'];
  return { population: rows.length, threshold, maxPsi, worst, status: driftStatus(maxPsi, threshold), score, features };
}
