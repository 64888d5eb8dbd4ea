/**
 * sim: the demo world's model (not the product). The real Telco customers, a seeded model of the signals they
 * produce day by day, and a response model for how they react to actions. Pure and deterministic; see
 * docs/simulation.md. Only world/ and the CLI use it.
 */
export {
  attributeLogRisk,
  createSimCustomer,
  dailyHazard,
  drawResponsiveness,
  inRenewalWindow,
  riskContributions,
  simCustomerFromRecords,
  simCustomerFromTelcoRow,
  stateMultiplier,
  tenureOn,
  termEndDay,
  type AccountLike,
  type Contract,
  type SimCustomer,
  type SimCustomerInput,
  type SimState,
  type SubscriptionLike,
  type Responsiveness,
  type Treatment,
} from './customer.ts';
export { calibrateBaseHazard, simulatedChurn, type CalibrationOptions } from './calibrate.ts';
export { HAZARD, RESPONSE, RESPONSIVENESS, SIGNALS, STATE } from './params.ts';
export {
  acceptedOfferMultiplier,
  applyStateChanges,
  isContact,
  offerAcceptance,
  offerMultiplier,
  responsivenessOf,
  respond,
  respondLead,
  type ActionKind,
  type Response,
  type SimAction,
} from './response.ts';
export type { OutcomeType, SimDay, SimLead, SimOutcome, SimSignal, SimWorld } from './types.ts';
export {
  applyAction,
  churnRate,
  createWorld,
  simDay,
  simulateDay,
  type ActionResult,
  type ActionTarget,
  type DayResult,
  type WorldOptions,
} from './world.ts';
