import type { ChurnModel, ChurnModelInput } from '../churn-model.ts';
import type { ConsentFact } from '../../sense/consent.ts';

/** The actions agents may propose; the policy schema (policies/) declares the same names. */
export type AgentAction = 'offer_credit' | 'create_task' | 'send_message' | 'create_case' | 'priority_routing' | 'route_lead' | 'update_record';
export type Risk = 'low' | 'medium' | 'high';
/** The kinds of `outcome` signal (src/contracts/signals.ts). */
export type OutcomeKind = 'churned' | 'renewed' | 'converted' | 'case_resolved' | 'complaint';
/** L0 off, L1 suggest, L2 draft for approval, L3 execute low risk, L4 execute and escalate exceptions, L5 plan across domains. */
export type AutonomyLevel = 0 | 1 | 2 | 3 | 4 | 5;

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
  /** Each action the agent may propose, with its default autonomy level and risk. */
  actions: Partial<Record<AgentAction, { autonomy: AutonomyLevel; risk: Risk }>>;
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
  features: Record<string, number | string | null>;
  /**
   * The consent records in effect, granting or not, each for its channel, purpose, contact point and brand; which
   * one decides for a message is src/sense/consent.ts's rule (`hasConsent` asks it).
   */
  consents: ConsentFact[];
  contacts: { email?: string | null; phone?: string | null }[];
  /** The brand the customer is with; messages go out under it unless they name another. */
  brand?: string | null;
  /**
   * False when contacts and consents were not loaded yet: the loop loads them only for agents whose manifest
   * says `readsContacts`, and for every subject before policy decides. Absent means loaded.
   */
  reachLoaded?: boolean;
  lead?: { id: string; email?: string | null; phone?: string | null; company?: string | null; firstName?: string | null; lastName?: string | null; status: string };
  /** Profile ids that identity resolution thinks may be the same person (filled by the caller when known). */
  possibleDuplicates?: string[];
}

/** One term of the expected value and where its number came from. */
export interface Term {
  value: number;
  source: 'features' | 'rule' | 'model';
  detail: string;
  model?: { id: string; version: string };
}

export interface ExpectedValue {
  pSuccess: Term;
  impact: Term;
  cost: Term;
  riskPenalty: Term;
  /** p(success) × impact − cost − risk penalty, in dollars. */
  value: number;
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
}

export interface Agent {
  manifest: AgentManifest;
  propose(ctx: CustomerContext, opts?: { churn?: ChurnModel }): ProposalDraft[];
}
