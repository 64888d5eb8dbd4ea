import { HAZARD } from './params.ts';
import type { SimCustomerInput } from './customer.ts';
import { churnRate, createWorld, simDay, simulateDay } from './world.ts';

/**
 * How HAZARD.baseDaily was chosen: the one number fitted to data. It is the base hazard at which the simulated
 * world, with no agents acting, loses `target` of its customers in `days` days, averaged over `seeds`.
 * Every other coefficient is fixed beforehand; this only sets the overall level.
 */
export interface CalibrationOptions {
  target?: number;
  days?: number;
  seeds?: readonly number[];
  /** Relative tolerance on baseDaily at which the bisection stops. */
  tolerance?: number;
}

const START = '2025-01-01T00:00:00.000Z';

/** Simulated churn over `days` days at a given base hazard, averaged over seeds; no actions are taken. */
export function simulatedChurn(inputs: readonly SimCustomerInput[], baseDaily: number, days: number, seeds: readonly number[]): number {
  let total = 0;
  for (const seed of seeds) {
    let world = createWorld(inputs, seed, { baseDaily });
    const outcomes = [];
    for (let d = 0; d < days; d++) {
      const r = simulateDay(world, simDay(START, d));
      world = r.world;
      outcomes.push(...r.outcomes);
    }
    total += churnRate(inputs.length, outcomes);
  }
  return total / seeds.length;
}

/**
 * Bisection on log(baseDaily). The same seeds are used at every step (common random numbers), so simulated
 * churn rises monotonically with the base hazard and the search converges.
 */
export function calibrateBaseHazard(
  inputs: readonly SimCustomerInput[],
  options: CalibrationOptions = {},
): { baseDaily: number; churn: number } {
  const target = options.target ?? HAZARD.target30d;
  const days = options.days ?? 30;
  const seeds = options.seeds ?? [1, 2, 3];
  const tolerance = options.tolerance ?? 0.002;
  let lo = Math.log(1e-6);
  let hi = Math.log(0.05);
  while (hi - lo > tolerance) {
    const mid = (lo + hi) / 2;
    if (simulatedChurn(inputs, Math.exp(mid), days, seeds) < target) lo = mid;
    else hi = mid;
  }
  const baseDaily = Math.exp((lo + hi) / 2);
  return { baseDaily, churn: simulatedChurn(inputs, baseDaily, days, seeds) };
}
