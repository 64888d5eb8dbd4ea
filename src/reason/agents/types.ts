import type { ChurnModel, ChurnModelInput } from '../churn-model.ts';
import type { ConsentFact } from '../../sense/index.ts';

/** The actions agents may propose; the policy schema (policies/) declares the same names. */
export type AgentAction =
  'offer_credit' | 'create_task' | 'send_message' | 'create_case' | 'priority_routing' | 'route_lead' | 'update_record';
export type Risk = 'low' | 'medium' | 'high';
/** The kinds of `outcome` signal (src/contracts/signals.ts). */
export type OutcomeKind = 'churned' | 'renewed' | 'converted' | 'case_resolved' | 'complaint';
/** L0 off, L1 suggest, L2 draft for approval, L3 execute low risk, L4 execute and escalate exceptions, L5 plan across domains. */
export type AutonomyLevel = 0 | 1 | 2 | 3 | 4 | 5;

/**
 * Who an action may be taken for. `subscription_live`: the subscription is not cancelled and the customer has not
 * churned. `person_reachable`: the person was not erased and has an email or phone. `no_open_save_call`: the
 * customer has no open save call.
 */
export type EligibilityRule = 'subscription_live' | 'person_reachable' | 'no_open_save_call';

export interface FeatureTrigger {
  feature: string;
  op: '<' | '<=' | '>' | '>=';
  value: number;
}

export interface AgentManifest {
  id: string;
  owner: string;
  objective: string;
  triggers: { signalTypes: string[]; features: FeatureTrigger[]; schedule?: string };
  /**
   * Each action the agent may propose, with its default autonomy level and risk, and the eligibility rules a
   * customer must pass before a draft of it is even ranked (src/reason/eligibility.ts).
   */
  actions: Partial<Record<AgentAction, { autonomy: AutonomyLevel; risk: Risk; eligibility?: EligibilityRule[] }>>;
  riskClass: Risk;
  /**
   * How the agent's value is measured against the holdout: the kind of `outcome` signal its objective is about,
   * and whether fewer (lower) or more (higher) of them is better. Absent: no outcome measures it.
   */
  measure?: { outcome: OutcomeKind; better: 'lower' | 'higher' };
  /** The agent reads a customer's contacts or consents to decide what to propose (most do not: policy checks consent). */
  readsContacts?: boolean;
}

/** What an agent sees of one customer (or lead). Built from the profile; agents never read the database. */
export interface CustomerContext {
  accountId: string | null;
  customerId: string | null;
  name?: string | null;
  attributes: Record<string, unknown>;
  subscription: ChurnModelInput['subscription'] | null;
  /** The subscription's status (active, paused, cancelled); absent when unknown. */
  subscriptionStatus?: string | null;
  /** An outcome signal recorded that the customer churned. */
  churned?: boolean;
  /** The person's data was erased. */
  erased?: boolean;
  /** Titles of the customer's open tasks. */
  openTasks?: string[];
  features: Record<string, number | string | null>;
  /**
   * The consent records in effect, granting or not, each for its channel, purpose, contact point and brand; which
   * one decides for a message is src/sense/consent.ts's rule (`hasConsent` asks it).
   */
  consents: ConsentFact[];
  /** Contact details, and the country a contact's attributes name (policy's region, when the account names none). */
  contacts: { email?: string | null; phone?: string | null; country?: string | null }[];
  /** The brand the customer is with; messages go out under it unless they name another. */
  brand?: string | null;
  /**
   * False when contacts and consents were not loaded yet: the loop loads them only for agents whose manifest
   * says `readsContacts`, and for every subject before policy decides. Absent means loaded.
   */
  reachLoaded?: boolean;
  lead?: {
    id: string;
    email?: string | null;
    phone?: string | null;
    company?: string | null;
    firstName?: string | null;
    lastName?: string | null;
    status: string;
  };
  /** Profile ids that identity resolution thinks may be the same person (filled by the caller when known). */
  possibleDuplicates?: string[];
}

/** One term of the expected value and where its number came from. */
export interface Term {
  value: number;
  /** `uplift`: p(success) learned from treated against held-out outcomes, shrunk toward its prior (src/learn/uplift-model.ts). */
  source: 'features' | 'rule' | 'model' | 'uplift';
  detail: string;
  /** For an `uplift` term: the prior it was shrunk toward (the agent's documented rule or model), as the agent computed it. */
  prior?: { value: number; source: 'features' | 'rule' | 'model'; detail: string };
  model?: { id: string; version: string };
  /** A challenger model's value for the same term, recorded beside it for comparison: never used to decide. */
  shadow?: { model: { id: string; version: string }; value: number; detail: string };
}

export interface ExpectedValue {
  pSuccess: Term;
  impact: Term;
  cost: Term;
  riskPenalty: Term;
  /** p(success) × impact − cost − risk penalty, in dollars. */
  value: number;
  /** When a bandit chose the offer or channel: the arm, its posterior and why (src/reason/agents/bandit.ts). */
  bandit?: BanditChoice;
  /** The churn score the proposal was decided with (retention), as the approval card and the Customer 360 show it. */
  churn?: ChurnScore;
  /** The segment whose treated-against-holdout outcomes estimate p(success) (each agent documents its segments). */
  upliftSegment?: string;
}

