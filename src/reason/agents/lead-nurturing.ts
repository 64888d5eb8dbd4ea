import { cents, expectedValue, hasConsent, num } from './ev.ts';
import { leadSegment, learnedPSuccess } from './segments.ts';
import type { Agent, AgentAction, AgentManifest, CustomerContext, ProposalDraft, Term } from './types.ts';

export const leadNurturingManifest: AgentManifest = {
  id: 'lead-nurturing',
  owner: 'sales',
  objective: 'turn new and engaged leads into conversations',
  triggers: {
    signalTypes: ['lead_form', 'web_visit', 'email_engagement'],
    features: [
      { feature: 'webVisits7d', op: '>=', value: 2 },
      { feature: 'emailEngagements30d', op: '>=', value: 1 },
    ],
  },
  actions: {
    update_record: { autonomy: 3, risk: 'low' },
    route_lead: { autonomy: 3, risk: 'low' },
    send_message: { autonomy: 3, risk: 'low', eligibility: ['person_reachable'] },
  },
  riskClass: 'low',
  measure: { outcome: 'converted', better: 'higher' },
  readsContacts: true,
};

/** Mail providers whose domain says nothing about the company. */
const FREE_MAIL = new Set([
  'gmail.com',
  'googlemail.com',
  'yahoo.com',
  'hotmail.com',
  'outlook.com',
  'live.com',
  'icloud.com',
  'aol.com',
  'proton.me',
  'protonmail.com',
  'gmx.com',
  'example.com',
]);
/** Route to a rep at or above this score; below it, nurture by email. */
export const ROUTE_SCORE = 60;
/** Value of a converted lead in dollars: an assumption until conversion data exists. */
const LEAD_VALUE = 600;

/** A company name from a corporate email domain: `jane@initech.co.uk` → `Initech`. */
export function companyFromEmail(email: string | null | undefined): string | null {
  const domain = email?.split('@')[1]?.toLowerCase();
  if (!domain || FREE_MAIL.has(domain)) return null;
  const name = domain.split('.')[0]!;
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** 0–100: 20 to start, +15 company known, +10 phone known, +10 per web visit this week (≤ 30), +10 per email engagement (≤ 20), +5 name known. */
export function leadScore(ctx: CustomerContext, company: string | null): number {
  const lead = ctx.lead!;
  const visits = num(ctx.features.webVisits7d) ?? 0;
  const engaged = num(ctx.features.emailEngagements30d) ?? 0;
  return Math.min(
    100,
    20 +
      (company ? 15 : 0) +
      (lead.phone ? 10 : 0) +
      Math.min(30, visits * 10) +
      Math.min(20, engaged * 10) +
      (lead.firstName || lead.lastName ? 5 : 0),
  );
}

export const leadNurturingAgent: Agent = {
  manifest: leadNurturingManifest,
  propose(ctx, opts) {
    const lead = ctx.lead;
    if (!lead || !['new', 'working'].includes(lead.status)) return [];
    const engaged = (num(ctx.features.webVisits7d) ?? 0) >= 2 || (num(ctx.features.emailEngagements30d) ?? 0) >= 1;
    if (lead.status !== 'new' && !engaged) return [];
    const inferred = lead.company ? null : companyFromEmail(lead.email);
    const company = lead.company ?? inferred;
    const score = leadScore(ctx, company);
    const pConvert = { value: cents(score / 100 / 4), source: 'rule' as const, detail: `lead score ${score} / 400` };
    const impact = { value: LEAD_VALUE, source: 'rule' as const, detail: 'assumed value of a converted lead' };
    // p(success): the uplift learned from the holdout for the lead's score band, shrunk toward the rule below.
    const segment = leadSegment(score);
    const learned = (action: AgentAction, prior: Term) => learnedPSuccess(opts, 'lead-nurturing', action, segment, prior);
    const out: ProposalDraft[] = [];
    if (inferred) {
      out.push({
        agentId: 'lead-nurturing',
        action: 'update_record',
        risk: 'low',
        params: { kind: 'leads', id: lead.id, fields: { company: inferred, score } },
        ev: {
          ...expectedValue(
            learned('update_record', { value: 0.02, source: 'rule', detail: 'better routing from complete data' }),
            impact,
            { value: 0, source: 'rule', detail: 'no cost' },
            'low',
          ),
          upliftSegment: segment,
        },
        reason: `Fill in the company (${inferred}) from the email domain and set the score to ${score}.`,
      });
    }
    if (score >= ROUTE_SCORE) {
      out.push({
        agentId: 'lead-nurturing',
        action: 'route_lead',
        risk: 'low',
        params: { owner: 'sales-queue' },
        ev: {
          ...expectedValue(
            learned('route_lead', pConvert),
            impact,
            { value: 20, source: 'rule', detail: 'a rep\u2019s first call' },
            'low',
          ),
          upliftSegment: segment,
        },
        reason: `Route to a rep: score ${score} is at or above ${ROUTE_SCORE}.`,
      });
    } else if (lead.email) {
      // Whether the lead agreed to sales email is policy's question (outreach-requires-consent), asked once, in one place.
      out.push({
        agentId: 'lead-nurturing',
        action: 'send_message',
        risk: 'low',
        channel: 'email',
        purpose: 'sales',
        params: { channel: 'email', purpose: 'sales', template: 'nurture-1' },
        ev: {
          ...expectedValue(
            learned('send_message', { value: cents(pConvert.value / 3), source: 'rule', detail: 'a third of the routed rate' }),
            impact,
            { value: 0.5, source: 'rule', detail: 'sending cost' },
            'low',
          ),
          upliftSegment: segment,
        },
        reason: `Send the first nurture email: score ${score} is below ${ROUTE_SCORE}${hasConsent(ctx, 'email', 'sales') ? ' and the lead agreed to sales email' : ''}.`,
      });
    }
    return out;
  },
};
