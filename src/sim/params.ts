/**
 * Every number in the simulated world, in one place. docs/simulation.md explains each one and where it came from.
 * Only HAZARD.baseDaily is calibrated (to a population churn target); RESPONSIVENESS.sleepingDogMultiplier comes
 * from a published field experiment (named there); every other value is a reasoned assumption about direction and
 * rough size. None is tuned to make any agent look good: the holdout measures what happens.
 */

/** Daily churn hazard: baseDaily × exp(sum of log relative risks) × state and treatment multipliers. */
export const HAZARD = {
  /**
   * Calibrated: the daily hazard of the reference customer (month-to-month, DSL with security and support,
   * mailed check, paper bill, new, $65/month, no partner, dependents or senior flag), chosen so the 7,043 Telco
   * customers churn 2.0% in expectation over 30 days (see calibrateBaseHazard).
   */
  baseDaily: 0.000662,
  /** Target for the calibration: expected share of the population that churns in 30 days. */
  target30d: 0.02,
  /** Log relative risks (exp(x) multiplies the hazard). */
  logRisk: {
    contractOneYear: -1.1,
    contractTwoYear: -2.0,
    fiberInternet: 0.4,
    noInternet: -0.5,
    electronicCheck: 0.4,
    automaticPayment: -0.15,
    paperlessBilling: 0.15,
    /** Times ln(1 + tenureMonths / 12): new customers leave more readily. */
    tenure: -0.5,
    /** Per dollar of monthly charge above (or below) referenceMonthly. */
    perDollarMonthly: 0.006,
    noTechSupport: 0.25,
    noOnlineSecurity: 0.2,
    seniorCitizen: 0.2,
    partner: -0.1,
    dependents: -0.15,
  },
  referenceMonthly: 65,
  /** exp(satisfaction × (baseline − current)): a customer less satisfied than usual is more likely to leave. */
  satisfactionSensitivity: 2.5,
  /** exp(engagement × (baseline − current)): a customer using the service less than usual is more likely to leave. */
  engagementSensitivity: 1.5,
  /** In the last `renewalWindowDays` before a term contract ends, leaving costs no fee: hazard × renewalWindowMultiplier. */
  renewalWindowDays: 30,
  renewalWindowMultiplier: 3,
  /** A daily hazard never exceeds this, whatever the multipliers. */
  maxDaily: 0.5,
} as const;

/** Latent state: satisfaction, engagement and payment reliability, each in [0, 1]. */
export const STATE = {
  /** Baseline satisfaction = satisfactionIntercept − satisfactionPerLogRisk × log risk, plus individual noise. */
  satisfactionIntercept: 0.6,
  satisfactionPerLogRisk: 0.1,
  satisfactionNoiseSd: 0.08,
  /** Baseline engagement = engagementIntercept + engagementPerService × services held, plus noise. */
  engagementIntercept: 0.35,
  engagementPerService: 0.06,
  engagementNoiseSd: 0.1,
  /** Daily pull back toward the target (Ornstein–Uhlenbeck), and the daily noise. */
  reversion: 0.05,
  dailyNoiseSd: 0.02,
  /** Probability a monthly payment goes through, by payment method. */
  paymentReliability: { automatic: 0.985, mailedCheck: 0.95, electronicCheck: 0.92, other: 0.95 } as Record<string, number>,
  /** Daily chance a customer starts using the service less (a disengagement episode), its depth and length. */
  disengageDaily: 0.0015,
  disengageDepth: 0.3,
  disengageDays: [21, 60] as const,
  /** Daily chance of a service problem (outage, slow line) for internet customers, its daily toll and length. */
  troubleDaily: { fiber: 0.003, dsl: 0.002 },
  troubleSatisfactionPerDay: 0.015,
  troubleDays: [3, 10] as const,
  /** Satisfaction lost on a failed payment, and gained when a customer's case is resolved. */
  paymentFailureSatisfaction: -0.04,
  caseResolvedSatisfaction: 0.03,
  /** Days an organic ticket takes to resolve. */
  resolutionDays: [1, 5] as const,
} as const;

/** How often customers and prospects produce each signal. */
export const SIGNALS = {
  /** Customers report usage once every usageCadenceDays (on their own weekday) as the period's total. */
  usageCadenceDays: 7,
  /** Typical weekly data use (GB) of a fully engaged internet customer, and voice minutes for phone-only ones. */
  weeklyDataGb: 60,
  weeklyVoiceMinutes: 400,
  usageNoiseSd: 0.35,
  /** Daily ticket probability = ticketBase × (1 + ticketPerDissatisfaction × (1 − satisfaction)); × ticketTroubleFactor in trouble. */
  ticketBase: 0.003,
  ticketPerDissatisfaction: 3,
  ticketTroubleFactor: 4,
  /** Daily billing dispute probability, shaped like tickets. */
  disputeBase: 0.0008,
  disputePerDissatisfaction: 4,
  /** Daily chance of answering an NPS survey; the score is 10 × satisfaction + noise. */
  npsDaily: 0.003,
  npsNoiseSd: 1.2,
  /** Daily web visit probability = webBase × (0.5 + engagement). */
  webBase: 0.03,
  /** Daily chance of a visit to the cancellation page = cancelPagePerHazard × the day's churn hazard (at most 0.3). */
  cancelPagePerHazard: 5,
  /** A ticket's topic is 'cancel' with weight cancelTopicPerHazard × hazard, against about 1 for all other topics. */
  cancelTopicPerHazard: 50,
  /** Newsletters go out every emailCadenceDays to paperless customers; open and click probabilities. */
  emailCadenceDays: 7,
  emailOpen: 0.3,
  emailClick: 0.3,
  emailBounce: 0.002,
  emailUnsubscribe: 0.001,
  /** Brand-new prospects filling the lead form, per day (Poisson mean). */
  leadsPerDay: 3,
  /** A lead's daily web visit chance (× warmth) and daily chance of buying on its own (× warmth). */
  leadWebDaily: 0.1,
  leadSelfConvertDaily: 0.002,
  /** Share of form fillers who tick "send me sales email" (a lead_form consent box). */
  leadSalesEmailOptIn: 0.5,
  /** A very dissatisfied customer's negative ticket becomes a formal complaint with this probability. */
  complaintBelowSatisfaction: 0.25,
  complaintProbability: 0.1,
} as const;

