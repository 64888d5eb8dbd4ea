/**
 * Seeded randomness shared by the product (bandits, tree training, CV splits, identity matching) and the demo
 * simulator: a small seedable generator (sfc32) and the few distributions they use.
 * Written here rather than taken from a package so the stream, and so every simulated day, is fixed by the seed
 * for good. Streams are derived by name (seed, customer id, day, purpose), never shared, so adding a customer
 * or a signal type never shifts anybody else's draws.
 */

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
}

/** cyrb128: a fast 128-bit string hash, used only to turn a stream name into four seed words. */
function hash128(text: string): [number, number, number, number] {
  let h1 = 1779033703,
    h2 = 3144134277,
    h3 = 1013904242,
    h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/** sfc32 (Chris Doty-Humphrey's Small Fast Counting generator): 128 bits of state, passes PractRand to 2^40+ bytes. */
export function sfc32(a: number, b: number, c: number, d: number): Rng {
  const next = () => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  // The first outputs of a freshly seeded sfc32 are poorly mixed; discard them.
  for (let i = 0; i < 12; i++) next();
  return { next };
}

/** A generator named by its parts, e.g. `stream(7, 'CUST-000001', 'day', 3)`: the same parts give the same draws. */
export function stream(seed: number | string, ...parts: (string | number)[]): Rng {
  const [a, b, c, d] = hash128([String(seed), ...parts.map(String)].join('\u241f'));
  return sfc32(a, b, c, d);
}

export const uniform = (rng: Rng, lo = 0, hi = 1): number => lo + (hi - lo) * rng.next();

export const bernoulli = (rng: Rng, p: number): boolean => rng.next() < p;

/** An integer in [lo, hi], both ends included. */
export const integer = (rng: Rng, lo: number, hi: number): number => lo + Math.floor(rng.next() * (hi - lo + 1));

/** Standard normal by Box–Muller (one of the pair is dropped, which keeps the stream stateless). */
export function normal(rng: Rng, mean = 0, sd = 1): number {
  const u = 1 - rng.next(); // (0, 1]: log(0) never happens
  const v = rng.next();
  return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Poisson by Knuth's multiplication method: fine for the small means (< 30) the model uses. */
export function poisson(rng: Rng, mean: number): number {
  if (!(mean > 0)) return 0;
  const limit = Math.exp(-mean);
  let k = 0;
  let p = rng.next();
  while (p > limit) {
    k++;
    p *= rng.next();
  }
  return k;
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError('pick from an empty list');
  return items[Math.floor(rng.next() * items.length)]!;
}

export const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
