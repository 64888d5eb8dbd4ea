import { stream } from '../../lib/index.ts';
import { sigmoid } from './metrics.ts';
import type { GbdtConfig, GbdtParams, TreeJson } from './types.ts';

/**
 * Gradient-boosted regression trees on log loss, histogram-based: every feature is cut once into at most
 * `maxBins` bins (Uint8 codes, row-major), and each node's split is found from per-bin sums of gradients and
 * hessians. A child's histogram is the parent's minus its sibling's, so only the smaller child is ever counted.
 * Trees grow depth-first to `maxDepth`; each round sees a `subsample` of the rows, drawn from a seeded stream,
 * so the same data, configuration and seed give the same trees.
 */

export interface Binned {
  n: number;
  d: number;
  /** bins[i·d + f]: the bin of row i's feature f. */
  bins: Uint8Array;
}

export interface BinEdges {
  /** edges[f][b]: the upper edge of bin b (x ≤ edge goes to bin ≤ b); nBins[f] = edges[f].length + 1. */
  edges: Float64Array[];
  nBins: Int32Array;
  /** Where feature f's bins start in a histogram. */
  offsets: Int32Array;
  totalBins: number;
}

/** Bin edges from the rows `rows` of X: midpoints between distinct values, or between quantiles when there are too many. */
export function binEdges(x: Float64Array, width: number, rows: ArrayLike<number>, maxBins: number): BinEdges {
  const edges: Float64Array[] = [];
  const values = new Float64Array(rows.length);
  for (let f = 0; f < width; f++) {
    for (let k = 0; k < rows.length; k++) values[k] = x[rows[k]! * width + f]!;
    values.sort();
    const distinct: number[] = [];
    for (let k = 0; k < values.length; k++) if (k === 0 || values[k] !== values[k - 1]) distinct.push(values[k]!);
    const cuts: number[] = [];
    if (distinct.length <= maxBins) {
      for (let k = 1; k < distinct.length; k++) cuts.push((distinct[k - 1]! + distinct[k]!) / 2);
    } else {
      // Equal-count bins: cut after the value at each quantile, halfway to the next distinct value.
      let last = -Infinity;
      for (let b = 1; b < maxBins; b++) {
        const v = values[Math.floor((b * values.length) / maxBins)]!;
        const next = distinct[upperIndex(distinct, v)];
        if (next === undefined) break;
        const cut = (v + next) / 2;
        if (cut > last) cuts.push((last = cut));
      }
    }
    edges.push(Float64Array.from(cuts));
  }
  const nBins = Int32Array.from(edges, (e) => e.length + 1);
  const offsets = new Int32Array(width);
  let total = 0;
  for (let f = 0; f < width; f++) ((offsets[f] = total), (total += nBins[f]!));
  return { edges, nBins, offsets, totalBins: total };
}