/**
 * Who responds to what: each customer's hidden responsiveness, drawn once from their own stream (seed, customer id,
 * 'responsiveness') and never shown to ACS. The segments are the uplift-modelling taxonomy of Radcliffe & Surry
 * ("Real-World Uplift Modelling with Significance-Based Uplift Trees", Stochastic Solutions white paper, 2011):
 * persuadables (the action helps), customers the action does not move (their "sure things" and "lost causes"), and
 * sleeping dogs (being contacted makes them more likely to leave). That the response is heterogeneous and not the
 * same thing as churn risk is the finding of Ascarza, "Retention Futility: Targeting High-Risk Customers Might Be
 * Ineffective", Journal of Marketing Research 55(1), 2018, pp. 80–98. The shares themselves are assumptions: neither
 * paper gives shares that transfer to this population.
 */
export const RESPONSIVENESS = {
  /** Assumption: shares of the three kinds (they sum to 1). Drawn independently of every observable attribute. */
  shares: { persuadable: 0.35, unmoved: 0.55, sleepingDog: 0.1 },
  /**
   * A sleeping dog reached by a retention contact (offer_credit, save_call, outreach): hazard × sleepingDogMultiplier
   * for sleepingDogDays. Source: Ascarza, Iyengar & Schleicher, "The Perils of Proactive Churn Prevention Using Plan
   * Recommendations: Evidence from a Field Experiment", Journal of Marketing Research 53(1), 2016, pp. 46–60: in a
   * wireless carrier's field experiment (about 65,000 customers) 10.0% of the contacted customers churned in the three
   * months after the campaign against 6.4% of the control group, a relative risk of 10.0 / 6.4 ≈ 1.56 over 90 days.
   * Here that whole ratio is given to the sleeping dogs only (our choice: the paper reports the group average).
   */
  sleepingDogMultiplier: 1.56,
  sleepingDogDays: 90,
} as const;

/** How customers respond when an action reaches them (src/sim/response.ts). */
export const RESPONSE = {
  /**
   * A credit offer is accepted with probability offerAcceptMax[kind] × (1 − exp(−credit / (offerScale × monthly bill))):
   * more likely the larger the credit against the bill, with diminishing returns, and by kind of customer. The
   * customer answers it the same day (an `offer_accepted` or `offer_declined` outcome naming the action).
   * Assumption: no published take rate of bill credits transfers here; a persuadable offered half a month's bill
   * accepts with probability 0.8 × 0.63 ≈ 0.51, one the offer does not move takes the money one time in five.
   */
  offerAcceptMax: { persuadable: 0.8, unmoved: 0.3, sleepingDog: 0.1 },
  offerScale: 0.5,
  /**
   * An accepted offer: hazard × (1 − offerMaxReduction) for offerDays for a persuadable; an unmoved customer who
   * accepts takes the credit and is no less likely to leave; a declined offer changes nothing. Assumption.
   */
  offerMaxReduction: 0.5,
  offerDays: 60,
  /**
   * A save call is answered with saveCallReach; if answered, a persuadable's hazard × saveCallMultiplier for
   * saveCallDays (others: no change, or a sleeping dog's rise, RESPONSIVENESS). Assumption.
   */
  saveCallReach: 0.6,
  saveCallMultiplier: 0.85,
  saveCallDays: 30,
  /** Outreach: a persuadable's hazard × outreachMultiplier for outreachDays, and a small engagement lift. Assumption. */
  outreachMultiplier: 0.95,
  outreachDays: 14,
  outreachEngagement: 0.03,
  /** Proactive case: satisfaction up, and a service problem in progress ends within caseFixDays. */
  caseSatisfaction: 0.04,
  caseFixDays: 2,
  /** Priority routing: satisfaction up, and open tickets resolve the next day. */
  prioritySatisfaction: 0.02,
  /** A plain notice: a little reassurance when it concerns an open problem, nothing otherwise. */
  notifySatisfaction: 0.01,
  /** Contact fatigue: more than contactLimit contacts within contactWindowDays annoy. */
  contactLimit: 3,
  contactWindowDays: 14,
  /** Each contact past the limit: satisfaction drop, and annoyance added (hazard × exp(annoyance)). */
  annoyanceSatisfaction: -0.05,
  annoyancePerExcessContact: 0.15,
  /** Annoyance halves every annoyanceHalfLifeDays. */
  annoyanceHalfLifeDays: 14,
  /** Contact without consent: always a complaint, plus this much annoyance and satisfaction lost. */
  noConsentAnnoyance: 0.3,
  noConsentSatisfaction: -0.1,
  /** A routed lead converts with probability routeConversion × warmth; consented outreach warms a lead. */
  routeConversion: 0.25,
  leadOutreachWarmth: 0.1,
} as const;
