/**
 * lib: small utilities with no product knowledge, shared by every module and the demo world.
 * Owns: seeded random streams and distributions (so a seed fixes bandit draws, tree training, CV splits and the
 * simulated days alike). Imports nothing of ACS.
 */
export { bernoulli, clamp, integer, normal, pick, poisson, sfc32, stream, uniform, type Rng } from './random.ts';