/** Index of the first element of sorted `xs` greater than v. */
function upperIndex(xs: readonly number[], v: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The bin of value v: the number of edges below it. */
function binOf(edges: Float64Array, v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (edges[mid]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function binRows(x: Float64Array, width: number, rows: ArrayLike<number>, e: BinEdges): Binned {
  const bins = new Uint8Array(rows.length * width);
  for (let k = 0; k < rows.length; k++) {
    const at = rows[k]! * width;
    for (let f = 0; f < width; f++) bins[k * width + f] = binOf(e.edges[f]!, x[at + f]!);
  }
  return { n: rows.length, d: width, bins };
}

/** A tree while training: splits are on bins. */
interface BinTree {
  feature: number[];
  bin: number[];
  left: number[];
  right: number[];
  value: number[];
}

function applyBinTree(t: BinTree, bins: Uint8Array, d: number, row: number): number {
  let node = 0;
  while (t.feature[node]! >= 0) node = bins[row * d + t.feature[node]!]! <= t.bin[node]! ? t.left[node]! : t.right[node]!;
  return t.value[node]!;
}

export interface GbdtFit {
  baseScore: number;
  trees: BinTree[];
  /** Total split gain per feature. */
  gains: Float64Array;
  /** With a validation set: its mean log loss after each round trained. */
  validLoss?: Float64Array;
}

/**
 * Trains on binned rows with 0/1 labels. With `valid`, tracks its log loss after every round, and with `patience`
 * stops once that many rounds have passed without a new best (the curve then ends there).
 */
export function trainGbdt(
  train: Binned,
  y: ArrayLike<number>,
  e: BinEdges,
  config: GbdtConfig,
  seed: number,
  valid?: { data: Binned; y: ArrayLike<number>; patience?: number },
): GbdtFit {
  const { n, d, bins } = train;
  let pos = 0;
  for (let i = 0; i < n; i++) pos += y[i]!;
  const rate = Math.min(1 - 1e-6, Math.max(1e-6, pos / n));
  const baseScore = Math.log(rate / (1 - rate));
  const score = new Float64Array(n).fill(baseScore);
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  const gains = new Float64Array(d);
  const trees: BinTree[] = [];
  const validScore = valid ? new Float64Array(valid.data.n).fill(baseScore) : null;
  const validLoss = valid ? new Float64Array(config.rounds) : undefined;

  const all = new Uint32Array(n);
  for (let i = 0; i < n; i++) all[i] = i;
  const inBag = Math.max(1, Math.min(n, Math.round(n * config.subsample)));
  const idx = new Uint32Array(inBag);
  const scratch = new Uint32Array(inBag);
  const mask = new Uint8Array(n);
  const scored = new Uint8Array(n);
  const rng = stream(seed, 'gbdt');
  const hist = new HistogramPool(3 * e.totalBins);
  const { minLeaf, l2, maxDepth, learningRate } = config;
  let bestRound = 0;

  for (let round = 0; round < config.rounds; round++) {
    for (let i = 0; i < n; i++) {
      const p = sigmoid(score[i]!);
      g[i] = p - y[i]!;
      h[i] = Math.max(p * (1 - p), 1e-16);
    }
    if (inBag < n) {
      // Partial Fisher–Yates picks the sample; reading it back through a mask keeps rows ascending, so the
      // histogram pass walks memory in order, without a sort.
      for (let k = 0; k < inBag; k++) {
        const j = k + Math.floor(rng.next() * (n - k));
        const t = all[k]!;
        all[k] = all[j]!;
        all[j] = t;
        mask[all[k]!] = 1;
      }
      for (let i = 0, k = 0; i < n; i++) {
        if (mask[i]) ((idx[k++] = i), (mask[i] = 0));
      }
    } else idx.set(all);

    const tree: BinTree = { feature: [], bin: [], left: [], right: [], value: [] };
    const newNode = () => {
      (tree.feature.push(-1), tree.bin.push(0), tree.left.push(-1), tree.right.push(-1), tree.value.push(0));
      return tree.feature.length - 1;
    };
    const rootHist = hist.take();
    accumulate(rootHist, idx, 0, inBag, bins, d, g, h, e.offsets);
    const grow = (node: number, nodeHist: Float64Array, start: number, end: number, depth: number) => {
      // The node's totals are any one feature's histogram summed over its bins.
      let G = 0;
      let H = 0;
      for (let b = 0; b < e.nBins[0]!; b++) ((G += nodeHist[3 * b]!), (H += nodeHist[3 * b + 1]!));
      const split = depth < maxDepth && end - start >= 2 * minLeaf ? bestSplit(nodeHist, e, d, G, H, end - start, minLeaf, l2) : null;
      if (!split) {
        const value = (-G / (H + l2)) * learningRate;
        tree.value[node] = value;
        for (let k = start; k < end; k++) ((score[idx[k]!]! += value), (scored[idx[k]!] = 1));
        hist.give(nodeHist);
        return;
      }
      gains[split.feature]! += split.gain;
      tree.feature[node] = split.feature;
      tree.bin[node] = split.bin;
      // Stable partition of the node's rows: left rows first, both sides keeping ascending order.
      let l = start;
      let r = 0;
      for (let k = start; k < end; k++) {
        const row = idx[k]!;
        if (bins[row * d + split.feature]! <= split.bin) idx[l++] = row;
        else scratch[r++] = row;
      }
      idx.set(scratch.subarray(0, r), l);
      const left = newNode();
      const right = newNode();
      tree.left[node] = left;
      tree.right[node] = right;
      // Count the smaller child; the larger one's histogram is the parent's minus it, written over the parent's.
      const leftSmaller = l - start <= end - l;
      const small = hist.take();
      if (leftSmaller) accumulate(small, idx, start, l, bins, d, g, h, e.offsets);
      else accumulate(small, idx, l, end, bins, d, g, h, e.offsets);
      for (let k = 0; k < nodeHist.length; k++) nodeHist[k]! -= small[k]!;
      if (leftSmaller) {
        grow(left, small, start, l, depth + 1);
        grow(right, nodeHist, l, end, depth + 1);
      } else {
        grow(left, nodeHist, start, l, depth + 1);
        grow(right, small, l, end, depth + 1);
      }
    };
    grow(newNode(), rootHist, 0, inBag, 0);
    trees.push(tree);
    // In-bag rows were scored at their leaves; the rest go down the tree.
    for (let i = 0; i < n; i++) {
      if (scored[i]) scored[i] = 0;
      else score[i]! += applyBinTree(tree, bins, d, i);
    }
    if (valid && validScore && validLoss) {
      let loss = 0;
      for (let i = 0; i < valid.data.n; i++) {
        const s = (validScore[i]! += applyBinTree(tree, valid.data.bins, d, i));
        // log(1 + e^s) − y·s, stable for large |s|.
        loss += (s > 0 ? s + Math.log1p(Math.exp(-s)) : Math.log1p(Math.exp(s))) - valid.y[i]! * s;
      }
      validLoss[round] = loss / valid.data.n;
      if (validLoss[round]! < validLoss[bestRound]!) bestRound = round;
      if (valid.patience !== undefined && round - bestRound >= valid.patience) {
        return { baseScore, trees, gains, validLoss: validLoss.slice(0, round + 1) };
      }
    }
  }
  return { baseScore, trees, gains, validLoss };
}

/** Histograms are reused: at most depth + 2 are alive at once. Layout per bin k: [G, H, count] at 3k. */
class HistogramPool {
  private readonly free: Float64Array[] = [];
  constructor(private readonly size: number) {}
  take(): Float64Array {
    const h = this.free.pop();
    if (h) return h.fill(0);
    return new Float64Array(this.size);
  }
  give(h: Float64Array): void {
    this.free.push(h);
  }
}

function accumulate(
  out: Float64Array,
  idx: Uint32Array,
  start: number,
  end: number,
  bins: Uint8Array,
  d: number,
  g: Float64Array,
  h: Float64Array,
  offsets: Int32Array,
): void {
  for (let k = start; k < end; k++) {
    const row = idx[k]!;
    const gr = g[row]!;
    const hr = h[row]!;
    const base = row * d;
    for (let f = 0; f < d; f++) {
      const at = 3 * (offsets[f]! + bins[base + f]!);
      out[at]! += gr;
      out[at + 1]! += hr;
      out[at + 2]! += 1;
    }
  }
}

/** The best split of a node from its histogram: the largest reduction of the regularised loss, if any. */
function bestSplit(
  hist: Float64Array,
  e: BinEdges,
  d: number,
  G: number,
  H: number,
  count: number,
  minLeaf: number,
  l2: number,
): { feature: number; bin: number; gain: number } | null {
  const parent = (G * G) / (H + l2);
  let best: { feature: number; bin: number; gain: number } | null = null;
  let bestGain = 1e-9;
  for (let f = 0; f < d; f++) {
    const nb = e.nBins[f]!;
    if (nb < 2) continue;
    const base = 3 * e.offsets[f]!;
    let gl = 0;
    let hl = 0;
    let cl = 0;
    for (let b = 0; b < nb - 1; b++) {
      gl += hist[base + 3 * b]!;
      hl += hist[base + 3 * b + 1]!;
      cl += hist[base + 3 * b + 2]!;
      if (cl < minLeaf) continue;
      if (count - cl < minLeaf) break;
      const gr = G - gl;
      const hr = H - hl;
      if (hl < 1e-3 || hr < 1e-3) continue;
      const gain = (gl * gl) / (hl + l2) + (gr * gr) / (hr + l2) - parent;
      if (gain > bestGain) {
        bestGain = gain;
        best = { feature: f, bin: b, gain };
      }
    }
  }
  return best;
}

/** Log-odds of binned rows from the first `rounds` trees of a fit. */
export function gbdtScores(fit: GbdtFit, data: Binned, rounds = fit.trees.length): Float64Array {
  const out = new Float64Array(data.n).fill(fit.baseScore);
  for (let t = 0; t < rounds; t++) {
    const tree = fit.trees[t]!;
    for (let i = 0; i < data.n; i++) out[i]! += applyBinTree(tree, data.bins, data.d, i);
  }
  return out;
}

/** The stored form: thresholds on raw feature values (the bins' upper edges), so scoring needs no binning. */
export function gbdtParams(fit: GbdtFit, e: BinEdges, config: GbdtConfig, rounds = fit.trees.length): GbdtParams {
  const trees: TreeJson[] = fit.trees.slice(0, rounds).map((t) => ({
    feature: [...t.feature],
    threshold: t.feature.map((f, k) => (f >= 0 ? e.edges[f]![t.bin[k]!]! : 0)),
    left: [...t.left],
    right: [...t.right],
    value: [...t.value],
  }));
  return { config: { ...config, rounds }, baseScore: fit.baseScore, trees };
}

/** Trees flattened into typed arrays for fast scoring of encoded rows. */
export class CompiledForest {
  private readonly feature: Int32Array;
  private readonly threshold: Float64Array;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  private readonly value: Float64Array;
  private readonly roots: Int32Array;
  private readonly baseScore: number;

  constructor(params: GbdtParams) {
    const total = params.trees.reduce((s, t) => s + t.feature.length, 0);
    this.feature = new Int32Array(total);
    this.threshold = new Float64Array(total);
    this.left = new Int32Array(total);
    this.right = new Int32Array(total);
    this.value = new Float64Array(total);
    this.roots = new Int32Array(params.trees.length);
    let at = 0;
    params.trees.forEach((t, k) => {
      this.roots[k] = at;
      for (let j = 0; j < t.feature.length; j++) {
        this.feature[at + j] = t.feature[j]!;
        this.threshold[at + j] = t.threshold[j]!;
        this.left[at + j] = t.left[j]! + at;
        this.right[at + j] = t.right[j]! + at;
        this.value[at + j] = t.value[j]!;
      }
      at += t.feature.length;
    });
    this.baseScore = params.baseScore;
  }

  /** Log-odds of one encoded row at offset `at` of x. */
  score(x: ArrayLike<number>, at: number): number {
    let s = this.baseScore;
    const { feature, threshold, left, right, value, roots } = this;
    for (let t = 0; t < roots.length; t++) {
      let node = roots[t]!;
      let f = feature[node]!;
      while (f >= 0) {
        node = x[at + f]! <= threshold[node]! ? left[node]! : right[node]!;
        f = feature[node]!;
      }
      s += value[node]!;
    }
    return s;
  }
}