/**
 * p(success) as the incremental effect of an action: learned per agent, action and segment from the randomized
 * holdout and shrunk toward the agent's prior (src/learn/uplift-model.ts builds it, once per batch).
 */
export interface UpliftEstimator {
  /** The estimate for this agent, action and segment, shrunk toward `prior`; `prior` itself, noted, when there is no data. */
  pSuccess(agentId: string, action: AgentAction, segment: string, prior: Term): Term;
}

/**
 * A customer's churn score: one number, from one model version (or the documented rules), at one time. The retention
 * agent computes it with `scoreChurn` and records it with its proposals; the Customer 360 shows the one the latest
 * decision used, and labels a fresh score beside it with its own model and time.
 */
export interface ChurnScore {
  /** p(churn) in [0, 1]: the model's profile score plus 10 points per fired trigger (capped at 95%), or the rules. */
  probability: number;
  /** The model's score of the profile alone, before the triggers; null under the rules. */
  profileScore: number | null;
  source: 'model' | 'rule';
  /** The model and version that scored; null when the documented rules did. */
  model: { name: string; version: string } | null;
  /** When it was scored, on the clock of the decision. */
  scoredAt: string;
  /** The retention triggers that fired, as readable labels (each adds to the profile score). */
  triggers: string[];
  detail: string;
  /** A registry challenger's score, beside it for comparison only: never decides, never shown as the score. */
  shadow?: { model: { name: string; version: string }; probability: number; detail: string };
  /** The score before calibration to the holdout (present when a calibration rescaled it). */
  uncalibrated?: number;
  /** The holdout calibration that rescaled the score. */
  calibration?: { factor: number; detail: string };
}

/**
 * How the churn score is rescaled to the churn of ACS's own customers: observed over expected churn among the
 * retention customers the holdout held out (src/learn/churn-calibration.ts fits it).
 */
export interface ChurnCalibration {
  factor: number;
  heldOut: number;
  events: number;
  expected: number;
  detail: string;
}

export interface ProposalDraft {
  agentId: string;
  action: AgentAction;
  params: Record<string, unknown>;
  channel?: 'email' | 'sms' | 'phone' | 'push';
  purpose?: 'marketing' | 'service' | 'sales';
  risk: Risk;
  ev: ExpectedValue;
  /** One sentence a person can read. */
  reason: string;
  /**
   * Set on a draft that is a later step of this agent's other action (service recovery's notice is part of its case):
   * it does not compete for the customer's one slot; when that action wins it, this runs after it as a step of its play.
   */
  partOf?: AgentAction;
}

/** A registered model version, ready to score a customer (built by src/learn/registry.ts). */
export interface RegisteredScorer {
  name: string;
  version: number;
  /** Probability of the model's positive outcome for this customer. */
  predict(input: ChurnModelInput): number;
}

/** What the model registry serves for one named model. */
export interface ServedModels {
  champion: RegisteredScorer | null;
  /** Shadow-scored: its score is recorded beside the champion's, never used to decide. */
  challenger: RegisteredScorer | null;
  /** Set when the registry serves no model on purpose (a drifted champion was demoted to rules): why. */
  rules: string | null;
}

export interface ProposeOptions {
  /** The churn model trained at server start; the registry's champion goes first when there is one. */
  churn?: ChurnModel;
  /** The model registry's `churn` entry, when it has one. */
  registry?: { churn?: ServedModels };
  /** Thompson sampling over offers per segment (the loop's, with the posteriors of the batch); without it, the default offer. */
  bandit?: BanditChooser;
  /** The decision's time: scores are dated with it (default: the system clock). */
  now?: Date;
  /** Uplift estimates learned from the holdout; without it, p(success) is the agent's documented prior. */
  uplift?: UpliftEstimator;
  /** The churn score's calibration to the holdout; without it, the serving model's score as it is. */
  churnCalibration?: ChurnCalibration;
}

export interface Agent {
  manifest: AgentManifest;
  propose(ctx: CustomerContext, opts?: ProposeOptions): ProposalDraft[];
}

// What agents and the loop need of the bandits (src/learn/bandit.ts samples them; ./bandit.ts uses them).

/** One candidate arm: what it is worth when accepted (`payoff`) and what it costs either way, in dollars. */
export interface BanditArm {
  arm: string;
  payoff: number;
  cost: number;
}

/** The choice, as recorded in the proposal's EV (`ev.bandit`): the arm, its posterior, the draw, and every candidate. */
export interface BanditChoice {
  bandit: string;
  segment: string;
  arm: string;
  /** The arm's Beta posterior when it was sampled: alpha = 1 + accepted, beta = 1 + not accepted. */
  posterior: { alpha: number; beta: number };
  /** The acceptance probability drawn from that posterior. */
  sampled: number;
  /** Times the arm had been played for this segment before. */
  pulls: number;
  /** Every arm considered, with its draw and score (sampled × payoff − cost); the highest score won. */
  candidates: { arm: string; alpha: number; beta: number; sampled: number; score: number }[];
  why: string;
}

export interface BanditChooser {
  /** Thompson sampling: one draw per arm from its posterior for `segment`; the arm with the best score is played. */
  choose(bandit: string, segment: string, subject: string, arms: BanditArm[]): BanditChoice;
}
