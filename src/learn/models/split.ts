import { stream, type Rng } from '../../lib/index.ts';

/** Fisher–Yates in place, from a seeded generator. */
export function shuffle(items: Uint32Array | number[], rng: Rng): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    const t = items[i]!;
    items[i] = items[j]!;
    items[j] = t;
  }
}

function byClass(labels: ArrayLike<number>, indices: ArrayLike<number>): [number[], number[]] {
  const neg: number[] = [];
  const pos: number[] = [];
  for (let k = 0; k < indices.length; k++) (labels[indices[k]!] === 1 ? pos : neg).push(indices[k]!);
  return [neg, pos];
}

/**
 * A stratified train/test split of the rows `indices` (each class split in the same proportion), fixed by the
 * seed. Both parts come back in ascending row order, so nothing downstream depends on the shuffle order.
 */
export function stratifiedSplit(
  labels: ArrayLike<number>,
  indices: ArrayLike<number>,
  testFraction: number,
  seed: number,
): { train: Uint32Array; test: Uint32Array } {
  const train: number[] = [];
  const test: number[] = [];
  byClass(labels, indices).forEach((rows, cls) => {
    shuffle(rows, stream(seed, 'split', cls));
    const nTest = Math.round(rows.length * testFraction);
    test.push(...rows.slice(0, nTest));
    train.push(...rows.slice(nTest));
  });
  return { train: Uint32Array.from(train).sort(), test: Uint32Array.from(test).sort() };
}

/** Stratified k folds over positions 0..n−1 of `labels`: fold[i] is the fold row i is held out in. */
export function stratifiedFolds(labels: ArrayLike<number>, k: number, seed: number): Uint8Array {
  const fold = new Uint8Array(labels.length);
  const classes = byClass(
    labels,
    Array.from({ length: labels.length }, (_, i) => i),
  );
  classes.forEach((rows, cls) => {
    shuffle(rows, stream(seed, 'folds', cls));
    // Continue the round-robin across classes so fold sizes differ by at most one.
    const start = cls === 1 ? classes[0].length : 0;
    rows.forEach((row, i) => (fold[row] = (start + i) % k));
  });
  return fold;
}
