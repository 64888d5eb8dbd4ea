/**
 * Where the server reads the time. Real time by default; the live demo world runs the whole server on an
 * accelerated clock so decisions, approvals and budgets follow the simulated days.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };
