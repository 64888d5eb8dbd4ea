import type { Signal } from '../contracts/index.ts';
import type { SimCustomer } from './customer.ts';

/** One simulated day: its number in the run (0, 1, …) and its start as an ISO timestamp the caller chooses. */
export interface SimDay {
  index: number;
  start: string;
}

/** A signal as a client would post it: it passes parseSignal, and its id makes re-ingesting it a no-op. */
export type SimSignal = Required<Pick<Signal, 'id' | 'type' | 'version' | 'occurredAt' | 'source' | 'subject' | 'data'>>;

export type OutcomeType = 'churned' | 'renewed' | 'converted' | 'case_resolved' | 'complaint' | 'offer_accepted' | 'offer_declined';

/**
 * What happened to a customer or lead, as the holdout comparison counts it. Customers are named by `customerId`,
 * leads (who have none yet) by `email`. The id is deterministic, like a signal's.
 */
export interface SimOutcome {
  id: string;
  type: OutcomeType;
  customerId?: string;
  email?: string;
  day: number;
  occurredAt: string;
  /** churned: the daily hazard on the day; complaint: 'no_consent' or 'service'; converted: 'self' or 'route_lead'. */
  reason?: string;
  hazard?: number;
  contract?: string;
  ticketId?: string;
  /** case_resolved of a case ACS opened (create_case): that case's id, as the action's result named it. */
  caseId?: string;
  /** The idempotency key of the ACS action this outcome answers (an offer's acceptance or refusal, a case's resolution). */
  actionKey?: string;
}

/** A prospect who filled the lead form. */
export interface SimLead {
  /** `lead-<seed>-<day>-<k>`; the email is this at example.com. */
  leadKey: string;
  email: string;
  firstName: string;
  lastName: string;
  company: string | null;
  interest: string;
  createdDay: number;
  /** How ready to buy, in [0, 1]: scales web visits and conversion. */
  warmth: number;
  status: 'open' | 'converted';
  contactDays: number[];
  /** The consent boxes ticked on the form; contact outside them is contact without consent. */
  consents: { channel: 'email'; purpose: 'sales' }[];
}

export interface SimWorld {
  seed: number;
  /** The calibrated daily base hazard in use (HAZARD.baseDaily unless overridden). */
  baseDaily: number;
  customers: SimCustomer[];
  leads: SimLead[];
}
