/**
 * world: the demo world driven through ACS (not the product): headless (`acs simulate`) or live beside the server
 * (`acs serve --world`). Only the CLI, the composition root, wires it in. Owns the world_clock table (world.repo.ts).
 */
export { runSimulation, SIM_START, type SimulateOptions, type SimulationObserver, type SimulationReport } from './simulate.ts';
export {
  Accounts,
  ACTION_COST_CENTS,
  meanCi,
  nonePolicy,
  oraclePolicy,
  POLICIES,
  policyValue,
  rulesPolicy,
  runPolicy,
  runValueBench,
  runValueBenchDetailed,
  referenceLines,
  spendLines,
  valueTable,
  type BlindOracleReference,
  type PolicyName,
  type ValueBenchReport,
} from './value.ts';
export {
  WorldDriver,
  importFirstCustomers,
  seedContactsAndConsents,
  worldFromDatabase,
  outcomeSignals,
  SIM_CONSENT,
  SIM_REVIEWER_MAX_CREDIT_CENTS,
  type DayTally,
  type WorldDriverOptions,
} from './driver.ts';
export { AcceleratedClock, liveWorld, openWorldClock, startLiveWorld, type LiveWorldDeps, type WorldClockState } from './live.ts';
export * from './world.repo.ts';
