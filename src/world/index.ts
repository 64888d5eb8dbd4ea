// The demo world driven through ACS: headless (`acs simulate`) or live beside the server (`acs serve --world`).
export { runSimulation, type SimulateOptions, type SimulationReport } from './simulate.ts';
export { WorldDriver, importFirstCustomers, seedContactsAndConsents, worldFromDatabase, outcomeSignals, SIM_CONSENT, SIM_REVIEWER_MAX_CREDIT_CENTS, type DayTally, type WorldDriverOptions } from './driver.ts';
export { AcceleratedClock, liveWorld, openWorldClock, startLiveWorld, type LiveWorldDeps, type WorldClockState } from './live.ts';
